//! [`verify`]: everything short of writing. Paths are resolved and checked against the write
//! guard before any file is read; then the hunks are applied in order to an in-memory view of
//! the files (so a later hunk sees what an earlier one did to the same file), and the net
//! result becomes a [`ChangeSet`].

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::changes::{AppliedSummary, ChangeKind, ChangeSet, FileChange, Original, PlannedWrite};
use crate::error::ApplyPatchError;
use crate::files::read_file;
use crate::guard::WriteGuard;
use crate::parser::{Hunk, Patch};
use crate::paths::{LastComponent, display_path, resolve};
use crate::text::apply_chunks;

/// Check `patch` against the files below `cwd` (absolute) and `guard`, and compute every new
/// file in memory. Nothing is written.
pub fn verify(patch: &Patch, cwd: &Path, guard: &WriteGuard) -> Result<ChangeSet, ApplyPatchError> {
    if !cwd.is_absolute() {
        return Err(ApplyPatchError::RelativeCwd {
            path: cwd.to_path_buf(),
        });
    }
    if patch.hunks.is_empty() {
        return Err(ApplyPatchError::NoChanges);
    }
    let targets = patch
        .hunks
        .iter()
        .map(|hunk| HunkTargets::resolve(hunk, cwd))
        .collect::<Result<Vec<_>, _>>()?;
    for target in targets.iter().flat_map(HunkTargets::all) {
        guard.check(&target.real)?;
        // Creating missing directories writes into the deepest existing one.
        if let Some(existing) = missing_directories_start(&target.real) {
            guard.check(existing)?;
        }
    }
    let mut view = View::default();
    let mut summary = AppliedSummary::default();
    for (hunk, targets) in patch.hunks.iter().zip(&targets) {
        let source = &targets.source;
        match hunk {
            Hunk::Add { path, contents } => {
                let slot = view.slot(source, "Failed to write file")?;
                slot.current = Current::Text(contents.clone());
                summary.added.push(path.clone());
            }
            Hunk::Delete { path } => {
                let slot = view.slot(source, "Failed to read")?;
                // Any regular file may go, text or not (its bytes are kept for a rollback).
                if matches!(slot.current, Current::Missing) {
                    return Err(missing(format!(
                        "Failed to read {}",
                        source.display.display()
                    )));
                }
                slot.current = Current::Missing;
                slot.added_only = false;
                summary.deleted.push(path.clone());
            }
            Hunk::Update {
                path,
                move_to,
                chunks,
            } => {
                let slot = view.slot(source, "Failed to read file to update")?;
                let text = slot.text(|| {
                    format!("Failed to read file to update {}", source.display.display())
                })?;
                let new = apply_chunks(text, chunks, &source.display)?;
                slot.added_only = false;
                match &targets.destination {
                    Some(destination) if destination.real != source.real => {
                        slot.current = Current::Missing;
                        let mode = slot.mode();
                        let slot = view.slot(destination, "Failed to write file")?;
                        slot.current = Current::Text(new);
                        slot.added_only = false;
                        if slot.mode().is_none() {
                            slot.moved_mode = mode;
                        }
                        view.moves
                            .push((source.real.clone(), destination.real.clone()));
                    }
                    _ => slot.current = Current::Text(new),
                }
                summary
                    .modified
                    .push(move_to.clone().unwrap_or_else(|| path.clone()));
            }
        }
    }
    Ok(view.into_change_set(summary))
}

/// A patch path resolved two ways.
#[derive(Debug, Clone)]
struct Target {
    /// The file really read or written.
    real: PathBuf,
    /// Against the working directory, lexically (for messages).
    display: PathBuf,
}

struct HunkTargets {
    source: Target,
    destination: Option<Target>,
}

impl HunkTargets {
    fn resolve(hunk: &Hunk, cwd: &Path) -> Result<Self, ApplyPatchError> {
        // Deleting or moving away removes the directory entry itself; everything else reads or
        // writes the file a symbolic link points to.
        let (last, move_to) = match hunk {
            Hunk::Add { .. } => (LastComponent::Follow, None),
            Hunk::Delete { .. } => (LastComponent::Keep, None),
            Hunk::Update { move_to: None, .. } => (LastComponent::Follow, None),
            Hunk::Update {
                move_to: Some(move_to),
                ..
            } => (LastComponent::Keep, Some(move_to)),
        };
        Ok(HunkTargets {
            source: target(cwd, hunk.path(), last)?,
            destination: move_to
                .map(|path| target(cwd, path, LastComponent::Follow))
                .transpose()?,
        })
    }

    fn all(&self) -> impl Iterator<Item = &Target> {
        std::iter::once(&self.source).chain(&self.destination)
    }
}

fn target(cwd: &Path, path: &Path, last: LastComponent) -> Result<Target, ApplyPatchError> {
    let display = display_path(cwd, path);
    let real = resolve(cwd, path, last).map_err(|error| {
        ApplyPatchError::read(format!("Failed to resolve {}", display.display()), error)
    })?;
    Ok(Target { real, display })
}

fn missing(context: String) -> ApplyPatchError {
    ApplyPatchError::read(context, io::Error::from_raw_os_error(libc::ENOENT))
}

/// The deepest existing ancestor of `path`'s directory, when that directory does not exist.
fn missing_directories_start(path: &Path) -> Option<&Path> {
    let directory = path.parent()?;
    if std::fs::symlink_metadata(directory).is_ok() {
        return None;
    }
    directory
        .ancestors()
        .find(|ancestor| std::fs::symlink_metadata(ancestor).is_ok())
}

/// The files as the hunks so far left them.
#[derive(Default)]
struct View {
    slots: HashMap<PathBuf, Slot>,
    order: Vec<PathBuf>,
    moves: Vec<(PathBuf, PathBuf)>,
}

struct Slot {
    display: PathBuf,
    original: Original,
    current: Current,
    /// Only `Add` hunks touched the file (an `Add` over an existing file is reported as such).
    added_only: bool,
    /// The mode of the file moved here (when nothing was here before).
    moved_mode: Option<u32>,
}

enum Current {
    Missing,
    /// As on disk (`original`); not copied until a hunk changes it.
    Unchanged,
    Text(String),
}

impl Slot {
    /// The mode the file has, or will get from a move.
    fn mode(&self) -> Option<u32> {
        match &self.original {
            Original::File(state) => Some(state.mode),
            Original::Missing => self.moved_mode,
        }
    }

    /// The current text; `context` names the operation for the error.
    fn text(&self, context: impl FnOnce() -> String) -> Result<&str, ApplyPatchError> {
        match &self.current {
            Current::Text(text) => Ok(text),
            Current::Missing => Err(missing(context())),
            Current::Unchanged => match &self.original {
                Original::File(state) => std::str::from_utf8(&state.bytes).map_err(|_| {
                    ApplyPatchError::read(
                        context(),
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            "stream did not contain valid UTF-8 (apply_patch only edits UTF-8 text files)",
                        ),
                    )
                }),
                Original::Missing => Err(missing(context())),
            },
        }
    }
}

impl View {
    /// The file at `target`, read from disk on first use; `context` starts the message of a
    /// read error.
    fn slot(&mut self, target: &Target, context: &str) -> Result<&mut Slot, ApplyPatchError> {
        if !self.slots.contains_key(&target.real) {
            let original = read_file(&target.real).map_err(|error| {
                ApplyPatchError::read(format!("{context} {}", target.display.display()), error)
            })?;
            let (original, current) = match original {
                None => (Original::Missing, Current::Missing),
                Some(state) => (Original::File(state), Current::Unchanged),
            };
            self.order.push(target.real.clone());
            self.slots.insert(
                target.real.clone(),
                Slot {
                    display: target.display.clone(),
                    original,
                    current,
                    added_only: true,
                    moved_mode: None,
                },
            );
        }
        self.slots.get_mut(&target.real).ok_or_else(|| {
            ApplyPatchError::read(
                format!("{context} {}", target.display.display()),
                io::Error::other("internal error: file view lost an entry"),
            )
        })
    }

    fn into_change_set(mut self, summary: AppliedSummary) -> ChangeSet {
        let mut writes = Vec::new();
        let mut changes: Vec<FileChange> = Vec::new();
        for path in &self.order {
            let Some(slot) = self.slots.remove(path) else {
                continue;
            };
            let old_bytes = match &slot.original {
                Original::Missing => None,
                Original::File(state) => Some(state.bytes.as_slice()),
            };
            let mode = slot.mode();
            let new = match slot.current {
                Current::Missing => None,
                Current::Text(text) => Some(text),
                // Untouched: nothing to do.
                Current::Unchanged => continue,
            };
            if old_bytes.is_none() && new.is_none() {
                continue;
            }
            let kind = match (old_bytes, &new) {
                (None, _) => ChangeKind::Add,
                (Some(_), None) => ChangeKind::Delete,
                (Some(_), Some(_)) if slot.added_only => ChangeKind::Add,
                (Some(_), Some(_)) => ChangeKind::Update { move_path: None },
            };
            changes.push(FileChange {
                path: path.clone(),
                kind,
                old_content: old_bytes.map(|bytes| match std::str::from_utf8(bytes) {
                    Ok(text) => text.to_owned(),
                    Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                }),
                new_content: new.clone(),
            });
            if old_bytes
                .zip(new.as_deref())
                .is_some_and(|(old, new)| old == new.as_bytes())
            {
                continue;
            }
            writes.push(PlannedWrite {
                mode,
                path: path.clone(),
                display: slot.display,
                original: slot.original,
                new,
            });
        }
        fold_moves(&mut changes, &self.moves);
        ChangeSet {
            changes,
            writes,
            summary,
        }
    }
}

/// Report a move as one update of its source (with `move_path`) when the source ends up
/// removed and the destination written.
fn fold_moves(changes: &mut Vec<FileChange>, moves: &[(PathBuf, PathBuf)]) {
    for (source, destination) in moves {
        let find = |changes: &[FileChange], path: &Path| {
            changes.iter().position(|change| change.path == path)
        };
        let (Some(from), Some(to)) = (find(changes, source), find(changes, destination)) else {
            continue;
        };
        if changes[from].kind != ChangeKind::Delete || changes[to].new_content.is_none() {
            continue;
        }
        let moved = changes.remove(to);
        let from = if to < from { from - 1 } else { from };
        changes[from].kind = ChangeKind::Update {
            move_path: Some(moved.path),
        };
        changes[from].new_content = moved.new_content;
    }
}
