//! A progress bar on stderr, drawn only for a person watching a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::Progress;

/// Draws nothing unless stderr is a terminal and `CI` is unset. Callers
/// pass `quiet` for `-v` too: its lines would be drawn through the bar.
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new(what: &'static str, quiet: bool) -> Bar {
        let wanted = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = wanted.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Bar { bar }
    }
}

impl Progress for Bar {
    fn started(&self, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
        }
    }

    fn advanced(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finished(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
