//! Every retry path with the exact number of requests, Retry-After, idle timeout, connection
//! refused, and cancellation.

use std::net::TcpListener;
use std::time::Duration;

use codex_model_client::{ModelError, ResponseEvent, ResponseItem, RetryCause, RetryPhase};
use codex_test_support::{Reply, Script, ScriptedServer, sse};
use serde_json::json;

use super::harness::*;

/// Run one call against a server that fails every request with `failure`.
fn always(
    failure: Reply,
    request_retries: u64,
    stream_retries: u64,
) -> (usize, Vec<ResponseEvent>, Option<ModelError>) {
    let server = ScriptedServer::start(Script::new().otherwise(failure));
    let home = tempfile::tempdir().unwrap();
    let settings = settings_with(mock_provider(&server, request_retries, stream_retries));
    let client = client(&settings, KEY_ENV, home.path());
    let (events, error) = drain(&client, &prompt("hi"));
    (server.request_count(), events, error)
}

fn server_error() -> Reply {
    Reply::json(500, &json!({"error": {"message": "boom"}}))
}

fn too_many() -> Reply {
    Reply::json(
        429,
        &json!({"error": {"code": "rate_limit_exceeded", "message": "slow down"}}),
    )
    .header("Retry-After", "0")
}

fn cut() -> Reply {
    Reply::sse([sse::created("r"), sse::output_text_delta("par")]).then_close()
}

fn failed() -> Reply {
    Reply::sse([sse::failed("r", "server_error", "upstream hiccup")])
}

/// The budget table: request-level failures use `request_max_retries` only, stream-level
/// failures `stream_max_retries` only; both 0 means exactly one request.
#[test]
fn request_counts_per_failure_and_budget() {
    type Case = (&'static str, fn() -> Reply, [usize; 4]);
    let cases: Vec<Case> = vec![
        ("500", server_error, [1, 3, 1, 2]),
        ("429", too_many, [1, 3, 1, 2]),
        ("cut", cut, [1, 1, 3, 2]),
        ("failed", failed, [1, 1, 3, 2]),
    ];
    let budgets = [(0, 0), (2, 0), (0, 2), (1, 1)];
    for (name, failure, expected) in cases {
        for ((rmr, smr), want) in budgets.iter().zip(expected) {
            let (count, events, error) = always(failure(), *rmr, *smr);
            assert_eq!(count, want, "{name} with rmr={rmr} smr={smr}");
            let error = error.unwrap_or_else(|| panic!("{name}: no error"));
            let ModelError::RetriesExhausted { requests, .. } = &error else {
                panic!("{name}: {error}");
            };
            assert_eq!(*requests, want as u64, "{name}");
            assert_eq!(
                retries(&events).len(),
                want - 1,
                "{name}: one notice per retry"
            );
        }
    }
}

#[test]
fn final_messages_name_the_cause_and_the_url() {
    let (_, events, error) = always(server_error(), 2, 0);
    let message = error.unwrap().to_string();
    assert!(
        message.starts_with("We\u{2019}re currently experiencing high demand, which may cause temporary errors. (3 requests to `http://127.0.0.1:"),
        "{message}"
    );
    let notices = retries(&events);
    assert_eq!(
        (notices[1].phase, notices[1].attempt, notices[1].max),
        (RetryPhase::Request, 2, 2)
    );
    assert_eq!(
        notices[0].message(),
        "Reconnecting... 1/2 (unexpected status 500 Internal Server Error: boom)"
    );

    let (_, events, error) = always(cut(), 0, 1);
    assert!(
        error.unwrap().to_string().starts_with(
            "stream disconnected before completion: stream closed before response.completed (2 requests to `http://127.0.0.1:"
        )
    );
    assert_eq!(retries(&events)[0].phase, RetryPhase::Stream);

    let (_, _, error) = always(failed(), 0, 0);
    assert!(
        error
            .unwrap()
            .to_string()
            .starts_with("stream disconnected before completion: upstream hiccup (1 request to `")
    );
}

#[test]
fn fatal_failures_are_never_retried() {
    let fatal: Vec<(Reply, ModelError)> = vec![
        (
            Reply::sse([sse::failed("r", "insufficient_quota", "no money")]),
            ModelError::QuotaExceeded,
        ),
        (
            Reply::sse([sse::failed("r", "context_length_exceeded", "too long")]),
            ModelError::ContextWindowExceeded,
        ),
        (
            Reply::sse([sse::failed("r", "usage_not_included", "plan")]),
            ModelError::UsageNotIncluded,
        ),
        (
            Reply::json(
                429,
                &json!({"error": {"type": "usage_limit_reached", "resets_in_seconds": 12720}}),
            ),
            ModelError::UsageLimitReached {
                resets_in: Some("3 hours 32 minutes".into()),
            },
        ),
    ];
    for (reply, expected) in fatal {
        let (count, _, error) = always(reply, 3, 3);
        assert_eq!((count, error), (1, Some(expected.clone())), "{expected}");
    }
    let (count, _, error) = always(
        Reply::json(400, &json!({"error": {"message": "Invalid 'input[0]'"}})),
        3,
        3,
    );
    assert_eq!(count, 1);
    let message = error.unwrap().to_string();
    assert!(
        message.starts_with("unexpected status 400 Bad Request from `http://127.0.0.1:")
            && message
                .ends_with("/v1/responses`: {\"error\":{\"message\":\"Invalid 'input[0]'\"}}"),
        "{message}"
    );
    assert_eq!(
        ModelError::QuotaExceeded.to_string(),
        "Quota exceeded. Check your plan and billing details."
    );
}

/// The delay of a retry: `Retry-After` seconds and HTTP dates are honoured up to
/// `retry_max_delay_ms` (40 ms here); a date in the past means no wait; otherwise backoff from
/// `retry_base_delay_ms` (1 ms here).
#[test]
fn retry_after_seconds_and_http_dates() {
    let in_an_hour = std::time::SystemTime::now() + Duration::from_secs(3600);
    let cases = [
        ("1".to_string(), Duration::from_millis(40)),
        (http_date(in_an_hour), Duration::from_millis(40)),
        ("Thu, 01 Jan 1998 00:00:00 GMT".to_string(), Duration::ZERO),
    ];
    for (value, expected) in cases {
        let (count, events, _) = always(Reply::status(503).header("Retry-After", &value), 1, 0);
        assert_eq!(count, 2);
        assert_eq!(retries(&events)[0].delay, expected, "Retry-After: {value}");
    }
    let (_, events, _) = always(Reply::status(503), 1, 0);
    let backoff = retries(&events)[0].delay;
    assert!(
        backoff < Duration::from_millis(2) && backoff > Duration::ZERO,
        "{backoff:?}"
    );
    // The hint of a rate-limited response.failed.
    let (_, events, _) = always(
        Reply::sse([sse::failed(
            "r",
            "rate_limit_exceeded",
            "Please try again in 28ms.",
        )]),
        0,
        1,
    );
    assert_eq!(retries(&events)[0].delay, Duration::from_millis(28));
}

fn http_date(time: std::time::SystemTime) -> String {
    let seconds = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let text = codex_login::Timestamp::from_unix_seconds(seconds).to_rfc3339();
    // 2026-12-04T18:37:24.000Z → Fri, 04 Dec 2026 18:37:24 GMT (weekday is not checked).
    let (date, clock) = text.split_once('T').unwrap();
    let mut parts = date.split('-');
    let (year, month, day) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][month.parse::<usize>().unwrap() - 1];
    format!("Mon, {day} {month} {year} {} GMT", &clock[..8])
}

/// A cut stream is retried with the message it already delivered carried into the new
/// request, as upstream does; the retried response completes.
#[test]
fn early_close_is_retried_with_the_delivered_message() {
    let server = ScriptedServer::start(
        Script::new()
            .then(
                Reply::sse([
                    sse::message("msg_partial", "PARTIAL"),
                    sse::function_call("call_lost", "exec_command", "{}"),
                ])
                .then_close(),
            )
            .then(Reply::sse(sse::answer("r2", "Recovered."))),
    );
    let home = tempfile::tempdir().unwrap();
    let client = client(
        &settings_with(mock_provider(&server, 0, 2)),
        KEY_ENV,
        home.path(),
    );
    let (events, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    let texts: Vec<String> = items(&events)
        .iter()
        .filter_map(ResponseItem::message_text)
        .collect();
    assert_eq!(
        texts,
        ["PARTIAL", "Recovered."],
        "the lost call is never delivered"
    );
    assert_eq!(
        retries(&events)[0].message(),
        "Reconnecting... 1/2 (stream disconnected before completion: stream closed before response.completed)"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let input = requests[1].json()["input"].clone();
    assert_eq!(input.as_array().unwrap().len(), 2);
    assert_eq!(input[1]["id"], "msg_partial");
    assert_eq!(input[1]["role"], "assistant");
}

#[test]
fn idle_stream_times_out_and_the_retry_succeeds() {
    let server = ScriptedServer::start(
        Script::new()
            .then(Reply::sse([sse::created("r1")]).then_stall())
            .then(Reply::stall())
            .then(Reply::sse(sse::answer("r2", "ok"))),
    );
    let home = tempfile::tempdir().unwrap();
    let mut provider = mock_provider(&server, 1, 1);
    provider.stream_idle_timeout_ms = Some(200);
    let client = client(&settings_with(provider), KEY_ENV, home.path());
    let (events, error) = drain(&client, &prompt("hi"));
    assert_eq!(error, None);
    assert_eq!(server.request_count(), 3);
    let causes: Vec<(RetryPhase, RetryCause)> = retries(&events)
        .into_iter()
        .map(|notice| (notice.phase, notice.cause))
        .collect();
    assert_eq!(
        causes,
        [
            (RetryPhase::Stream, RetryCause::IdleTimeout),
            (
                RetryPhase::Request,
                RetryCause::Transport("timed out waiting for the server".into())
            ),
        ]
    );
}

#[test]
fn connection_refused_ends_with_an_error_naming_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let home = tempfile::tempdir().unwrap();
    for (request_retries, stream_retries, expected) in [(0, 0, 1), (2, 5, 3)] {
        let server = ScriptedServer::start(Script::new());
        let mut provider = mock_provider(&server, request_retries, stream_retries);
        provider.base_url = Some(format!("http://127.0.0.1:{port}/v1"));
        let client = client(&settings_with(provider), KEY_ENV, home.path());
        let (events, error) = drain(&client, &prompt("hi"));
        assert_eq!(retries(&events).len(), expected - 1);
        let url = format!("http://127.0.0.1:{port}/v1/responses");
        assert_eq!(
            error,
            Some(ModelError::RetriesExhausted {
                url: url.clone(),
                requests: expected as u64,
                last: RetryCause::Transport("connection refused".into()),
            })
        );
    }
}

#[test]
fn cancel_from_another_thread_ends_a_stalled_stream() {
    let server = ScriptedServer::start(
        Script::new().otherwise(Reply::sse([sse::created("r")]).then_stall()),
    );
    let home = tempfile::tempdir().unwrap();
    let mut provider = mock_provider(&server, 0, 0);
    provider.stream_idle_timeout_ms = Some(600_000);
    let stalled = client(&settings_with(provider), KEY_ENV, home.path());
    let mut stream = stalled.stream(&prompt("hi")).unwrap();
    assert!(matches!(
        stream.next(),
        Some(Ok(ResponseEvent::Created { .. }))
    ));
    let cancel = stream.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(short());
        cancel.cancel();
    });
    assert_eq!(stream.next(), Some(Err(ModelError::Cancelled)));
    assert_eq!(stream.next(), None);
    canceller.join().unwrap();

    // A cancel during a retry wait ends it too (the server asks for an hour).
    let server = ScriptedServer::start(
        Script::new().otherwise(Reply::status(503).header("Retry-After", "3600")),
    );
    let mut provider = mock_provider(&server, 5, 0);
    provider.retry_max_delay_ms = Some(3_600_000);
    let waiting = client(&settings_with(provider), KEY_ENV, home.path());
    let mut stream = waiting.stream(&prompt("hi")).unwrap();
    let Some(Ok(ResponseEvent::Retrying(notice))) = stream.next() else {
        panic!("expected a retry");
    };
    assert_eq!(notice.delay, Duration::from_secs(3600));
    stream.cancel_handle().cancel();
    assert_eq!(stream.next(), Some(Err(ModelError::Cancelled)));
    drop(stream);
    std::thread::sleep(short());
    assert_eq!(server.request_count(), 1, "no request after the cancel");
}
