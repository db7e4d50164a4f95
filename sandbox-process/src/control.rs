//! Requests from other threads to a running sandbox: cancel it, or forward a signal to it.

#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

/// What was asked of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Kill every process of the sandbox.
    Cancel,
    /// Deliver this signal to the command (as a terminal would).
    Signal(i32),
}

#[derive(Debug)]
struct Inner {
    pending: Mutex<Vec<Request>>,
    #[cfg(unix)]
    wake: Wake,
}

/// A pipe written to wake the supervising thread's `poll`; non-blocking on both ends.
#[cfg(unix)]
#[derive(Debug)]
struct Wake {
    read: OwnedFd,
    write: OwnedFd,
}

#[cfg(unix)]
impl Wake {
    fn new() -> std::io::Result<Wake> {
        let (read, write) = crate::fds::high_pipe()?;
        for fd in [&read, &write] {
            // SAFETY: sets O_NONBLOCK on a descriptor we own.
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        Ok(Wake { read, write })
    }

    fn notify(&self) {
        let byte = 1u8;
        // SAFETY: writes one byte from a valid buffer; a full pipe (EAGAIN) already wakes.
        unsafe { libc::write(self.write.as_raw_fd(), (&byte as *const u8).cast(), 1) };
    }

    fn drain(&self) {
        let mut buffer = [0u8; 64];
        // SAFETY: non-blocking reads into a valid buffer.
        while unsafe {
            libc::read(
                self.read.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
            )
        } > 0
        {}
    }
}

/// A cheap, cloneable handle to one run: `Send + Sync`, usable from any thread, before or during
/// the wait, and harmless after the run ended.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    inner: Arc<Inner>,
}

impl CancelHandle {
    pub fn new() -> std::io::Result<CancelHandle> {
        Ok(CancelHandle {
            inner: Arc::new(Inner {
                pending: Mutex::new(Vec::new()),
                #[cfg(unix)]
                wake: Wake::new()?,
            }),
        })
    }

    /// Kill every process of the sandbox; the run then ends as cancelled.
    pub fn cancel(&self) {
        self.push(Request::Cancel);
    }

    /// Forward `signal` to the sandboxed command.
    pub fn signal(&self, signal: i32) {
        self.push(Request::Signal(signal));
    }

    fn push(&self, request: Request) {
        if let Ok(mut pending) = self.inner.pending.lock() {
            pending.push(request);
        }
        #[cfg(unix)]
        self.inner.wake.notify();
    }

    /// Readable when requests are pending (for `poll`).
    #[cfg(unix)]
    pub fn wake_fd(&self) -> RawFd {
        self.inner.wake.read.as_raw_fd()
    }

    /// Take every pending request (and drain the wake pipe).
    pub fn take(&self) -> Vec<Request> {
        #[cfg(unix)]
        self.inner.wake.drain();
        self.inner
            .pending
            .lock()
            .map(|mut pending| std::mem::take(&mut *pending))
            .unwrap_or_default()
    }

    /// True once `cancel` was called (pending or taken).
    pub fn is_cancel_pending(&self) -> bool {
        self.inner
            .pending
            .lock()
            .is_ok_and(|pending| pending.contains(&Request::Cancel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_arrive_in_order_from_other_threads() {
        let handle = CancelHandle::new().unwrap();
        let clone = handle.clone();
        std::thread::spawn(move || {
            clone.signal(libc::SIGTERM);
            clone.cancel();
        })
        .join()
        .unwrap();
        assert!(handle.is_cancel_pending());
        assert_eq!(
            handle.take(),
            vec![Request::Signal(libc::SIGTERM), Request::Cancel]
        );
        assert!(handle.take().is_empty());
    }
}
