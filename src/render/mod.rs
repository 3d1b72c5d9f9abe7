//! Renderers: engine results → text. Only this module (and the thin
//! command layer that calls it) prints.

pub mod audit;
pub mod diagnostics;
pub mod html;
pub mod human;
pub mod import;
pub mod json;
pub mod markdown;
pub mod matrix;
pub mod progress;
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

#[cfg(test)]
mod audit_tests;
#[cfg(test)]
mod tests;
