//! The operating system's part of opening the agent's own files: never through a final
//! symbolic link (`O_NOFOLLOW`; on Windows the reparse point itself is opened), never blocking
//! on a FIFO, not inherited by commands, and private (0600 files, 0700 directories) whatever
//! the umask.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
mod os {
    use std::fs::OpenOptions;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    pub(super) const PRIVATE_FILE: u32 = 0o600;
    pub(super) const PRIVATE_DIR: u32 = 0o700;

    pub(super) fn no_follow(options: &mut OpenOptions, extra: i32) {
        options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | extra);
    }

    pub(super) const NONBLOCK: i32 = libc::O_NONBLOCK;

    pub(super) fn with_mode(options: &mut OpenOptions, mode: u32) {
        options.mode(mode);
    }

    pub(super) fn permissions(mode: u32) -> Option<std::fs::Permissions> {
        Some(std::fs::Permissions::from_mode(mode))
    }
}

#[cfg(not(unix))]
mod os {
    use std::fs::OpenOptions;

    pub(super) const PRIVATE_FILE: u32 = 0o600;
    pub(super) const PRIVATE_DIR: u32 = 0o700;
    /// Windows has no non-blocking open; a named pipe is not a path below a workspace.
    pub(super) const NONBLOCK: i32 = 0;

    #[cfg(windows)]
    pub(super) fn no_follow(options: &mut OpenOptions, _extra: i32) {
        use std::os::windows::fs::OpenOptionsExt;
        /// `FILE_FLAG_OPEN_REPARSE_POINT`: open a symbolic link itself, not its target.
        const OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(OPEN_REPARSE_POINT);
    }

    #[cfg(not(windows))]
    pub(super) fn no_follow(_options: &mut OpenOptions, _extra: i32) {}

    pub(super) fn with_mode(_options: &mut OpenOptions, _mode: u32) {}

    /// Access control lists, not modes: the user profile's directory is already private.
    pub(super) fn permissions(_mode: u32) -> Option<std::fs::Permissions> {
        None
    }
}

/// A new file (never an existing one) for appending, mode 0600.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create_new(true).append(true);
    os::with_mode(&mut options, os::PRIVATE_FILE);
    os::no_follow(&mut options, 0);
    let file = options.open(path)?;
    if let Some(permissions) = os::permissions(os::PRIVATE_FILE) {
        file.set_permissions(permissions)?;
    }
    Ok(file)
}

/// An existing file, for appending.
pub(crate) fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true);
    os::no_follow(&mut options, 0);
    options.open(path)
}

/// An existing file, for reading, without blocking on a FIFO.
pub(crate) fn open_read(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    os::no_follow(&mut options, os::NONBLOCK);
    options.open(path)
}

/// Make a directory this process just created private (0700).
pub(crate) fn make_dir_private(path: &Path) -> io::Result<()> {
    match os::permissions(os::PRIVATE_DIR) {
        Some(permissions) => std::fs::set_permissions(path, permissions),
        None => Ok(()),
    }
}
