//! Problems found in a fleet file, each tied to the span it is about.
//!
//! They implement [`miette::Diagnostic`], so the renderer can show
//! `file:line:col`, the offending line and the fix.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode};

/// The fleet file's name and text, shared by every problem found in it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<String>,
    /// The byte offset where each line starts, found once: validation asks
    /// for the line of every account, and a rescan per ask is quadratic.
    line_starts: Arc<Vec<usize>>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: String) -> SourceFile {
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        SourceFile {
            name: name.into(),
            text: Arc::new(text),
            line_starts: Arc::new(line_starts),
        }
    }

    /// 1-based line and column of a byte offset (the column counts bytes).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // The last line that starts at or before `offset`.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        (line, offset - self.line_starts[line - 1] + 1)
    }
}

/// One error or warning about the fleet file.
#[derive(Debug)]
pub struct Problem {
    pub severity: Severity,
    pub message: String,
    pub label: String,
    pub span: Range<usize>,
    pub help: Option<String>,
    source: NamedSource<Arc<String>>,
    /// `file:line:col` of the span, computed once for plain-text output.
    pub location: String,
}

impl Problem {
    pub fn error(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = file.line_col(span.start);
        Problem {
            severity: Severity::Error,
            message: message.into(),
            label: String::from("here"),
            location: format!("{}:{line}:{col}", file.name),
            span,
            help: None,
            source: NamedSource::new(file.name.clone(), file.text.clone()),
        }
    }

    pub fn warning(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, span, message)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_with_span(Some(self.label.clone()), self.span.clone());
        Some(Box::new(std::iter::once(label)))
    }
}

/// Why a fleet file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FleetFileError {
    #[error(
        "fleet file {path} not found: give its path with -c FILE, start one from fleet.example.toml (in fleet's repository), or write one from live configurations with `fleet import --account ID --regions R,R > fleet.toml`"
    )]
    Missing { path: String },
    #[error("cannot read fleet file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid fleet file ({} error{})", problems.iter().filter(|p| p.is_error()).count(), if problems.iter().filter(|p| p.is_error()).count() == 1 { "" } else { "s" })]
    Invalid {
        path: String,
        problems: Vec<Problem>,
    },
}

#[cfg(test)]
mod tests {
    use super::SourceFile;

    #[test]
    fn line_col_counts_lines_and_bytes_from_one() {
        let file = SourceFile::new("fleet.toml", "ab\n\ncd\nlast".to_owned());
        let naive = |offset: usize| {
            let before = &file.text[..offset.min(file.text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rfind('\n')
                .map_or(before.len(), |nl| before.len() - nl - 1)
                + 1;
            (line, col)
        };
        for offset in 0..=file.text.len() + 2 {
            assert_eq!(file.line_col(offset), naive(offset), "offset {offset}");
        }
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        assert_eq!(file.line_col(5), (3, 2));
        assert_eq!(file.line_col(100), (4, 5));
    }
}
