//! `scripts/bench-exec`: the agent's own overhead per tool call.
//!
//! A scripted 20-tool-call session (`/bin/bash -lc true` each time, then a final answer) runs
//! against a local Responses server. Per call:
//!
//! - **per-call cost** = (session − plain answer session) / 20: everything one tool call adds
//!   (the sandboxed command, the agent, the extra request);
//! - **agent overhead** = per-call cost − one sandboxed command (the same helper, policy and
//!   command run directly, measured separately): what the agent itself adds.
//!
//! With `UPSTREAM_CODEX=<path to codex 0.169>` the same session runs under upstream too, and
//! the per-call costs are shown side by side with their ratio.
//!
//! Usage: `bench_exec <codex binary> [runs]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use codex_test_support::{Reply, Script, ScriptedServer, sse};
use serde_json::{Value, json};

const CALLS: usize = 20;

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("codex-bench-exec-")
            .tempdir_in("/var/tmp")
            .unwrap();
        let root = dir.path().canonicalize().unwrap();
        for sub in ["home/.codex", "work"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        Workspace { _dir: dir, root }
    }
}

fn script(calls: usize) -> Script {
    let mut script = Script::new();
    for index in 0..calls {
        let id = format!("c{index}");
        script = script.then(Reply::sse([
            sse::created(&format!("r{index}")),
            sse::function_call(&id, "exec_command", &json!({"cmd": "true"}).to_string()),
            sse::completed(&format!("r{index}")),
        ]));
    }
    script.then(Reply::sse(sse::answer("final", "done")))
}

/// One `exec` session with `calls` tool calls; its wall time.
fn session(binary: &Path, calls: usize, workspace: &Workspace) -> Duration {
    let server = ScriptedServer::start(script(calls));
    let base = format!("{}/v1", server.url());
    let mut command = Command::new(binary);
    command
        .arg("exec")
        .args(["--skip-git-repo-check", "--json", "-m", "mock-model"])
        .args([
            "-c",
            "model_provider=\"mock\"",
            "-c",
            "model_providers.mock.name=\"mock\"",
        ])
        .args(["-c", &format!("model_providers.mock.base_url=\"{base}\"")])
        .args([
            "-c",
            "model_providers.mock.wire_api=\"responses\"",
            "-c",
            "model_providers.mock.env_key=\"MOCK_API_KEY\"",
        ])
        .args([
            "-c",
            "model_providers.mock.request_max_retries=0",
            "-c",
            "model_providers.mock.stream_max_retries=0",
        ])
        .arg("run the commands")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", workspace.root.join("home"))
        .env("CODEX_HOME", workspace.root.join("home/.codex"))
        .env("MOCK_API_KEY", "bench")
        .env("LANG", "C")
        .current_dir(workspace.root.join("work"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = command.status().unwrap();
    let elapsed = started.elapsed();
    assert!(status.success(), "{} exited {status}", binary.display());
    assert_eq!(
        server.request_count(),
        calls + 1,
        "{}: every call was answered",
        binary.display()
    );
    elapsed
}

/// The sandbox policy our agent used (from the newest rollout's `turn_context`).
fn recorded_policy(workspace: &Workspace) -> Value {
    let mut files = Vec::new();
    let mut stack = vec![workspace.root.join("home/.codex/sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let text = std::fs::read_to_string(files.last().unwrap()).unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|record| record["type"] == "turn_context")
        .map(|record| record["payload"]["sandbox_policy"].clone())
        .unwrap()
}

/// One sandboxed `/bin/bash -lc true`, exactly as the agent runs it.
fn sandboxed_true(binary: &Path, policy: &str, workspace: &Workspace) -> Duration {
    let work = workspace.root.join("work");
    let started = Instant::now();
    let status = Command::new(binary)
        .arg0("codex-linux-sandbox")
        .args(["--policy", policy, "--cwd"])
        .arg(&work)
        .args(["--", "/bin/bash", "-lc", "true"])
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", workspace.root.join("home"))
        .current_dir(&work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    started.elapsed()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn per_call(binary: &Path, runs: usize) -> (Duration, Duration, Duration) {
    let workspace = Workspace::new();
    session(binary, CALLS, &workspace); // warm-up
    let full = median(
        (0..runs)
            .map(|_| session(binary, CALLS, &workspace))
            .collect(),
    );
    let plain = median((0..runs).map(|_| session(binary, 0, &workspace)).collect());
    (full, plain, full.saturating_sub(plain) / CALLS as u32)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let binary = PathBuf::from(
        args.next()
            .expect("usage: bench_exec <codex binary> [runs]"),
    )
    .canonicalize()
    .expect("the codex binary exists");
    let runs: usize = args.next().map_or(7, |runs| runs.parse().unwrap());
    let (full, plain, cost) = per_call(&binary, runs);
    let workspace = Workspace::new();
    session(&binary, 1, &workspace);
    let policy = recorded_policy(&workspace).to_string();
    let command = median(
        (0..runs * 5)
            .map(|_| sandboxed_true(&binary, &policy, &workspace))
            .collect(),
    );
    println!("codex exec, {CALLS} tool calls, median of {runs} runs");
    println!("  session with {CALLS} calls      {:8.2} ms", ms(full));
    println!("  session without calls       {:8.2} ms", ms(plain));
    println!("  per-call cost               {:8.2} ms", ms(cost));
    println!("  one sandboxed command       {:8.2} ms", ms(command));
    let overhead = ms(cost) - ms(command);
    println!("  agent overhead per call     {overhead:8.2} ms  (target <= 5 ms)");
    if let Some(upstream) = std::env::var_os("UPSTREAM_CODEX").map(PathBuf::from) {
        let upstream = upstream.canonicalize().expect("the upstream binary exists");
        let (full_up, plain_up, cost_up) = per_call(&upstream, runs);
        println!("upstream ({}), same session", upstream.display());
        println!("  session with {CALLS} calls      {:8.2} ms", ms(full_up));
        println!("  session without calls       {:8.2} ms", ms(plain_up));
        println!("  per-call cost               {:8.2} ms", ms(cost_up));
        println!(
            "  per-call cost ratio (ours / upstream) {:.2}",
            ms(cost) / ms(cost_up)
        );
    } else {
        println!("(set UPSTREAM_CODEX to a codex 0.169 binary to compare)");
    }
}
