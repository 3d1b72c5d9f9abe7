//! Reading the fleet file into its raw structs while reporting every
//! unknown key at once. serde stops at the first unknown field, so the file
//! is parsed once into a spanned TOML tree and deserialised from it again
//! after each unknown key: a key close to an allowed one is read as that
//! key (so no "missing field" follows from a typo), any other is dropped.
//! The raw structs' `deny_unknown_fields` stays the one list of allowed
//! keys.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, Deserializer};

/// A file cannot have more typos than this worth reporting in one run.
const MAX_UNKNOWN_KEYS: usize = 200;

/// Why a file could not be read into `T`.
pub struct Unread {
    /// Every unknown key, in the order found.
    pub unknown_keys: Vec<toml::de::Error>,
    /// The syntax or shape error that stopped reading, if any.
    pub fatal: Option<toml::de::Error>,
}

/// Deserialises `text`, collecting every unknown key. `Ok` carries the
/// unknown keys too: the rest of the file can still be checked.
pub fn read<T: for<'de> Deserialize<'de>>(text: &str) -> Result<(T, Vec<toml::de::Error>), Unread> {
    let mut tree = DeTable::parse(text).map_err(|err| Unread {
        unknown_keys: Vec::new(),
        fatal: Some(err),
    })?;
    let mut unknown_keys = Vec::new();
    loop {
        let err = match T::deserialize(Deserializer::from(tree.clone())) {
            Ok(value) => return Ok((value, unknown_keys)),
            Err(err) => err,
        };
        let repaired = match (unknown_field(&err), err.span()) {
            (Some(unknown), Some(span)) if unknown_keys.len() < MAX_UNKNOWN_KEYS => {
                repair(tree.get_mut(), &span, unknown.closest)
            }
            _ => false,
        };
        if !repaired {
            return Err(Unread {
                unknown_keys,
                fatal: Some(err),
            });
        }
        unknown_keys.push(err);
    }
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
fn repair(table: &mut DeTable<'_>, span: &Range<usize>, closest: Option<&str>) -> bool {
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
    table
        .iter_mut()
        .any(|(_, value)| repair_value(value.get_mut(), span, closest))
}

fn repair_value(value: &mut DeValue<'_>, span: &Range<usize>, closest: Option<&str>) -> bool {
    match value {
        DeValue::Table(table) => repair(table, span, closest),
        DeValue::Array(items) => items
            .iter_mut()
            .any(|item| repair_value(item.get_mut(), span, closest)),
        _ => false,
    }
}
