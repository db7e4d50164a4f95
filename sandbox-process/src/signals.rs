//! Forwarding SIGHUP, SIGINT, SIGQUIT and SIGTERM received by a command-line front end to the
//! sandboxed command (through its [`CancelHandle`]), so `trap … TERM` in the command runs when
//! `codex sandbox` is signalled.
//!
//! Handlers are process-wide by nature: this is for front ends (`codex sandbox`, the
//! `codex-linux-sandbox` helper), not for the library path, which never touches signal state.
//! The handler only writes the signal number to a pipe; a thread turns it into a request.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;

use crate::control::CancelHandle;
use crate::fds::high_pipe;

const FORWARDED: [i32; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

/// The pipe the handler writes to (-1: none installed).
static PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: write is async-signal-safe; the buffer is valid.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// Installed forwarding; dropping it restores the previous handlers.
pub struct SignalForwarder {
    previous: Vec<(i32, libc::sigaction)>,
    write: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl SignalForwarder {
    /// Forward the four signals to `handle` until the forwarder is dropped.
    pub fn install(handle: &CancelHandle) -> io::Result<SignalForwarder> {
        let (read, write) = high_pipe()?;
        if PIPE
            .compare_exchange(-1, write.as_raw_fd(), Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(io::Error::other("signal forwarding is already installed"));
        }
        let handle = handle.clone();
        let thread = std::thread::Builder::new()
            .name("codex-signal-forwarder".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                loop {
                    // SAFETY: blocking read of one byte into a valid buffer.
                    let read = unsafe { libc::read(read.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
                    if read == 1 {
                        handle.signal(i32::from(byte[0]));
                    } else if read == 0
                        || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted
                    {
                        return;
                    }
                }
            })?;
        let mut previous = Vec::new();
        for signal in FORWARDED {
            // SAFETY: an all-zero sigaction is valid storage.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            // SAFETY: valid storage for the mask.
            unsafe { libc::sigemptyset(&mut action.sa_mask) };
            // SAFETY: as above.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: valid action structs for a valid signal number.
            if unsafe { libc::sigaction(signal, &action, &mut old) } == 0 {
                previous.push((signal, old));
            }
        }
        Ok(SignalForwarder {
            previous,
            write: Some(write),
            thread: Some(thread),
        })
    }
}

impl Drop for SignalForwarder {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: restores the action saved at install.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
        PIPE.store(-1, Ordering::SeqCst);
        // Closing the write end ends the thread.
        drop(self.write.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
