//! SIGINT and SIGTERM: a handler that only writes the signal number to a pipe, and a thread
//! that reads it and interrupts the turn (the model stream is cancelled and the running
//! command's sandbox killed); a second signal exits at once. Child processes get default
//! dispositions back at `exec`.

#[cfg(unix)]
pub use unix::install;

/// Elsewhere (Windows, where no sandboxed command can run yet) Ctrl-C keeps its default action.
#[cfg(not(unix))]
pub fn install(_interrupt: codex_core::InterruptHandle) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
mod unix {
    use std::sync::atomic::{AtomicI32, Ordering};

    use codex_core::{AbortReason, InterruptHandle};

    /// The write end of the pipe, for the handler.
    static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

    extern "C" fn on_signal(signal: libc::c_int) {
        let fd = PIPE_WRITE.load(Ordering::SeqCst);
        if fd >= 0 {
            let byte = signal as u8;
            // SAFETY: write(2) is async-signal-safe; one byte from a stack variable.
            unsafe {
                libc::write(fd, (&byte as *const u8).cast(), 1);
            }
        }
    }

    /// Install the handlers; `interrupt` is called from a watcher thread on each signal.
    pub fn install(interrupt: InterruptHandle) -> std::io::Result<()> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let (read_fd, write_fd) = (fds[0], fds[1]);
        PIPE_WRITE.store(write_fd, Ordering::SeqCst);
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed sigaction with a valid handler and an empty mask is a valid
            // argument; the handler only calls write(2).
            let installed = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut())
            };
            if installed != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        std::thread::Builder::new()
            .name("codex-signals".into())
            .spawn(move || {
                loop {
                    let mut byte = 0u8;
                    // SAFETY: reads one byte into a stack variable from the pipe we own.
                    let read = unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) };
                    if read == 1 {
                        let (reason, code) = if i32::from(byte) == libc::SIGTERM {
                            (AbortReason::Terminated, 143)
                        } else {
                            (AbortReason::Interrupted, 130)
                        };
                        if interrupt.reason().is_some() {
                            // A second signal: the first already killed the running command; stop
                            // waiting for the turn to wind down.
                            interrupt.interrupt(reason);
                            std::process::exit(code);
                        }
                        interrupt.interrupt(reason);
                    } else if read == 0
                        || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
                    {
                        break;
                    }
                }
            })?;
        Ok(())
    }
}
