//! Commands under each sandbox mode (the write landing or not on the host), network, patches,
//! and interruption (nothing left on the host).

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use codex_test_support::{Reply, Script, sse};
use serde_json::json;

use super::harness::*;

fn write_then_answer(cmd: &str) -> Script {
    Script::new()
        .then(shell_call("c1", cmd))
        .then(answer("done"))
}

#[test]
fn read_only_blocks_the_write_and_says_so() {
    let env = ExecEnv::new(write_then_answer("echo hi > out.txt"));
    let output = env.run([PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!env.work().join("out.txt").exists());
    let seen = output_for(&env.bodies(), "c1").unwrap();
    assert!(seen.contains("Read-only file system"), "{seen}");
    assert!(
        seen.contains("Sandbox: this looks like a sandbox denial"),
        "{seen}"
    );
    assert!(
        stderr(&output).contains(" exited 1 in "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn workspace_write_lands_inside_and_not_outside() {
    let env = ExecEnv::new(write_then_answer("echo hi > out.txt"));
    let output = env.run(["-s", "workspace-write", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(env.work().join("out.txt")).unwrap(),
        "hi\n"
    );
    assert!(stderr(&output).contains("sandbox: workspace-write"));

    let target = format!("{}/escape.txt", env.outside().display());
    let env2 = ExecEnv::new(write_then_answer(&format!("echo x > {target}")));
    let target2 = env2.outside().join("escape.txt");
    let blocked = env2.run(["-s", "workspace-write", PROMPT]);
    assert_eq!(blocked.status.code(), Some(0));
    assert!(!target2.exists(), "write outside the workspace landed");
    // Control: danger-full-access really writes there.
    let env3 = ExecEnv::new(write_then_answer(&format!(
        "echo x > {}/escape.txt",
        "$OUT"
    )));
    let control = env3
        .exec(["-s", "danger-full-access", PROMPT])
        .env("OUT", env3.outside())
        .output()
        .unwrap();
    assert_eq!(control.status.code(), Some(0), "{}", stderr(&control));
    assert!(
        env3.outside().join("escape.txt").exists(),
        "control did not write"
    );
}

#[test]
fn add_dir_makes_another_root_writable() {
    let env = ExecEnv::new(Script::new());
    let extra = env.outside();
    let env = ExecEnv {
        server: codex_test_support::ScriptedServer::start(write_then_answer(&format!(
            "echo x > {}/added.txt",
            extra.display()
        ))),
        home: env.home,
    };
    let output = env.run([
        "-s",
        "workspace-write",
        "--add-dir",
        extra.to_str().unwrap(),
        PROMPT,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(extra.join("added.txt").exists());
}

#[test]
fn network_is_blocked_unless_full_access() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let cmd = format!("exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected");
    let env = ExecEnv::new(write_then_answer(&cmd));
    let output = env.run(["-s", "workspace-write", PROMPT]);
    assert_eq!(output.status.code(), Some(0));
    let seen = output_for(&env.bodies(), "c1").unwrap();
    assert!(!seen.contains("\nconnected"), "{seen}");
    assert!(listener.accept().is_err(), "the listener saw a connection");
    assert!(seen.contains("network is disabled"), "{seen}");
    let control = ExecEnv::new(write_then_answer(&cmd));
    let output = control.run(["-s", "danger-full-access", PROMPT]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output_for(&control.bodies(), "c1")
            .unwrap()
            .contains("connected")
    );
}

#[test]
fn patches_apply_through_the_sandbox_and_bad_ones_touch_nothing() {
    let good = "*** Begin Patch\n*** Add File: added.txt\n+new\n*** Update File: keep.txt\n@@\n-old\n+changed\n*** End Patch\n";
    let bad = "*** Begin Patch\n*** Add File: never.txt\n+x\n*** Update File: keep.txt\n@@\n-missing line\n+y\n*** End Patch\n";
    let heredoc = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: via-shell.txt\n+shell\n*** End Patch\nEOF";
    let calls = Reply::sse([
        sse::created("r1"),
        sse::custom_tool_call("p1", "apply_patch", good),
        sse::function_call("p2", "apply_patch", &json!({"input": bad}).to_string()),
        sse::function_call("p3", "exec_command", &json!({"cmd": heredoc}).to_string()),
        sse::completed("r1"),
    ]);
    let env = ExecEnv::new(Script::new().then(calls).then(answer("ok")));
    std::fs::write(env.work().join("keep.txt"), "old\n").unwrap();
    let output = env.run(["-s", "workspace-write", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(env.work().join("added.txt")).unwrap(),
        "new\n"
    );
    assert_eq!(
        std::fs::read_to_string(env.work().join("keep.txt")).unwrap(),
        "changed\n"
    );
    assert!(!env.work().join("never.txt").exists());
    assert_eq!(
        std::fs::read_to_string(env.work().join("via-shell.txt")).unwrap(),
        "shell\n"
    );
    let bodies = env.bodies();
    assert_eq!(
        output_for(&bodies, "p1").unwrap(),
        "Success. Updated the following files:\nA added.txt\nM keep.txt\n"
    );
    assert!(
        output_for(&bodies, "p2")
            .unwrap()
            .starts_with("apply_patch verification failed: Failed to find expected lines")
    );
    assert!(
        output_for(&bodies, "p3")
            .unwrap()
            .contains("A via-shell.txt")
    );
    let err = stderr(&output);
    assert!(
        err.contains("apply patch\n")
            && err.contains("patch: completed")
            && err.contains("patch: failed"),
        "{err}"
    );
    // Read-only: rejected before anything runs.
    let env = ExecEnv::new(
        Script::new()
            .then(Reply::sse([
                sse::created("r"),
                sse::custom_tool_call("p", "apply_patch", good),
                sse::completed("r"),
            ]))
            .then(answer("ok")),
    );
    std::fs::write(env.work().join("keep.txt"), "old\n").unwrap();
    let output = env.run([PROMPT]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        output_for(&env.bodies(), "p").unwrap(),
        "patch rejected: writing is blocked by read-only sandbox; rejected by user approval settings"
    );
    assert_eq!(
        std::fs::read_to_string(env.work().join("keep.txt")).unwrap(),
        "old\n"
    );
}

/// Send `signal` to exec while the model's command runs; the exit code and no survivors.
fn interrupt_long_command(signal: i32, expected: i32) {
    // The sleep's own command line carries the marker (a fractional duration).
    let marker = format!("3000.{}{signal}", std::process::id());
    let env = ExecEnv::new(
        Script::new()
            .then(shell_call("c1", &format!("sleep {marker} & wait")))
            .then(answer("never")),
    );
    let mut child = env
        .exec(["-s", "workspace-write", PROMPT])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_with(&marker)
        .iter()
        .all(|line| !line.contains(": sleep "))
    {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(expected), "{err}");
    assert!(err.contains("task interrupted"), "{err}");
    let survivors = processes_with(&marker);
    assert!(survivors.is_empty(), "left on the host: {survivors:?}");
    assert_eq!(
        env.server.request_count(),
        1,
        "no request after the interruption"
    );
    let rollout = std::fs::read_to_string(&env.rollouts()[0]).unwrap();
    assert!(rollout.contains("\"turn_aborted\""), "{rollout}");
    assert!(
        rollout.contains("\"output\":\"aborted\"") || rollout.contains("command was interrupted"),
        "{rollout}"
    );
}

#[test]
fn ctrl_c_during_a_long_command_exits_130_and_kills_its_sandbox() {
    interrupt_long_command(libc::SIGINT, 130);
}

#[test]
fn sigterm_exits_143_and_kills_the_sandbox() {
    interrupt_long_command(libc::SIGTERM, 143);
}

/// Regression: an interruption while the sandbox is still starting (the helper is up, the
/// inner sandbox process may be mid-creation) leaves nothing behind and does not hang on pipes
/// held by an orphaned inner process.
#[test]
fn interrupt_during_sandbox_startup_leaves_nothing() {
    for attempt in 0..6 {
        let marker = format!("3000.{}9{attempt}", std::process::id());
        let env = ExecEnv::new(
            Script::new()
                .then(shell_call("c1", &format!("sleep {marker} & wait")))
                .then(answer("never")),
        );
        let mut child = env
            .exec(["-s", "workspace-write", PROMPT])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while processes_with(&marker).is_empty() {
            assert!(Instant::now() < deadline, "the helper never started");
            std::thread::yield_now();
        }
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "exec hung after the interruption"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(130));
        // Whatever was starting dies with the agent (the parent-death signal, or the stage's
        // lifeline check): give the kernel a moment to deliver it.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut survivors = processes_with(&marker);
        while !survivors.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            survivors = processes_with(&marker);
        }
        assert!(survivors.is_empty(), "left on the host: {survivors:?}");
    }
}

/// Ctrl-C while the model is still answering (a stalled stream) ends the turn at once.
#[test]
fn ctrl_c_during_a_stalled_model_stream_exits_130() {
    let env = ExecEnv::new(Script::new().then(Reply::sse([sse::created("r")]).then_stall()));
    let child = env
        .exec([PROMPT])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.server.request_count() == 0 {
        assert!(Instant::now() < deadline, "no request was sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("task interrupted"));
    let rollout = std::fs::read_to_string(&env.rollouts()[0]).unwrap();
    assert!(rollout.contains("\"turn_aborted\""), "{rollout}");
}
