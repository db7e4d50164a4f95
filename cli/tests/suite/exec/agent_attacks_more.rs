//! Issue 14, classes 5 to 8 and what upstream wrongly denies (see `agent_attacks.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codex_test_support::{Chunk, Reply, Script, sse};
use serde_json::json;

use super::agent_attacks::{SECRET, Who, as_nobody, chown_nobody};
use super::harness::*;

/// Class 5: terminal control sequences from the model or a tool are made visible.
#[test]
fn class5_control_sequences_are_made_visible() {
    let evil = "title\u{1b}]0;pwned\u{7} clear\u{1b}[2J c1\u{9b}31m dcs\u{1b}P1$r\u{1b}\\ bell\u{7} cr\rover";
    let cmd = "printf 'out\\033[31mred\\033]8;;http://x\\033\\\\link\\r\\n'";
    let make = || {
        Script::new()
            .then(Reply::sse([
                sse::created("r"),
                sse::reasoning("rs", evil, "e"),
                sse::message("m", evil),
                sse::function_call(
                    "c1",
                    "exec_command",
                    &json!({"cmd": format!("{cmd} # {evil}")}).to_string(),
                ),
                sse::completed("r"),
            ]))
            .then(answer(evil))
    };
    for color in ["never", "always"] {
        let env = ExecEnv::new(make());
        let output = env.run(["--color", color, PROMPT]);
        assert_eq!(output.status.code(), Some(0));
        let err = stderr(&output);
        assert!(err.contains("^[]0;pwned^G"), "{err}");
        assert!(
            err.contains("<U+009B>31m") && err.contains("^[[31mred") && err.contains("^M"),
            "{err}"
        );
        assert!(!err.contains('\u{7}') && !err.contains('\u{9b}') && !err.contains('\r'));
        // Only our own SGR colour codes remain.
        let mut rest = err.as_str();
        while let Some(position) = rest.find('\u{1b}') {
            assert_eq!(color, "always", "escape with --color never: {err:?}");
            let after = &rest[position + 1..];
            let end = after.find('m').expect("unterminated escape");
            let body = &after[..end];
            assert!(
                body.starts_with('[') && body[1..].bytes().all(|b| b.is_ascii_digit() || b == b';'),
                "foreign escape {body:?}"
            );
            rest = &after[end..];
        }
        // stdout is not a terminal here: the final message is data, unchanged.
        assert_eq!(stdout(&output), format!("{evil}\n"));
    }
    let env = ExecEnv::new(make());
    let output = env.run(["--json", PROMPT]);
    for line in stdout(&output).lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("exact JSON");
        assert!(
            !value.to_string().contains('\u{1b}'),
            "raw escape in JSON text"
        );
    }
    assert!(stdout(&output).contains("\\u001b]0;pwned"));
}

/// Class 6: unbounded streams are cut; thousands of calls do not explode anything.
#[test]
fn class6_unbounded_responses_are_cut_and_many_calls_are_bounded() {
    let huge = "x".repeat(2 << 20);
    let env = ExecEnv::new(Script::new().then(Reply::sse([
        sse::created("r"),
        sse::output_text_delta(&huge),
        sse::completed("r"),
    ])));
    let output = env.run(["-c", "model_stream_limits.max_event_bytes=65536", PROMPT]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("model_stream_limits.max_event_bytes"),
        "{}",
        stderr(&output)
    );
    // Valid deltas forever.
    let mut chunks = vec![Chunk::Data(sse::created("r").into_bytes())];
    for _ in 0..5000 {
        chunks.push(Chunk::Data(
            sse::output_text_delta(&"y".repeat(1000)).into_bytes(),
        ));
    }
    chunks.push(Chunk::Stall);
    let env = ExecEnv::new(Script::new().then(Reply::streamed(200, "text/event-stream", chunks)));
    let output = env.run([
        "-c",
        "model_stream_limits.max_response_bytes=1000000",
        PROMPT,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("model_stream_limits.max_response_bytes"),
        "{}",
        stderr(&output)
    );
    // 1000 calls in one response: at most 128 run, one at a time; every call gets its output.
    let mut events = vec![sse::created("r")];
    for index in 0..1000 {
        events.push(sse::function_call(
            &format!("c{index}"),
            "exec_command",
            &json!({"cmd": "true"}).to_string(),
        ));
    }
    events.push(sse::completed("r"));
    let env = ExecEnv::new(Script::new().then(Reply::sse(events)).then(answer("ok")));
    let output = env.run(["-c", "model_stream_limits.max_output_items=5000", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bodies = env.bodies();
    assert_calls_paired(&bodies[1]);
    let refused = bodies[1]["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| {
            item["output"]
                .as_str()
                .is_some_and(|text| text.starts_with("refused: more than 128"))
        })
        .count();
    assert_eq!(refused, 1000 - 128);
}

/// Class 7: data at rest is private whatever the umask.
#[test]
fn class7_sessions_are_private_under_umask_000() {
    let env = ExecEnv::new(Script::new().then(answer("ok")));
    let mut command = env.exec([PROMPT]);
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|arg| arg.to_owned()).collect();
    let mut wrapped = Command::new("/bin/sh");
    wrapped
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(program)
        .args(args);
    wrapped.env_clear();
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(name, value);
        }
    }
    wrapped.current_dir(env.work()).stdin(Stdio::null());
    let _ = &mut command;
    let output = wrapped.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let file = &env.rollouts()[0];
    assert_eq!(mode(file), 0o600);
    let mut dir = file.parent().unwrap();
    while dir != env.codex_home() {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        dir = dir.parent().unwrap();
    }
}

/// Class 8: nothing survives a SIGKILL of the agent either (the sandbox dies with its parent).
#[test]
fn class8_no_process_survives_sigkill_of_the_agent() {
    for who in [Who::Root, Who::Nobody] {
        // The sleeps' own command lines carry the marker (a fractional duration).
        let marker = format!("3000.{}{}", std::process::id(), who as u8);
        let env = ExecEnv::new(
            Script::new()
                .then(shell_call(
                    "c1",
                    &format!("(sleep {marker}1) & setsid sleep {marker}2"),
                ))
                .then(answer("never")),
        );
        let command = env.exec(["-s", "workspace-write", PROMPT]);
        let mut child = match who {
            Who::Root => env
                .exec(["-s", "workspace-write", PROMPT])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
            Who::Nobody => {
                chown_nobody(&env.root());
                as_nobody(&command)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            }
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while processes_with(&marker)
            .iter()
            .filter(|line| line.contains(": sleep "))
            .count()
            < 2
        {
            assert!(
                Instant::now() < deadline,
                "{who:?}: the commands never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Kill the agent itself (through setpriv for uid 65534: kill the whole chain).
        child.kill().unwrap();
        child.wait().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !processes_with(&marker).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            processes_with(&marker).is_empty(),
            "{who:?}: left on the host: {:?}",
            processes_with(&marker)
        );
    }
}

/// Where upstream wrongly denies: pipes and `socketpair` inside a command work.
#[test]
fn allowed_pipes_and_socketpair_inside_a_command() {
    let cmd = "echo piped | cat; perl -e 'use Socket; socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die \"socketpair: $!\"; syswrite($a, \"pair-ok\"); sysread($b, my $m, 7); print \"$m\\n\"'";
    let env = ExecEnv::new(Script::new().then(shell_call("c1", cmd)).then(answer("ok")));
    let output = env.run([PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let seen = output_for(&env.bodies(), "c1").unwrap();
    assert!(
        seen.contains("piped\n") && seen.contains("pair-ok"),
        "{seen}"
    );
}

/// Where upstream wrongly denies: a `CODEX_HOME` under `/tmp` works, and stays hidden although
/// `/tmp` is writable.
#[test]
fn allowed_codex_home_under_tmp() {
    let home = tempfile::Builder::new()
        .prefix("codex-home-")
        .tempdir_in("/tmp")
        .unwrap();
    let codex_home = home.path().canonicalize().unwrap();
    std::fs::write(
        codex_home.join("auth.json"),
        format!(r#"{{"auth_mode":"apikey","OPENAI_API_KEY":"{SECRET}"}}"#),
    )
    .unwrap();
    let cmd = format!(
        "echo tmp > /tmp/codex-exec-tmp-$$ && rm /tmp/codex-exec-tmp-$$ && echo wrote; cat {0}/auth.json; ls {0}; echo end",
        codex_home.display()
    );
    let env = ExecEnv::new(
        Script::new()
            .then(shell_call("c1", &cmd))
            .then(answer("ok")),
    );
    let output = env
        .exec(["-s", "workspace-write", PROMPT])
        .env("CODEX_HOME", &codex_home)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let seen = output_for(&env.bodies(), "c1").unwrap();
    assert!(seen.contains("wrote") && seen.contains("end"), "{seen}");
    assert!(!seen.contains(SECRET), "{seen}");
    let sessions = codex_home.join("sessions");
    assert!(
        sessions.is_dir(),
        "the session was recorded under the /tmp CODEX_HOME"
    );
}

/// Class 3 (host-side effects of planted files), `-o`: the model replaces the `-o` file's
/// directory with a symbolic link to a directory outside every writable root (`out -> outside`);
/// the agent's own write at the end, on the host, followed it. The directory is fixed before the
/// turn, so the write is refused and nothing lands outside. Control: a link the user made before
/// the run is followed as given.
#[test]
fn class3_output_file_directory_swapped_for_a_symlink_is_not_followed() {
    let make = |plant: bool| {
        let env = ExecEnv::new(if plant {
            Script::new()
                .then(shell_call(
                    "c1",
                    "rmdir out && ln -s \"$OUTSIDE\" out && echo planted",
                ))
                .then(answer("model-chosen contents"))
        } else {
            Script::new().then(answer("model-chosen contents"))
        });
        std::fs::create_dir_all(env.outside()).unwrap();
        env
    };

    let env = make(true);
    std::fs::create_dir(env.work().join("out")).unwrap();
    let mut command = env.exec([
        "-s",
        "workspace-write",
        "-o",
        env.work().join("out/answer.txt").to_str().unwrap(),
        PROMPT,
    ]);
    command.env("OUTSIDE", env.outside());
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bodies = env.bodies();
    assert!(
        output_for(&bodies, "c1").is_some_and(|text| text.contains("planted")),
        "the command planted the link: {bodies:?}"
    );
    assert!(
        std::fs::symlink_metadata(env.work().join("out"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        !env.outside().join("answer.txt").exists(),
        "the host write followed the planted link"
    );
    assert!(
        stderr(&output).contains("a command run during the turn may have planted a symbolic link"),
        "{}",
        stderr(&output)
    );

    // Control: the same link, made by the user before the run, is followed.
    let env = make(false);
    std::os::unix::fs::symlink(env.outside(), env.work().join("out")).unwrap();
    let output = env.run([
        "-o",
        env.work().join("out/answer.txt").to_str().unwrap(),
        PROMPT,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(env.outside().join("answer.txt")).unwrap(),
        "model-chosen contents"
    );
}
