//! Starting and supervising the processes of a sandbox, for every backend and every caller (the
//! `codex sandbox` command, the agent's tool calls from many threads at once).
//!
//! - `capture`: bounded buffers for captured output (head and tail kept) and the interleaved
//!   view in arrival order.
//! - `control`: [`CancelHandle`], the thread-safe way to cancel a run or forward a signal to it.
//! - `fds`: pipes above the standard descriptors, close-on-exec sweeps.
//! - `lookup`: `PATH` lookup like `execvp`, the shell's exit-code convention.
//! - `spawn`: `posix_spawn` with exact descriptor placement, run on one long-lived spawner
//!   thread, so a parent-death signal (`PR_SET_PDEATHSIG`, which fires when the *thread* that
//!   forked exits) means "this process died", whichever thread asked.
//! - `supervise`: the one wait loop: process exit (pidfd), output, cancellation, signals to
//!   forward, a deadline.
//! - `reap`: killing every descendant of a subreaper.
//! - `group`: a command in its own process group through `std::process`, with the same capture,
//!   deadline and cancellation (the Seatbelt backend; any Unix).
//! - `outcome`: how a supervised run ended.
//! - `signals`: for command-line front ends, forwarding the terminal's signals to a run.
//!
//! Process handling is Linux only (and the descriptor and lookup helpers Unix only); the types a
//! caller names in every build (`Stdio`, `Captured`, `CancelHandle`) compile everywhere, so the
//! façade above stays portable and a later backend is a new module.

mod capture;
mod control;
#[cfg(unix)]
mod fds;
#[cfg(unix)]
mod group;
#[cfg(unix)]
mod lookup;
#[cfg(unix)]
mod outcome;
#[cfg(target_os = "linux")]
mod reap;
#[cfg(target_os = "linux")]
mod signals;
#[cfg(target_os = "linux")]
mod spawn;
#[cfg(target_os = "linux")]
mod supervise;

pub use capture::CaptureBuffer;
pub use capture::Captured;
pub use control::CancelHandle;
pub use control::Request;
#[cfg(unix)]
pub use fds::{
    cloexec_from, descriptor_limit, fill_pipe, high, high_pipe, inheritable_descriptors,
};
#[cfg(unix)]
pub use group::{GroupChild, spawn_group};
#[cfg(unix)]
pub use lookup::{find_program, path_of, shell_exit_code};
#[cfg(unix)]
pub use outcome::{Ending, Supervision};
#[cfg(target_os = "linux")]
pub use reap::{children_of, kill_descendants};
#[cfg(target_os = "linux")]
pub use signals::SignalForwarder;
#[cfg(target_os = "linux")]
pub use spawn::{SpawnOptions, SpawnedProcess, spawn};
#[cfg(target_os = "linux")]
pub use supervise::{Hooks, pidfd, poll_readable, supervise};

/// Standard descriptors of the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    /// The caller's 0, 1 and 2.
    Inherit,
    /// stdin from `/dev/null`; stdout and stderr into pipes the caller reads.
    Capture,
}
