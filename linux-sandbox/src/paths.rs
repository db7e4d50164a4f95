//! Resolving policy paths to the real paths that get mounted, and detecting paths that cross a
//! symlink the sandboxed command could re-point (one located where it may write).

use std::io;
use std::path::{Component, Path, PathBuf};

use codex_sandbox_policy::{HostFileSystem, LinkEntry, ResolveSymlinksError, replaceable_symlink};

use crate::error::{PathRole, PlanSandboxError};

/// A policy path resolved against the host filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The canonical path if it exists; otherwise the canonical form of its deepest existing
    /// ancestor followed by the missing components.
    pub real: PathBuf,
    pub exists: bool,
}

/// Resolve `path` (absolute) to its real location.
pub(crate) fn resolve(path: &Path) -> Result<Resolved, PlanSandboxError> {
    match std::fs::canonicalize(path) {
        Ok(real) => Ok(Resolved { real, exists: true }),
        Err(error) if is_missing(&error) => {
            let mut existing = path.to_path_buf();
            let mut missing = Vec::new();
            loop {
                let Some(name) = existing.file_name().map(|name| name.to_os_string()) else {
                    return Err(inspect_error(path, error));
                };
                missing.push(name);
                existing.pop();
                match std::fs::canonicalize(&existing) {
                    Ok(mut real) => {
                        for name in missing.iter().rev() {
                            real.push(name);
                        }
                        return Ok(Resolved {
                            real,
                            exists: false,
                        });
                    }
                    Err(error) if is_missing(&error) => continue,
                    Err(error) => return Err(inspect_error(&existing, error)),
                }
            }
        }
        Err(error) => Err(inspect_error(path, error)),
    }
}

/// Fail when `path` crosses a symlink (including its last component, and every link of a chain
/// that leads there) that lies in a directory `is_writable` says the sandbox may write: such a
/// symlink could be re-pointed by the command, so binding its current target would protect a
/// snapshot only. The walk is the shared rule ([`codex_sandbox_policy::replaceable_symlink`]);
/// a link's directory counts as writable under its spelling or its resolved form.
pub(crate) fn check_writable_symlinks(
    path: &Path,
    role: PathRole,
    is_writable: &dyn Fn(&Path) -> bool,
) -> Result<(), PlanSandboxError> {
    let directory_is_writable = |entry: LinkEntry<'_>| {
        let parent = |entry: &Path| entry.parent().unwrap_or(Path::new("/")).to_path_buf();
        is_writable(&parent(entry.spelled)) || is_writable(&parent(entry.resolved))
    };
    match replaceable_symlink(path, &HostFileSystem, &directory_is_writable) {
        Ok(None) => Ok(()),
        Ok(Some(symlink)) => Err(PlanSandboxError::CrossesWritableSymlink {
            role,
            path: path.to_path_buf(),
            symlink: symlink.spelled,
        }),
        // The kernel would fail to resolve the path too (`ELOOP`).
        Err(ResolveSymlinksError::TooManyLinks { path }) => Err(inspect_error(
            &path,
            io::Error::from_raw_os_error(libc::ELOOP),
        )),
        Err(ResolveSymlinksError::Inspect { path, source }) => Err(inspect_error(&path, source)),
    }
}

/// A denied regular file must have no other name: masks and Landlock rules go by path, so a
/// second hard link (made before the run, outside the sandbox) would stay readable.
pub(crate) fn refuse_hard_linked(
    path: &Path,
    metadata: &std::fs::Metadata,
) -> Result<(), PlanSandboxError> {
    use std::os::unix::fs::MetadataExt;
    if metadata.is_file() && metadata.nlink() > 1 {
        return Err(PlanSandboxError::HardLinkedDenial {
            path: path.to_path_buf(),
            links: metadata.nlink(),
        });
    }
    Ok(())
}

/// Number of normal components (the mount order key).
pub(crate) fn depth(path: &Path) -> usize {
    path.components()
        .filter(|component| matches!(component, Component::Normal(_)))
        .count()
}

pub(crate) fn is_missing(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENOTDIR)
    )
}

pub(crate) fn inspect_error(path: &Path, source: io::Error) -> PlanSandboxError {
    PlanSandboxError::Inspect {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether the caller may create entries in `directory` (effective ids: write and search), as
/// mounts need to know (then so could the sandbox) and a cgroup parent must be.
pub(crate) fn host_writable(directory: &Path) -> bool {
    let Ok(path) = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(
        directory.as_os_str(),
    )) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::W_OK | libc::X_OK,
            libc::AT_EACCESS,
        ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_missing_tail_against_the_real_parent() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("target")).unwrap();
        std::os::unix::fs::symlink(real.join("target"), real.join("link")).unwrap();
        let resolved = resolve(&real.join("link/missing/deeper")).unwrap();
        assert_eq!(
            resolved,
            Resolved {
                real: real.join("target/missing/deeper"),
                exists: false
            }
        );
        let resolved = resolve(&real.join("link")).unwrap();
        assert_eq!(resolved.real, real.join("target"));
        assert!(resolved.exists);
    }

    #[test]
    fn symlink_in_writable_directory_fails_closed_with_upstream_text() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("decoy")).unwrap();
        std::os::unix::fs::symlink(root.join("decoy"), root.join(".codex")).unwrap();
        let writable_root = root.clone();
        let is_writable = move |path: &Path| path.starts_with(&writable_root);
        let error = check_writable_symlinks(
            &root.join(".codex/config.toml"),
            PathRole::ReadOnly,
            &is_writable,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot enforce sandbox read-only path {}/.codex/config.toml because it crosses writable symlink {}/.codex",
                root.display(),
                root.display()
            )
        );
    }

    #[test]
    fn symlink_in_read_only_directory_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("alias")).unwrap();
        let is_writable = |path: &Path| path.ends_with("real");
        check_writable_symlinks(&root.join("alias/x"), PathRole::DenyRead, &is_writable).unwrap();
    }

    #[test]
    fn chain_through_a_link_in_a_writable_directory_fails_closed() {
        // `ro/link` (read-only directory) -> `w/inner` (writable directory) -> `real`.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        for directory in ["ro", "w", "real"] {
            std::fs::create_dir(root.join(directory)).unwrap();
        }
        std::os::unix::fs::symlink(root.join("real"), root.join("w/inner")).unwrap();
        std::os::unix::fs::symlink("../w/inner", root.join("ro/link")).unwrap();
        let writable = root.join("w");
        let is_writable = move |path: &Path| path.starts_with(&writable);
        let error =
            check_writable_symlinks(&root.join("ro/link/file"), PathRole::DenyRead, &is_writable)
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot enforce sandbox deny-read path {0}/ro/link/file because it crosses writable symlink {0}/w/inner",
                root.display()
            )
        );
        // Control: the same link pointing straight at `real` is followed.
        std::os::unix::fs::symlink(root.join("real"), root.join("ro/direct")).unwrap();
        check_writable_symlinks(
            &root.join("ro/direct/file"),
            PathRole::DenyRead,
            &is_writable,
        )
        .unwrap();
    }

    #[test]
    fn symlink_loop_is_an_inspect_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(root.join("b"), root.join("a")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b")).unwrap();
        let error =
            check_writable_symlinks(&root.join("a/x"), PathRole::ReadOnly, &|_| false).unwrap_err();
        assert!(
            matches!(&error, PlanSandboxError::Inspect { path, source }
                if path == &root.join("a/x") && source.raw_os_error() == Some(libc::ELOOP)),
            "{error:?}"
        );
    }

    #[test]
    fn depth_counts_normal_components() {
        assert_eq!(depth(Path::new("/a/b")), 2);
        assert_eq!(depth(Path::new("/")), 0);
    }
}
