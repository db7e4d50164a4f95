//! The loop itself: call/output pairing in call order, the per-response call bound, the
//! interruption path (synthetic `aborted` outputs, the command cancelled), and events.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_config::{LayerSource, ModelSettings, ProviderConfig, StreamLimits};
use codex_core::{
    AbortReason, CancelToken, CommandEnding, CommandRunner, Event, RolloutMode, RunToolError,
    Session, SessionSettings, ToolCommand, ToolCommandOutput, TurnOutcome,
};
use codex_login::{AuthEnvironment, AuthManager, AuthSettings};
use codex_model_client::{ClientOptions, ContentItem, ModelClient, ProviderEnvironment};
use codex_sandboxing::SandboxPolicy;
use codex_test_support::{PolicyBuilder, Reply, Script, ScriptedServer, sse};
use serde_json::{Value, json};

/// Records every command; `sleep` commands block until cancelled.
#[derive(Default)]
struct FakeRunner {
    commands: Mutex<Vec<String>>,
}

impl CommandRunner for FakeRunner {
    fn run(
        &self,
        command: &ToolCommand,
        cancel: &CancelToken,
    ) -> Result<ToolCommandOutput, RunToolError> {
        let line = command.argv.last().unwrap().to_string_lossy().into_owned();
        self.commands.lock().unwrap().push(line.clone());
        assert!(
            Path::new(&command.argv[0]).is_absolute(),
            "argv[0] must be absolute"
        );
        let mut ending = CommandEnding::Exited(0);
        if line.starts_with("sleep") {
            while !cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            ending = CommandEnding::Cancelled;
        }
        let output = format!("ran {line}\n").into_bytes();
        Ok(ToolCommandOutput {
            ending,
            exit_code: if ending == CommandEnding::Exited(0) {
                0
            } else {
                137
            },
            stdout: output.clone(),
            stderr: Vec::new(),
            aggregated: output,
            total_bytes: 0,
            truncated: false,
            duration: Duration::from_millis(1),
        })
    }

    fn network_disabled(&self) -> bool {
        true
    }
}

fn policy(cwd: &Path) -> SandboxPolicy {
    PolicyBuilder::new(cwd)
        .profile("read-only")
        .read("/")
        .build()
}

fn session(server: &ScriptedServer, dir: &Path, runner: Arc<FakeRunner>) -> Session {
    let mut origins = BTreeMap::new();
    origins.insert("base_url".to_string(), LayerSource::SessionFlags);
    let provider = ProviderConfig {
        id: "mock".into(),
        name: Some("mock".into()),
        base_url: Some(format!("{}/v1", server.url())),
        env_key: Some("MOCK_API_KEY".into()),
        env_key_instructions: None,
        experimental_bearer_token: None,
        query_params: BTreeMap::new(),
        http_headers: BTreeMap::new(),
        env_http_headers: BTreeMap::new(),
        request_max_retries: Some(0),
        stream_max_retries: Some(0),
        stream_idle_timeout_ms: Some(10_000),
        requires_openai_auth: false,
        retry_base_delay_ms: Some(1),
        retry_max_delay_ms: Some(5),
        origins,
    };
    let mut settings = ModelSettings {
        model: Some("mock-model".into()),
        model_provider: Some(codex_config::Sourced {
            value: "mock".into(),
            layer: LayerSource::SessionFlags,
        }),
        stream_limits: StreamLimits::default(),
        ..ModelSettings::default()
    };
    settings.providers.insert("mock".into(), provider);
    let auth = Arc::new(AuthManager::new(AuthSettings::new(
        dir.join("home"),
        AuthEnvironment::default(),
    )));
    let id = codex_core::new_session_id();
    let client = ModelClient::from_settings(
        &settings,
        ProviderEnvironment::from_pairs([("MOCK_API_KEY", "k")]),
        auth,
        ClientOptions::new(id.clone()),
    )
    .unwrap();
    let cwd = dir.join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    Session::start(
        SessionSettings {
            cwd: cwd.clone(),
            codex_home: dir.join("home"),
            policy: policy(&cwd),
            command_env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            codex_exe: PathBuf::from("/nonexistent/codex"),
            project_doc_max_bytes: 1024,
            output_schema: None,
            rollout: RolloutMode::Ephemeral,
            session_id: id,
            originator: "test".into(),
            cli_version: "0".into(),
        },
        client,
        runner,
    )
    .unwrap()
}

fn prompt() -> Vec<ContentItem> {
    vec![ContentItem::InputText { text: "go".into() }]
}

fn call(id: &str, cmd: &str) -> String {
    sse::function_call(id, "exec_command", &json!({"cmd": cmd}).to_string())
}

#[test]
fn outputs_follow_calls_in_order_and_the_call_bound_holds() {
    let mut events = vec![sse::created("r")];
    for index in 0..130 {
        events.push(call(&format!("c{index}"), &format!("echo {index}")));
    }
    events.push(sse::completed("r"));
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::sse(events))
            .then(Reply::sse(sse::answer("f", "done"))),
    );
    let dir = tempfile::tempdir().unwrap();
    let runner = Arc::new(FakeRunner::default());
    let mut session = session(&server, dir.path(), runner.clone());
    let mut seen = Vec::new();
    let outcome = session.run_turn(prompt(), &mut |event| seen.push(event));
    assert!(
        matches!(outcome, TurnOutcome::Completed { last_agent_message: Some(ref text), .. } if text == "done"),
        "{outcome:?}"
    );
    assert_eq!(runner.commands.lock().unwrap().len(), 128);
    let body: Value = server.requests()[1].json();
    let outputs: Vec<(&str, &str)> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "function_call_output")
        .map(|item| {
            (
                item["call_id"].as_str().unwrap(),
                item["output"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(outputs.len(), 130);
    for (index, (call_id, output)) in outputs.iter().enumerate() {
        assert_eq!(*call_id, format!("c{index}"));
        if index < 128 {
            assert!(output.ends_with(&format!("ran echo {index}\n")), "{output}");
        } else {
            assert!(
                output.starts_with("refused: more than 128 tool calls"),
                "{output}"
            );
        }
    }
    let begins = seen
        .iter()
        .filter(|event| matches!(event, Event::CommandBegin { .. }))
        .count();
    assert_eq!(begins, 128);
    assert!(matches!(seen.last(), Some(Event::TurnComplete { .. })));
}

#[test]
fn an_interruption_cancels_the_command_and_answers_the_rest_with_aborted() {
    let events = vec![
        sse::created("r"),
        call("a", "sleep 100"),
        call("b", "echo never"),
        sse::completed("r"),
    ];
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::sse(events))
            .then(Reply::sse(sse::answer("f", "no"))),
    );
    let dir = tempfile::tempdir().unwrap();
    let runner = Arc::new(FakeRunner::default());
    let mut session = session(&server, dir.path(), runner.clone());
    let interrupt = session.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        interrupt.interrupt(AbortReason::Interrupted);
    });
    let outcome = session.run_turn(prompt(), &mut |_| {});
    stopper.join().unwrap();
    assert!(
        matches!(
            outcome,
            TurnOutcome::Aborted {
                reason: AbortReason::Interrupted,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(
        *runner.commands.lock().unwrap(),
        vec!["sleep 100".to_string()]
    );
    assert_eq!(
        server.request_count(),
        1,
        "nothing is sent after an interruption"
    );
    let outputs: Vec<(String, String)> = session
        .history()
        .iter()
        .filter_map(|item| match item {
            codex_model_client::ResponseItem::FunctionCallOutput {
                call_id, output, ..
            } => Some((call_id.clone(), output.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(outputs.len(), 2);
    assert!(
        outputs[0].1.contains("command was interrupted"),
        "{:?}",
        outputs[0]
    );
    assert_eq!(outputs[1], ("b".to_string(), "aborted".to_string()));
}
