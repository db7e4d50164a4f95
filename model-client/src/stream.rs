//! The consumer side of a streamed request, and cancellation from any thread.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::ModelError;
use crate::events::ResponseEvent;

/// Events buffered between the worker and the consumer (back-pressure beyond this).
pub(crate) const CHANNEL_CAPACITY: usize = 256;

pub(crate) enum Message {
    Event(ResponseEvent),
    Error(ModelError),
    /// Sent by [`CancelHandle::cancel`] to wake a waiting consumer.
    Wake,
}

/// The cancelled flag, with a condition variable so retry waits end at once.
#[derive(Debug, Default)]
pub(crate) struct Cancellation {
    cancelled: Mutex<bool>,
    changed: Condvar,
}

impl Cancellation {
    pub(crate) fn cancel(&self) {
        *self
            .cancelled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        self.changed.notify_all();
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        *self
            .cancelled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sleep `duration` unless cancelled first; `true` when cancelled.
    pub(crate) fn wait(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut cancelled = self
            .cancelled
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if *cancelled {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            cancelled = match self.changed.wait_timeout(cancelled, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// Cancels one stream from any thread (the agent's Ctrl-C). The consumer's `next()` returns
/// [`ModelError::Cancelled`] at once; the worker stops sending, ends a retry wait at once, and
/// exits when its current socket read returns (at most `stream_idle_timeout_ms` later).
#[derive(Clone)]
pub struct CancelHandle {
    cancellation: Arc<Cancellation>,
    wake: SyncSender<Message>,
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CancelHandle")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.cancellation.cancel();
        // A full channel means the consumer is not waiting; it checks the flag first anyway.
        match self.wake.try_send(Message::Wake) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }
}

/// The events of one request, as an iterator: `Ok` events until [`ResponseEvent::Completed`],
/// or one `Err` that ends the stream. Dropping it cancels the request.
pub struct ResponseStream {
    receiver: Receiver<Message>,
    handle: CancelHandle,
    finished: bool,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ResponseStream")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    pub(crate) fn new(
        receiver: Receiver<Message>,
        cancellation: Arc<Cancellation>,
        wake: SyncSender<Message>,
    ) -> ResponseStream {
        ResponseStream {
            receiver,
            handle: CancelHandle { cancellation, wake },
            finished: false,
        }
    }

    /// A handle that cancels this stream from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.handle.clone()
    }

    fn finish(&mut self, error: ModelError) -> Option<Result<ResponseEvent, ModelError>> {
        self.finished = true;
        Some(Err(error))
    }
}

impl Iterator for ResponseStream {
    type Item = Result<ResponseEvent, ModelError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            if self.handle.is_cancelled() {
                return self.finish(ModelError::Cancelled);
            }
            match self.receiver.recv() {
                Ok(Message::Event(event)) => {
                    if matches!(event, ResponseEvent::Completed { .. }) {
                        self.finished = true;
                    }
                    return Some(Ok(event));
                }
                Ok(Message::Error(error)) => return self.finish(error),
                Ok(Message::Wake) => {}
                Err(_) => {
                    return self.finish(ModelError::Internal(
                        "the stream ended without a result".into(),
                    ));
                }
            }
        }
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        self.handle.cancellation.cancel();
    }
}
