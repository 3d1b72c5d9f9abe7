//! Renderers: engine results → text. Only this module (and the thin
//! command layer that calls it) prints.

pub mod audit;
pub mod diagnostics;
mod grouping;
pub mod html;
pub mod human;
pub mod import;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod matrix;
pub mod progress;
pub mod sarif;
pub mod security_hub;
pub mod show;
pub mod targets;

use anstyle::{AnsiColor, Style};

pub(crate) const GREEN: Style = AnsiColor::Green.on_default();
pub(crate) const YELLOW: Style = AnsiColor::Yellow.on_default();
pub(crate) const RED: Style = AnsiColor::Red.on_default();
pub(crate) const CYAN: Style = AnsiColor::Cyan.on_default();
pub(crate) const BOLD: Style = Style::new().bold();

/// Wraps `text` in `style`; the output stream strips it when colour is off.
pub(crate) fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// What every format says about a merge that lacks some shards.
pub fn partial_notice(missing: &[crate::engine::saved::Shard]) -> String {
    let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
    format!(
        "PARTIAL PLAN: {} {} missing (the plan job failed or saved no plan); the targets of {} are not in this plan",
        if missing.len() == 1 {
            "shard"
        } else {
            "shards"
        },
        list.join(", "),
        if missing.len() == 1 {
            "that shard"
        } else {
            "those shards"
        },
    )
}

/// What fleet says of a region that leaves flags out of Get, e.g. "ca-west-1
/// does not report video_data_delivery_enabled; it is not compared there".
pub fn unreported_note(unreported: &crate::engine::UnreportedFlags) -> String {
    let flags = match unreported.flags.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    let pronoun = if unreported.flags.len() == 1 {
        "it is"
    } else {
        "they are"
    };
    format!(
        "{} does not report {flags}; {pronoun} not compared there",
        unreported.region
    )
}

/// The first 12 characters of a sha256 as headings show it; a hand-edited
/// plan's value may be short or not hex, and must not make a renderer panic.
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// `1 account`, `2 accounts`: a count with its noun, plural when it is not
/// one. For nouns whose plural adds an `s`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod tests;
