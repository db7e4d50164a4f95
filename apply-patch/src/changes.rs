//! What a verified patch will do: [`ChangeSet`] (per-file changes for events and diffs, plus the
//! write plan `apply` executes) and [`AppliedSummary`] (upstream's success text).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diff::unified_diff;

/// A verified patch, ready for [`apply`](crate::apply). Holds the new contents of every file
/// and the previous contents of every file it replaces or removes (to check nothing changed in
/// between, and to roll back).
#[derive(Debug, Clone)]
pub struct ChangeSet {
    pub(crate) changes: Vec<FileChange>,
    pub(crate) writes: Vec<PlannedWrite>,
    pub(crate) summary: AppliedSummary,
}

impl ChangeSet {
    /// One entry per affected file, in the order the patch first touches them. A move is one
    /// [`ChangeKind::Update`] entry on the source with `move_path` set.
    pub fn changes(&self) -> &[FileChange] {
        &self.changes
    }

    /// The success text `apply` returns.
    pub fn summary(&self) -> &AppliedSummary {
        &self.summary
    }

    /// Every real path `apply` creates, replaces or removes.
    pub fn written_paths(&self) -> impl Iterator<Item = &Path> {
        self.writes.iter().map(|write| write.path.as_path())
    }
}

/// One affected file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file read or removed (for a move: the source), absolute with symbolic links
    /// resolved.
    pub path: PathBuf,
    pub kind: ChangeKind,
    /// The contents before the patch; `None` when the file did not exist. A file that is not
    /// UTF-8 (replaced by an `Add`, or deleted) is shown lossily here; a rollback restores its
    /// exact bytes.
    pub old_content: Option<String>,
    /// The contents after the patch; `None` for a deletion.
    pub new_content: Option<String>,
}

impl FileChange {
    /// The change in unified format (hunks only, one line of context).
    pub fn unified_diff(&self) -> String {
        unified_diff(
            self.old_content.as_deref().unwrap_or(""),
            self.new_content.as_deref().unwrap_or(""),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    Add,
    Delete,
    /// Changed in place, or moved to `move_path` (absolute, resolved) with the new contents.
    Update {
        move_path: Option<PathBuf>,
    },
}

/// What `apply` does to one real path.
#[derive(Debug, Clone)]
pub(crate) struct PlannedWrite {
    pub(crate) path: PathBuf,
    /// The path as the patch spelled it, against the working directory (for messages).
    pub(crate) display: PathBuf,
    pub(crate) original: Original,
    /// `None`: remove the file.
    pub(crate) new: Option<String>,
    /// Permission bits for the new file: the original's, or a move source's; `None` for the
    /// default of a new file.
    pub(crate) mode: Option<u32>,
}

/// A file's state before the patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Original {
    Missing,
    File(FileState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileState {
    pub(crate) bytes: Vec<u8>,
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// Upstream's success report: `Success. Updated the following files:` then `A`, `M` and `D`
/// lines with the paths as the patch wrote them (one line per hunk; a move lists its
/// destination).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedSummary {
    pub added: Vec<PathBuf>,
    pub modified: Vec<PathBuf>,
    pub deleted: Vec<PathBuf>,
}

impl fmt::Display for AppliedSummary {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "Success. Updated the following files:")?;
        for (letter, paths) in [
            ('A', &self.added),
            ('M', &self.modified),
            ('D', &self.deleted),
        ] {
            for path in paths {
                writeln!(formatter, "{letter} {}", path.display())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_renders_like_upstream() {
        let summary = AppliedSummary {
            added: vec![PathBuf::from("a.txt")],
            modified: vec![PathBuf::from("b.txt"), PathBuf::from("dir/moved.txt")],
            deleted: vec![PathBuf::from("c.txt")],
        };
        assert_eq!(
            summary.to_string(),
            "Success. Updated the following files:\nA a.txt\nM b.txt\nM dir/moved.txt\nD c.txt\n"
        );
    }
}
