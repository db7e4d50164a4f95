//! The Landlock backend's supervisor: without a pid namespace, nothing else ends the processes a
//! command leaves behind (`setsid`, double forks). The stage becomes a subreaper, so every orphan
//! of the command is re-parented to it; it forks the command (restricted in the child), forwards
//! SIGHUP/SIGINT/SIGQUIT/SIGTERM to the command's process group, and when the command exits, or
//! codex dies (parent-death signal), or codex asks (`SIGUSR2`), it kills every descendant before
//! exiting with the command's status (128+N for a signal).
//!
//! The command cannot signal the stage: Landlock's signal scope (ABI 6) keeps signals inside the
//! command's domain, which the stage is not part of.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::{STAGE_FAILED, StageArgs, report, restrict_and_exec};

/// Asks the stage to kill the whole tree (also its parent-death signal).
pub(crate) const KILL_TREE_SIGNAL: i32 = libc::SIGUSR2;
const FORWARDED: [i32; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

pub(super) fn run(stage: &StageArgs, parent: i32) -> i32 {
    // SAFETY: prctl with constant arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        report(stage, "becoming a subreaper", &io::Error::last_os_error());
        return STAGE_FAILED;
    }
    // SAFETY: as above.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, KILL_TREE_SIGNAL, 0, 0, 0) } != 0 {
        report(
            stage,
            "binding to codex's lifetime",
            &io::Error::last_os_error(),
        );
        return STAGE_FAILED;
    }
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } != parent {
        // codex is gone already (the parent-death signal was set too late to fire).
        return STAGE_FAILED;
    }
    let signals = match SignalFd::block() {
        Ok(signals) => signals,
        Err(error) => {
            report(stage, "receiving signals", &error);
            return STAGE_FAILED;
        }
    };
    // SAFETY: the stage is single-threaded (a freshly executed program), so the child may run
    // ordinary code after fork.
    let child = unsafe { libc::fork() };
    if child < 0 {
        report(stage, "starting the command", &io::Error::last_os_error());
        return STAGE_FAILED;
    }
    if child == 0 {
        signals.restore_in_child();
        // Its own session and process group: signals are forwarded to the group, and a
        // terminal's job control never involves the stage.
        // SAFETY: setsid has no preconditions.
        unsafe { libc::setsid() };
        // SAFETY: exits the child without running the parent's destructors.
        unsafe { libc::_exit(restrict_and_exec(stage)) };
    }
    if let Some(fd) = stage.status_fd {
        // SAFETY: the child holds its own copy; ours is not needed.
        unsafe { libc::close(fd) };
    }
    for fd in stage.seccomp_fd.iter().chain(&stage.cgroup_fds) {
        // SAFETY: as above.
        unsafe { libc::close(*fd) };
    }
    supervise(child, &signals)
}

/// Serve signals until the command exits; then kill whatever it left and return its status.
fn supervise(child: i32, signals: &SignalFd) -> i32 {
    loop {
        let Some(signal) = signals.next() else {
            continue;
        };
        if signal == libc::SIGCHLD {
            if let Some(code) = reap_until(child) {
                return code;
            }
        } else if signal == KILL_TREE_SIGNAL {
            // The command is not reaped yet, so its process group cannot be another's.
            // SAFETY: signals our own child's process group.
            unsafe { libc::kill(-child, libc::SIGKILL) };
            codex_sandbox_process::kill_descendants();
            return 128 + libc::SIGKILL;
        } else if FORWARDED.contains(&signal) {
            // SAFETY: as above.
            unsafe { libc::kill(-child, signal) };
        }
    }
}

/// Reap every exited child; once the command is among them, kill everything left and return
/// its exit code. The command is looked at before it is reaped: while its zombie holds the
/// process group, a SIGKILL to the group cannot reach anyone else's.
fn reap_until(child: i32) -> Option<i32> {
    loop {
        // SAFETY: an all-zero siginfo_t is valid storage for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: peeks at an exited child of ours without reaping it.
        let peeked = unsafe {
            libc::waitid(
                libc::P_ALL,
                0,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            )
        };
        // SAFETY: `si_pid` is set by waitid (0 when nothing has exited).
        let pid = unsafe { info.si_pid() };
        if peeked != 0 || pid <= 0 {
            return None;
        }
        if pid == child {
            // SAFETY: the command's group, pinned by its unreaped zombie.
            unsafe { libc::kill(-child, libc::SIGKILL) };
        }
        let mut status = 0;
        // SAFETY: reaps the child just seen; `status` is a valid out-pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        if pid == child {
            codex_sandbox_process::kill_descendants();
            return Some(if libc::WIFSIGNALED(status) {
                128 + libc::WTERMSIG(status)
            } else {
                libc::WEXITSTATUS(status)
            });
        }
    }
}

/// The supervised signals, blocked and read through a signalfd.
struct SignalFd {
    fd: OwnedFd,
}

impl SignalFd {
    fn set() -> libc::sigset_t {
        // SAFETY: an all-zero sigset_t is valid storage for sigemptyset.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is valid storage; the signal numbers are valid.
        unsafe {
            libc::sigemptyset(&mut set);
            for signal in FORWARDED.iter().chain(&[KILL_TREE_SIGNAL, libc::SIGCHLD]) {
                libc::sigaddset(&mut set, *signal);
            }
        }
        set
    }

    fn block() -> io::Result<SignalFd> {
        let set = SignalFd::set();
        // SAFETY: valid set; the stage is single-threaded.
        if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: valid set; a new descriptor is returned or -1.
        let fd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: freshly created descriptor owned by nobody else.
        Ok(SignalFd {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// In the forked child: the command starts with nothing blocked.
    fn restore_in_child(&self) {
        let set = SignalFd::set();
        // SAFETY: valid set.
        unsafe { libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }

    /// The next signal (blocking).
    fn next(&self) -> Option<i32> {
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
        (read == size as isize).then_some(info.ssi_signo as i32)
    }
}
