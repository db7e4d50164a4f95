//! The scripted server over a raw TCP client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use codex_test_support::{Reply, Script, ScriptedServer, sse};

fn exchange(server: &ScriptedServer, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn replies_by_index_predicate_sequence_and_fallback_and_captures_requests() {
    let server = ScriptedServer::start(
        Script::new()
            .at(2, Reply::status(404))
            .route("GET", "/health", Reply::status(204))
            .then(Reply::json(200, &serde_json::json!({"n": 1})))
            .otherwise(Reply::status(503).header("Retry-After", "7")),
    );
    let post = "POST /v1/responses?x=1 HTTP/1.1\r\nHost: a\r\nX-Key: V\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
    assert!(exchange(&server, post).contains("{\"n\":1}"));
    assert!(exchange(&server, "GET /health HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 204 "));
    assert!(exchange(&server, post).starts_with("HTTP/1.1 404 "));
    let fallback = exchange(&server, post);
    assert!(fallback.starts_with("HTTP/1.1 503 ") && fallback.contains("Retry-After: 7\r\n"));
    let chunked =
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    exchange(&server, chunked);
    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    let first = &requests[0];
    assert_eq!(
        (
            first.index,
            first.method.as_str(),
            first.path.as_str(),
            first.query.as_str()
        ),
        (0, "POST", "/v1/responses", "x=1")
    );
    assert_eq!(first.header("x-key"), Some("V"));
    assert_eq!(first.json(), serde_json::json!({"a": 1}));
    assert_eq!(requests[4].text(), "abcde");
    assert_eq!(server.requests_to("/health").len(), 1);
}

#[test]
fn streams_chunks_then_closes_or_stalls_until_shutdown() {
    let server = ScriptedServer::start(
        Script::new()
            .then(
                Reply::sse([sse::created("r"), sse::completed("r")])
                    .chunk_delay(Duration::from_millis(5)),
            )
            .then(Reply::sse([sse::created("r")]).then_close())
            .then(Reply::sse([sse::created("r")]).then_stall()),
    );
    let request = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    let whole = exchange(&server, request);
    assert!(
        whole.contains("Transfer-Encoding: chunked")
            && whole.contains("response.completed")
            && whole.ends_with("0\r\n\r\n")
    );
    let cut = exchange(&server, request);
    assert!(cut.contains("response.created") && !cut.ends_with("0\r\n\r\n"));
    let mut stalled = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    stalled.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 64];
    let read = stalled.read(&mut head).unwrap();
    assert!(read > 0);
    server.shutdown();
    let mut rest = Vec::new();
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stalled.read_to_end(&mut rest);
    assert!(
        !String::from_utf8_lossy(&rest).ends_with("0\r\n\r\n"),
        "a stall never finishes the body"
    );
}

#[test]
fn sse_frames_have_event_and_data_lines() {
    assert_eq!(
        sse::output_text_delta("hi"),
        "event: response.output_text.delta\ndata: {\"delta\":\"hi\",\"type\":\"response.output_text.delta\"}\n\n"
    );
    let completed = sse::completed("r1");
    assert!(
        completed.contains("\"cached_tokens\":20") && completed.contains("\"reasoning_tokens\":3")
    );
}

#[test]
fn path_replies_set_while_running_come_first_and_the_fallback_can_echo_the_request() {
    let server = ScriptedServer::start(
        Script::new()
            .route("GET", "/token", Reply::status(500))
            .otherwise_with(|request| Reply::status(302).header("Location", &request.query)),
    );
    let get = |path: &str| exchange(&server, &format!("GET {path} HTTP/1.1\r\n\r\n"));
    assert!(get("/token").starts_with("HTTP/1.1 500 "));
    server.set_path_reply("/token", Reply::status(400));
    server.queue_path_reply("/token", Reply::status(201));
    server.queue_path_reply("/token", Reply::status(202));
    assert!(get("/token").starts_with("HTTP/1.1 201 "));
    assert!(get("/token?a=b").starts_with("HTTP/1.1 202 "));
    assert!(get("/token").starts_with("HTTP/1.1 400 "));
    server.set_path_reply("/token", Reply::status(404));
    assert!(get("/token").starts_with("HTTP/1.1 404 "));
    let redirect = get("/authorize?state=s1");
    assert!(
        redirect.starts_with("HTTP/1.1 302 ") && redirect.contains("Location: state=s1\r\n"),
        "{redirect}"
    );
    assert_eq!(server.requests_to("/token").len(), 5);
}
