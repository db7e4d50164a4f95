//! Reading TOML files with positions: `path:line:col: message` plus a code frame.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Table;
use toml::de::{DeTable, DeValue};

/// Where a configuration problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiagnosticLocation {
    /// A position in a file (1-based line and column) with the source line for the code frame.
    File {
        path: PathBuf,
        line: usize,
        column: usize,
        source_line: String,
        width: usize,
    },
    /// A layer without a file, named by its display name (e.g. `session-flags (-c)`).
    Layer(String),
}

/// A configuration problem with its location. Displays as `path:line:col: message` followed by
/// the offending source line and a caret line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiagnostic {
    pub location: DiagnosticLocation,
    pub message: String,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            DiagnosticLocation::Layer(name) => write!(formatter, "{name}: {}", self.message),
            DiagnosticLocation::File {
                path,
                line,
                column,
                source_line,
                width,
            } => {
                let gutter = " ".repeat(line.to_string().len());
                writeln!(
                    formatter,
                    "{}:{line}:{column}: {}",
                    path.display(),
                    self.message
                )?;
                writeln!(formatter, "{gutter} |")?;
                writeln!(formatter, "{line} | {source_line}")?;
                write!(
                    formatter,
                    "{gutter} | {}{}",
                    " ".repeat(column.saturating_sub(1)),
                    "^".repeat((*width).max(1))
                )
            }
        }
    }
}

/// Byte spans of every key and value of a parsed file, by dotted key path.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanIndex {
    entries: HashMap<Vec<String>, (Range<usize>, Range<usize>)>,
}

/// Which part of an entry a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanPart {
    Key,
    Value,
}

/// A file's text and key positions, kept with its layer for later diagnostics.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    spans: SpanIndex,
}

impl SourceFile {
    /// The location of `key_path` (or its nearest existing ancestor) in this file.
    pub fn locate(&self, key_path: &[String], part: SpanPart) -> DiagnosticLocation {
        let mut prefix = key_path;
        loop {
            if let Some((key, value)) = self.spans.entries.get(prefix) {
                let span = match part {
                    SpanPart::Key => key.clone(),
                    SpanPart::Value if prefix.len() == key_path.len() => value.clone(),
                    SpanPart::Value => key.clone(),
                };
                return location(&self.path, &self.text, span);
            }
            match prefix.split_last() {
                Some((_, rest)) if !rest.is_empty() => prefix = rest,
                _ => return location(&self.path, &self.text, 0..0),
            }
        }
    }
}

/// Parse `text` (read from `path`) into a table and its spans.
pub(crate) fn parse_file(
    path: &Path,
    text: String,
) -> Result<(Table, SourceFile), ConfigDiagnostic> {
    let table = match toml::from_str::<Table>(&text) {
        Ok(table) => table,
        Err(error) => {
            return Err(ConfigDiagnostic {
                location: location(path, &text, error.span().unwrap_or(0..0)),
                message: error.message().trim_end().to_string(),
            });
        }
    };
    let mut spans = SpanIndex::default();
    if let Ok(document) = DeTable::parse(&text) {
        index_table(document.get_ref(), &mut Vec::new(), &mut spans);
    }
    Ok((
        table,
        SourceFile {
            path: path.to_path_buf(),
            text,
            spans,
        },
    ))
}

fn index_table(table: &DeTable<'_>, prefix: &mut Vec<String>, spans: &mut SpanIndex) {
    for (key, value) in table.iter() {
        prefix.push(key.get_ref().to_string());
        spans
            .entries
            .insert(prefix.clone(), (key.span(), value.span()));
        if let DeValue::Table(inner) = value.get_ref() {
            index_table(inner, prefix, spans);
        }
        prefix.pop();
    }
}

/// Turn a byte span into a 1-based line/column location with its source line.
pub(crate) fn location(path: &Path, text: &str, span: Range<usize>) -> DiagnosticLocation {
    let start = floor_char_boundary(text, span.start.min(text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    let line_end = text[start..]
        .find('\n')
        .map_or(text.len(), |index| start + index);
    let source_line = text[line_start..line_end]
        .trim_end_matches('\r')
        .to_string();
    let line = text[..start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let end = floor_char_boundary(text, span.end.clamp(start, line_end));
    let width = text[start..end].chars().count();
    DiagnosticLocation::File {
        path: path.to_path_buf(),
        line,
        column,
        source_line,
        width,
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_position_and_caret() {
        let error = parse_file(Path::new("/c/config.toml"), "a = 1\nb = \n".into()).unwrap_err();
        let DiagnosticLocation::File { line, column, .. } = &error.location else {
            panic!("expected a file location");
        };
        assert_eq!((*line, *column), (2, 5));
        let text = error.to_string();
        assert!(text.starts_with("/c/config.toml:2:5: "), "{text}");
        assert!(text.ends_with("  |\n2 | b = \n  |     ^"), "{text}");
    }

    #[test]
    fn locates_keys_and_values() {
        let text = "x = 1\n[sandbox_workspace_write]\nnetwork_access = \"yes\"\n";
        let (_, file) = parse_file(Path::new("/c.toml"), text.into()).unwrap();
        let path = vec![
            "sandbox_workspace_write".to_string(),
            "network_access".to_string(),
        ];
        let diagnostic = ConfigDiagnostic {
            location: file.locate(&path, SpanPart::Value),
            message: "bad".into(),
        };
        assert_eq!(
            diagnostic.to_string(),
            "/c.toml:3:18: bad\n  |\n3 | network_access = \"yes\"\n  |                  ^^^^^"
        );
        let DiagnosticLocation::File { line, column, .. } = file.locate(&path, SpanPart::Key)
        else {
            panic!("expected a file location");
        };
        assert_eq!((line, column), (3, 1));
        // A missing child falls back to its parent key.
        let missing = vec!["sandbox_workspace_write".to_string(), "nope".to_string()];
        let DiagnosticLocation::File { line, .. } = file.locate(&missing, SpanPart::Value) else {
            panic!("expected a file location");
        };
        assert_eq!(line, 2);
    }

    #[test]
    fn layer_locations_print_their_name() {
        let diagnostic = ConfigDiagnostic {
            location: DiagnosticLocation::Layer("session-flags (-c)".into()),
            message: "oops".into(),
        };
        assert_eq!(diagnostic.to_string(), "session-flags (-c): oops");
    }
}
