//! macOS-only glue: spawning `sandbox-exec`, forwarding signals, `--log-denials`.
//!
//! NOT EXECUTED ANYWHERE YET: this was written on Linux, where it is not compiled. It was only
//! type-checked (`cargo check --target aarch64-apple-darwin -p codex-sandboxing`), never run.
//! Keep it a thin layer over `std::process` and libc; every decision that can be made without
//! macOS (the argv, the profile, parsing and filtering denials) lives in the pure modules and is
//! tested there.

mod log_stream;
mod pid_tracker;

use std::collections::HashSet;
use std::ffi::{CStr, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use super::SeatbeltPlan;
use super::denials::DenialCollector;

/// `confstr(_CS_DARWIN_USER_CACHE_DIR)`: the per-user cache directory under `/var/folders`.
pub(super) fn darwin_user_cache_dir() -> Option<PathBuf> {
    let mut buffer = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: `buffer` is writable for `buffer.len()` bytes; confstr writes at most that many,
    // NUL-terminated, and returns the length it needed (0 on error).
    let needed = unsafe {
        libc::confstr(
            libc::_CS_DARWIN_USER_CACHE_DIR,
            buffer.as_mut_ptr().cast(),
            buffer.len(),
        )
    };
    if needed == 0 || needed > buffer.len() {
        return None;
    }
    let value = CStr::from_bytes_until_nul(&buffer).ok()?;
    let path = PathBuf::from(OsStr::from_bytes(value.to_bytes()));
    path.is_absolute().then_some(path)
}

/// Grace period for the last denials to reach `log stream` after the command exits.
const LOG_FLUSH_GRACE: Duration = Duration::from_millis(100);

/// Run the plan with inherited stdio, exactly `plan.env` as the environment and `plan.cwd` as the
/// working directory, and wait for it. With `log_denials`, sandbox violations of the command's
/// process tree are printed to stderr after it exits.
pub fn run(plan: SeatbeltPlan, log_denials: bool) -> io::Result<ExitStatus> {
    let forwarding = SignalForwarding::install()?;
    let log = if log_denials {
        log_stream::LogStream::start()
    } else {
        None
    };

    let mut command = Command::new(&plan.program);
    command.args(plan.argv.iter().skip(1));
    // Exactly the planned environment (already holding `env_changes`): nothing of ours leaks.
    command.env_clear();
    command.envs(plan.env.iter().map(|(name, value)| (name, value)));
    command.current_dir(&plan.cwd);

    // On failure, dropping `forwarding` and `log` restores the signals and stops `log stream`.
    let mut child = command.spawn()?;
    // Pids are positive `pid_t` values; `Child::id` only widens them to u32.
    let child_pid = child.id() as libc::pid_t;
    CHILD_PID.store(child_pid, Ordering::SeqCst);
    let tracker = if log.is_some() {
        pid_tracker::PidTracker::start(child_pid).ok()
    } else {
        None
    };

    let status = child.wait();
    CHILD_PID.store(0, Ordering::SeqCst);
    drop(forwarding);

    if let Some(log) = log {
        let mut tracked: HashSet<u32> = HashSet::new();
        tracked.insert(child.id());
        if let Some(tracker) = tracker {
            tracked.extend(
                tracker
                    .stop()
                    .into_iter()
                    .filter_map(|pid| u32::try_from(pid).ok()),
            );
        }
        std::thread::sleep(LOG_FLUSH_GRACE);
        let mut collector = DenialCollector::new();
        for line in log.stop() {
            collector.push_line(&line);
        }
        eprint!("{}", collector.report(&tracked));
    }
    status
}

/// The pid signals are forwarded to; 0 while no child runs.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

/// SIGTERM and SIGHUP sent to us are passed on to the child. SIGINT and SIGQUIT come from the
/// terminal, which already delivers them to the child (same process group): we only survive
/// them, so the child's exit status is what we report. Handlers (unlike ignored signals) are
/// reset to the default in the child on exec.
extern "C" fn on_signal(signal: libc::c_int) {
    if signal == libc::SIGTERM || signal == libc::SIGHUP {
        let pid = CHILD_PID.load(Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: kill(2) is async-signal-safe and takes plain integers.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    }
}

const FORWARDED_SIGNALS: [libc::c_int; 4] =
    [libc::SIGINT, libc::SIGQUIT, libc::SIGTERM, libc::SIGHUP];

/// Installed handlers; dropping restores the previous dispositions.
struct SignalForwarding {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalForwarding {
    fn install() -> io::Result<Self> {
        let mut forwarding = SignalForwarding {
            previous: Vec::new(),
        };
        for signal in FORWARDED_SIGNALS {
            // SAFETY: an all-zero sigaction is a valid value to fill in.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            // SAFETY: both pointers refer to live, properly aligned sigaction values.
            let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
            let result = unsafe {
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, &mut previous)
            };
            if result != 0 {
                return Err(io::Error::last_os_error());
            }
            forwarding.previous.push((signal, previous));
        }
        Ok(forwarding)
    }
}

impl Drop for SignalForwarding {
    fn drop(&mut self) {
        for (signal, previous) in &self.previous {
            // SAFETY: restores a disposition previously returned by sigaction(2).
            unsafe {
                libc::sigaction(*signal, previous, std::ptr::null_mut());
            }
        }
    }
}
