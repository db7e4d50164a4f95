//! The stage: our own binary, executed as the last step before the command, applying what only
//! a process *inside* the sandbox can apply to itself.
//!
//! - **Inside bubblewrap** (bwrap executes `/proc/self/fd/5 --codex-sandbox-stage …`, the codex
//!   binary passed on descriptor 5): Landlock as a second layer under bubblewrap's mounts (writes
//!   only beneath the writable roots; a read-only mount does not stop writing into a host FIFO,
//!   Landlock does), the command's own terminal and standard files re-openable, the process limit.
//!   Landlock cannot be applied before bubblewrap (it forbids mounting), hence the stage.
//! - **Landlock backend** (`--reaper`): a subreaper that forks the command, forwards signals to it
//!   and, when it exits or codex dies (`PR_SET_PDEATHSIG`) or asks (`SIGUSR2`), kills every process
//!   it left behind; the child drops capabilities, sets `no_new_privs`, applies Landlock and
//!   seccomp and the process limit, then executes the command.
//!
//! Every failure is reported on the status descriptor (spawn mode) or stderr and the command is
//! not executed: it never runs with less than the plan says.

mod args;
mod reaper;

use std::ffi::{CString, OsString};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

pub(crate) use args::StageArgs;
pub(crate) use reaper::KILL_TREE_SIGNAL;

/// Exit status when the stage itself failed (the command did not run).
const STAGE_FAILED: i32 = 1;

/// Run the stage when this process was executed as one (`argv[1]` is the stage flag); otherwise
/// return at once. Call it first in `main` of every binary that can be the stage executable (the
/// `codex` CLI and `codex-linux-sandbox`).
pub fn stage_main_if_requested() {
    let mut args = std::env::args_os();
    let _argv0 = args.next();
    match args.next() {
        Some(flag) if args::is_stage_flag(&flag) => {}
        _ => return,
    }
    let code = match StageArgs::parse(args) {
        Ok(stage) => match stage.reaper {
            Some(parent) => reaper::run(&stage, parent),
            None => restrict_and_exec(&stage),
        },
        Err(message) => {
            let _ = writeln!(
                io::stderr(),
                "error: invalid sandbox stage arguments: {message}"
            );
            STAGE_FAILED
        }
    };
    std::process::exit(code);
}

/// A failure report: `<step>: <error>` on the status descriptor when there is one (the
/// supervising codex turns it into an error), else on stderr.
fn report(stage: &StageArgs, step: &str, error: &dyn std::fmt::Display) {
    let line = format!("{step}: {error}\n");
    match stage.status_fd {
        Some(fd) => {
            // SAFETY: writes from a valid buffer to a descriptor we were given.
            unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
        }
        None => {
            let _ = write!(
                io::stderr(),
                "error: cannot start the sandboxed command: {line}"
            );
        }
    }
}

/// Apply everything and execute the command; returns only the exit code of a failure.
fn restrict_and_exec(stage: &StageArgs) -> i32 {
    if let Some(fd) = stage.lifeline_fd
        && supervisor_gone(fd)
    {
        report(stage, "starting", &"the supervising codex process is gone");
        return STAGE_FAILED;
    }
    if let Some(fd) = stage.close_fd {
        // SAFETY: closes the descriptor the stage was executed through; nothing else uses it.
        unsafe { libc::close(fd) };
    }
    // First, so everything the command becomes or starts counts against `pids.max` and is
    // ended with the cgroup.
    for fd in &stage.cgroup_fds {
        // Usually codex moved bwrap in before bwrap started the sandbox (cheaper than a
        // migration here); otherwise join now.
        if !crate::cgroup::is_member(*fd)
            && let Err(error) = crate::cgroup::join(*fd)
        {
            report(stage, "joining the process-limit cgroup", &error);
            return STAGE_FAILED;
        }
        // SAFETY: the descriptor was given to us for this one write.
        unsafe { libc::close(*fd) };
    }
    if let Some(name) = directory_on_standard_descriptor() {
        report(
            stage,
            "checking the standard descriptors",
            &format!(
                "{name} is a directory: through `/proc/self/fd` the command would reach everything below it, hidden paths included; give it a file, a pipe or a terminal"
            ),
        );
        return STAGE_FAILED;
    }
    if stage.drop_capabilities
        && let Err(error) = crate::capabilities::drop_all()
    {
        report(stage, "dropping capabilities", &error);
        return STAGE_FAILED;
    }
    let seccomp = match stage.seccomp_fd.map(read_program).transpose() {
        Ok(program) => program,
        Err(error) => {
            report(stage, "reading the seccomp program", &error);
            return STAGE_FAILED;
        }
    };
    if (stage.landlock.is_some() || seccomp.is_some())
        // SAFETY: prctl with constant arguments.
        && unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0
    {
        report(stage, "setting no_new_privs", &io::Error::last_os_error());
        return STAGE_FAILED;
    }
    if let Some(ruleset) = &stage.landlock {
        let restricted = crate::landlock::create_ruleset(ruleset)
            .map_err(|error| error.to_string())
            .and_then(|fd| {
                if stage.grant_terminals {
                    grant_standard_files(&fd, ruleset.abi);
                }
                restrict_self(&fd).map_err(|error| error.to_string())
            });
        if let Err(error) = restricted {
            report(stage, "applying Landlock", &error);
            return STAGE_FAILED;
        }
    }
    if let Some(program) = &seccomp
        && let Err(error) = install_seccomp(program)
    {
        report(stage, "installing the seccomp program", &error);
        return STAGE_FAILED;
    }
    if let Some(limit) = stage.max_processes {
        let limit = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: `limit` is a valid rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &limit) } != 0 {
            report(stage, "limiting processes", &io::Error::last_os_error());
            return STAGE_FAILED;
        }
    }
    let _ = codex_sandbox_process::cloexec_from(3, codex_sandbox_process::descriptor_limit());
    exec(stage)
}

/// Whether the write end of the lifeline pipe is closed (its only holder, codex, died).
fn supervisor_gone(fd: i32) -> bool {
    let mut entry = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: polls one valid pollfd without waiting.
    let ready = unsafe { libc::poll(&mut entry, 1, 0) };
    ready != 0 && entry.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// `execvp` the command; on failure report `exec: <errno>` and return 127 (not found) or 126.
fn exec(stage: &StageArgs) -> i32 {
    let strings: Result<Vec<CString>, _> = stage
        .command
        .iter()
        .map(|arg: &OsString| CString::new(arg.as_bytes()))
        .collect();
    let Ok(strings) = strings else {
        report(stage, "exec", &"an argument contains a NUL byte");
        return 126;
    };
    let mut argv: Vec<*const libc::c_char> = strings.iter().map(|arg| arg.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: `argv` is a NULL-terminated array of valid C strings that outlive the call.
    unsafe { libc::execvp(argv[0], argv.as_ptr()) };
    let error = io::Error::last_os_error();
    let errno = error.raw_os_error().unwrap_or(0);
    report(stage, "exec", &errno);
    if errno == libc::ENOENT || errno == libc::ENOTDIR {
        127
    } else {
        126
    }
}

/// The whole seccomp program from `fd` (a pipe the launcher filled).
fn read_program(fd: i32) -> io::Result<Vec<u8>> {
    let mut program = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // SAFETY: reads into a valid buffer from the descriptor we were given.
        let read = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        match read {
            0 => break,
            read if read > 0 => program.extend_from_slice(&chunk[..read as usize]),
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    // SAFETY: the program descriptor is ours to close.
    unsafe { libc::close(fd) };
    if program.is_empty() || program.len() % 8 != 0 {
        return Err(io::Error::other("the program is empty or truncated"));
    }
    Ok(program)
}

fn install_seccomp(program: &[u8]) -> io::Result<()> {
    let filter = libc::sock_fprog {
        len: (program.len() / 8) as libc::c_ushort,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `filter` points at `program`, which outlives the call.
    let installed = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &filter as *const libc::sock_fprog,
        )
    };
    if installed != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn restrict_self(ruleset: &OwnedFd) -> io::Result<()> {
    // SAFETY: restricts this thread with a ruleset descriptor we own.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset.as_raw_fd(), 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The first of stdin, stdout, stderr that is a directory (or an `O_PATH` descriptor of one).
/// Such a descriptor is a way around the mounts: `/proc/self/fd/0/<name>` resolves below the
/// host's directory, not the sandbox's view of it.
fn directory_on_standard_descriptor() -> Option<&'static str> {
    ["stdin", "stdout", "stderr"]
        .into_iter()
        .enumerate()
        .find_map(|(fd, name)| {
            // SAFETY: an all-zero stat is valid storage; fstat on any number is harmless.
            let mut stat: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `stat` is a valid out-pointer.
            let open = unsafe { libc::fstat(fd as i32, &mut stat) } == 0;
            (open && stat.st_mode & libc::S_IFMT == libc::S_IFDIR).then_some(name)
        })
}

/// Let the command re-open the files behind its standard descriptors (`/dev/stderr` on the
/// user's terminal, a FIFO or file it was given): a rule on the open file itself, nothing
/// around it. Best effort: a descriptor Landlock cannot take a rule for (a pipe, a socket)
/// needs none.
fn grant_standard_files(ruleset: &OwnedFd, abi: i32) {
    #[repr(C, packed)]
    struct PathBeneathAttr {
        allowed_access: u64,
        parent_fd: i32,
    }
    const LANDLOCK_RULE_PATH_BENEATH: libc::c_int = 1;
    for fd in 0..=2 {
        // SAFETY: an all-zero stat is valid storage; fstat on any number is harmless.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `stat` is a valid out-pointer.
        if unsafe { libc::fstat(fd, &mut stat) } != 0 {
            continue;
        }
        let kind = stat.st_mode & libc::S_IFMT;
        if kind != libc::S_IFCHR && kind != libc::S_IFIFO && kind != libc::S_IFREG {
            continue;
        }
        // Only the access the descriptor was opened with: a file given read-only on stdin must
        // not become writable through `/proc/self/fd/0`.
        // SAFETY: F_GETFL on a descriptor fstat just accepted.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            continue;
        }
        let access = crate::landlock::file_access_bits(abi, flags & libc::O_ACCMODE, kind);
        if access == 0 {
            continue;
        }
        let attribute = PathBeneathAttr {
            allowed_access: access,
            parent_fd: fd,
        };
        // SAFETY: adds a rule from a valid attribute struct to a ruleset we own.
        unsafe {
            libc::syscall(
                libc::SYS_landlock_add_rule,
                ruleset.as_raw_fd(),
                LANDLOCK_RULE_PATH_BENEATH,
                &attribute as *const PathBeneathAttr,
                0,
            )
        };
    }
}
