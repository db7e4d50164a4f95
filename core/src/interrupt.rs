//! [`InterruptHandle`]: Ctrl-C and SIGTERM from another thread.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use crate::events::AbortReason;
use crate::runner::CancelToken;

/// Stops the running turn from another thread (a signal handler thread): the model stream is
/// cancelled and the running command's whole sandbox is killed.
#[derive(Clone, Default)]
pub struct InterruptHandle {
    reason: Arc<AtomicU8>,
    pub(crate) commands: CancelToken,
    stream: Arc<Mutex<Option<codex_model_client::CancelHandle>>>,
}

impl std::fmt::Debug for InterruptHandle {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("InterruptHandle")
            .field("reason", &self.reason())
            .finish()
    }
}

impl InterruptHandle {
    pub fn interrupt(&self, reason: AbortReason) {
        let code = match reason {
            AbortReason::Interrupted => 1,
            AbortReason::Terminated => 2,
        };
        let _ = self
            .reason
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        if let Some(stream) = self
            .stream
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
        {
            stream.cancel();
        }
        self.commands.cancel();
    }

    pub fn reason(&self) -> Option<AbortReason> {
        match self.reason.load(Ordering::SeqCst) {
            1 => Some(AbortReason::Interrupted),
            2 => Some(AbortReason::Terminated),
            _ => None,
        }
    }

    pub(crate) fn set_stream(&self, handle: Option<codex_model_client::CancelHandle>) {
        let mut slot = self
            .stream
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = handle;
        if self.reason().is_some()
            && let Some(stream) = slot.as_ref()
        {
            stream.cancel();
        }
    }
}
