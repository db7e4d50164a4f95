//! Private files written atomically, and an advisory lock that serialises writers.
//!
//! A write creates a temp file in the target's directory with mode 0600 from the first byte,
//! writes and fsyncs it, renames it over the target and fsyncs the directory. SIGINT, SIGTERM,
//! SIGHUP and SIGQUIT are held back for that window, so Ctrl-C never leaves a temp file or a
//! half-written target behind.
//!
//! Files that are opened in place (auth.json for reading, the lock file, the login log) go
//! through [`open_private_file`]: a symbolic link in the last component is never followed, and
//! anything but a regular file owned by the current user is refused.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static TEMP_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Create `dir` (and parents) if missing; new directories get mode 0700.
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Atomically replace `path` with `contents`, readable and writable by the owner only.
pub(crate) fn write_private_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?
        .to_string_lossy()
        .into_owned();

    let _signals = SignalGuard::hold();
    let (temp_path, mut temp) = create_temp(dir, &name)?;
    let result = (|| {
        temp.write_all(contents)?;
        temp.sync_all()?;
        drop(temp);
        fs::rename(&temp_path, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp_path);
    }
    result
}

fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    loop {
        let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp_path = dir.join(format!(".{name}.tmp.{}.{counter}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp_path) {
            Ok(file) => return Ok((temp_path, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && counter < 1000 => {}
            Err(error) => return Err(error),
        }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Remove `path`; `Ok(false)` when it did not exist. Signals are held back as for writes.
pub(crate) fn remove_file_if_exists(path: &Path) -> io::Result<bool> {
    let _signals = SignalGuard::hold();
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Open `path` with `options` without following a symbolic link in its last component
/// (`O_NOFOLLOW`), then refuse anything that is not a regular file owned by the effective uid.
/// The refusal is a `PermissionDenied` error whose text says why (callers add the path).
/// `O_NONBLOCK` keeps a FIFO planted at `path` from blocking the open; it has no effect on the
/// regular files that are accepted.
pub(crate) fn open_private_file(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|error| {
        let is_link = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
        if is_link {
            refusal("it is a symbolic link (refusing to follow it; replace it with a regular file)")
        } else {
            error
        }
    })?;
    check_private_file(&file, current_uid())?;
    Ok(file)
}

/// `file` must be a regular file owned by `uid` (`None` where ownership is not checked).
fn check_private_file(file: &File, uid: Option<u32>) -> io::Result<()> {
    let metadata = file.metadata()?;
    if !metadata.file_type().is_file() {
        return Err(refusal("it is not a regular file"));
    }
    #[cfg(unix)]
    if let Some(uid) = uid {
        use std::os::unix::fs::MetadataExt;
        if metadata.uid() != uid {
            return Err(refusal(&format!(
                "it is owned by uid {}, not by the current user (uid {uid})",
                metadata.uid()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = uid;
    Ok(())
}

fn refusal(reason: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, reason.to_string())
}

#[cfg(unix)]
fn current_uid() -> Option<u32> {
    // SAFETY: geteuid takes no arguments, cannot fail and has no side effects.
    Some(unsafe { libc::geteuid() })
}

#[cfg(not(unix))]
fn current_uid() -> Option<u32> {
    None
}

/// An exclusive advisory lock (`flock`) on a lock file, released on drop.
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Take the lock at `path`, creating the file (0600) if needed; gives up after `timeout`.
    /// A symbolic link, a non-regular file or a file of another user at `path` is refused.
    pub(crate) fn acquire(path: &Path, timeout: Duration) -> io::Result<FileLock> {
        if let Some(dir) = path.parent() {
            create_private_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = open_private_file(path, &mut options)?;
        let deadline = Instant::now() + timeout;
        loop {
            match try_lock(&file) {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("timed out waiting for the lock `{}`", path.display()),
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(error) => return Err(error),
            }
        }
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is owned by `file` and open for the duration of the call.
    let result = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if result == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Err(io::Error::new(io::ErrorKind::WouldBlock, error))
    } else {
        Err(error)
    }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Holds back termination signals on the current thread until dropped; pending ones are then
/// delivered. The sign-in code runs its file writes on the main thread, which is where a
/// terminal's Ctrl-C is delivered to when no other thread is running.
struct SignalGuard {
    #[cfg(unix)]
    previous: Option<libc::sigset_t>,
}

impl SignalGuard {
    #[cfg(unix)]
    fn hold() -> SignalGuard {
        // SAFETY: sigset_t is plain data; sigemptyset/sigaddset/pthread_sigmask only write into
        // the sets we pass, which live on this stack frame.
        unsafe {
            let mut blocked: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut blocked);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut blocked, signal);
            }
            let ok = libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut previous) == 0;
            SignalGuard {
                previous: ok.then_some(previous),
            }
        }
    }

    #[cfg(not(unix))]
    fn hold() -> SignalGuard {
        SignalGuard {}
    }
}

#[cfg(unix)]
impl Drop for SignalGuard {
    fn drop(&mut self) {
        if let Some(previous) = &self.previous {
            // SAFETY: restores the mask saved by `hold`; no pointers escape.
            unsafe {
                libc::pthread_sigmask(libc::SIG_SETMASK, previous, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_private_files_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nested/auth.json");
        write_private_atomically(&target, b"one").unwrap();
        write_private_atomically(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(target.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("auth.json")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = fs::metadata(target.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }

    #[test]
    fn replaces_a_file_with_loose_permissions_by_a_private_one() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("auth.json");
        fs::write(&target, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
            write_private_atomically(&target, b"new").unwrap();
            let mode = fs::metadata(&target).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json.lock");
        let first = FileLock::acquire(&path, Duration::from_secs(5)).unwrap();
        let second = FileLock::acquire(&path, Duration::ZERO);
        assert_eq!(
            second.err().map(|e| e.kind()),
            Some(io::ErrorKind::TimedOut)
        );
        drop(first);
        // Not `Duration::ZERO`: a child forked by a concurrent test can hold a copy of the
        // descriptor (and so the lock) until it calls exec.
        assert!(FileLock::acquire(&path, Duration::from_secs(5)).is_ok());
    }

    #[cfg(unix)]
    fn victim(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let victim = dir.join("victim.txt");
        fs::write(&victim, "original\n").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        victim
    }

    #[cfg(unix)]
    fn assert_untouched(victim: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(fs::read_to_string(victim).unwrap(), "original\n");
    }

    /// Regression: the lock file was opened with `create` through a symbolic link.
    #[cfg(unix)]
    #[test]
    fn lock_file_follows_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = victim(dir.path());
        let path = dir.path().join("auth.json.lock");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let error = FileLock::acquire(&path, Duration::ZERO).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            error.to_string(),
            "it is a symbolic link (refusing to follow it; replace it with a regular file)"
        );
        assert_untouched(&victim);
        let dangling = dir.path().join("dangling.lock");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        assert!(FileLock::acquire(&dangling, Duration::ZERO).is_err());
        assert!(!dir.path().join("missing").exists());
    }

    #[cfg(unix)]
    #[test]
    fn open_private_file_refuses_fifos_directories_and_other_owners() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: `name` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // Without O_NONBLOCK this open would wait for a writer forever.
        let error = open_private_file(&fifo, OpenOptions::new().read(true)).unwrap_err();
        assert_eq!(error.to_string(), "it is not a regular file");
        let error = open_private_file(dir.path(), OpenOptions::new().read(true)).unwrap_err();
        assert_eq!(error.to_string(), "it is not a regular file");

        let file_path = dir.path().join("mine");
        fs::write(&file_path, "x").unwrap();
        let file = File::open(&file_path).unwrap();
        let me = current_uid().unwrap();
        assert!(check_private_file(&file, Some(me)).is_ok());
        let error = check_private_file(&file, Some(me + 1)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "it is owned by uid {me}, not by the current user (uid {})",
                me + 1
            )
        );
    }

    /// As root, a file really owned by another uid is refused (the check above covers the logic
    /// for unprivileged runs, which cannot create such a file).
    #[cfg(unix)]
    #[test]
    fn open_private_file_refuses_a_file_chowned_to_another_user() {
        if current_uid() != Some(0) {
            eprintln!(
                "not root: covered by open_private_file_refuses_fifos_directories_and_other_owners"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("foreign");
        fs::write(&path, "x").unwrap();
        std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
        let error = open_private_file(&path, OpenOptions::new().read(true)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is owned by uid 65534, not by the current user (uid 0)"
        );
    }

    #[test]
    fn remove_reports_whether_something_was_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        assert!(!remove_file_if_exists(&path).unwrap());
        fs::write(&path, "x").unwrap();
        assert!(remove_file_if_exists(&path).unwrap());
    }
}
