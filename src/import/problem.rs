//! Problems found while reading data: each one points at `file:line`. Errors abort the import
//! (nothing is written); warnings are reported and the data is still loaded; notes record what
//! was removed on purpose (junk, duplicates) so that nothing disappears silently.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Removed,
    /// Scrape damage mended (glued words): what was written and what is shown.
    Repaired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Collects problems across all files so that one run reports every bad line, not the first.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub fn error(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.push(Severity::Error, file, line, message.into());
    }

    pub fn warn(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.push(Severity::Warning, file, line, message.into());
    }

    pub fn repaired(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.push(Severity::Repaired, file, line, message.into());
    }

    pub fn removed(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.push(Severity::Removed, file, line, message.into());
    }

    fn push(&mut self, severity: Severity, file: &str, line: usize, message: String) {
        self.list.push(Problem {
            severity,
            file: file.to_string(),
            line,
            message,
        });
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|p| p.severity == Severity::Error)
    }

    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Problem> {
        self.list.iter().filter(move |p| p.severity == severity)
    }

    /// All problems, sorted by file and line so reports read top to bottom.
    pub fn into_sorted(mut self) -> Vec<Problem> {
        self.list
            .sort_by(|a, b| (&a.file, a.line, a.severity).cmp(&(&b.file, b.line, b.severity)));
        self.list.dedup();
        self.list
    }
}

/// The 1-based line of a byte offset, for TOML spans.
pub fn line_of(content: &str, offset: usize) -> usize {
    content[..offset.min(content.len())].matches('\n').count() + 1
}
