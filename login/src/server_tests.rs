use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use codex_test_support::http_get_with_headers;

use super::*;
use crate::http::parse_query;
use crate::server_request::parse_head;
use crate::settings::{AuthEnvironment, AuthSettings};

/// A browser login running on its own thread (ephemeral port, no browser), once it listens.
struct RunningLogin {
    login: BrowserLogin,
    result: JoinHandle<Result<(), BrowserLoginError>>,
}

impl RunningLogin {
    fn start(home: &Path) -> RunningLogin {
        let mut settings = AuthSettings::new(home.to_path_buf(), AuthEnvironment::default());
        settings.environment.login_port = Some(0);
        settings.environment.browser = Some("/nonexistent/browser".into());
        settings.issuer = "http://127.0.0.1:9".into();
        let (sender, receiver) = mpsc::channel();
        let result = std::thread::spawn(move || {
            AuthManager::new(settings).login_with_browser(|login| {
                sender.send(login.clone()).unwrap();
            })
        });
        let login = receiver.recv_timeout(Duration::from_secs(10)).unwrap();
        RunningLogin { login, result }
    }

    fn state(&self) -> String {
        let (_, query) = self.login.auth_url.split_once('?').unwrap();
        parse_query(query)
            .into_iter()
            .find(|(key, _)| key == "state")
            .unwrap()
            .1
    }

    fn finish(self) -> Result<(), BrowserLoginError> {
        self.result.join().unwrap()
    }
}

/// One request with extra header lines; returns (status, body).
fn get(port: u16, target: &str, headers: &[&str]) -> (u16, String) {
    let response = http_get_with_headers(&format!("http://localhost:{port}{target}"), headers);
    (response.status, response.body)
}

/// Regression: a client sending one byte every few seconds kept the single-threaded server in
/// its read loop (each read had its own 5 s timeout), so `/cancel` (and the login deadline)
/// waited for it.
#[test]
fn slow_client_blocks_login_server() {
    let home = tempfile::tempdir().unwrap();
    let running = RunningLogin::start(home.path());
    let port = running.login.port;
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let dribble = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            for _ in 0..60 {
                if stop.load(Ordering::Relaxed) || slow.write_all(b"G").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let (status, body) = get(port, "/cancel", &[]);
    let waited = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    dribble.join().unwrap();
    assert_eq!((status, body.as_str()), (200, "Login cancelled"));
    assert!(
        waited < CONNECTION_TIMEOUT + Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(matches!(
        running.finish(),
        Err(BrowserLoginError::Cancelled)
    ));
}

#[test]
fn request_read_stops_at_its_deadline() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"GET /x HTTP/1.1\r\n").unwrap();
    let start = Instant::now();
    let outcome = read_request(&mut server, start + Duration::from_millis(300));
    assert!(matches!(outcome, ReadRequest::TimedOut));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    // A deadline that has passed (the login's, say) allows no read at all.
    assert!(matches!(
        read_request(&mut server, Instant::now()),
        ReadRequest::TimedOut
    ));
}

/// Regression: any web page could end the login with a request to `/cancel`.
#[test]
fn cancel_accepts_cross_site_requests() {
    let home = tempfile::tempdir().unwrap();
    let running = RunningLogin::start(home.path());
    let port = running.login.port;
    for headers in [
        &["Sec-Fetch-Site: cross-site"][..],
        &["Sec-Fetch-Site: same-site"],
        &["Origin: http://evil.example"],
        &["Origin: null"],
        &["Origin: http://localhost:1", "Sec-Fetch-Site: same-origin"],
    ] {
        assert_eq!(
            get(port, "/cancel", headers),
            (403, "Cross-site request refused".to_string()),
            "{headers:?}"
        );
    }
    assert!(!running.result.is_finished());
    let own_origin = format!("Origin: http://localhost:{port}");
    assert_eq!(
        get(
            port,
            "/cancel",
            &[&own_origin, "Sec-Fetch-Site: same-origin"]
        ),
        (200, "Login cancelled".to_string())
    );
    assert!(matches!(
        running.finish(),
        Err(BrowserLoginError::Cancelled)
    ));
}

/// What a second `codex login` sends (a plain GET) still takes the port over.
#[test]
fn another_login_can_still_cancel() {
    let home = tempfile::tempdir().unwrap();
    let running = RunningLogin::start(home.path());
    send_cancel(running.login.port);
    assert!(matches!(
        running.finish(),
        Err(BrowserLoginError::Cancelled)
    ));
}

/// Regression: the provider's `error_description` reached the terminal unfiltered.
#[test]
fn provider_error_description_prints_escape_sequences() {
    let home = tempfile::tempdir().unwrap();
    let running = RunningLogin::start(home.path());
    let target = format!(
        "/auth/callback?state={}&error=access_denied&error_description=bad%1B%5D0%3Bowned%07%1B%5B2J{}",
        percent_encode(&running.state()),
        "x".repeat(400)
    );
    let (status, page) = get(running.login.port, &target, &[]);
    assert_eq!(status, 200);
    assert!(
        page.contains("Sign-in failed: bad ]0;owned  [2Jxxx"),
        "{page}"
    );
    let Err(BrowserLoginError::PermissionDenied(message)) = running.finish() else {
        panic!("expected PermissionDenied");
    };
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(
        message.starts_with("Sign-in failed: bad ]0;owned  [2Jxxx"),
        "{message}"
    );
    assert!(message.len() <= "Sign-in failed: ".len() + 200, "{message}");
}

#[test]
fn request_heads_are_parsed_with_headers() {
    let request =
        parse_head(b"GET /cancel?x=1 HTTP/1.1\r\nHost: a\r\nSEC-FETCH-SITE:  Cross-Site \r\n\r\n")
            .unwrap();
    assert_eq!(request.target, "/cancel?x=1");
    assert_eq!(request.header("sec-fetch-site"), Some("Cross-Site"));
    assert!(request.is_cross_site(1455));
    assert!(parse_head(b"GET http://x/ HTTP/1.1\r\n\r\n").is_none());
    let plain = parse_head(b"GET /cancel HTTP/1.1\r\nHost: 127.0.0.1:1455\r\n\r\n").unwrap();
    assert!(!plain.is_cross_site(1455));
    let typed = parse_head(b"GET /cancel HTTP/1.1\r\nSec-Fetch-Site: none\r\n\r\n").unwrap();
    assert!(!typed.is_cross_site(1455));
    let own = parse_head(b"GET /cancel HTTP/1.1\r\nOrigin: http://127.0.0.1:1455\r\n\r\n").unwrap();
    assert!(!own.is_cross_site(1455));
}
