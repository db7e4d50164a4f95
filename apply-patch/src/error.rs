//! [`ApplyPatchError`]: why a patch was not applied. Texts that upstream prints are kept exactly
//! (models are trained on them); paths in them are absolute.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::guard::WriteRefusal;
use crate::parser::ParseError;

/// Why verifying or applying a patch failed. Whatever the variant, the files are as they were
/// before (see [`ApplyPatchError::Write`] for the one exception, which says so).
#[derive(Debug, thiserror::Error)]
pub enum ApplyPatchError {
    #[error(transparent)]
    Parse(#[from] ParseError),

    /// The patch has no hunks.
    #[error("No files were modified.")]
    NoChanges,

    /// Reading a file (or resolving its path) failed, e.g. `Failed to read file to update
    /// <path>: No such file or directory (os error 2)`.
    #[error("{context}: {error}")]
    Read { context: String, error: io::Error },

    #[error("Failed to find context '{context}' in {}", path.display())]
    ContextNotFound { context: String, path: PathBuf },

    #[error("Failed to find expected lines in {}:\n{lines}", path.display())]
    ExpectedLinesNotFound { path: PathBuf, lines: String },

    /// A path is not writable under the write guard.
    #[error(transparent)]
    Rejected(#[from] WriteRefusal),

    #[error("working directory `{}` is not an absolute path; pass an absolute directory", path.display())]
    RelativeCwd { path: PathBuf },

    /// A file was changed by someone else between `verify` and `apply`.
    #[error("`{}` changed after the patch was verified; verify the patch again", path.display())]
    ChangedSinceVerify { path: PathBuf },

    /// Writing failed part-way. Everything already written was rolled back unless
    /// `rollback_failures` lists paths.
    #[error("{context}: {error}{}", RollbackNote(rollback_failures))]
    Write {
        context: String,
        error: io::Error,
        /// Paths that could not be restored (empty: the tree is unchanged).
        rollback_failures: Vec<PathBuf>,
    },
}

impl ApplyPatchError {
    pub(crate) fn read(context: String, error: io::Error) -> Self {
        ApplyPatchError::Read { context, error }
    }
}

struct RollbackNote<'a>(&'a [PathBuf]);

impl fmt::Display for RollbackNote<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return formatter.write_str(" (nothing was changed)");
        }
        formatter.write_str(" (restoring the previous contents failed too; check these files: ")?;
        for (index, path) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str(", ")?;
            }
            write!(formatter, "`{}`", path.display())?;
        }
        formatter.write_str(")")
    }
}
