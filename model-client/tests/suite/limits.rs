//! Class 6 of the agent attacks: unbounded streams are cut at the configured size.

use codex_config::StreamLimits;
use codex_model_client::{ModelError, StreamLimit};
use codex_test_support::{Chunk, Reply, Script, ScriptedServer, sse};

use super::harness::*;

fn run(reply: Reply, limits: StreamLimits) -> (usize, Option<ModelError>) {
    let server = ScriptedServer::start(Script::new().otherwise(reply));
    let home = tempfile::tempdir().unwrap();
    let mut settings = settings_with(mock_provider(&server, 2, 2));
    settings.stream_limits = limits;
    let client = client(&settings, KEY_ENV, home.path());
    let (_, error) = drain(&client, &prompt("hi"));
    (server.request_count(), error)
}

#[test]
fn one_gigantic_delta_is_cut_at_the_event_limit() {
    let limits = StreamLimits {
        max_event_bytes: 64 * 1024,
        ..StreamLimits::default()
    };
    let huge = sse::output_text_delta(&"A".repeat(1 << 20));
    let (requests, error) = run(Reply::sse([huge, sse::completed("r")]), limits);
    assert_eq!(requests, 1, "a limit is fatal, not retried");
    let error = error.unwrap();
    assert_eq!(
        error,
        ModelError::LimitExceeded {
            limit: StreamLimit::EventBytes,
            max: 64 * 1024
        }
    );
    assert_eq!(
        error.to_string(),
        "the model response exceeded `model_stream_limits.max_event_bytes` (65536); the stream was cut. Raise the limit in config.toml if the response is legitimate"
    );
    // A gigantic function-call argument is one record too.
    let call = sse::function_call("c", "exec_command", &"x".repeat(1 << 20));
    let (_, error) = run(Reply::sse([call, sse::completed("r")]), limits);
    assert!(matches!(
        error,
        Some(ModelError::LimitExceeded {
            limit: StreamLimit::EventBytes,
            ..
        })
    ));
}

#[test]
fn valid_deltas_forever_are_cut_at_the_response_limit() {
    let limits = StreamLimits {
        max_response_bytes: 256 * 1024,
        ..StreamLimits::default()
    };
    // 20 000 deltas (~1.4 MB) that never complete.
    let chunks: Vec<Chunk> = (0..20_000)
        .map(|_| Chunk::Data(sse::output_text_delta("more").into_bytes()))
        .collect();
    let (requests, error) = run(Reply::streamed(200, "text/event-stream", chunks), limits);
    assert_eq!(requests, 1);
    assert_eq!(
        error,
        Some(ModelError::LimitExceeded {
            limit: StreamLimit::ResponseBytes,
            max: 256 * 1024
        })
    );
}

#[test]
fn thousands_of_tool_calls_are_refused() {
    let limits = StreamLimits {
        max_output_items: 100,
        ..StreamLimits::default()
    };
    let mut events: Vec<String> = (0..5000)
        .map(|index| sse::function_call(&format!("call_{index}"), "exec_command", "{}"))
        .collect();
    events.push(sse::completed("r"));
    let (requests, error) = run(Reply::sse(events.clone()), limits);
    assert_eq!(requests, 1);
    assert_eq!(
        error,
        Some(ModelError::LimitExceeded {
            limit: StreamLimit::OutputItems,
            max: 100
        })
    );
    // Within the default limit, 1000 calls are delivered.
    let mut within: Vec<String> = events[..1000].to_vec();
    within.push(sse::completed("r"));
    let server = ScriptedServer::start(Script::new().then(Reply::sse(within)));
    let home = tempfile::tempdir().unwrap();
    let client = client(
        &settings_with(mock_provider(&server, 0, 0)),
        KEY_ENV,
        home.path(),
    );
    let (events, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    assert_eq!(items(&events).len(), 1000);
}
