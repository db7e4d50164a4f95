//! SSE parse throughput on a large recorded Responses stream (run it with `scripts/bench-sse`).
//!
//! 1. framing only: `SseParser` over the bytes in 16 KiB reads;
//! 2. end to end: `ModelClient::stream` against a local scripted server (HTTP, SSE, JSON
//!    classification, the worker → consumer channel), until `Completed`.

use std::sync::Arc;
use std::time::Instant;

use codex_config::{LayerSource, ModelSettings, ProviderConfig, Sourced};
use codex_login::{AuthEnvironment, AuthManager, AuthSettings};
use codex_model_client::{
    ClientOptions, ModelClient, ProviderEnvironment, Request, ResponseEvent, SseParser,
};
use codex_test_support::{Reply, Script, ScriptedServer, sse};

const DELTAS: usize = 200_000;
const RUNS: usize = 5;

fn recorded_stream() -> Vec<u8> {
    let mut text = sse::created("resp_bench");
    for index in 0..DELTAS {
        let event = serde_json::json!({
            "type": "response.output_text.delta",
            "sequence_number": index,
            "item_id": "msg_0123456789abcdef0123456789abcdef",
            "output_index": 1,
            "content_index": 0,
            "delta": " word",
            "logprobs": [],
        });
        text.push_str(&sse::frame(&event));
        if index % 1000 == 999 {
            text.push_str(&sse::message(&format!("msg_{index}"), &"word ".repeat(200)));
        }
    }
    text.push_str(&sse::completed("resp_bench"));
    text.into_bytes()
}

fn best_of(mut run: impl FnMut() -> f64) -> f64 {
    (0..RUNS).map(|_| run()).fold(f64::INFINITY, f64::min)
}

#[expect(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a bench prints its results"
)]
fn main() {
    let stream = recorded_stream();
    let megabytes = stream.len() as f64 / 1_000_000.0;
    println!("recorded stream: {megabytes:.1} MB, {DELTAS} deltas");

    let framing = best_of(|| {
        let started = Instant::now();
        let mut parser = SseParser::new(16 << 20);
        let mut records = 0usize;
        for chunk in stream.chunks(16 * 1024) {
            parser.feed(chunk, &mut |_| records += 1).unwrap();
        }
        assert!(records > DELTAS);
        started.elapsed().as_secs_f64()
    });
    println!("sse framing:         {:8.1} MB/s", megabytes / framing);

    let server = ScriptedServer::start(
        Script::new().otherwise(
            Reply::status(200)
                .header("Content-Type", "text/event-stream")
                .body(stream.clone()),
        ),
    );
    let mut settings = ModelSettings {
        model: Some("bench-model".into()),
        model_provider: Some(Sourced {
            value: "bench".into(),
            layer: LayerSource::SessionFlags,
        }),
        ..ModelSettings::default()
    };
    settings.providers.insert(
        "bench".into(),
        ProviderConfig {
            id: "bench".into(),
            name: None,
            base_url: Some(format!("{}/v1", server.url())),
            env_key: None,
            env_key_instructions: None,
            experimental_bearer_token: None,
            query_params: Default::default(),
            http_headers: Default::default(),
            env_http_headers: Default::default(),
            request_max_retries: Some(0),
            stream_max_retries: Some(0),
            stream_idle_timeout_ms: None,
            requires_openai_auth: false,
            retry_base_delay_ms: None,
            retry_max_delay_ms: None,
            origins: Default::default(),
        },
    );
    let home = std::env::temp_dir();
    let auth = Arc::new(AuthManager::new(AuthSettings::new(
        home,
        AuthEnvironment::default(),
    )));
    let client = ModelClient::from_settings(
        &settings,
        ProviderEnvironment::default(),
        auth,
        ClientOptions::new("bench"),
    )
    .unwrap();
    let end_to_end = best_of(|| {
        let started = Instant::now();
        let mut deltas = 0usize;
        for event in client.stream(&Request::default()).unwrap() {
            match event.unwrap() {
                ResponseEvent::OutputTextDelta { .. } => deltas += 1,
                ResponseEvent::Completed { .. } => break,
                _ => {}
            }
        }
        assert_eq!(deltas, DELTAS);
        started.elapsed().as_secs_f64()
    });
    println!(
        "client end to end:   {:8.1} MB/s ({:.0} events/s)",
        megabytes / end_to_end,
        DELTAS as f64 / end_to_end
    );
}
