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
