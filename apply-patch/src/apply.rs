//! [`apply`]: write a verified [`ChangeSet`] so that the tree ends up either fully patched or
//! exactly as it was.
//!
//! 1. Check: every file is still what `verify` read, and no directory on its path was swapped
//!    for a symbolic link.
//! 2. Stage: every new file is written to a temporary file in its target's directory (missing
//!    directories are created) and flushed to disk. A failure here (say the OS sandbox refuses
//!    the second file with `EROFS`) removes the temporary files and created directories: the
//!    tree was never touched.
//! 3. Commit: each temporary file is renamed over its target, then removed files are deleted.
//!    A failure here rolls back what was committed, from the previous contents kept in memory
//!    (rewritten atomically, with their mode), and removes created files and directories.
//! 4. The directories are flushed so the renames are durable.

use std::io;
use std::path::{Path, PathBuf};

use crate::changes::{AppliedSummary, ChangeSet, Original, PlannedWrite};
use crate::error::ApplyPatchError;
use crate::files::{read_file, sync_dir, write_temp};
use crate::paths::{LastComponent, resolve};

/// Write every change of `changes`. On error nothing was changed, unless the error is an
/// [`ApplyPatchError::Write`] whose `rollback_failures` lists paths.
pub fn apply(changes: &ChangeSet) -> Result<AppliedSummary, ApplyPatchError> {
    apply_with(changes, &mut |_, _| Ok(()))?;
    Ok(changes.summary.clone())
}

/// A step of the write, for injecting failures in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Stage,
    Commit,
    Remove,
}

pub(crate) type Faults<'a> = dyn FnMut(Step, &Path) -> io::Result<()> + 'a;

pub(crate) fn apply_with(
    changes: &ChangeSet,
    faults: &mut Faults<'_>,
) -> Result<(), ApplyPatchError> {
    for write in &changes.writes {
        check_unchanged(write)?;
    }
    let mut transaction = Transaction::default();
    if let Err(error) = stage(changes, &mut transaction, faults) {
        transaction.discard();
        return Err(error);
    }
    commit(changes, &mut transaction, faults)?;
    let mut directories: Vec<&Path> = changes
        .writes
        .iter()
        .filter_map(|write| write.path.parent())
        .collect();
    directories.sort();
    directories.dedup();
    for directory in directories {
        sync_dir(directory);
    }
    Ok(())
}

fn check_unchanged(write: &PlannedWrite) -> Result<(), ApplyPatchError> {
    let changed = || ApplyPatchError::ChangedSinceVerify {
        path: write.display.clone(),
    };
    // Every directory on the way must still be what verify resolved (no new symbolic link).
    match resolve(Path::new("/"), &write.path, LastComponent::Keep) {
        Ok(real) if real == write.path => {}
        _ => return Err(changed()),
    }
    let current = read_file(&write.path).map_err(|_| changed())?;
    let same = match (&write.original, &current) {
        (Original::Missing, None) => true,
        (Original::File(before), Some(now)) => before.bytes == now.bytes,
        _ => false,
    };
    if same { Ok(()) } else { Err(changed()) }
}

/// What has been done so far, to undo it.
#[derive(Default)]
struct Transaction {
    /// Temporary file per write index (staged, not yet renamed).
    staged: Vec<Option<PathBuf>>,
    /// Directories created, outermost first.
    created_directories: Vec<PathBuf>,
    /// Indexes of writes already committed, in order.
    committed: Vec<usize>,
}

impl Transaction {
    /// Remove what staging left behind (temporary files, then created directories, innermost
    /// first).
    fn discard(&mut self) {
        for temp in self.staged.iter_mut().filter_map(Option::take) {
            let _ = std::fs::remove_file(temp);
        }
        for directory in self.created_directories.drain(..).rev() {
            let _ = std::fs::remove_dir(directory);
        }
    }

    /// Undo committed writes (newest first), then discard; returns the paths that could not be
    /// restored.
    fn roll_back(&mut self, writes: &[PlannedWrite]) -> Vec<PathBuf> {
        let mut failures = Vec::new();
        for index in self.committed.drain(..).rev() {
            let write = &writes[index];
            if restore(write).is_err() {
                failures.push(write.display.clone());
            }
        }
        self.discard();
        failures
    }
}

fn restore(write: &PlannedWrite) -> io::Result<()> {
    match &write.original {
        Original::Missing => match std::fs::remove_file(&write.path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        },
        Original::File(state) => {
            let directory = parent(&write.path)?;
            let temp = write_temp(
                directory,
                &state.bytes,
                Some(state.mode),
                Some((state.uid, state.gid)),
            )?;
            std::fs::rename(&temp, &write.path).inspect_err(|_| {
                let _ = std::fs::remove_file(&temp);
            })
        }
    }
}

fn parent(path: &Path) -> io::Result<&Path> {
    path.parent()
        .ok_or_else(|| io::Error::other("the path has no parent directory"))
}

fn stage(
    changes: &ChangeSet,
    transaction: &mut Transaction,
    faults: &mut Faults<'_>,
) -> Result<(), ApplyPatchError> {
    transaction.staged = vec![None; changes.writes.len()];
    for (index, write) in changes.writes.iter().enumerate() {
        let Some(new) = &write.new else {
            continue;
        };
        let failed = |context: &str, error| ApplyPatchError::Write {
            context: format!("{context} {}", write.display.display()),
            error,
            rollback_failures: Vec::new(),
        };
        let directory =
            parent(&write.path).map_err(|error| failed("Failed to write file", error))?;
        create_directories(directory, &mut transaction.created_directories)
            .map_err(|error| failed("Failed to create parent directories for", error))?;
        let owner = match &write.original {
            Original::File(state) => Some((state.uid, state.gid)),
            Original::Missing => None,
        };
        let temp = faults(Step::Stage, &write.path)
            .and_then(|()| write_temp(directory, new.as_bytes(), write.mode, owner))
            .map_err(|error| failed("Failed to write file", error))?;
        transaction.staged[index] = Some(temp);
    }
    Ok(())
}

/// Create `directory` and its missing ancestors, recording each one created.
fn create_directories(directory: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut current = Some(directory);
    while let Some(path) = current {
        match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_dir() => break,
            Ok(_) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => missing.push(path),
            Err(error) => return Err(error),
        }
        current = path.parent();
    }
    for path in missing.into_iter().rev() {
        match std::fs::create_dir(path) {
            Ok(()) => created.push(path.to_path_buf()),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

fn commit(
    changes: &ChangeSet,
    transaction: &mut Transaction,
    faults: &mut Faults<'_>,
) -> Result<(), ApplyPatchError> {
    let writes = &changes.writes;
    let renames = writes
        .iter()
        .enumerate()
        .filter(|(_, write)| write.new.is_some());
    let removals = writes
        .iter()
        .enumerate()
        .filter(|(_, write)| write.new.is_none());
    for (index, write) in renames.chain(removals) {
        let (context, result) = match &transaction.staged[index] {
            Some(temp) => (
                "Failed to write file",
                faults(Step::Commit, &write.path).and_then(|()| std::fs::rename(temp, &write.path)),
            ),
            None => (
                "Failed to delete file",
                faults(Step::Remove, &write.path).and_then(|()| std::fs::remove_file(&write.path)),
            ),
        };
        match result {
            Ok(()) => {
                transaction.staged[index] = None;
                transaction.committed.push(index);
            }
            Err(error) => {
                let rollback_failures = transaction.roll_back(writes);
                return Err(ApplyPatchError::Write {
                    context: format!("{context} {}", write.display.display()),
                    error,
                    rollback_failures,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::guard::WriteGuard;
    use crate::parser::parse_patch;
    use crate::verify::verify;

    /// Every entry below `root`: relative path → (contents, mode); directories have no contents.
    fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Option<Vec<u8>>, u32)> {
        let mut entries = BTreeMap::new();
        let mut pending = vec![root.to_path_buf()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).unwrap() {
                let path = entry.unwrap().path();
                let metadata = std::fs::symlink_metadata(&path).unwrap();
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                let mode = metadata.permissions().mode();
                if metadata.is_dir() {
                    pending.push(path);
                    entries.insert(relative, (None, mode));
                } else {
                    entries.insert(relative, (Some(std::fs::read(&path).unwrap()), mode));
                }
            }
        }
        entries
    }

    fn setup() -> (tempfile::TempDir, PathBuf, ChangeSet) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("one.txt"), "one\n").unwrap();
        std::fs::write(root.join("two.txt"), "two\n").unwrap();
        std::fs::set_permissions(root.join("two.txt"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::fs::write(root.join("gone.txt"), "gone\n").unwrap();
        let patch = parse_patch(
            "*** Begin Patch\n*** Add File: new/deep/added.txt\n+added\n\
             *** Update File: one.txt\n@@\n-one\n+ONE\n\
             *** Update File: two.txt\n*** Move to: moved/two.txt\n@@\n-two\n+TWO\n\
             *** Delete File: gone.txt\n*** End Patch",
        )
        .unwrap();
        let changes = verify(&patch, &root, &WriteGuard::unrestricted()).unwrap();
        (dir, root, changes)
    }

    #[test]
    fn applies_everything_and_keeps_modes() {
        let (_dir, root, changes) = setup();
        let summary = apply(&changes).unwrap();
        assert_eq!(
            summary.to_string(),
            "Success. Updated the following files:\nA new/deep/added.txt\nM one.txt\nM moved/two.txt\nD gone.txt\n"
        );
        let after = snapshot(&root);
        let file = |name: &str| after[Path::new(name)].clone();
        assert_eq!(file("new/deep/added.txt").0.unwrap(), b"added\n");
        assert_eq!(file("one.txt").0.unwrap(), b"ONE\n");
        assert_eq!(file("moved/two.txt"), (Some(b"TWO\n".to_vec()), 0o100640));
        assert!(!after.contains_key(Path::new("two.txt")));
        assert!(!after.contains_key(Path::new("gone.txt")));
        assert_eq!(after.len(), 6, "{after:?}");
        // A second apply of the same change set finds the files changed and does nothing.
        assert!(matches!(
            apply(&changes),
            Err(ApplyPatchError::ChangedSinceVerify { .. })
        ));
        assert_eq!(snapshot(&root), after);
    }

    #[test]
    fn a_failure_at_any_step_leaves_the_tree_unchanged() {
        for (step, nth) in [
            (Step::Stage, 0),
            (Step::Stage, 2),
            (Step::Commit, 0),
            (Step::Commit, 1),
            (Step::Commit, 2),
            (Step::Remove, 0),
            (Step::Remove, 1),
        ] {
            let (_dir, root, changes) = setup();
            let before = snapshot(&root);
            let mut seen = 0;
            let error = apply_with(&changes, &mut |at, path| {
                if at != step {
                    return Ok(());
                }
                seen += 1;
                if seen == nth + 1 {
                    Err(io::Error::new(
                        io::ErrorKind::ReadOnlyFilesystem,
                        format!("injected at {}", path.display()),
                    ))
                } else {
                    Ok(())
                }
            })
            .unwrap_err();
            let ApplyPatchError::Write {
                rollback_failures, ..
            } = &error
            else {
                panic!("{step:?} {nth}: {error}");
            };
            assert!(rollback_failures.is_empty());
            assert!(
                error.to_string().ends_with("(nothing was changed)"),
                "{error}"
            );
            assert_eq!(snapshot(&root), before, "{step:?} {nth}");
        }
    }

    #[test]
    fn a_file_changed_after_verify_is_not_overwritten() {
        let (_dir, root, changes) = setup();
        std::fs::write(root.join("one.txt"), "someone else\n").unwrap();
        let before = snapshot(&root);
        let error = apply(&changes).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "`{}` changed after the patch was verified; verify the patch again",
                root.join("one.txt").display()
            )
        );
        assert_eq!(snapshot(&root), before);
        // A file created where the patch adds one counts as a change too.
        let (_dir, root, changes) = setup();
        std::fs::create_dir_all(root.join("new/deep")).unwrap();
        std::fs::write(root.join("new/deep/added.txt"), "mine\n").unwrap();
        assert!(matches!(
            apply(&changes),
            Err(ApplyPatchError::ChangedSinceVerify { .. })
        ));
        assert_eq!(
            std::fs::read(root.join("new/deep/added.txt")).unwrap(),
            b"mine\n"
        );
    }

    #[test]
    fn a_directory_swapped_for_a_symlink_after_verify_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("ws/sub")).unwrap();
        std::fs::create_dir_all(root.join("outside")).unwrap();
        let patch =
            parse_patch("*** Begin Patch\n*** Add File: sub/f.txt\n+x\n*** End Patch").unwrap();
        let changes = verify(&patch, &root.join("ws"), &WriteGuard::unrestricted()).unwrap();
        std::fs::remove_dir(root.join("ws/sub")).unwrap();
        std::os::unix::fs::symlink(root.join("outside"), root.join("ws/sub")).unwrap();
        assert!(matches!(
            apply(&changes),
            Err(ApplyPatchError::ChangedSinceVerify { .. })
        ));
        assert!(!root.join("outside/f.txt").exists());
    }
}
