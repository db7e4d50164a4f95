//! Host mount points for missing protected paths (e.g. `.codex` in the working directory, `.git`
//! in `/tmp`).
//!
//! bubblewrap can only mount on an existing path, so for the run we create an empty directory of
//! mode [`MOUNT_POINT_MODE`] (`r-xr-xr-t`: nobody can add entries, every user can open it, and the
//! sticky bit, meaningless on a read-only directory, marks it as a sandbox mount point rather than
//! a user's directory), hold a shared `flock` on it for the run's lifetime, and afterwards remove
//! it only if nobody else holds it (exclusive non-blocking `flock`), it is still the same inode
//! with that mode, and it is empty (`rmdir`). A run that opens the directory while another one
//! removes it notices after locking (the path no longer names the inode it locked) and creates a
//! fresh one.
//!
//! Runs of different users share a mount point in a shared sticky directory (`/tmp`): the planner
//! treats an existing one as missing (so it is masked and held, never bound without a lock), and
//! a mount point owned by another user is accepted only in a sticky directory, where nobody but
//! its owner and root can remove or rename it. Whoever releases it last removes it if the kernel
//! lets them: a run of another (unprivileged) user cannot, so when the creator finishes first the
//! empty directory stays until a later run of its owner (or of root) uses and removes it; until
//! then every run shares it. Anything unexpected fails closed: the command does not start.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::bwrap::mounts::MOUNT_POINT_MODE;
use crate::error::RunSandboxError;

const ATTEMPTS: usize = 8;

/// A mount point held for one run; [`MountPointGuard::release`] removes it when possible.
#[derive(Debug)]
pub(crate) struct MountPointGuard {
    parent: OwnedFd,
    name: CString,
    directory: OwnedFd,
    device: u64,
    inode: u64,
}

/// Create (or join) the mount point at `path` and hold it.
pub(crate) fn acquire(path: &Path) -> Result<MountPointGuard, RunSandboxError> {
    let fail = |reason: String| RunSandboxError::MountPoint {
        path: path.to_path_buf(),
        reason,
    };
    let (Some(parent_path), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(fail("not a directory entry".to_string()));
    };
    let name = CString::new(name.as_bytes()).map_err(|error| fail(error.to_string()))?;
    let parent_c = CString::new(parent_path.as_os_str().as_bytes())
        .map_err(|error| fail(error.to_string()))?;
    // SAFETY: `parent_c` is a valid NUL-terminated path; the result is checked.
    let parent = unsafe {
        libc::open(
            parent_c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if parent < 0 {
        return Err(fail(format!(
            "cannot open the parent: {}",
            io::Error::last_os_error()
        )));
    }
    // SAFETY: `parent` is a freshly opened descriptor that nothing else owns.
    let parent = unsafe { OwnedFd::from_raw_fd(parent) };
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let parent_status = fstat(parent.as_raw_fd()).map_err(|error| fail(error.to_string()))?;
    let sticky_parent = parent_status.st_mode & libc::S_ISVTX != 0;
    for _ in 0..ATTEMPTS {
        // SAFETY: valid descriptor and NUL-terminated name.
        let created =
            unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), MOUNT_POINT_MODE) } == 0;
        if !created {
            let error = io::Error::last_os_error();
            if error.raw_os_error() != Some(libc::EEXIST) {
                return Err(fail(format!("cannot create it: {error}")));
            }
        }
        // SAFETY: valid descriptor and name; O_NOFOLLOW refuses a symlink planted in its place.
        let directory = unsafe {
            libc::openat(
                parent.as_raw_fd(),
                name.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if directory < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::ENOENT) {
                continue;
            }
            return Err(fail(format!("it is not a plain directory: {error}")));
        }
        // SAFETY: freshly opened descriptor owned by nobody else.
        let directory = unsafe { OwnedFd::from_raw_fd(directory) };
        let mut status = fstat(directory.as_raw_fd()).map_err(|error| fail(error.to_string()))?;
        let mode = status.st_mode & 0o7777;
        if created
            && status.st_uid == euid
            && mode != MOUNT_POINT_MODE
            && mode & !MOUNT_POINT_MODE == 0
        {
            // Ours, with bits the umask removed: set the mode exactly (through the descriptor,
            // so a symlink swapped in meanwhile is never followed).
            // SAFETY: valid descriptor.
            if unsafe { libc::fchmod(directory.as_raw_fd(), MOUNT_POINT_MODE as libc::mode_t) } != 0
            {
                return Err(fail(format!(
                    "cannot set its mode: {}",
                    io::Error::last_os_error()
                )));
            }
            status = fstat(directory.as_raw_fd()).map_err(|error| fail(error.to_string()))?;
        }
        if status.st_mode & 0o7777 != MOUNT_POINT_MODE {
            return Err(fail(
                "it appeared on the host while the sandbox was being prepared (not a sandbox mount point)"
                    .to_string(),
            ));
        }
        if status.st_uid != euid && !sticky_parent {
            // Outside a sticky directory the owner's and others' runs could not rely on it.
            return Err(fail(format!(
                "it is another user's (uid {}) sandbox mount point outside a sticky directory",
                status.st_uid
            )));
        }
        // SAFETY: valid descriptor; blocks only while another run removes it.
        if unsafe { libc::flock(directory.as_raw_fd(), libc::LOCK_SH) } != 0 {
            return Err(fail(format!(
                "cannot lock it: {}",
                io::Error::last_os_error()
            )));
        }
        let locked = fstat(directory.as_raw_fd()).map_err(|error| fail(error.to_string()))?;
        let still_there = lstat_at(&parent, &name)
            .is_ok_and(|now| now.st_dev == locked.st_dev && now.st_ino == locked.st_ino);
        if locked.st_nlink == 0 || !still_there {
            continue;
        }
        return Ok(MountPointGuard {
            parent,
            name,
            directory,
            device: locked.st_dev,
            inode: locked.st_ino,
        });
    }
    Err(fail(
        "it kept disappearing while being prepared".to_string(),
    ))
}

impl MountPointGuard {
    /// Remove the mount point unless another run still holds it or it changed. Call only once the
    /// sandbox (every process of its pid namespace) is gone. Another user's mount point in a
    /// sticky directory cannot be removed unless we are privileged: it then stays (see the module
    /// documentation).
    pub(crate) fn release(self) {
        // SAFETY: valid descriptor; non-blocking.
        let exclusive =
            unsafe { libc::flock(self.directory.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !exclusive {
            return;
        }
        let unchanged = lstat_at(&self.parent, &self.name).is_ok_and(|now| {
            now.st_dev == self.device
                && now.st_ino == self.inode
                && now.st_mode & libc::S_IFMT == libc::S_IFDIR
                && now.st_mode & 0o7777 == MOUNT_POINT_MODE
        });
        if unchanged {
            // SAFETY: valid descriptor and name; rmdir refuses a non-empty directory (and EPERM
            // for another user's directory in a sticky one is fine: it stays).
            unsafe {
                libc::unlinkat(
                    self.parent.as_raw_fd(),
                    self.name.as_ptr(),
                    libc::AT_REMOVEDIR,
                );
            }
        }
    }
}

fn fstat(fd: i32) -> io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `status` is a valid out-pointer.
    if unsafe { libc::fstat(fd, &mut status) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}

fn lstat_at(parent: &OwnedFd, name: &CString) -> io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut status: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor, NUL-terminated name and out-pointer.
    let result = unsafe {
        libc::fstatat(
            parent.as_raw_fd(),
            name.as_ptr(),
            &mut status,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_marks_and_removes_its_mount_point() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".codex");
        let guard = acquire(&path).unwrap();
        let metadata = std::fs::symlink_metadata(&path).unwrap();
        assert!(metadata.is_dir());
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o7777,
            MOUNT_POINT_MODE
        );
        guard.release();
        assert!(!path.exists());
    }

    #[test]
    fn concurrent_runs_share_it_and_the_last_one_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".codex");
        let first = acquire(&path).unwrap();
        let second = acquire(&path).unwrap();
        first.release();
        assert!(path.exists(), "still held by the second run");
        second.release();
        assert!(!path.exists());
    }

    fn make_mount_point(path: &Path, owner: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir(path).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(MOUNT_POINT_MODE)).unwrap();
        std::os::unix::fs::chown(path, Some(owner), Some(owner)).unwrap();
    }

    /// Another user's mount point is joined in a sticky directory (where only its owner and root
    /// can remove it) and refused elsewhere; root, releasing last, removes it.
    #[test]
    fn another_users_mount_point_is_shared_only_in_a_sticky_directory() {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // The canary test fails when the suite does not run as root.
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".git");
        make_mount_point(&path, 65534);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = acquire(&path).unwrap_err();
        assert!(
            error.to_string().contains("another user's (uid 65534)"),
            "{error}"
        );
        assert!(path.exists());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        let guard = acquire(&path).unwrap();
        guard.release();
        assert!(!path.exists(), "root may remove it once nobody holds it");
    }

    #[test]
    fn refuses_a_directory_with_another_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".codex");
        std::fs::create_dir(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o555)).unwrap();
        assert!(acquire(&path).is_err());
        assert!(path.exists());
    }

    #[test]
    fn refuses_a_real_directory_or_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        assert!(acquire(&real).is_err());
        assert!(real.exists(), "a user directory is never removed");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(acquire(&link).is_err());
        assert!(link.exists());
    }
}
