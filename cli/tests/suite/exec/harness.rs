//! The exec test harness.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codex_test_support::{Reply, Script, ScriptedServer, TestHome, sse};
use serde_json::{Value, json};

/// `home/` (HOME), `home/.codex` (CODEX_HOME), `etc/`, `work/` (a git repository: `.git/HEAD`)
/// and `outside/`, in one directory under /var/tmp.
pub struct ExecEnv {
    pub home: TestHome,
    pub server: ScriptedServer,
}

pub const PROMPT: &str = "do the task";

#[allow(dead_code)]
impl ExecEnv {
    pub fn new(script: Script) -> ExecEnv {
        let home = TestHome::new_in(
            Path::new("/var/tmp"),
            "codex-exec-test-",
            &["work/.git", "outside"],
        );
        home.write("work/.git/HEAD", "ref: refs/heads/main\n");
        ExecEnv {
            home,
            server: ScriptedServer::start(script),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.home.root()
    }
    pub fn home(&self) -> PathBuf {
        self.home.home()
    }
    pub fn codex_home(&self) -> PathBuf {
        self.home.codex_home()
    }
    pub fn work(&self) -> PathBuf {
        self.home.work()
    }
    pub fn outside(&self) -> PathBuf {
        self.root().join("outside")
    }

    /// The provider options every run uses (no retries unless a test adds its own `-c`).
    pub fn provider_args(&self) -> Vec<String> {
        let base = format!("{}/v1", self.server.url());
        [
            "model_provider=\"mock\"".to_string(),
            "model_providers.mock.name=\"mock\"".into(),
            format!("model_providers.mock.base_url=\"{base}\""),
            "model_providers.mock.wire_api=\"responses\"".into(),
            "model_providers.mock.env_key=\"MOCK_API_KEY\"".into(),
            "model_providers.mock.request_max_retries=0".into(),
            "model_providers.mock.stream_max_retries=0".into(),
            "model_providers.mock.retry_base_delay_ms=1".into(),
            "model_providers.mock.stream_idle_timeout_ms=10000".into(),
        ]
        .into_iter()
        .flat_map(|value| ["-c".to_string(), value])
        .chain(["-m".to_string(), "mock-model".to_string()])
        .collect()
    }

    /// `codex exec <provider args> <args>` with a cleared environment and stdin /dev/null.
    pub fn exec<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.home.command(env!("CARGO_BIN_EXE_codex"));
        command
            .arg("exec")
            .args(self.provider_args())
            .args(args)
            .env("MOCK_API_KEY", "mock-key-123");
        command
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.exec(args).output().expect("run codex exec")
    }

    /// Bodies of every model request, as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.server
            .requests_to("/v1/responses")
            .iter()
            .map(|request| request.json())
            .collect()
    }

    /// Every session file under CODEX_HOME.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(&self.codex_home().join("sessions"), &mut found);
        found.sort();
        found
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A response with one `exec_command` call.
pub fn shell_call(call_id: &str, cmd: &str) -> Reply {
    let arguments = json!({"cmd": cmd}).to_string();
    Reply::sse([
        sse::created(&format!("resp_{call_id}")),
        sse::function_call(call_id, "exec_command", &arguments),
        sse::completed(&format!("resp_{call_id}")),
    ])
}

/// A final answer.
pub fn answer(text: &str) -> Reply {
    Reply::sse(sse::answer("resp_final", text))
}

/// The output the agent sent for `call_id` (function or custom), from the request bodies.
pub fn output_for(bodies: &[Value], call_id: &str) -> Option<String> {
    bodies.iter().rev().find_map(|body| {
        body["input"].as_array()?.iter().find_map(|item| {
            let kind = item["type"].as_str()?;
            (kind.ends_with("_output") && item["call_id"] == call_id)
                .then(|| item["output"].as_str().unwrap_or_default().to_string())
        })
    })
}

/// Every call has exactly one output, after it, in call order.
pub fn assert_calls_paired(body: &Value) {
    let input = body["input"].as_array().expect("input");
    let mut pending: Vec<String> = Vec::new();
    for item in input {
        let kind = item["type"].as_str().unwrap_or_default();
        let call_id = item["call_id"].as_str().unwrap_or_default().to_string();
        if kind == "function_call" || kind == "custom_tool_call" {
            assert!(!call_id.is_empty());
            pending.push(call_id);
        } else if kind.ends_with("_call_output") {
            assert_eq!(
                pending.first(),
                Some(&call_id),
                "output out of order: {body}"
            );
            pending.remove(0);
        }
    }
    assert!(pending.is_empty(), "unanswered calls {pending:?}");
}

/// Processes whose command line mentions `marker` (none may survive a run).
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) && !text.contains("processes_with") {
                found.push(format!("{}: {text}", name.to_string_lossy()));
            }
        }
    }
    found
}
