//! The `*** Begin Patch` grammar, parsed leniently the way upstream does:
//!
//! ```text
//! start: begin_patch hunk+ end_patch
//! begin_patch: "*** Begin Patch" LF
//! end_patch: "*** End Patch" LF?
//! hunk: add_hunk | delete_hunk | update_hunk
//! add_hunk: "*** Add File: " filename LF add_line+
//! delete_hunk: "*** Delete File: " filename LF
//! update_hunk: "*** Update File: " filename LF change_move? change?
//! add_line: "+" /(.*)/ LF
//! change_move: "*** Move to: " filename LF
//! change: (change_context | change_line)+ eof_line?
//! change_context: ("@@" | "@@ " /(.+)/) LF
//! change_line: ("+" | "-" | " ") /(.*)/ LF
//! eof_line: "*** End of File" LF
//! ```
//!
//! Leniency: the whole text is trimmed; markers may carry surrounding whitespace; a
//! `<<EOF` / `<<'EOF'` / `<<"EOF"` … `EOF` heredoc wrapper is stripped; blank lines between
//! update chunks are skipped; the first chunk of an update may omit `@@`; an empty line inside a
//! chunk is an empty context line; CRLF line endings are accepted.
//!
//! Line numbers in errors count the lines of the trimmed text (without a heredoc wrapper), the
//! `*** Begin Patch` line being line 1, as upstream.

use std::path::PathBuf;

const BEGIN_PATCH: &str = "*** Begin Patch";
const END_PATCH: &str = "*** End Patch";
const ADD_FILE: &str = "*** Add File: ";
const DELETE_FILE: &str = "*** Delete File: ";
const UPDATE_FILE: &str = "*** Update File: ";
const MOVE_TO: &str = "*** Move to: ";
const END_OF_FILE: &str = "*** End of File";
const CONTEXT_MARKER: &str = "@@ ";
const EMPTY_CONTEXT_MARKER: &str = "@@";

/// A parsed patch: its hunks in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub hunks: Vec<Hunk>,
}

/// One file operation. Paths are as written in the patch (relative to the working directory,
/// or absolute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    /// Create (or overwrite) `path` with `contents` (every line ends with `\n`).
    Add { path: PathBuf, contents: String },
    /// Remove `path`.
    Delete { path: PathBuf },
    /// Edit `path` chunk by chunk, then optionally move the result to `move_to`.
    Update {
        path: PathBuf,
        move_to: Option<PathBuf>,
        chunks: Vec<UpdateChunk>,
    },
}

impl Hunk {
    /// The path the hunk names first (the source of a move).
    pub fn path(&self) -> &std::path::Path {
        match self {
            Hunk::Add { path, .. } | Hunk::Delete { path } | Hunk::Update { path, .. } => path,
        }
    }
}

/// One `@@` section of an update: find `old_lines` (after `context`, when given) and replace them
/// with `new_lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateChunk {
    /// The text after `@@ `: a line (usually a class or function header) that must occur before
    /// `old_lines`.
    pub context: Option<String>,
    pub old_lines: Vec<String>,
    pub new_lines: Vec<String>,
    /// `*** End of File` followed the chunk: `old_lines` should match at the end of the file.
    pub end_of_file: bool,
}

/// Why a patch text is not a valid patch. The messages are upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid patch: {0}")]
    InvalidPatch(String),
    #[error("invalid hunk at line {line_number}, {message}")]
    InvalidHunk { message: String, line_number: usize },
}

impl ParseError {
    /// The line upstream's `apply_patch` command prints on stderr for this error.
    pub fn command_message(&self) -> String {
        match self {
            ParseError::InvalidPatch(message) => format!("Invalid patch: {message}"),
            ParseError::InvalidHunk {
                message,
                line_number,
            } => format!("Invalid patch hunk on line {line_number}: {message}"),
        }
    }
}

/// Parse a patch text (leniently, see the module documentation).
pub fn parse_patch(text: &str) -> Result<Patch, ParseError> {
    let lines: Vec<&str> = text.trim().lines().collect();
    let body = patch_body(&lines)?;
    let mut hunks = Vec::new();
    let mut remaining = body;
    let mut line_number = 2;
    while !remaining.is_empty() {
        let (hunk, used) = parse_hunk(remaining, line_number)?;
        hunks.push(hunk);
        line_number += used;
        remaining = &remaining[used..];
    }
    Ok(Patch { hunks })
}

/// The lines between `*** Begin Patch` and `*** End Patch`, after removing a heredoc wrapper.
fn patch_body<'a>(lines: &'a [&'a str]) -> Result<&'a [&'a str], ParseError> {
    let strict_error = match check_boundaries(lines) {
        Ok(()) => return Ok(&lines[1..lines.len() - 1]),
        Err(error) => error,
    };
    if let [first, inner @ .., last] = lines
        && matches!(first.trim(), "<<EOF" | "<<'EOF'" | "<<\"EOF\"")
        && last.trim_end().ends_with("EOF")
        && inner.len() >= 2
    {
        check_boundaries(inner)?;
        return Ok(&inner[1..inner.len() - 1]);
    }
    Err(strict_error)
}

fn check_boundaries(lines: &[&str]) -> Result<(), ParseError> {
    let first = lines.first().map(|line| line.trim());
    let last = lines.last().map(|line| line.trim());
    if first != Some(BEGIN_PATCH) {
        return Err(ParseError::InvalidPatch(
            "The first line of the patch must be '*** Begin Patch'".to_string(),
        ));
    }
    if lines.len() < 2 || last != Some(END_PATCH) {
        return Err(ParseError::InvalidPatch(
            "The last line of the patch must be '*** End Patch'".to_string(),
        ));
    }
    Ok(())
}

/// Parse the hunk at the start of `lines`; returns it and the number of lines it used.
fn parse_hunk(lines: &[&str], line_number: usize) -> Result<(Hunk, usize), ParseError> {
    let header = lines[0].trim();
    if let Some(path) = header.strip_prefix(ADD_FILE) {
        let mut contents = String::new();
        let mut used = 1;
        for line in &lines[1..] {
            let Some(text) = line.strip_prefix('+') else {
                break;
            };
            contents.push_str(text);
            contents.push('\n');
            used += 1;
        }
        return Ok((
            Hunk::Add {
                path: PathBuf::from(path),
                contents,
            },
            used,
        ));
    }
    if let Some(path) = header.strip_prefix(DELETE_FILE) {
        return Ok((
            Hunk::Delete {
                path: PathBuf::from(path),
            },
            1,
        ));
    }
    if let Some(path) = header.strip_prefix(UPDATE_FILE) {
        return parse_update(path, lines, line_number);
    }
    Err(ParseError::InvalidHunk {
        message: format!(
            "'{header}' is not a valid hunk header. Valid hunk headers: '*** Add File: {{path}}', '*** Delete File: {{path}}', '*** Update File: {{path}}'"
        ),
        line_number,
    })
}

fn parse_update(
    path: &str,
    lines: &[&str],
    line_number: usize,
) -> Result<(Hunk, usize), ParseError> {
    let mut remaining = &lines[1..];
    let mut used = 1;
    let move_to = remaining
        .first()
        .and_then(|line| line.trim().strip_prefix(MOVE_TO))
        .map(PathBuf::from);
    if move_to.is_some() {
        remaining = &remaining[1..];
        used += 1;
    }
    let mut chunks = Vec::new();
    while let Some(first) = remaining.first() {
        if first.trim().is_empty() {
            remaining = &remaining[1..];
            used += 1;
            continue;
        }
        if first.starts_with('*') {
            break;
        }
        let (chunk, chunk_lines) = parse_chunk(remaining, line_number + used, chunks.is_empty())?;
        chunks.push(chunk);
        used += chunk_lines;
        remaining = &remaining[chunk_lines..];
    }
    if chunks.is_empty() {
        return Err(ParseError::InvalidHunk {
            message: format!("Update file hunk for path '{path}' is empty"),
            line_number,
        });
    }
    Ok((
        Hunk::Update {
            path: PathBuf::from(path),
            move_to,
            chunks,
        },
        used,
    ))
}

/// Parse one chunk at the start of `lines`; returns it and the number of lines it used.
fn parse_chunk(
    lines: &[&str],
    line_number: usize,
    first_chunk: bool,
) -> Result<(UpdateChunk, usize), ParseError> {
    let empty = |line_number| ParseError::InvalidHunk {
        message: "Update hunk does not contain any lines".to_string(),
        line_number,
    };
    let header = lines[0].trim_end();
    let (context, start) = if header == EMPTY_CONTEXT_MARKER {
        (None, 1)
    } else if let Some(context) = header.strip_prefix(CONTEXT_MARKER) {
        (Some(context.to_string()), 1)
    } else if first_chunk {
        (None, 0)
    } else {
        return Err(ParseError::InvalidHunk {
            message: format!(
                "Expected update hunk to start with a @@ context marker, got: '{}'",
                lines[0]
            ),
            line_number,
        });
    };
    if start >= lines.len() {
        return Err(empty(line_number + 1));
    }
    let mut chunk = UpdateChunk {
        context,
        old_lines: Vec::new(),
        new_lines: Vec::new(),
        end_of_file: false,
    };
    let mut used = 0;
    for line in &lines[start..] {
        if line.trim() == END_OF_FILE {
            if used == 0 {
                return Err(empty(line_number + 1));
            }
            chunk.end_of_file = true;
            used += 1;
            break;
        }
        match line.as_bytes().first() {
            None => {
                chunk.old_lines.push(String::new());
                chunk.new_lines.push(String::new());
            }
            Some(b' ') => {
                chunk.old_lines.push(line[1..].to_string());
                chunk.new_lines.push(line[1..].to_string());
            }
            Some(b'+') => chunk.new_lines.push(line[1..].to_string()),
            Some(b'-') => chunk.old_lines.push(line[1..].to_string()),
            Some(_) if used == 0 => {
                return Err(ParseError::InvalidHunk {
                    message: format!(
                        "Unexpected line found in update hunk: '{line}'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)"
                    ),
                    line_number: line_number + 1,
                });
            }
            // The start of the next chunk or hunk.
            Some(_) => break,
        }
        used += 1;
    }
    Ok((chunk, used + start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(path: &str, chunks: Vec<UpdateChunk>) -> Hunk {
        Hunk::Update {
            path: PathBuf::from(path),
            move_to: None,
            chunks,
        }
    }

    fn chunk(context: Option<&str>, old: &[&str], new: &[&str]) -> UpdateChunk {
        UpdateChunk {
            context: context.map(str::to_string),
            old_lines: old.iter().map(|line| line.to_string()).collect(),
            new_lines: new.iter().map(|line| line.to_string()).collect(),
            end_of_file: false,
        }
    }

    #[test]
    fn every_hunk_kind_parses() {
        let patch = parse_patch(
            "*** Begin Patch\n*** Add File: a/add.py\n+abc\n+\n+def\n*** Delete File: del.py\n\
             *** Update File: up.py\n*** Move to: moved.py\n@@ def f():\n-    pass\n+    return 1\n\
             *** End Patch",
        )
        .unwrap();
        assert_eq!(
            patch.hunks,
            vec![
                Hunk::Add {
                    path: PathBuf::from("a/add.py"),
                    contents: "abc\n\ndef\n".to_string()
                },
                Hunk::Delete {
                    path: PathBuf::from("del.py")
                },
                Hunk::Update {
                    path: PathBuf::from("up.py"),
                    move_to: Some(PathBuf::from("moved.py")),
                    chunks: vec![chunk(Some("def f():"), &["    pass"], &["    return 1"])],
                },
            ]
        );
    }

    #[test]
    fn boundaries_are_checked_with_upstream_messages() {
        assert_eq!(
            parse_patch("bad").unwrap_err().to_string(),
            "invalid patch: The first line of the patch must be '*** Begin Patch'"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\nbad").unwrap_err().to_string(),
            "invalid patch: The last line of the patch must be '*** End Patch'"
        );
        assert_eq!(
            parse_patch("*** Begin Patch").unwrap_err().to_string(),
            "invalid patch: The last line of the patch must be '*** End Patch'"
        );
        assert_eq!(
            parse_patch("").unwrap_err().command_message(),
            "Invalid patch: The first line of the patch must be '*** Begin Patch'"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\n*** End Patch").unwrap().hunks,
            vec![]
        );
    }

    #[test]
    fn invalid_hunk_header_names_the_line() {
        let error = parse_patch(
            "*** Begin Patch\n*** Add File: a\n+x\n*** Frobnicate File: keep.txt\n*** End Patch",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid hunk at line 4, '*** Frobnicate File: keep.txt' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'"
        );
        assert!(
            error
                .command_message()
                .starts_with("Invalid patch hunk on line 4: '*** Frob")
        );
    }

    #[test]
    fn empty_update_is_an_error() {
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Update File: test.py\n*** End Patch").unwrap_err(),
            ParseError::InvalidHunk {
                message: "Update file hunk for path 'test.py' is empty".to_string(),
                line_number: 2,
            }
        );
    }

    #[test]
    fn lenient_forms_are_accepted() {
        // Surrounding whitespace, padded markers, heredoc wrapper, CRLF, first chunk without `@@`.
        // A blank line inside a chunk is an empty context line (as upstream).
        let text = "\n  <<'EOF'\r\n *** Begin Patch \r\n *** Update File: f.py \r\n import foo\r\n+bar\r\n\r\n@@ x\r\n-y\r\n+z\r\n*** End Patch  \r\nEOF\n";
        assert_eq!(
            parse_patch(text).unwrap().hunks,
            vec![update(
                "f.py",
                vec![
                    chunk(None, &["import foo", ""], &["import foo", "bar", ""]),
                    chunk(Some("x"), &["y"], &["z"]),
                ]
            )]
        );
        for wrapper in ["<<EOF", "<<\"EOF\""] {
            let text =
                format!("{wrapper}\n*** Begin Patch\n*** Delete File: a\n*** End Patch\nEOF");
            assert_eq!(parse_patch(&text).unwrap().hunks.len(), 1);
        }
    }

    #[test]
    fn end_of_file_marker_and_empty_lines_inside_a_chunk() {
        let patch = parse_patch(
            "*** Begin Patch\n*** Update File: f\n@@\n a\n\n-b\n+c\n*** End of File\n*** End Patch",
        )
        .unwrap();
        let Hunk::Update { chunks, .. } = &patch.hunks[0] else {
            panic!("not an update");
        };
        assert_eq!(chunks[0].old_lines, vec!["a", "", "b"]);
        assert_eq!(chunks[0].new_lines, vec!["a", "", "c"]);
        assert!(chunks[0].end_of_file);
    }

    #[test]
    fn chunk_errors_use_upstream_messages() {
        let error = parse_patch(
            "*** Begin Patch\n*** Update File: f\n@@\n-a\n+b\nnot a diff line\n*** End Patch",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid hunk at line 6, Expected update hunk to start with a @@ context marker, got: 'not a diff line'"
        );
        let error =
            parse_patch("*** Begin Patch\n*** Update File: f\n@@\nbad\n*** End Patch").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid hunk at line 4, Unexpected line found in update hunk: 'bad'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)"
        );
        let error =
            parse_patch("*** Begin Patch\n*** Update File: f\n@@\n*** End of File\n*** End Patch")
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid hunk at line 4, Update hunk does not contain any lines"
        );
    }

    #[test]
    fn line_numbers_advance_over_earlier_hunks() {
        let error = parse_patch(
            "*** Begin Patch\n*** Update File: f\n@@\n-a\n+b\n\n@@ c\n+d\n*** Delete File: g\n*** Nope\n*** End Patch",
        )
        .unwrap_err();
        assert_eq!(
            error,
            ParseError::InvalidHunk {
                message: "'*** Nope' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'".to_string(),
                line_number: 10,
            }
        );
    }
}
