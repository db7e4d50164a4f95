//! `spawn` / `run` from many threads: captured output, timeouts and cancellation that kill the
//! whole tree (a `setsid`ed grandchild checked from the host), forwarded signals, a command that
//! ignores SIGTERM, the output limit, the enforcement report.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_sandboxing::{
    Access, CommandOutcome, CommandRequest, Ending, Enforcement, NetworkAccess, PathRule,
    SandboxBackend, SandboxPolicy, SandboxSettings, StdioPolicy, WritableRoot, run, spawn,
};

fn policy(work: &Path) -> SandboxPolicy {
    SandboxPolicy {
        profile: "test".into(),
        enforcement: Enforcement::Managed,
        cwd: work.to_path_buf(),
        rules: vec![
            PathRule {
                path: PathBuf::from("/"),
                access: Access::Read,
            },
            PathRule {
                path: work.to_path_buf(),
                access: Access::Write,
            },
        ],
        platform_defaults: false,
        deny_globs: Vec::new(),
        glob_scan_max_depth: None,
        writable_roots: vec![WritableRoot {
            root: work.to_path_buf(),
            protected: Vec::new(),
        }],
        network: NetworkAccess::Restricted,
        unix_sockets: Vec::new(),
    }
}

fn read_only(work: &Path) -> SandboxPolicy {
    let mut policy = policy(work);
    policy.rules.truncate(1);
    policy.writable_roots.clear();
    policy
}

fn settings(backend: SandboxBackend) -> SandboxSettings {
    SandboxSettings {
        backend,
        stage_executable: Some(env!("CARGO_BIN_EXE_codex-sandbox-stage").into()),
        ..SandboxSettings::default()
    }
}

fn request<'a>(
    policy: &'a SandboxPolicy,
    settings: &'a SandboxSettings,
    script: &str,
) -> CommandRequest<'a> {
    CommandRequest {
        policy,
        command: vec!["/bin/sh".into(), "-c".into(), script.into()],
        cwd: policy.cwd.clone(),
        env: vec![(OsString::from("PATH"), OsString::from("/usr/bin:/bin"))],
        stdio: StdioPolicy::Capture {
            max_bytes: 64 * 1024,
        },
        timeout: None,
        settings,
    }
}

fn workdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().canonicalize().unwrap();
    (dir, work)
}

/// Host processes with `marker` as one argument (not zombies).
fn alive(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            });
            !zombie
                && cmdline
                    .split(|byte| *byte == 0)
                    .any(|argument| argument == marker.as_bytes())
        })
        .count()
}

fn gone(marker: &str) -> bool {
    for _ in 0..60 {
        if alive(marker) == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

const BACKENDS: [SandboxBackend; 2] = [SandboxBackend::Bubblewrap, SandboxBackend::Landlock];

fn policy_for(backend: SandboxBackend, work: &Path) -> SandboxPolicy {
    match backend {
        SandboxBackend::Landlock => read_only(work),
        _ => policy(work),
    }
}

#[test]
fn many_threads_run_commands_at_once_with_captured_output() {
    let (_dir, work) = workdir();
    let threads: Vec<_> = (0..8)
        .map(|index| {
            let work = work.clone();
            std::thread::spawn(move || {
                let backend = BACKENDS[index % 2];
                let policy = policy_for(backend, &work);
                let settings = settings(backend);
                let outcome = run(&request(
                    &policy,
                    &settings,
                    &format!("echo out{index}; sleep 0.1; echo err{index} >&2; exit {index}"),
                ))
                .unwrap();
                (index, outcome)
            })
        })
        .collect();
    for thread in threads {
        let (index, outcome): (usize, CommandOutcome) = thread.join().unwrap();
        assert_eq!(outcome.ending, Ending::Exited(index as i32), "{index}");
        assert_eq!(outcome.exit_code, index as i32);
        assert_eq!(outcome.stdout.text(), format!("out{index}\n"));
        assert_eq!(outcome.stderr.text(), format!("err{index}\n"));
        assert_eq!(
            outcome.aggregated.text(),
            format!("out{index}\nerr{index}\n")
        );
    }
}

#[test]
fn a_timeout_kills_a_setsid_grandchild() {
    let (_dir, work) = workdir();
    for backend in BACKENDS {
        let marker = format!("200.{}{}", std::process::id(), backend as u8);
        let policy = policy_for(backend, &work);
        let settings = settings(backend);
        let mut request = request(
            &policy,
            &settings,
            &format!("setsid sleep {marker} & (sleep {marker} &); echo started; sleep {marker}"),
        );
        request.timeout = Some(Duration::from_millis(700));
        let outcome = run(&request).unwrap();
        assert_eq!(outcome.ending, Ending::TimedOut, "{backend:?}");
        assert_eq!(outcome.stdout.text(), "started\n");
        assert!(
            gone(&marker),
            "{backend:?}: a grandchild outlived the timeout"
        );
    }
}

#[test]
fn cancel_from_another_thread_kills_everything() {
    let (_dir, work) = workdir();
    for backend in BACKENDS {
        let marker = format!("201.{}{}", std::process::id(), backend as u8);
        let policy = policy_for(backend, &work);
        let settings = settings(backend);
        let running = spawn(&request(
            &policy,
            &settings,
            &format!("setsid sleep {marker} & sleep {marker}"),
        ))
        .unwrap();
        let handle = running.cancel_handle();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            handle.cancel();
        });
        let outcome = running.wait().unwrap();
        canceller.join().unwrap();
        assert_eq!(outcome.ending, Ending::Cancelled, "{backend:?}");
        assert!(gone(&marker), "{backend:?}: a process outlived the cancel");
    }
}

#[test]
fn signals_reach_the_command_and_one_that_ignores_sigterm_is_still_killed() {
    let (_dir, work) = workdir();
    for backend in BACKENDS {
        let policy = policy_for(backend, &work);
        let settings = settings(backend);
        let running = spawn(&request(
            &policy,
            &settings,
            "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.05; done",
        ))
        .unwrap();
        let handle = running.cancel_handle();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(400));
            handle.signal(libc::SIGTERM);
        });
        let outcome = running.wait().unwrap();
        assert_eq!(outcome.exit_code, 9, "{backend:?}: {outcome:?}");
        assert_eq!(outcome.stdout.text(), "ready\ngot-term\n");

        let mut ignoring = request(
            &policy,
            &settings,
            "trap '' TERM; echo ready; while :; do sleep 0.05; done",
        );
        ignoring.timeout = Some(Duration::from_millis(500));
        let outcome = run(&ignoring).unwrap();
        assert_eq!(outcome.ending, Ending::TimedOut, "{backend:?}");
    }
}

#[test]
fn captured_output_is_bounded_and_says_so() {
    let (_dir, work) = workdir();
    let policy = policy(&work);
    let settings = settings(SandboxBackend::Bubblewrap);
    let mut request = request(
        &policy,
        &settings,
        "head -c 1000000 /dev/zero | tr '\\0' a; echo END",
    );
    request.stdio = StdioPolicy::Capture { max_bytes: 1000 };
    let outcome = run(&request).unwrap();
    assert_eq!(outcome.stdout.total_bytes, 1_000_004);
    assert!(outcome.stdout.truncated);
    assert_eq!(outcome.stdout.bytes.len(), 1000);
    assert!(outcome.stdout.text().ends_with("aaaEND\n"));
}

#[test]
fn the_report_says_what_was_enforced_and_a_missing_command_is_not_found() {
    let (_dir, work) = workdir();
    let policy = policy(&work);
    let settings = settings(SandboxBackend::Bubblewrap);
    let outcome = run(&request(&policy, &settings, "true")).unwrap();
    let report = outcome.enforcement;
    assert_eq!(report.backend, "bubblewrap");
    assert!(report.namespaces && report.network_namespace && report.seccomp);
    assert!(report.landlock_abi.is_some_and(|abi| abi >= 1));
    assert_eq!(report.max_processes, Some(4096));
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // Root is exempt from RLIMIT_NPROC: the limit holds through a pids cgroup (the test
    // machines have one writable by root).
    let kind = report.process_limit.kind();
    if root {
        assert!(kind.starts_with("cgroup-"), "{report:?}");
    } else {
        assert_eq!(kind, "rlimit", "{report:?}");
    }
    assert!(
        report.describe().contains("at most 4096 processes ("),
        "{}",
        report.describe()
    );
    let landlock = settings_landlock_report(&work);
    assert_eq!(landlock.backend, "landlock");
    assert!(!landlock.namespaces && landlock.seccomp && landlock.landlock_abi.is_some());

    let mut missing = request(&policy, &settings, "true");
    missing.command = vec!["definitely-not-a-command-xyz".into()];
    let error = run(&missing).unwrap_err();
    assert_eq!(
        error.to_string(),
        "command not found: `definitely-not-a-command-xyz`"
    );
    assert_eq!(error.exit_code(), 127);
}

fn settings_landlock_report(work: &Path) -> codex_sandboxing::EnforcementReport {
    let policy = read_only(work);
    let settings = settings(SandboxBackend::Landlock);
    run(&request(&policy, &settings, "true"))
        .unwrap()
        .enforcement
}
