//! Problems found in a configuration file, located as `FILE:LINE:COL` so an admin (or an editor) jumps
//! straight to them. Paths (`directory.urls[1]`) are turned into spans by walking the TOML tree.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    /// Dotted key path (`directory.urls[0]`); empty for syntax errors.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {label}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Locates problems in one file's text.
#[derive(Debug)]
pub struct Locator<'t> {
    file: PathBuf,
    text: &'t str,
}

impl<'t> Locator<'t> {
    pub fn new(file: &Path, text: &'t str) -> Self {
        Locator {
            file: file.to_owned(),
            text,
        }
    }

    pub fn at_span(
        &self,
        span: &Range<usize>,
        severity: Severity,
        path: &str,
        message: String,
    ) -> Diagnostic {
        let (line, column) = line_column(self.text, span.start);
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            severity,
            path: path.to_owned(),
            message,
        }
    }

    /// Locates a dotted path; falls back to the nearest existing parent, then to the start of the file.
    pub fn at_path(&self, path: &str, severity: Severity, message: String) -> Diagnostic {
        let span = span_of_path(self.text, path).unwrap_or(0..0);
        self.at_span(&span, severity, path, message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

enum Step<'p> {
    Key(&'p str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                steps.push(Step::Index(i));
            }
        }
    }
    steps
}

/// The span of the value at `path`, or of its nearest existing ancestor.
fn span_of_path(text: &str, path: &str) -> Option<Range<usize>> {
    let (root, _) = DeTable::parse_recoverable(text);
    let mut best: Option<Range<usize>> = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&toml::de::DeArray<'_>> = None;
    for step in split_path(path) {
        let value = match (step, table, array) {
            (Step::Key(key), Some(t), _) => t.get(key),
            (Step::Index(i), _, Some(a)) => a.get(i),
            _ => None,
        };
        let Some(value) = value else { break };
        best = Some(value.span());
        table = value.get_ref().as_table();
        array = match value.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => None,
        };
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 6));
        assert_eq!(line_column("é = 1", 4), (1, 4));
    }

    #[test]
    fn paths_are_found_in_the_tree() {
        let text = "[directory]\nurls = [\"a\", \"b\"]\n[directory.attributes]\nbadge = \"x\"\n";
        let span = span_of_path(text, "directory.urls[1]").unwrap();
        assert_eq!(&text[span], "\"b\"");
        let span = span_of_path(text, "directory.attributes.badge").unwrap();
        assert_eq!(&text[span], "\"x\"");
        // a missing leaf falls back to its parent
        assert!(span_of_path(text, "directory.nothing").is_some());
    }
}
