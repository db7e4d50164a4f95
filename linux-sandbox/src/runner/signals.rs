//! Receiving the signals `run()` forwards (SIGHUP, SIGINT, SIGQUIT, SIGTERM) through a `signalfd`,
//! and waiting on processes through pidfds.
//!
//! The signals are blocked in the calling thread while the command runs (a spawned process starts
//! with an empty signal mask: `std::process` resets it). Callers with several threads must block
//! them in their other threads too, or a signal may be delivered there instead; the `codex` CLI
//! and the helper are single-threaded.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub(crate) const FORWARDED: [i32; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

/// A received signal: its number and `si_code` (`SI_KERNEL` when the terminal generated it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    pub signal: i32,
    pub code: i32,
}

pub(crate) struct Signals {
    fd: OwnedFd,
    previous: libc::sigset_t,
}

impl Signals {
    /// Block the forwarded signals in this thread and open a `signalfd` for them.
    pub(crate) fn block() -> io::Result<Signals> {
        // SAFETY: an all-zero sigset_t is valid storage for sigemptyset/pthread_sigmask.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut previous: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is valid storage.
        unsafe { libc::sigemptyset(&mut set) };
        for signal in FORWARDED {
            // SAFETY: `set` is initialised; the signal numbers are valid.
            unsafe { libc::sigaddset(&mut set, signal) };
        }
        // SAFETY: valid sets; only this thread's mask changes.
        let result = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous) };
        if result != 0 {
            return Err(io::Error::from_raw_os_error(result));
        }
        // SAFETY: valid set; a new descriptor is returned or -1.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if fd < 0 {
            let error = io::Error::last_os_error();
            // SAFETY: restores the mask saved above.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
            return Err(error);
        }
        Ok(Signals {
            // SAFETY: freshly created descriptor owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            previous,
        })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Every pending signal (non-blocking).
    pub(crate) fn take(&self) -> Vec<Received> {
        let mut received = Vec::new();
        loop {
            // SAFETY: an all-zero signalfd_siginfo is valid storage.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: `info` is valid for `size` bytes.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if read != size as isize {
                return received;
            }
            received.push(Received {
                signal: info.ssi_signo as i32,
                code: info.ssi_code,
            });
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Signals that arrived after the command ended are consumed rather than delivered with
        // their default action (which would kill the caller after it got the command's status).
        let _ = self.take();
        // SAFETY: restores the mask saved in `block`.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}

/// A pidfd for `pid` (readable once the process has exited), if the kernel supports them.
pub(crate) fn pidfd(pid: i32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: freshly created descriptor owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Poll `fds` for input; returns which ones are readable. `timeout` in milliseconds (-1: forever).
pub(crate) fn poll_readable(fds: &[RawFd], timeout: i32) -> io::Result<Vec<bool>> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: *fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pollfds` is a valid array of the given length.
        let result =
            unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, timeout) };
        if result >= 0 {
            return Ok(pollfds.iter().map(|pollfd| pollfd.revents != 0).collect());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Send `signal` to `pid` (negative: a process group); true if delivered.
pub(crate) fn send(pid: i32, signal: i32) -> bool {
    // SAFETY: kill has no memory effects.
    unsafe { libc::kill(pid, signal) == 0 }
}
