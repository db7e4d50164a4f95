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
//! - `signals`: for command-line front ends, forwarding the terminal's signals to a run.
//!
//! Linux only; elsewhere nothing here is compiled.

#![cfg(unix)]

mod capture;
mod control;
mod fds;
mod lookup;
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
pub use fds::cloexec_from;
pub use fds::descriptor_limit;
pub use fds::fill_pipe;
pub use fds::high_pipe;
pub use fds::inheritable_descriptors;
pub use lookup::find_program;
pub use lookup::path_of;
pub use lookup::shell_exit_code;
#[cfg(target_os = "linux")]
pub use reap::kill_all_children;
#[cfg(target_os = "linux")]
pub use signals::SignalForwarder;
#[cfg(target_os = "linux")]
pub use spawn::{SpawnOptions, SpawnedProcess, Stdio, spawn};
#[cfg(target_os = "linux")]
pub use supervise::{Ending, Hooks, Supervision, pidfd, poll_readable, supervise};
