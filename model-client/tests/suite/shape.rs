//! Request shape, headers, and the events of a normal stream.

use codex_model_client::{ResponseEvent, ResponseItem, TokenUsage, ToolSpec};
use codex_test_support::{Reply, Script, ScriptedServer, sse};
use serde_json::json;

use super::harness::*;

#[test]
fn env_key_request_has_the_upstream_headers_body_and_events() {
    let server = ScriptedServer::start(
        Script::new().then(
            Reply::sse([
                sse::created("resp_1"),
                ": keep-alive comment\n\n".to_string(),
                "event: response.in_progress\ndata: {\"type\":\"response.in_progress\"}\n\n".into(),
                "data: not json at all\n\n".into(),
                "event: response.output_text.delta\r\ndata: {\"type\":\"response.output_text.delta\",\r\ndata: \"delta\":\"Hel\"}\r\n\r\n".into(),
                sse::output_text_delta("lo"),
                sse::reasoning("rs_1", "thinking", "enc-1"),
                sse::message("msg_1", "Hello"),
                sse::completed("resp_1"),
            ])
            .header("x-codex-primary-used-percent", "42.5")
            .header("x-codex-primary-window-minutes", "300"),
        ),
    );
    let home = tempfile::tempdir().unwrap();
    let mut provider = mock_provider(&server, 0, 0);
    provider
        .query_params
        .insert("api-version".into(), "2025-04-01 preview".into());
    provider
        .http_headers
        .insert("X-Custom".into(), "yes".into());
    provider
        .http_headers
        .insert("Bad Header".into(), "skipped".into());
    provider
        .env_http_headers
        .insert("X-From-Env".into(), "HEADER_VALUE".into());
    provider
        .env_http_headers
        .insert("X-Unset".into(), "NOT_SET".into());
    let settings = settings_with(provider);
    let client = client(
        &settings,
        &[
            ("MOCK_API_KEY", " sk-mock-123456 "),
            ("HEADER_VALUE", "from-env"),
        ],
        home.path(),
    );
    let mut request = prompt("hi");
    request.tools.push(ToolSpec::Function {
        name: "exec_command".into(),
        description: "Run a command".into(),
        strict: false,
        parameters: json!({"type": "object", "properties": {"cmd": {"type": "string"}}, "additionalProperties": false}),
    });
    let (events, error) = drain(&client, &request);
    assert_eq!(error, None);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.query, "api-version=2025-04-01%20preview");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-mock-123456"));
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("originator"), Some("codex_exec"));
    assert_eq!(sent.header("session-id"), Some(SESSION));
    assert_eq!(sent.header("thread-id"), Some(SESSION));
    assert_eq!(sent.header("x-client-request-id"), Some(SESSION));
    assert_eq!(sent.header("x-custom"), Some("yes"));
    assert_eq!(sent.header("x-from-env"), Some("from-env"));
    assert_eq!(sent.header("x-unset"), None);
    assert_eq!(sent.header("chatgpt-account-id"), None);
    let agent = sent.header("user-agent").unwrap();
    assert!(
        agent.starts_with(&format!("codex_exec/{} (", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    assert_eq!(
        sent.json(),
        json!({
            "model": "mock-model",
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
            "tools": [{"type": "function", "name": "exec_command", "description": "Run a command", "strict": false,
                       "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "additionalProperties": false}}],
            "tool_choice": "auto",
            "parallel_tool_calls": true,
            "reasoning": {"summary": "auto"},
            "store": false,
            "stream": true,
            "include": ["reasoning.encrypted_content"],
            "prompt_cache_key": SESSION,
        })
    );

    let kinds: Vec<&str> = events
        .iter()
        .map(|event| match event {
            ResponseEvent::RateLimits(_) => "rate_limits",
            ResponseEvent::Created { .. } => "created",
            ResponseEvent::OutputTextDelta { .. } => "delta",
            ResponseEvent::OutputItemDone(_) => "item",
            ResponseEvent::Completed { .. } => "completed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "rate_limits",
            "created",
            "delta",
            "delta",
            "item",
            "item",
            "completed"
        ]
    );
    let ResponseEvent::RateLimits(limits) = &events[0] else {
        unreachable!()
    };
    let primary = limits.primary.unwrap();
    assert_eq!(
        (primary.used_percent, primary.window_minutes),
        (42.5, Some(300))
    );
    assert_eq!(
        events[2],
        ResponseEvent::OutputTextDelta {
            item_id: None,
            delta: "Hel".into()
        }
    );
    assert!(matches!(
        &events[4],
        ResponseEvent::OutputItemDone(ResponseItem::Reasoning { encrypted_content: Some(enc), .. }) if enc == "enc-1"
    ));
    assert_eq!(
        events[6],
        ResponseEvent::Completed {
            response_id: "resp_1".into(),
            usage: Some(TokenUsage {
                input_tokens: 100,
                cached_input_tokens: 20,
                output_tokens: 10,
                reasoning_output_tokens: 3,
                total_tokens: 110,
            }),
        }
    );
}

/// Tool calls (and everything after the first one) arrive only with `response.completed`, in
/// the server's order.
#[test]
fn tool_calls_are_delivered_in_order_at_completion() {
    let server = ScriptedServer::start(Script::new().then(Reply::sse([
        sse::message("msg_0", "Let me look."),
        sse::function_call("call_1", "exec_command", "{\"cmd\":\"ls\"}"),
        sse::custom_tool_call("call_2", "apply_patch", "*** Begin Patch\n*** End Patch"),
        sse::message("msg_1", "after"),
        sse::completed("resp_1"),
    ])));
    let home = tempfile::tempdir().unwrap();
    let client = client(
        &settings_with(mock_provider(&server, 0, 0)),
        KEY_ENV,
        home.path(),
    );
    let (events, error) = drain(&client, &prompt("go"));
    assert_eq!(error, None);
    let received = items(&events);
    let call_ids: Vec<String> = received
        .iter()
        .map(|item| match item {
            ResponseItem::Message { id, .. } => id.clone().unwrap_or_default(),
            ResponseItem::FunctionCall { call_id, .. }
            | ResponseItem::CustomToolCall { call_id, .. } => call_id.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(call_ids, ["msg_0", "call_1", "call_2", "msg_1"]);
    assert!(matches!(
        events.last(),
        Some(ResponseEvent::Completed { .. })
    ));
}

/// From `config.toml` through `load_config` to the wire: `-c` overrides pick the provider,
/// model, reasoning and verbosity.
#[test]
fn configuration_decides_provider_model_and_reasoning() {
    let server = ScriptedServer::start(Script::new().then(Reply::sse(sse::answer("r", "ok"))));
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let cwd = dir.path().join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = 'gpt-5.5'\nmodel_provider = 'mock'\nmodel_reasoning_effort = 'high'\nmodel_verbosity = 'medium'\n[model_providers.mock]\nname = 'Mock'\nbase_url = '{}/v1'\nexperimental_bearer_token = 'literal-token'\nrequest_max_retries = 0\nstream_max_retries = 0\n",
            server.url()
        ),
    )
    .unwrap();
    let config = codex_config::load_config(&codex_config::LoaderOptions {
        cwd,
        codex_home: home.clone(),
        system_config_dir: dir.path().join("etc"),
        raw_overrides: vec!["model_reasoning_summary='concise'".into()],
        profile: None,
        strict: true,
        requirements: codex_config::RequirementsMode::Ignore,
        sandbox: codex_config::SandboxSelection::default(),
        defer_sandbox_refusals: false,
    })
    .unwrap();
    let client = codex_model_client::ModelClient::from_settings(
        &config.model,
        codex_model_client::ProviderEnvironment::default(),
        manager(&home, codex_login::AuthEnvironment::default()),
        codex_model_client::ClientOptions::new(SESSION),
    )
    .unwrap();
    assert_eq!(client.model(), "gpt-5.5");
    assert_eq!(client.provider().name, "Mock");
    let (_, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    let sent = &server.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer literal-token"));
    assert_eq!(sent.header("originator"), Some("codex_cli_rs"));
    let body = sent.json();
    assert_eq!(
        body["reasoning"],
        json!({"effort": "high", "summary": "concise"})
    );
    assert_eq!(body["text"], json!({"verbosity": "medium"}));
}
