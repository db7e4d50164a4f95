//! Applying an update's chunks to a file's text.
//!
//! Lines are matched without their line endings. Lines the patch does not touch keep their own
//! ending (`\n` or `\r\n`); lines the patch writes get the file's preferred ending (that of its
//! first line break, `\n` when it has none), and the result always ends with a line break, as
//! upstream. A UTF-8 byte order mark is kept and ignored for matching.
//!
//! Placement follows upstream: each chunk's `@@ context` line is searched from the current
//! position, then its old lines from just after it; chunks must appear in file order. A chunk
//! with only added lines and no context is appended at the end of the file (before a final
//! blank line). One deliberate difference: a chunk with only added lines *and* a `@@ context`
//! line is inserted right after that context line (upstream appends it at the end of the file,
//! far from the context the model named).

use std::path::Path;

use crate::error::ApplyPatchError;
use crate::matcher::seek;
use crate::parser::UpdateChunk;

const BOM: &str = "\u{feff}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    None,
    Lf,
    CrLf,
}

impl Ending {
    fn as_str(self) -> &'static str {
        match self {
            Ending::None => "",
            Ending::Lf => "\n",
            Ending::CrLf => "\r\n",
        }
    }
}

struct Lines<'a> {
    bom: bool,
    texts: Vec<&'a str>,
    endings: Vec<Ending>,
    preferred: Ending,
}

fn split_lines(content: &str) -> Lines<'_> {
    let (bom, body) = match content.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, content),
    };
    let mut texts = Vec::new();
    let mut endings = Vec::new();
    let mut preferred = None;
    let mut rest = body;
    while !rest.is_empty() {
        // A byte search: much faster than `str::find(char)` on long files.
        let (line, ending, next) = match rest.bytes().position(|byte| byte == b'\n') {
            Some(at) => {
                let line = &rest[..at];
                match line.strip_suffix('\r') {
                    Some(text) => (text, Ending::CrLf, &rest[at + 1..]),
                    None => (line, Ending::Lf, &rest[at + 1..]),
                }
            }
            None => (rest, Ending::None, ""),
        };
        if ending != Ending::None {
            preferred.get_or_insert(ending);
        }
        texts.push(line);
        endings.push(ending);
        rest = next;
    }
    Lines {
        bom,
        texts,
        endings,
        preferred: preferred.unwrap_or(Ending::Lf),
    }
}

/// One planned edit: replace `old_len` lines at `start` with `new_lines`.
struct Replacement<'p> {
    start: usize,
    old_len: usize,
    new_lines: &'p [String],
}

/// The new contents of the file `path` (for messages) after applying `chunks` to `content`.
pub(crate) fn apply_chunks(
    content: &str,
    chunks: &[UpdateChunk],
    path: &Path,
) -> Result<String, ApplyPatchError> {
    let lines = split_lines(content);
    let replacements = plan(&lines.texts, chunks, path)?;
    let mut out = String::with_capacity(content.len() + 64);
    if lines.bom {
        out.push_str(BOM);
    }
    let preferred = lines.preferred.as_str();
    let push_original = |out: &mut String, index: usize| {
        out.push_str(lines.texts[index]);
        out.push_str(match lines.endings[index] {
            Ending::None => preferred,
            ending => ending.as_str(),
        });
    };
    let mut cursor = 0;
    for replacement in &replacements {
        let start = replacement.start.max(cursor);
        for index in cursor..start {
            push_original(&mut out, index);
        }
        for line in replacement.new_lines {
            out.push_str(line);
            out.push_str(preferred);
        }
        cursor = start + replacement.old_len;
    }
    for index in cursor..lines.texts.len() {
        push_original(&mut out, index);
    }
    Ok(out)
}

fn plan<'p>(
    lines: &[&str],
    chunks: &'p [UpdateChunk],
    path: &Path,
) -> Result<Vec<Replacement<'p>>, ApplyPatchError> {
    let mut replacements = Vec::with_capacity(chunks.len());
    let mut position = 0;
    for chunk in chunks {
        if let Some(context) = &chunk.context {
            match seek(lines, &[context.as_str()], position, false) {
                Some(index) => position = index + 1,
                None => {
                    return Err(ApplyPatchError::ContextNotFound {
                        context: context.clone(),
                        path: path.to_path_buf(),
                    });
                }
            }
        }
        if chunk.old_lines.is_empty() {
            let start = if chunk.context.is_some() {
                position
            } else if lines.last() == Some(&"") {
                lines.len() - 1
            } else {
                lines.len()
            };
            replacements.push(Replacement {
                start,
                old_len: 0,
                new_lines: &chunk.new_lines,
            });
            continue;
        }
        let mut pattern: Vec<&str> = chunk.old_lines.iter().map(String::as_str).collect();
        let mut new_lines: &[String] = &chunk.new_lines;
        let mut found = seek(lines, &pattern, position, chunk.end_of_file);
        if found.is_none() && pattern.last() == Some(&"") {
            // A trailing empty line stands for the file's final line break.
            pattern.pop();
            if new_lines.last().is_some_and(String::is_empty) {
                new_lines = &new_lines[..new_lines.len() - 1];
            }
            found = seek(lines, &pattern, position, chunk.end_of_file);
        }
        let Some(start) = found else {
            return Err(ApplyPatchError::ExpectedLinesNotFound {
                path: path.to_path_buf(),
                lines: chunk.old_lines.join("\n"),
            });
        };
        replacements.push(Replacement {
            start,
            old_len: pattern.len(),
            new_lines,
        });
        position = start + pattern.len();
    }
    // Stable: an insertion keeps its place before a replacement at the same line.
    replacements.sort_by_key(|replacement| replacement.start);
    Ok(replacements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(context: Option<&str>, old: &[&str], new: &[&str], eof: bool) -> UpdateChunk {
        UpdateChunk {
            context: context.map(str::to_string),
            old_lines: old.iter().map(|line| line.to_string()).collect(),
            new_lines: new.iter().map(|line| line.to_string()).collect(),
            end_of_file: eof,
        }
    }

    fn apply(content: &str, chunks: &[UpdateChunk]) -> Result<String, String> {
        apply_chunks(content, chunks, Path::new("/f")).map_err(|error| error.to_string())
    }

    #[test]
    fn crlf_files_keep_their_endings_and_new_lines_follow_the_first_break() {
        assert_eq!(
            apply(
                "a\r\nb\r\nc\r\n",
                &[chunk(None, &["b"], &["B", "B2"], false)]
            )
            .unwrap(),
            "a\r\nB\r\nB2\r\nc\r\n"
        );
        // Mixed: untouched lines keep their own ending.
        assert_eq!(
            apply("a\nb\r\nc", &[chunk(None, &["a"], &["A"], false)]).unwrap(),
            "A\nb\r\nc\n"
        );
    }

    #[test]
    fn a_missing_final_newline_is_added_and_bom_is_kept() {
        assert_eq!(
            apply("x\ny", &[chunk(None, &["x"], &["X"], false)]).unwrap(),
            "X\ny\n"
        );
        assert_eq!(
            apply("\u{feff}x\ny\n", &[chunk(None, &["x"], &["X"], false)]).unwrap(),
            "\u{feff}X\ny\n"
        );
    }

    #[test]
    fn pure_additions_append_or_follow_their_context() {
        assert_eq!(
            apply("a\nb\n", &[chunk(None, &[], &["c"], false)]).unwrap(),
            "a\nb\nc\n"
        );
        // Before a final blank line.
        assert_eq!(
            apply("a\n\n", &[chunk(None, &[], &["c"], false)]).unwrap(),
            "a\nc\n\n"
        );
        assert_eq!(
            apply(
                "def f():\n    pass\n",
                &[chunk(Some("def f():"), &[], &["    # note"], false)]
            )
            .unwrap(),
            "def f():\n    # note\n    pass\n"
        );
    }

    #[test]
    fn context_lines_and_end_of_file_anchor() {
        let content = "x\nfoo\nx\nbar\nx\n";
        assert_eq!(
            apply(content, &[chunk(Some("bar"), &["x"], &["y"], false)]).unwrap(),
            "x\nfoo\nx\nbar\ny\n"
        );
        assert_eq!(
            apply(content, &[chunk(None, &["x"], &["y"], true)]).unwrap(),
            "x\nfoo\nx\nbar\ny\n"
        );
        assert_eq!(
            apply(content, &[chunk(Some("nope"), &["x"], &["y"], false)]).unwrap_err(),
            "Failed to find context 'nope' in /f"
        );
    }

    #[test]
    fn trailing_empty_sentinel_is_retried_without_it() {
        assert_eq!(
            apply("a\nb\n", &[chunk(None, &["b", ""], &["c", ""], false)]).unwrap(),
            "a\nc\n"
        );
    }

    #[test]
    fn chunks_in_the_wrong_order_fail() {
        let error = apply(
            "one\ntwo\nthree\n",
            &[
                chunk(None, &["three"], &["3"], false),
                chunk(None, &["one"], &["1"], false),
            ],
        )
        .unwrap_err();
        assert_eq!(error, "Failed to find expected lines in /f:\none");
    }

    #[test]
    fn end_of_file_addition_before_a_replacement_that_ends_the_file() {
        // An appended chunk and a later chunk replacing the last lines do not overlap.
        assert_eq!(
            apply(
                "a\nb\n\n",
                &[
                    chunk(None, &[], &["z"], false),
                    chunk(None, &["b", ""], &["B", ""], false)
                ]
            )
            .unwrap(),
            "a\nB\n\nz\n"
        );
    }
}
