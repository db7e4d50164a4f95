//! No process of a sandboxed command outlives the run (background jobs, `setsid`, double forks),
//! also when the supervisor itself is killed with SIGKILL, for both backends as root and as uid
//! 65534; and the process limit holds. Survivors are found on the host by a unique `sleep`
//! argument.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use codex_sandbox_policy::NetworkAccess;

use super::harness::{Backend, Fixture, User, is_root};

/// Host processes whose command line holds `marker`.
fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // One argument must be exactly the marker (markers of other tests may share a prefix).
        let matches = cmdline.split(|byte| *byte == 0).any(|argument| {
            argument == marker.as_bytes() || argument.ends_with(format!(" {marker}").as_bytes())
        });
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        });
        if matches && !zombie {
            found.push(pid);
        }
    }
    found
}

fn wait_until_gone(marker: &str) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let alive = processes_with(marker);
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill_all(marker: &str) {
    for pid in processes_with(marker) {
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Leave a background job, a `setsid` session and a double-forked grandchild behind.
fn leave_orphans(marker: &str) -> String {
    format!(
        "sleep {marker} & setsid sleep {marker} & (sleep {marker} &) ; sh -c 'setsid sh -c \"sleep {marker}\" &' ; sleep 0.3; echo left"
    )
}

fn helper_args(fixture: &Fixture, backend: Backend, script: &str) -> Vec<OsString> {
    let policy = fixture.policy_for(backend, NetworkAccess::Restricted);
    let mut args: Vec<OsString> = vec![
        "--policy".into(),
        policy.to_json().into(),
        "--cwd".into(),
        fixture.work.clone().into(),
    ];
    if backend == Backend::Landlock {
        args.push("--use-legacy-landlock".into());
    }
    args.extend(["--".into(), "/bin/sh".into(), "-c".into(), script.into()]);
    args
}

fn check_orphans(backend: Backend, user: User) {
    if !is_root() {
        panic!("these tests need root (to also run as uid 65534)");
    }
    let marker = format!(
        "300.{}{}",
        std::process::id(),
        backend as u8 * 10 + user as u8
    );
    let fixture = Fixture::new(user);
    // Control: unsandboxed, the orphans survive the command.
    // (stdout and stderr not captured: the orphans keep them open.)
    let control = fixture
        .as_user("/bin/sh", &["-c".into(), leave_orphans(&marker).into()])
        .envs(fixture.env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(control.success());
    assert!(
        processes_with(&marker).len() >= 3,
        "{backend:?} {user:?}: the control left no orphans"
    );
    kill_all(&marker);
    assert!(wait_until_gone(&marker).is_empty());

    let output = fixture
        .as_user(
            env!("CARGO_BIN_EXE_codex-linux-sandbox"),
            &helper_args(&fixture, backend, &leave_orphans(&marker)),
        )
        .envs(fixture.env())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "left\n",
        "{backend:?} {user:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let survivors = wait_until_gone(&marker);
    kill_all(&marker);
    assert!(
        survivors.is_empty(),
        "{backend:?} {user:?}: processes outlived the run: {survivors:?}"
    );
}

#[test]
fn bubblewrap_leaves_no_process_behind_as_root() {
    check_orphans(Backend::Bubblewrap, User::Root);
}

#[test]
fn bubblewrap_leaves_no_process_behind_as_nobody() {
    check_orphans(Backend::Bubblewrap, User::Nobody);
}

#[test]
fn landlock_leaves_no_process_behind_as_root() {
    check_orphans(Backend::Landlock, User::Root);
}

#[test]
fn landlock_leaves_no_process_behind_as_nobody() {
    check_orphans(Backend::Landlock, User::Nobody);
}

/// SIGKILL of the supervising process (codex) ends the sandbox too: the spawner thread dies with
/// it, which fires bubblewrap's `--die-with-parent` and the Landlock stage's parent-death signal.
#[test]
fn killing_the_supervisor_leaves_no_process_behind() {
    if !is_root() {
        panic!("these tests need root (to also run as uid 65534)");
    }
    for backend in [Backend::Bubblewrap, Backend::Landlock] {
        for user in [User::Root, User::Nobody] {
            let marker = format!(
                "301.{}{}",
                std::process::id(),
                backend as u8 * 10 + user as u8
            );
            let fixture = Fixture::new(user);
            let script = format!("{}; echo ready; sleep {marker}", leave_orphans(&marker));
            let mut child = fixture
                .as_user(
                    env!("CARGO_BIN_EXE_codex-linux-sandbox"),
                    &helper_args(&fixture, backend, &script),
                )
                .envs(fixture.env())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            assert_eq!(lines.next().unwrap().unwrap(), "left");
            assert_eq!(lines.next().unwrap().unwrap(), "ready");
            assert!(processes_with(&marker).len() >= 3);
            child.kill().unwrap();
            let _ = child.wait();
            let survivors = wait_until_gone(&marker);
            kill_all(&marker);
            assert!(
                survivors.is_empty(),
                "{backend:?} {user:?}: processes outlived the killed supervisor: {survivors:?}"
            );
        }
    }
}

/// A fork bomb stops at the limit (uid 65534: RLIMIT_NPROC does not bind uid 0, see the README).
#[test]
fn the_process_limit_holds() {
    if !is_root() {
        panic!("these tests need root (to also run as uid 65534)");
    }
    for backend in [Backend::Bubblewrap, Backend::Landlock] {
        let marker = format!("302.{}{}", std::process::id(), backend as u8);
        let fixture = Fixture::new(User::Nobody);
        // Python, because a shell exits when a fork fails.
        let script = format!(
            "/usr/bin/python3 -c 'import os,time\nn=0\nfor i in range(80):\n    try:\n        pid=os.fork()\n    except OSError:\n        continue\n    if pid==0:\n        os.execvp(\"sleep\",[\"sleep\",\"{marker}\"])\n    n+=1\nprint(\"ready\",n,flush=True)\ntime.sleep(4)'"
        );
        let running_with_limit = |limit: &str| {
            let mut args = helper_args(&fixture, backend, &script);
            args.splice(0..0, ["--max-processes".into(), limit.into()]);
            let mut child = fixture
                .as_user(env!("CARGO_BIN_EXE_codex-linux-sandbox"), &args)
                .envs(fixture.env())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let ready = lines.next().unwrap().unwrap();
            assert!(ready.starts_with("ready "), "{backend:?}: {ready}");
            // The forked children exec `sleep` a moment after forking: take the most seen.
            let mut running = 0;
            let deadline = Instant::now() + Duration::from_secs(2);
            while running < 80 && Instant::now() < deadline {
                running = running.max(processes_with(&marker).len());
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.wait();
            kill_all(&marker);
            running
        };
        // Control: without a limit every fork succeeds.
        let unlimited = running_with_limit("0");
        assert!(
            unlimited > 60,
            "{backend:?}: only {unlimited} of 80 without a limit"
        );
        let running = running_with_limit("30");
        assert!(
            (10..=30).contains(&running),
            "{backend:?}: {running} processes ran under a limit of 30"
        );
    }
}

/// If codex dies before bubblewrap could arm its parent-death signal, the stage still refuses to
/// start the command: it finds the lifeline pipe (whose write end only codex holds) closed.
#[test]
fn the_stage_does_not_start_the_command_once_the_supervisor_is_gone() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let run = |keep_writer: bool| {
        let mut fds = [0; 2];
        // SAFETY: valid storage for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: fresh descriptors owned here.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let writer = keep_writer.then_some(write);
        let read_fd = read.as_raw_fd();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_codex-linux-sandbox"));
        command.args([
            "--codex-sandbox-stage",
            "--lifeline-fd",
            "7",
            "--",
            "echo",
            "started",
        ]);
        // SAFETY: dup2 is async-signal-safe; it runs in the child before exec.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(read_fd, 7) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let output = command.output().unwrap();
        drop(writer);
        output
    };
    // Control: with the supervisor alive the command starts.
    let alive = run(true);
    assert_eq!(String::from_utf8_lossy(&alive.stdout), "started\n");
    let gone = run(false);
    assert_eq!(String::from_utf8_lossy(&gone.stdout), "");
    assert!(!gone.status.success());
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("the supervising codex process is gone"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}
