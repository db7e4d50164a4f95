//! The `*** Begin Patch` file-editing format that coding models emit: parse it, check it against
//! the files and the sandbox policy entirely in memory, then write every file atomically, or
//! nothing at all.
//!
//! ```text
//! text ─ parse_patch ─► Patch ─ verify(cwd, WriteGuard) ─► ChangeSet ─ apply ─► AppliedSummary
//! argv ─ ApplyPatchInvocation::from_argv ─► Patch + workdir
//! ```
//!
//! Modules:
//! - `parser`: the grammar, lenient the way upstream is ([`parse_patch`], [`ParseError`]).
//! - `invocation`: recognising `apply_patch` calls in a command line or shell script.
//! - `matcher`: finding a chunk's lines with upstream's fallbacks (exact, trailing whitespace,
//!   surrounding whitespace, Unicode punctuation).
//! - `text`: applying an update's chunks to a file's text (line endings, final newline, BOM).
//! - `paths`: resolving a patch path to the real file (symbolic links, `..`).
//! - `guard`: [`WriteGuard`], the sandbox policy's write rules.
//! - `verify`: [`verify`], everything short of writing.
//! - `changes`: [`ChangeSet`], [`FileChange`], [`AppliedSummary`].
//! - `apply`: [`apply`]: stage every file, commit with renames, roll back on failure.
//! - `files`: bounded reads of regular files, durable temporary files.
//! - `diff`: [`unified_diff`].
//! - `error`: [`ApplyPatchError`].

mod apply;
mod changes;
mod diff;
mod error;
mod files;
mod guard;
mod invocation;
mod matcher;
mod parser;
mod paths;
mod text;
mod verify;

pub use apply::apply;
pub use changes::AppliedSummary;
pub use changes::ChangeKind;
pub use changes::ChangeSet;
pub use changes::FileChange;
pub use diff::unified_diff;
pub use error::ApplyPatchError;
pub use files::MAX_FILE_BYTES;
pub use guard::RefusalReason;
pub use guard::WriteGuard;
pub use guard::WriteRefusal;
pub use invocation::ApplyPatchInvocation;
pub use invocation::InvocationError;
pub use parser::Hunk;
pub use parser::ParseError;
pub use parser::Patch;
pub use parser::UpdateChunk;
pub use parser::parse_patch;
pub use verify::verify;

/// Parse, verify and apply `text` against `cwd` in one call (what the `apply_patch` command
/// does).
pub fn apply_patch(
    text: &str,
    cwd: &std::path::Path,
    guard: &WriteGuard,
) -> Result<AppliedSummary, ApplyPatchError> {
    let patch = parse_patch(text)?;
    let changes = verify(&patch, cwd, guard)?;
    apply(&changes)
}
