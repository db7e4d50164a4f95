//! Running a Landlock plan: the stage runs as a subreaper (see `stage/reaper.rs`) and restricts
//! the command it forks; it gets the seccomp program on fd 3 and reports failures on fd 6. It
//! runs in its own process group; forwarded signals go to it (it passes them to the command's
//! group), and killing the tree is a `SIGUSR2` to it (it kills every descendant, then exits).
//! With a pids cgroup (fds 8 and 9, joined by the command before it runs) codex also kills
//! everything in the cgroup then, and after the stage exited.

use std::os::fd::AsRawFd;
use std::time::Instant;

use codex_sandbox_process::{
    CancelHandle, Hooks, SpawnOptions, SpawnedProcess, Supervision, fill_pipe, high_pipe,
    supervise as supervise_loop,
};

use crate::cgroup::RunCgroup;
use crate::error::RunSandboxError;
use crate::request::{LandlockDetails, SECCOMP_FD, STAGE_STATUS_FD};
use crate::runner::{Kind, Launch, LinuxChild, prepare};
use crate::stage::KILL_TREE_SIGNAL;

pub(crate) fn spawn(
    launch: &Launch<'_>,
    details: LandlockDetails,
) -> Result<LinuxChild, RunSandboxError> {
    if let Some(ruleset) = &details.ruleset {
        // Fail before starting anything when the kernel cannot build the ruleset.
        drop(crate::landlock::create_ruleset(ruleset)?);
    }
    let seccomp_read = match &details.seccomp {
        Some(program) => Some(
            fill_pipe(program).map_err(|error| prepare("passing the seccomp program", error))?,
        ),
        None => None,
    };
    let (stage_read, stage_write) =
        high_pipe().map_err(|error| prepare("creating a pipe", error))?;
    let cgroup = RunCgroup::create(&details.process_limit, details.max_processes, true)?;
    let mut mappings = vec![(stage_write.as_raw_fd(), STAGE_STATUS_FD)];
    mappings.extend(cgroup.iter().flat_map(RunCgroup::join_descriptors));
    if let Some(fd) = &seccomp_read {
        mappings.push((fd.as_raw_fd(), SECCOMP_FD));
    }
    let process = codex_sandbox_process::spawn(&SpawnOptions {
        program: launch.program,
        argv: launch.argv,
        env: launch.env,
        cwd: launch.cwd,
        mappings: &mappings,
        stdio: launch.stdio,
        process_group: true,
    })
    .map_err(|source| RunSandboxError::Spawn {
        program: launch.program.to_path_buf(),
        source,
    })?;
    let command = details.command.clone();
    Ok(LinuxChild {
        process,
        kind: Kind::Landlock,
        stage_status: stage_read,
        command,
        command_path: None,
        cgroup,
    })
}

pub(crate) fn supervise(
    process: &mut SpawnedProcess,
    cgroup: Option<&RunCgroup>,
    control: &CancelHandle,
    deadline: Option<Instant>,
    max_bytes: usize,
) -> std::io::Result<Supervision> {
    let stage = process.pid();
    let mut kill = || {
        // SAFETY: our own unreaped child; it kills its descendants and exits.
        unsafe { libc::kill(stage, KILL_TREE_SIGNAL) };
        // The command's tree, whatever it did to leave the stage's reach.
        if let Some(cgroup) = cgroup {
            cgroup.kill_all();
        }
    };
    let mut forward = |signal: i32| {
        // SAFETY: as above; it forwards the signal to the command's group.
        unsafe { libc::kill(stage, signal) };
    };
    supervise_loop(
        process,
        control,
        deadline,
        max_bytes,
        Hooks {
            kill_tree: &mut kill,
            forward: &mut forward,
            extra: None,
        },
    )
}
