//! The turn loop, tools, output modes, stdin rules, retries and auth.

use std::process::Stdio;
use std::time::{Duration, Instant};

use codex_test_support::{Reply, Script, output_with_stdin, sse};
use serde_json::{Value, json};

use super::harness::*;

#[test]
fn plain_answer_prints_only_the_message_on_stdout() {
    let env = ExecEnv::new(Script::new().then(answer("hi there")));
    let output = env.run([PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "hi there\n");
    let err = stderr(&output);
    for line in [
        "--------",
        "model: mock-model",
        "provider: mock",
        "approval: never",
        "sandbox: read-only",
        "codex\nhi there",
        "tokens used\n90",
    ] {
        assert!(err.contains(line), "missing {line:?} in {err}");
    }
    let bodies = env.bodies();
    assert_eq!(bodies.len(), 1);
    let input = bodies[0]["input"].as_array().unwrap();
    assert_eq!(input[0]["role"], "developer");
    assert!(
        input[0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("codex exec")
    );
    let context = input[1]["content"].as_array().unwrap().last().unwrap()["text"]
        .as_str()
        .unwrap();
    assert!(
        context.starts_with("<environment_context>")
            && context.contains("<sandbox_mode>read-only</sandbox_mode>"),
        "{context}"
    );
    assert!(context.contains("<network_access>restricted</network_access>"));
    assert_eq!(input[2]["content"][0]["text"], PROMPT);
    assert!(bodies[0].get("instructions").is_none());
    let tools: Vec<&str> = bodies[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        ["exec_command", "apply_patch", "update_plan", "view_image"]
    );
    let request = &env.server.requests_to("/v1/responses")[0];
    assert_eq!(request.header("authorization"), Some("Bearer mock-key-123"));
    assert_eq!(request.header("originator"), Some("codex_exec"));
}

#[test]
fn outside_git_without_the_flag_sends_nothing() {
    let env = ExecEnv::new(Script::new().then(answer("no")));
    let output = env
        .exec([PROMPT])
        .current_dir(env.outside())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "Not inside a trusted directory and --skip-git-repo-check was not specified.\n"
    );
    assert_eq!(env.server.request_count(), 0);
    let allowed = env
        .exec(["--skip-git-repo-check", PROMPT])
        .current_dir(env.outside())
        .output()
        .unwrap();
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
}

#[test]
fn missing_env_key_is_a_startup_error() {
    let env = ExecEnv::new(Script::new().then(answer("no")));
    let output = env
        .exec([PROMPT])
        .env_remove("MOCK_API_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("ERROR: Missing environment variable: `MOCK_API_KEY`."),
        "{}",
        stderr(&output)
    );
    assert_eq!(env.server.request_count(), 0);
}

#[test]
fn unknown_tool_bad_arguments_and_two_calls_are_answered_in_order() {
    let calls = Reply::sse([
        sse::created("r1"),
        sse::function_call("c1", "no_such_tool", "{}"),
        sse::function_call("c2", "exec_command", "{not json"),
        sse::custom_tool_call("c3", "frobnicate", "x"),
        sse::function_call("c4", "update_plan", &json!({"plan": [{"step": "look", "status": "completed"}, {"step": "fix", "status": "in_progress"}]}).to_string()),
        sse::completed("r1"),
    ]);
    let env = ExecEnv::new(Script::new().then(calls).then(answer("done")));
    let output = env.run([PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bodies = env.bodies();
    assert_eq!(bodies.len(), 2);
    assert_calls_paired(&bodies[1]);
    assert_eq!(
        output_for(&bodies, "c1").unwrap(),
        "unsupported call: no_such_tool"
    );
    assert!(
        output_for(&bodies, "c2")
            .unwrap()
            .starts_with("failed to parse function arguments:")
    );
    assert_eq!(
        output_for(&bodies, "c3").unwrap(),
        "unsupported custom tool call: frobnicate"
    );
    assert_eq!(output_for(&bodies, "c4").unwrap(), "Plan updated");
    assert!(
        stderr(&output).contains("Plan update\n  ✓ look\n  → fix"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shell_calls_in_one_response_run_in_order() {
    let calls = Reply::sse([
        sse::created("r1"),
        sse::function_call(
            "a",
            "exec_command",
            &json!({"cmd": "echo first"}).to_string(),
        ),
        sse::function_call(
            "b",
            "exec_command",
            &json!({"cmd": "echo second; exit 3"}).to_string(),
        ),
        sse::completed("r1"),
    ]);
    let env = ExecEnv::new(Script::new().then(calls).then(answer("ok")));
    let output = env.run(["--json", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bodies = env.bodies();
    assert_calls_paired(&bodies[1]);
    let first = output_for(&bodies, "a").unwrap();
    assert!(
        first.contains("Process exited with code 0\n") && first.ends_with("Output:\nfirst\n"),
        "{first}"
    );
    let second = output_for(&bodies, "b").unwrap();
    assert!(
        second.contains("Process exited with code 3\n") && second.ends_with("second\n"),
        "{second}"
    );
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let completed: Vec<&Value> = lines
        .iter()
        .filter(|line| {
            line["type"] == "item.completed" && line["item"]["type"] == "command_execution"
        })
        .collect();
    assert_eq!(completed.len(), 2);
    assert_eq!(
        completed[0]["item"]["command"],
        "/bin/bash -lc 'echo first'"
    );
    assert_eq!(completed[0]["item"]["status"], "completed");
    assert_eq!(completed[1]["item"]["exit_code"], 3);
    assert_eq!(completed[1]["item"]["status"], "failed");
}

#[test]
fn output_last_message_file() {
    let env = ExecEnv::new(Script::new().then(answer("the answer")));
    let path = env.root().join("last.txt");
    let output = env.run(["-o", path.to_str().unwrap(), PROMPT]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "the answer");
    // A failed turn writes the file empty, with a warning.
    let failing = ExecEnv::new(
        Script::new().otherwise(Reply::json(400, &json!({"error": {"message": "bad"}}))),
    );
    let path = failing.root().join("last.txt");
    let output = failing.run(["-o", path.to_str().unwrap(), PROMPT]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    assert!(stderr(&output).contains("Warning: no last agent message; wrote empty content to"));
}

fn prompt_of(env: &ExecEnv) -> String {
    env.bodies()[0]["input"][2]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn prompt_from_stdin_dash_and_appended_pipe() {
    let env = ExecEnv::new(Script::new().otherwise(answer("ok")));
    let run = |args: &[&str], input: &str| output_with_stdin(env.exec(args), input);
    let output = run(&[], "from stdin\n");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).starts_with("Reading prompt from stdin...\n"),
        "{}",
        stderr(&output)
    );
    assert_eq!(prompt_of(&env), "from stdin\n");
    let env = ExecEnv::new(Script::new().otherwise(answer("ok")));
    let output = output_with_stdin(env.exec(["-"]), b"dash prompt");
    assert_eq!(output.status.code(), Some(0));
    assert!(!stderr(&output).contains("Reading"));
    assert_eq!(prompt_of(&env), "dash prompt");
    let env = ExecEnv::new(Script::new().otherwise(answer("ok")));
    let output = output_with_stdin(env.exec(["review this"]), b"diff text\n");
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).starts_with("Reading additional input from stdin...\n"));
    assert_eq!(
        prompt_of(&env),
        "review this\n\n<stdin>\ndiff text\n</stdin>"
    );
    let empty = ExecEnv::new(Script::new().otherwise(answer("ok")));
    let output = empty.exec(["-"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("No prompt provided via stdin."));
}

/// Regression (upstream #20919): a pipe that never closes must not hang exec.
#[test]
fn prompt_with_a_silent_pipe_that_never_closes_finishes() {
    let env = ExecEnv::new(Script::new().otherwise(answer("ok")));
    let mut child = env
        .exec(["the prompt"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held_open = child.stdin.take();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("exec waited on a silent stdin");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    drop(held_open);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("warning: stdin delivered nothing within 2 seconds; using the prompt alone")
    );
    assert_eq!(prompt_of(&env), "the prompt");
}

#[test]
fn retries_then_success_and_unreachable_server() {
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::json(500, &json!({"error": {"message": "boom"}})),
            "model_providers.mock.request_max_retries=1",
        ),
        (
            Reply::json(429, &json!({"error": {"message": "slow"}})).header("Retry-After", "0"),
            "model_providers.mock.request_max_retries=1",
        ),
        (
            Reply::sse([sse::created("cut"), sse::output_text_delta("par")]).then_close(),
            "model_providers.mock.stream_max_retries=1",
        ),
        (
            Reply::sse([sse::created("idle")]).then_stall(),
            "model_providers.mock.stream_max_retries=1",
        ),
    ];
    for (failure, budget) in cases {
        let env = ExecEnv::new(Script::new().then(failure).then(answer("recovered")));
        let output = env.run([
            "-c",
            budget,
            "-c",
            "model_providers.mock.stream_idle_timeout_ms=300",
            PROMPT,
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{budget}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "recovered\n");
        assert_eq!(env.server.request_count(), 2);
        assert!(
            stderr(&output).contains("Reconnecting... 1/1"),
            "{}",
            stderr(&output)
        );
    }
    let env = ExecEnv::new(Script::new());
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = env.run([
        "-c",
        &format!("model_providers.mock.base_url=\"http://127.0.0.1:{port}/v1\""),
        PROMPT,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("ERROR: could not reach"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stored_api_key_is_used_for_the_openai_provider() {
    let env = ExecEnv::new(Script::new().then(answer("ok")));
    std::fs::write(
        env.codex_home().join("auth.json"),
        r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-stored-key"}"#,
    )
    .unwrap();
    let output = env
        .exec([
            "-c",
            "model_provider=\"openai\"",
            "-c",
            &format!("openai_base_url=\"{}/v1\"", env.server.url()),
            PROMPT,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        env.server.requests_to("/v1/responses")[0].header("authorization"),
        Some("Bearer sk-stored-key")
    );
}

#[test]
fn agents_md_root_to_cwd_is_sent_first() {
    let env = ExecEnv::new(Script::new().then(answer("ok")));
    std::fs::write(env.work().join("AGENTS.md"), "root rule").unwrap();
    std::fs::create_dir_all(env.work().join("sub")).unwrap();
    std::fs::write(env.work().join("sub/AGENTS.md"), "sub rule").unwrap();
    let output = env
        .exec([PROMPT])
        .current_dir(env.work().join("sub"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let first = env.bodies()[0]["input"][1]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first,
        format!(
            "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\nroot rule\n\nsub rule\n</INSTRUCTIONS>",
            env.work().join("sub").display()
        )
    );
}

#[test]
fn secrets_are_absent_from_the_command_environment() {
    let env = ExecEnv::new(
        Script::new()
            .then(shell_call("c1", "env"))
            .then(answer("ok")),
    );
    let output = env
        .exec([PROMPT])
        .env("MY_SECRET_TOKEN", "secret-value-1")
        .env("DB_PASSWORD", "secret-value-2")
        .env("OPENAI_API_KEY", "secret-value-3")
        .env("CODEX_ACCESS_TOKEN", "secret-value-4")
        .env("HARMLESS", "visible-value")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let seen = output_for(&env.bodies(), "c1").unwrap();
    assert!(
        seen.lines().any(|line| line.starts_with("PATH=/")),
        "{seen}"
    );
    assert!(seen.contains("HARMLESS=visible-value"), "{seen}");
    assert!(seen.contains("CODEX_SANDBOX_NETWORK_DISABLED=1"), "{seen}");
    for secret in ["secret-value", "mock-key-123"] {
        assert!(!seen.contains(secret), "{secret} leaked: {seen}");
    }
}

#[test]
fn output_schema_is_sent_as_text_format_and_images_come_before_the_text() {
    let env = ExecEnv::new(Script::new().then(answer("{\"ok\":true}")));
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": false});
    std::fs::write(env.work().join("schema.json"), schema.to_string()).unwrap();
    let png = b"\x89PNG\r\n\x1a\nfake-image-bytes";
    std::fs::write(env.work().join("shot.png"), png).unwrap();
    let output = env.run(["--output-schema", "schema.json", "-i", "shot.png", PROMPT]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "{\"ok\":true}\n");
    let bodies = env.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["text"]["format"],
        json!({"type": "json_schema", "strict": true, "schema": schema, "name": "codex_output_schema"})
    );
    let content = &bodies[0]["input"][2]["content"];
    assert_eq!(content[0]["type"], "input_image");
    assert!(
        content[0]["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBORw0KGgpmYWtlLWltYWdlLWJ5dGVz")
    );
    assert_eq!(content[1]["text"], PROMPT);
    // A schema that is not JSON is a start-up error; nothing is sent.
    let bad = ExecEnv::new(Script::new().then(answer("x")));
    std::fs::write(bad.work().join("schema.json"), "{not json").unwrap();
    let output = bad.run(["--output-schema", "schema.json", PROMPT]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Output schema file schema.json is not valid JSON"),
        "{}",
        stderr(&output)
    );
    assert_eq!(bad.server.request_count(), 0);
}
