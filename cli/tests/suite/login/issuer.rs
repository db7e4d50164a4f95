//! A scripted OAuth issuer / ChatGPT backend on 127.0.0.1 for the sign-in tests, a minimal
//! browser, and JWT helpers (unsigned ChatGPT tokens; RS256 agent-identity tokens signed with a
//! committed test-only key).

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_agent_identity::base64url_encode;
use codex_test_support::{Rs256Signer, http_get};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

pub fn json(status: u16, value: serde_json::Value) -> Reply {
    Reply {
        status,
        body: value.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        delay: Duration::ZERO,
    }
}

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        body: String::new(),
        headers: Vec::new(),
        delay: Duration::ZERO,
    }
}

#[derive(Default)]
struct Routes {
    once: HashMap<String, VecDeque<Reply>>,
    always: HashMap<String, Reply>,
    requests: Vec<Request>,
}

/// The issuer. Unknown paths answer 404. `/oauth/authorize` redirects to the `redirect_uri`
/// with `code=test-code` and the request's `state` unless scripted otherwise.
pub struct MockIssuer {
    pub url: String,
    routes: Arc<Mutex<Routes>>,
    stop: Arc<AtomicBool>,
}

impl MockIssuer {
    pub fn start() -> MockIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes = Arc::new(Mutex::new(Routes::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_routes, thread_stop) = (routes.clone(), stop.clone());
        std::thread::spawn(move || {
            while !thread_stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let routes = thread_routes.clone();
                        std::thread::spawn(move || serve(stream, &routes));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        MockIssuer { url, routes, stop }
    }

    pub fn on(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .always
            .insert(path.into(), reply);
    }

    pub fn once(&self, path: &str, reply: Reply) {
        let mut routes = self.routes.lock().unwrap();
        routes.once.entry(path.into()).or_default().push_back(reply);
    }

    pub fn requests(&self, path: &str) -> Vec<Request> {
        let routes = self.routes.lock().unwrap();
        routes
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

impl Drop for MockIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut stream: TcpStream, routes: &Mutex<Routes>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    let reply = {
        let mut routes = routes.lock().unwrap();
        routes.requests.push(request.clone());
        let queued = routes
            .once
            .get_mut(&request.path)
            .and_then(VecDeque::pop_front);
        queued
            .or_else(|| routes.always.get(&request.path).cloned())
            .unwrap_or_else(|| default_reply(&request))
    };
    std::thread::sleep(reply.delay);
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
}

fn default_reply(request: &Request) -> Reply {
    if request.path == "/oauth/authorize" {
        let params = query_pairs(&request.query);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let location = format!(
            "{}?code=test-code&state={}",
            get("redirect_uri").unwrap_or_default(),
            encode(&get("state").unwrap_or_default())
        );
        let mut reply = status(302);
        reply.headers.push(("Location".into(), location));
        return reply;
    }
    status(404)
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(index) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break index;
        }
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A response seen by [`browser_get`].
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// One GET, no redirects; `localhost` is 127.0.0.1.
pub fn browser_get(url: &str) -> Page {
    let response = http_get(url);
    Page {
        status: response.status,
        location: response.header("Location").map(str::to_string),
        body: response.body,
    }
}

/// Follow redirects like a browser; returns every page in order.
pub fn browse(url: &str) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut next = Some(url.to_string());
    while let Some(url) = next.take() {
        let page = browser_get(&url);
        next = page.location.clone().filter(|_| pages.len() < 5);
        pages.push(page);
    }
    pages
}

/// An unsigned JWT (ChatGPT id/access tokens are read without verification).
pub fn jwt(claims: serde_json::Value) -> String {
    format!(
        "{}.{}.{}",
        base64url_encode(br#"{"alg":"none","typ":"JWT"}"#),
        base64url_encode(claims.to_string().as_bytes()),
        base64url_encode(b"signature")
    )
}

pub fn id_token(account_id: &str) -> String {
    jwt(serde_json::json!({
        "email": "user@example.com",
        "https://api.openai.com/auth": {
            "chatgpt_account_id": account_id, "chatgpt_user_id": "user-1",
            "organization_id": "org-abc", "project_id": "proj-1",
            "completed_platform_onboarding": false, "is_org_owner": true
        }
    }))
}

pub fn access_token(exp: i64) -> String {
    jwt(
        serde_json::json!({"exp": exp, "https://api.openai.com/auth": {"chatgpt_plan_type": "pro"}}),
    )
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn jwks(kid: &str) -> serde_json::Value {
    Rs256Signer::test_key().jwks(kid)
}

pub fn agent_identity_claims(account_id: &str) -> serde_json::Value {
    serde_json::json!({
        "iss": "https://chatgpt.com/codex-backend/agent-identity", "aud": "codex-app-server",
        "iat": now() - 10, "exp": now() + 3600,
        "agent_runtime_id": "runtime-1", "agent_private_key": "cHJpdmF0ZQ",
        "account_id": account_id, "chatgpt_user_id": "user-1", "email": "a@example.com",
        "plan_type": "plus", "chatgpt_account_is_fedramp": false
    })
}

pub fn signed_jwt(kid: &str, claims: serde_json::Value) -> String {
    Rs256Signer::test_key().sign_with_kid(kid, &claims)
}
