//! Local providers against a scripted Ollama / LM Studio server.

use codex_config::OssProvider;
use codex_model_client::{
    LocalProviderClient, NO_OLLAMA_SERVER, OssError, PullEvent, PullProgressReporter,
    default_oss_model, ensure_oss_ready,
};
use codex_test_support::{Chunk, Reply, Script, ScriptedServer};
use serde_json::json;

fn ndjson(lines: &[serde_json::Value]) -> Vec<Chunk> {
    lines
        .iter()
        .map(|line| Chunk::Data(format!("{line}\n").into_bytes()))
        .collect()
}

fn tags(models: &[&str]) -> Reply {
    let models: Vec<_> = models.iter().map(|name| json!({"name": name})).collect();
    Reply::json(200, &json!({"models": models}))
}

#[test]
fn probe_fails_with_the_upstream_message_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client =
        LocalProviderClient::new(OssProvider::Ollama, &format!("http://127.0.0.1:{port}/v1"));
    let error = client.probe().unwrap_err();
    assert_eq!(error, OssError::NotRunning(OssProvider::Ollama));
    assert_eq!(error.to_string(), NO_OLLAMA_SERVER);
    assert_eq!(default_oss_model(OssProvider::Ollama), "gpt-oss:20b");
}

#[test]
fn probe_and_list_use_the_native_and_openai_endpoints() {
    let server = ScriptedServer::start(
        Script::new()
            .route("GET", "/api/tags", tags(&["gpt-oss:20b", "llama3:8b"]))
            .route(
                "GET",
                "/v1/models",
                Reply::json(200, &json!({"data": [{"id": "openai/gpt-oss-20b"}]})),
            ),
    );
    let base = format!("{}/v1", server.url());
    let ollama = LocalProviderClient::new(OssProvider::Ollama, &base);
    ollama.probe().unwrap();
    assert_eq!(ollama.list_models().unwrap(), ["gpt-oss:20b", "llama3:8b"]);
    let lmstudio = LocalProviderClient::new(OssProvider::LmStudio, &base);
    assert_eq!(lmstudio.list_models().unwrap(), ["openai/gpt-oss-20b"]);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/api/tags", "/api/tags", "/v1/models"]);
}

#[test]
fn missing_model_is_pulled_with_progress() {
    let progress = ndjson(&[
        json!({"status": "pulling manifest"}),
        json!({"status": "downloading", "digest": "sha256:aa", "total": 2_000_000_000u64, "completed": 0}),
        json!({"status": "downloading", "digest": "sha256:aa", "total": 2_000_000_000u64, "completed": 1_000_000_000u64}),
        json!({"status": "verifying sha256 digest"}),
        json!({"status": "success"}),
    ]);
    let server = ScriptedServer::start(
        Script::new()
            .route("GET", "/api/tags", tags(&["llama3:8b"]))
            .route(
                "POST",
                "/api/pull",
                Reply::streamed(200, "application/x-ndjson", progress),
            ),
    );
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    ensure_oss_ready(
        OssProvider::Ollama,
        &format!("{}/v1", server.url()),
        "gpt-oss:20b",
        &mut |event| events.push(event.clone()),
        &mut |warning| warnings.push(warning),
    )
    .unwrap();
    assert!(warnings.is_empty());
    assert_eq!(
        server.requests_to("/api/pull")[0].json(),
        json!({"model": "gpt-oss:20b", "stream": true})
    );
    assert_eq!(events.len(), 5);
    assert_eq!(events[4], PullEvent::Success);
    let mut reporter = PullProgressReporter::default();
    let text: Vec<String> = events.iter().map(|event| reporter.update(event)).collect();
    assert_eq!(text[0], "");
    assert!(
        text[1].starts_with("Downloading model: total 2.00 GB\n\r0.00/2.00 GB (0.0%)"),
        "{}",
        text[1]
    );
    assert!(text[2].starts_with("\r1.00/2.00 GB (50.0%)"), "{}", text[2]);
    assert_eq!(text[3], "verifying sha256 digest\n");

    // Present already: no pull.
    let present =
        ScriptedServer::start(Script::new().route("GET", "/api/tags", tags(&["gpt-oss:20b"])));
    ensure_oss_ready(
        OssProvider::Ollama,
        &present.url(),
        "gpt-oss:20b",
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(present.request_count(), 2, "probe and list only");
}

#[test]
fn pull_errors_use_the_upstream_texts() {
    let failing = ScriptedServer::start(Script::new().route(
        "POST",
        "/api/pull",
        Reply::streamed(
            200,
            "application/x-ndjson",
            ndjson(&[
                json!({"status": "pulling manifest"}),
                json!({"error": "pull model manifest: file does not exist"}),
            ]),
        ),
    ));
    let client = LocalProviderClient::new(OssProvider::Ollama, &failing.url());
    assert_eq!(
        client.pull("nope", &mut |_| {}).unwrap_err().to_string(),
        "Pull failed: pull model manifest: file does not exist"
    );
    let early = ScriptedServer::start(Script::new().route(
        "POST",
        "/api/pull",
        Reply::streamed(
            200,
            "application/x-ndjson",
            ndjson(&[json!({"status": "pulling manifest"})]),
        ),
    ));
    let client = LocalProviderClient::new(OssProvider::Ollama, &early.url());
    assert_eq!(
        client.pull("x", &mut |_| {}).unwrap_err().to_string(),
        "Pull stream ended unexpectedly without success."
    );
    // A list failure is only a warning.
    let broken = ScriptedServer::start(Script::new().at(0, tags(&[])).route(
        "GET",
        "/api/tags",
        Reply::status(500),
    ));
    let mut warnings = Vec::new();
    ensure_oss_ready(
        OssProvider::Ollama,
        &broken.url(),
        "m",
        &mut |_| {},
        &mut |w| warnings.push(w),
    )
    .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("status 500"), "{warnings:?}");
}
