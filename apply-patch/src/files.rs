//! The file operations verify and apply are built from: a bounded read of a regular file that
//! never opens a FIFO or device and never follows a symbolic link, and durable temporary files
//! next to their target.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::changes::FileState;

/// Files larger than this are not patched (reading them whole would be a denial of service).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The regular file at `path` (not following a symbolic link as the last component); `None`
/// when nothing is there. Directories, symbolic links, FIFOs, devices and files over
/// [`MAX_FILE_BYTES`] are errors.
pub(crate) fn read_file(path: &Path) -> io::Result<Option<FileState>> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    check_regular(&metadata)?;
    // O_NOFOLLOW and O_NONBLOCK: if the entry was swapped for a link or a FIFO since the check,
    // the open fails or returns at once instead of following or blocking.
    let file = os::open_read_nofollow(path)?;
    let metadata = file.metadata()?;
    check_regular(&metadata)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let (mode, uid, gid) = os::mode_and_owner(&metadata);
    Ok(Some(FileState {
        bytes,
        mode,
        uid,
        gid,
    }))
}

fn check_regular(metadata: &std::fs::Metadata) -> io::Result<()> {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if kind.is_symlink() {
        return Err(io::Error::other(
            "is a symbolic link (apply_patch only deletes or moves regular files)",
        ));
    }
    if !kind.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> io::Error {
    io::Error::other(format!(
        "larger than {} MiB, which apply_patch does not edit",
        MAX_FILE_BYTES / (1024 * 1024)
    ))
}

/// Write `bytes` to a new temporary file in `dir` and flush it to disk. The file gets the
/// permission bits of `mode` (without set-id bits; without `mode`, the default of a new file:
/// 0666 less the umask) and, best effort, the owner `owner`.
pub(crate) fn write_temp(
    dir: &Path,
    bytes: &[u8],
    mode: Option<u32>,
    owner: Option<(u32, u32)>,
) -> io::Result<PathBuf> {
    let (path, mut file) = create_temp(dir, if mode.is_some() { 0o600 } else { 0o666 })?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(mode) = mode {
            os::set_mode(&file, mode)?;
        }
        if let Some(owner) = owner {
            os::give_to(&file, owner)?;
        }
        file.sync_all()
    })();
    match result {
        Ok(()) => Ok(path),
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            Err(error)
        }
    }
}

fn create_temp(dir: &Path, mode: u32) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let mut attempts = 0;
    loop {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            ".codex-apply-patch-{}-{nanos:x}-{count}.tmp",
            std::process::id()
        );
        let path = dir.join(name);
        match os::create_new_nofollow(&path, mode) {
            Ok(file) => return Ok((path, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => {
                attempts += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Flush a directory's entries (renames, removals) to disk; best effort.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn reads_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("f"), "hi").unwrap();
        std::os::unix::fs::symlink("f", root.join("link")).unwrap();
        std::fs::create_dir(root.join("d")).unwrap();
        let fifo = root.join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: `c_path` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert_eq!(read_file(&root.join("f")).unwrap().unwrap().bytes, b"hi");
        assert!(read_file(&root.join("missing")).unwrap().is_none());
        for name in ["link", "d", "fifo"] {
            assert!(read_file(&root.join(name)).is_err(), "{name}");
        }
    }

    #[test]
    fn temp_files_keep_the_previous_mode_without_set_id_bits() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_temp(dir.path(), b"x", Some(0o104755), None).unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        assert_eq!(metadata.mode() & 0o7777, 0o755);
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }
}

/// The operating system's part: Unix has modes, owners and `O_NOFOLLOW`; elsewhere (Windows) a
/// file has only a read-only flag and a symbolic link is refused by the checks around the open.
#[cfg(unix)]
mod os {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    /// `O_NOFOLLOW` and `O_NONBLOCK`: if the entry was swapped for a link or a FIFO since the
    /// check, the open fails or returns at once instead of following or blocking.
    pub(super) fn open_read_nofollow(path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    pub(super) fn create_new_nofollow(path: &Path, mode: u32) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }

    pub(super) fn mode_and_owner(metadata: &std::fs::Metadata) -> (u32, u32, u32) {
        (metadata.mode(), metadata.uid(), metadata.gid())
    }

    pub(super) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))
    }

    /// Best effort: only root may give a file away; anyone else keeps their own ownership.
    pub(super) fn give_to(file: &File, (uid, gid): (u32, u32)) -> io::Result<()> {
        let metadata = file.metadata()?;
        if metadata.uid() != uid || metadata.gid() != gid {
            let _ = std::os::unix::fs::fchown(file, Some(uid), Some(gid));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod os {
    use std::fs::{File, OpenOptions};
    use std::io;
    use std::path::Path;

    pub(super) fn open_read_nofollow(path: &Path) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    pub(super) fn create_new_nofollow(path: &Path, _mode: u32) -> io::Result<File> {
        OpenOptions::new().write(true).create_new(true).open(path)
    }

    /// A read-only file is 0o444, any other 0o666; no owner.
    pub(super) fn mode_and_owner(metadata: &std::fs::Metadata) -> (u32, u32, u32) {
        let mode = if metadata.permissions().readonly() {
            0o100444
        } else {
            0o100666
        };
        (mode, 0, 0)
    }

    pub(super) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
        let mut permissions = file.metadata()?.permissions();
        permissions.set_readonly(mode & 0o222 == 0);
        file.set_permissions(permissions)
    }

    pub(super) fn give_to(_file: &File, _owner: (u32, u32)) -> io::Result<()> {
        Ok(())
    }
}
