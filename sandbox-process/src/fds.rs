//! Descriptor helpers: pipes numbered above the standard descriptors, close-on-exec sweeps.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A close-on-exec pipe whose ends are numbered >= 10, so placing other descriptors at 3..9 in a
/// child never clobbers them.
pub fn high_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is valid storage for two descriptors.
    if unsafe { cloexec_pipe(&mut fds) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: freshly created descriptors owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((high(read)?, high(write)?))
}

/// `pipe2(O_CLOEXEC)`.
///
/// # Safety
/// `fds` receives two new descriptors the caller must own.
#[cfg(target_os = "linux")]
unsafe fn cloexec_pipe(fds: &mut [RawFd; 2]) -> libc::c_int {
    // SAFETY: the caller's contract.
    unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }
}

/// macOS has no `pipe2`: `pipe`, then close-on-exec on both ends. A fork on another thread in
/// between could inherit the two descriptors; the callers replace them at once with
/// `F_DUPFD_CLOEXEC` duplicates ([`high`]) and close them.
///
/// # Safety
/// `fds` receives two new descriptors the caller must own.
#[cfg(not(target_os = "linux"))]
unsafe fn cloexec_pipe(fds: &mut [RawFd; 2]) -> libc::c_int {
    // SAFETY: the caller's contract; fcntl on the descriptors just created.
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return -1;
        }
        for fd in *fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    0
}

/// `fd` renumbered to a close-on-exec descriptor >= 10, above the numbers descriptors are
/// placed on in a child (3..=9), so a placement never clobbers it.
pub fn high(fd: OwnedFd) -> io::Result<OwnedFd> {
    // SAFETY: duplicates a valid descriptor; returns a new one or -1.
    let duplicate = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if duplicate < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: freshly created descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(duplicate) })
}

/// A close-on-exec pipe already holding `bytes` (at most a pipe buffer); the write end is closed.
pub fn fill_pipe(bytes: &[u8]) -> io::Result<OwnedFd> {
    let (read, write) = high_pipe()?;
    if bytes.len() > 65_536 {
        return Err(io::Error::other("more than a pipe buffer"));
    }
    let mut written = 0;
    while written < bytes.len() {
        // SAFETY: writes from a valid buffer range into a valid descriptor.
        let result = unsafe {
            libc::write(
                write.as_raw_fd(),
                bytes[written..].as_ptr().cast(),
                bytes.len() - written,
            )
        };
        if result < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        written += result as usize;
    }
    Ok(read)
}

/// The highest descriptor number to mark close-on-exec when `close_range` is unavailable.
pub fn descriptor_limit() -> RawFd {
    // SAFETY: an all-zero rlimit is valid storage.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    RawFd::try_from(limit.rlim_cur.min(65_536)).unwrap_or(65_536)
}

/// Mark every descriptor from `first` on close-on-exec, so nothing the caller inherited (a
/// directory fd anchoring the host root, a socket, …) reaches an exec'd program.
/// Async-signal-safe.
pub fn cloexec_from(first: RawFd, limit: RawFd) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
        let result = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        if result == 0 {
            return Ok(());
        }
    }
    for fd in first..=limit {
        // SAFETY: fcntl on a possibly-closed descriptor fails harmlessly with EBADF.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// Descriptors >= 3 open without close-on-exec in this process (they would be inherited).
pub fn inheritable_descriptors() -> Vec<RawFd> {
    let is_inheritable = |fd: RawFd| {
        // SAFETY: F_GETFD on any number only reads descriptor flags (EBADF when closed).
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        flags >= 0 && flags & libc::FD_CLOEXEC == 0
    };
    match std::fs::read_dir("/proc/self/fd") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<RawFd>().ok())
            .filter(|fd| *fd >= 3 && is_inheritable(*fd))
            .collect(),
        Err(_) => (3..=descriptor_limit())
            .filter(|fd| is_inheritable(*fd))
            .collect(),
    }
}
