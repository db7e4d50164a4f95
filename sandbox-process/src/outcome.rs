//! How a supervised run ended and what it printed (every Unix backend).

use std::process::ExitStatus;
use std::time::Duration;

use crate::capture::Captured;

/// Why the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The process exited on its own with this status.
    Exited(ExitStatus),
    /// The deadline passed; everything was killed.
    TimedOut(ExitStatus),
    /// A cancel request arrived; everything was killed.
    Cancelled(ExitStatus),
}

impl Ending {
    pub fn status(&self) -> ExitStatus {
        match self {
            Ending::Exited(status) | Ending::TimedOut(status) | Ending::Cancelled(status) => {
                *status
            }
        }
    }
}

/// Everything the loop observed.
#[derive(Debug)]
pub struct Supervision {
    pub ending: Ending,
    pub stdout: Captured,
    pub stderr: Captured,
    /// stdout and stderr in arrival order.
    pub aggregated: Captured,
    pub duration: Duration,
}
