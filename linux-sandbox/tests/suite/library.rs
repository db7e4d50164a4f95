//! `plan()` + `run()` called in-process, plus signal forwarding and concurrent runs through the
//! helper binary.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use codex_linux_sandbox::{LinuxBackend, LinuxOptions, RunMode, SandboxRequest, plan, run};
use codex_sandbox_policy::NetworkAccess;

use super::harness::{Backend, Fixture, User};

fn env(fixture: &Fixture) -> Vec<(OsString, OsString)> {
    fixture
        .env()
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect()
}

fn sh(script: &str) -> Vec<OsString> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

/// The library runs the stage from the `codex-linux-sandbox` binary (this test harness's own
/// `main` is not one that calls `stage_main_if_requested`).
fn options() -> LinuxOptions {
    LinuxOptions {
        stage_executable: Some(env!("CARGO_BIN_EXE_codex-linux-sandbox").into()),
        ..LinuxOptions::default()
    }
}

#[test]
fn plan_then_run_enforces_the_workspace_policy() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let env = env(&fixture);
    let command = sh(
        "echo ok > \"$WORK/result\"; echo x >> \"$WORK/.git/config\" 2>/dev/null && echo git-writable >> \"$WORK/result\"; cat \"$SECRET\" >/dev/null 2>&1 && echo secret-readable >> \"$WORK/result\"; exit 7",
    );
    let request = SandboxRequest {
        policy: &policy,
        command: &command,
        cwd: &fixture.work,
        env: &env,
        backend: LinuxBackend::Bubblewrap,
        run_mode: RunMode::SpawnAndWait,
        options: &options(),
    };
    let plan = plan(&request).unwrap();
    assert_eq!(plan.backend_name(), "bubblewrap");
    assert_eq!(plan.argv[0], "bwrap");
    assert!(plan.program.ends_with("bwrap"));
    assert_eq!(
        plan.env_changes,
        vec![(
            "CODEX_SANDBOX_NETWORK_DISABLED".to_string(),
            "1".to_string()
        )]
    );
    let status = run(plan, None).unwrap();
    assert_eq!(status.code(), Some(7));
    assert_eq!(
        std::fs::read_to_string(fixture.work.join("result")).unwrap(),
        "ok\n"
    );
    assert!(!fixture.work.join(".codex").exists());
}

#[test]
fn landlock_plan_runs_the_command_through_the_reaping_stage() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.read_only_policy(NetworkAccess::Enabled);
    let env = env(&fixture);
    let command =
        sh("echo x > \"$WORK/result\" 2>/dev/null; echo x > \"$OUTSIDE/new\" 2>/dev/null; exit 3");
    let request = SandboxRequest {
        policy: &policy,
        command: &command,
        cwd: &fixture.work,
        env: &env,
        backend: LinuxBackend::Landlock,
        run_mode: RunMode::SpawnAndWait,
        options: &options(),
    };
    let plan = plan(&request).unwrap();
    assert_eq!(plan.backend_name(), "landlock");
    // The stage runs the command (after `--`) as a subreaper that restricts it.
    assert_eq!(plan.argv[1], "--codex-sandbox-stage");
    assert!(plan.argv.ends_with(&command));
    assert!(plan.argv.iter().any(|arg| arg == "--reaper"));
    assert!(plan.env_changes.is_empty(), "network enabled: no marker");
    assert_eq!(run(plan, None).unwrap().code(), Some(3));
    assert!(!fixture.work.join("result").exists(), "read-only policy");
    assert!(!fixture.outside.join("new").exists());
}

#[test]
fn loader_variables_reach_the_command_through_setenv() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let mut env = env(&fixture);
    env.push(("LD_CODEX_TEST".into(), "through-setenv".into()));
    let command = sh("printf '%s' \"$LD_CODEX_TEST\" > \"$WORK/result\"");
    let request = SandboxRequest {
        policy: &policy,
        command: &command,
        cwd: &fixture.work,
        env: &env,
        backend: LinuxBackend::Bubblewrap,
        run_mode: RunMode::SpawnAndWait,
        options: &options(),
    };
    let plan = plan(&request).unwrap();
    let position = plan.argv.iter().position(|arg| arg == "--setenv").unwrap();
    assert_eq!(plan.argv[position + 1], "LD_CODEX_TEST");
    assert!(run(plan, None).unwrap().success());
    assert_eq!(
        std::fs::read_to_string(fixture.work.join("result")).unwrap(),
        "through-setenv"
    );
}

#[test]
fn sigterm_is_forwarded_to_the_command() {
    for backend in [Backend::Bubblewrap, Backend::Landlock] {
        let fixture = Fixture::new(User::Root);
        let policy = match backend {
            Backend::Bubblewrap => fixture.workspace_policy(NetworkAccess::Restricted),
            Backend::Landlock => fixture.read_only_policy(NetworkAccess::Restricted),
        };
        let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
        let mut args: Vec<OsString> = vec![
            "--policy".into(),
            policy.to_json().into(),
            "--cwd".into(),
            fixture.work.clone().into(),
        ];
        if backend == Backend::Landlock {
            args.push("--use-legacy-landlock".into());
        }
        args.push("--".into());
        args.extend(sh(
            "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.1; done",
        ));
        let mut child = fixture
            .as_user(helper, &args)
            .envs(fixture.env())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        // SAFETY: kill has no memory effects.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        assert_eq!(lines.next().unwrap().unwrap(), "got-term", "{backend:?}");
        assert_eq!(child.wait().unwrap().code(), Some(9), "{backend:?}");
    }
}

#[test]
fn concurrent_runs_share_the_codex_mount_point_and_leave_nothing() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
    let spawn = |me: &str, other: &str| {
        let script = format!(
            "test -d \"$WORK/.codex\" || exit 5; touch \"$WORK/{me}\"; n=0; while [ ! -e \"$WORK/{other}\" ] && [ $n -lt 1000 ]; do sleep 0.02; n=$((n+1)); done; [ -e \"$WORK/{other}\" ] || exit 7; mkdir \"$WORK/.codex/x\" 2>/dev/null && exit 6; exit 0"
        );
        fixture
            .as_user(
                helper,
                &[
                    "--policy".into(),
                    policy.to_json().into(),
                    "--cwd".into(),
                    fixture.work.clone().into(),
                    "--".into(),
                    "/bin/sh".into(),
                    "-c".into(),
                    script.into(),
                ],
            )
            .envs(fixture.env())
            .spawn()
            .unwrap()
    };
    let mut first = spawn("first-started", "second-started");
    let mut second = spawn("second-started", "first-started");
    assert_eq!(first.wait().unwrap().code(), Some(0));
    assert_eq!(second.wait().unwrap().code(), Some(0));
    assert!(
        !fixture.work.join(".codex").exists(),
        "the shared mount point was removed by the last run"
    );
}

#[test]
fn a_user_directory_that_appears_is_never_removed() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    std::fs::create_dir(fixture.work.join(".codex")).unwrap();
    std::fs::write(fixture.work.join(".codex/config.toml"), "model = \"x\"\n").unwrap();
    let output = fixture.helper(
        Backend::Bubblewrap,
        &policy,
        "cat \"$WORK/.codex/config.toml\"; echo y >> \"$WORK/.codex/config.toml\"",
        &[],
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "model = \"x\"\n");
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read_to_string(fixture.work.join(".codex/config.toml")).unwrap(),
        "model = \"x\"\n"
    );
}

/// The planner decides the launch up front (the argv differs): exec only when the caller allows
/// it and nothing has to happen after bwrap (no mount point to remove).
#[test]
fn the_plan_execs_bwrap_only_when_nothing_happens_afterwards() {
    let fixture = Fixture::new(User::Root);
    let env = env(&fixture);
    let command = sh("true");
    let status_fd = OsString::from("--json-status-fd");
    let no_mount_points = fixture.plain_writable_policy(NetworkAccess::Restricted);
    let with_mount_points = fixture.workspace_policy(NetworkAccess::Restricted);
    // A pids cgroup (root: RLIMIT_NPROC does not bind it) is removed after the run, so it
    // needs the spawn mode too.
    let no_limit = LinuxOptions {
        max_processes: None,
        ..options()
    };
    let limited = options();
    for (policy, run_mode, options, exec) in [
        (&no_mount_points, RunMode::ExecWhenPossible, &no_limit, true),
        (&no_mount_points, RunMode::SpawnAndWait, &no_limit, false),
        (
            &with_mount_points,
            RunMode::ExecWhenPossible,
            &no_limit,
            false,
        ),
        (&no_mount_points, RunMode::ExecWhenPossible, &limited, false),
    ] {
        let request = SandboxRequest {
            policy,
            command: &command,
            cwd: &fixture.work,
            env: &env,
            backend: LinuxBackend::Bubblewrap,
            run_mode,
            options,
        };
        let plan = plan(&request).unwrap();
        let cgroup = plan.enforcement.process_limit.cgroup_parent().is_some();
        assert_eq!(
            cgroup,
            options.max_processes.is_some(),
            "{:?}",
            plan.enforcement
        );
        assert_eq!(plan.replaces_process(), exec, "{run_mode:?} {options:?}");
        assert_eq!(plan.argv.contains(&status_fd), !exec, "{:?}", plan.argv);
    }
}

/// The helper execs bwrap for a plan without mount points: exit codes stay the command's (128+N
/// for a signal, 127 for a missing command) and descriptors it inherited never reach the sandbox.
#[test]
fn exec_mode_keeps_exit_codes_and_closes_inherited_descriptors() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.plain_writable_policy(NetworkAccess::Restricted);
    let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
    let run = |command: Vec<OsString>| {
        let mut args: Vec<OsString> = vec![
            "-c".into(),
            "exec 7</etc/hostname 8<. \"$0\" \"$@\"".into(),
            helper.into(),
            "--policy".into(),
            policy.to_json().into(),
            "--cwd".into(),
            fixture.work.clone().into(),
            "--".into(),
        ];
        args.extend(command);
        fixture
            .as_user("/bin/sh", &args)
            .envs(fixture.env())
            .output()
            .unwrap()
    };
    let output = run(sh("ls /proc/self/fd; exit 7"));
    assert_eq!(output.status.code(), Some(7));
    // 0-2, plus the descriptor `ls` opened on the directory.
    assert_eq!(String::from_utf8_lossy(&output.stdout), "0\n1\n2\n3\n");
    let output = run(sh("kill -TERM $$"));
    assert_eq!(output.status.code(), Some(128 + 15));
    let output = run(vec!["no-such-command-xyz".into()]);
    assert_eq!(output.status.code(), Some(127));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: command not found: `no-such-command-xyz`\n\nhint: check the spelling and that the command is on PATH\n"
    );
}

/// In exec mode a signal to the caller reaches bwrap itself, which dies of it; with
/// `--die-with-parent` the whole sandbox is killed with it: nothing keeps running.
#[test]
fn exec_mode_a_signal_to_the_caller_ends_the_whole_sandbox() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.plain_writable_policy(NetworkAccess::Restricted);
    let helper = env!("CARGO_BIN_EXE_codex-linux-sandbox");
    let alive = fixture.tmp.join("alive");
    let mut args: Vec<OsString> = vec![
        "--policy".into(),
        policy.to_json().into(),
        "--cwd".into(),
        fixture.work.clone().into(),
        // No pids cgroup to remove afterwards (which needs the spawn mode).
        "--max-processes".into(),
        "0".into(),
        "--".into(),
    ];
    args.extend(sh(
        "trap 'echo got-term' TERM; (while :; do echo x >> \"$TMPDIR/alive\"; sleep 0.02; done) & while [ ! -e \"$TMPDIR/alive\" ]; do sleep 0.01; done; echo ready; wait",
    ));
    let mut child = fixture
        .as_user(helper, &args)
        .envs(fixture.env())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    // SAFETY: kill has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "bwrap itself died of it"
    );
    assert!(
        lines.next().is_none(),
        "the command got SIGKILL, not SIGTERM"
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = std::fs::read(&alive).unwrap_or_default().len();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after = std::fs::read(&alive).unwrap_or_default().len();
    assert!(before > 0, "the background loop ran");
    assert_eq!(before, after, "nothing of the sandbox keeps running");
}

/// Regression (red team): a library caller's `$CODEX_HOME` that does not exist yet, inside a
/// writable root, could be created by the command (and a `config.toml` planted for the next
/// run). It stays uncreatable, as root and as uid 65534, and nothing is left on the host.
#[test]
fn a_missing_denied_codex_home_inside_the_workspace_cannot_be_created() {
    use codex_sandbox_policy::{Access, PathRule};
    let script = "mkdir -p \"$WORK/.codexhome\" && echo 'default_permissions = \":danger-full-access\"' > \"$WORK/.codexhome/config.toml\"";
    for user in [User::Root, User::Nobody] {
        let fixture = Fixture::new(user);
        let control = fixture
            .as_user("/bin/sh", &["-c".into(), script.into()])
            .envs(fixture.env())
            .output()
            .unwrap();
        assert!(control.status.success(), "{user:?}: the control failed");
        std::fs::remove_dir_all(fixture.work.join(".codexhome")).unwrap();

        let mut policy = fixture.workspace_policy(NetworkAccess::Restricted);
        policy.rules.push(PathRule {
            path: fixture.work.join(".codexhome"),
            access: Access::Deny,
        });
        policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        let output = fixture.helper(Backend::Bubblewrap, &policy, script, &[]);
        assert!(!output.status.success(), "{user:?}: the command created it");
        assert!(
            !fixture.work.join(".codexhome").exists(),
            "{user:?}: left on the host"
        );
    }
}

/// A denied file with a second hard link (made outside the sandbox) cannot be hidden: masks
/// and Landlock rules go by name. Both backends refuse instead of running with the other name
/// readable (the control shows that name reads the secret).
#[test]
fn a_denied_file_with_another_hard_link_is_refused() {
    use codex_sandbox_policy::{Access, PathRule};
    let fixture = Fixture::new(User::Root);
    let denied = fixture.home.join("readable.txt");
    let other = fixture.outside.join("other-name.txt");
    std::fs::hard_link(&denied, &other).unwrap();
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "readable\n");
    for backend in [Backend::Bubblewrap, Backend::Landlock] {
        let mut policy = fixture.policy_for(backend, NetworkAccess::Restricted);
        policy.rules.push(PathRule {
            path: denied.clone(),
            access: Access::Deny,
        });
        policy.rules.sort_by(|a, b| a.path.cmp(&b.path));
        let script = format!("cat {}", other.display());
        let output = fixture.helper(backend, &policy, &script, &[]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{backend:?}: {stdout}");
        assert!(!stdout.contains("readable"), "{backend:?}: {stdout}");
        assert!(stderr.contains("has 2 hard links"), "{backend:?}: {stderr}");
    }
}

/// A setuid file that reaches a writable root (made on the host, or by a bug in the seccomp
/// rule) must not gain privileges from inside: every writable bind is mounted `nosuid`, like the
/// read-only base.
#[test]
fn writable_roots_are_mounted_nosuid() {
    let fixture = Fixture::new(User::Root);
    let policy = fixture.workspace_policy(NetworkAccess::Restricted);
    let env = env(&fixture);
    let mountinfo = fixture.work.join("mountinfo");
    let command = sh("cat /proc/self/mountinfo > \"$WORK/mountinfo\"");
    let request = SandboxRequest {
        policy: &policy,
        command: &command,
        cwd: &fixture.work,
        env: &env,
        backend: LinuxBackend::Bubblewrap,
        run_mode: RunMode::SpawnAndWait,
        options: &options(),
    };
    let status = run(plan(&request).unwrap(), None).unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(mountinfo).unwrap();
    let work = fixture.work.to_str().unwrap();
    // mountinfo: id parent dev root mount-point options ...
    let options: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            (fields.get(4) == Some(&work)).then(|| fields[5])
        })
        .collect();
    assert!(!options.is_empty(), "no mount at {work} in:\n{text}");
    for flags in options {
        assert!(
            flags.split(',').any(|flag| flag == "rw")
                && flags.split(',').any(|flag| flag == "nosuid"),
            "the writable root is mounted {flags}"
        );
    }
}
