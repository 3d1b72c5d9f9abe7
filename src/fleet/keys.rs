//! Reading the fleet file into its raw structs while reporting every
//! unknown key at once. serde stops at the first unknown field, so the file
//! is parsed once into a spanned TOML tree and deserialised from it again
//! after each unknown key: a key close to an allowed one is read as that
//! key (so no "missing field" follows from a typo), any other is dropped.
//! A value of the wrong type is reported and replaced by a stand-in of the
//! expected type, so the keys after it are read too; the checks of the
//! model then do not run (they would judge the stand-in). The raw structs'
//! `deny_unknown_fields` stays the one list of allowed keys.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

/// A file cannot have more problems than this worth reporting in one run.
const MAX_PROBLEMS: usize = 200;

/// Why a file could not be read into `T`.
pub struct Unread {
    /// Every unknown key, in the order found.
    pub unknown_keys: Vec<toml::de::Error>,
    /// What stops the checks: a syntax error, or values of the wrong type
    /// (each key with one is left out, to find the problems after it).
    pub fatal: Vec<toml::de::Error>,
}

/// Deserialises `text`, collecting every unknown key. `Ok` carries the
/// unknown keys too: the rest of the file can still be checked.
pub fn read<T: for<'de> Deserialize<'de>>(text: &str) -> Result<(T, Vec<toml::de::Error>), Unread> {
    let mut tree = DeTable::parse(text).map_err(|err| Unread {
        unknown_keys: Vec::new(),
        fatal: vec![err],
    })?;
    let mut unknown_keys = Vec::new();
    let mut fatal = Vec::new();
    // Keys left out for a value of the wrong type.
    let mut dropped: Vec<String> = Vec::new();
    loop {
        let err = match T::deserialize(Deserializer::from(tree.clone())) {
            Ok(value) if fatal.is_empty() => return Ok((value, unknown_keys)),
            Ok(_) => break,
            Err(err) => err,
        };
        if unknown_keys.len() + fatal.len() >= MAX_PROBLEMS {
            fatal.push(err);
            break;
        }
        if let Some(field) = missing_field(&err) {
            // A required key left out below is missing now: that is the
            // same problem, already reported.
            if !dropped.iter().any(|d| d == field) {
                fatal.push(err);
            }
            break;
        }
        if let (Some(unknown), Some(span)) = (unknown_field(&err), err.span()) {
            if rename_or_remove_key(tree.get_mut(), &span, unknown.closest) {
                unknown_keys.push(err);
                continue;
            }
        } else if let Some(span) = err.span()
            && !fatal
                .iter()
                .any(|seen: &toml::de::Error| seen.span() == err.span())
            && let Some(key) = replace_value(tree.get_mut(), &span, stand_in(&err))
        {
            // A value of the wrong type: reported, and replaced by one of
            // the expected type (or left out) to find what follows it.
            dropped.push(key);
            fatal.push(err);
            continue;
        }
        if !fatal.iter().any(|seen| seen.span() == err.span()) {
            fatal.push(err);
        }
        break;
    }
    Err(Unread {
        unknown_keys,
        fatal,
    })
}

/// The field of toml's "missing field `x`" message.
fn missing_field(err: &toml::de::Error) -> Option<&str> {
    err.message()
        .trim()
        .strip_prefix("missing field `")?
        .split('`')
        .next()
}

/// An "unknown field" error: the key and the closest allowed one.
pub struct UnknownField<'e> {
    pub expected: Vec<&'e str>,
    pub closest: Option<&'e str>,
}

/// Reads toml's "unknown field `x`, expected one of `a`, `b`" message.
pub fn unknown_field(err: &toml::de::Error) -> Option<UnknownField<'_>> {
    let rest = err.message().trim().strip_prefix("unknown field `")?;
    let key = rest.split('`').next().unwrap_or_default();
    let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
    let closest = expected
        .iter()
        .map(|candidate| (strsim::jaro_winkler(key, candidate), *candidate))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate);
    Some(UnknownField { expected, closest })
}

/// Finds the key at `span` and renames it to `closest` (when that key is
/// not already set) or removes it. `false` when no key is at `span`.
fn rename_or_remove_key(
    table: &mut DeTable<'_>,
    span: &Range<usize>,
    closest: Option<&str>,
) -> bool {
    let found = table.keys().find(|key| &key.span() == span).cloned();
    if let Some(key) = found {
        let value = table.remove(&key).expect("the key was just found");
        if let Some(name) = closest {
            let renamed = Spanned::new(key.span(), Cow::Owned(name.to_owned()));
            if !table.contains_key(&renamed) {
                table.insert(renamed, value);
            }
        }
        return true;
    }
    tables(table).any(|inner| rename_or_remove_key(inner, span, closest))
}

/// A value of the type an "invalid type" error expected, when it is a
/// simple one.
fn stand_in(err: &toml::de::Error) -> Option<DeValue<'static>> {
    let message = err.message();
    if message.contains("expected a string") {
        Some(DeValue::String(Cow::Borrowed("")))
    } else if message.contains("expected a boolean") {
        Some(DeValue::Boolean(false))
    } else {
        None
    }
}

/// Replaces the value at `span` by `stand_in`, or removes its key when there
/// is none; returns the key's name.
fn replace_value(
    table: &mut DeTable<'_>,
    span: &Range<usize>,
    stand_in: Option<DeValue<'static>>,
) -> Option<String> {
    let found = table
        .iter()
        .find(|(_, value)| &value.span() == span)
        .map(|(key, _)| key.clone());
    if let Some(key) = found {
        match stand_in {
            Some(value) => {
                table.insert(key.clone(), Spanned::new(span.clone(), value));
            }
            None => {
                table.remove(&key);
            }
        }
        return Some(key.get_ref().to_string());
    }
    tables(table).find_map(|inner| replace_value(inner, span, stand_in.clone()))
}

/// The tables directly inside a table: its sub-tables and the tables of its
/// arrays (`[[accounts]]`).
fn tables<'t, 'i>(table: &'t mut DeTable<'i>) -> impl Iterator<Item = &'t mut DeTable<'i>> {
    table.iter_mut().flat_map(
        |(_, value)| -> Box<dyn Iterator<Item = &'t mut DeTable<'i>> + 't> {
            match value.get_mut() {
                DeValue::Table(inner) => Box::new(std::iter::once(inner)),
                DeValue::Array(items) => {
                    Box::new(items.iter_mut().filter_map(|item| match item.get_mut() {
                        DeValue::Table(inner) => Some(inner),
                        _ => None,
                    }))
                }
                _ => Box::new(std::iter::empty()),
            }
        },
    )
}
