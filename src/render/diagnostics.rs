//! Fleet file problems rendered with the offending line, `file:line:col`
//! and the fix.

use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::fleet::Problem;

/// Renders one problem; `color` picks the theme.
pub fn problem(problem: &Problem, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_wrap_lines(false);
    if handler.render_report(&mut out, problem).is_err() {
        out = format!("{problem}\n");
    }
    out
}
