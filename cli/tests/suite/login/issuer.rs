//! A scripted OAuth issuer / ChatGPT backend on 127.0.0.1 for the sign-in tests, a minimal
//! browser, and JWT helpers (unsigned ChatGPT tokens; RS256 agent-identity tokens signed with a
//! committed test-only key).

use std::time::Duration;

use codex_agent_identity::base64url_encode;
use codex_test_support::{CapturedRequest, Rs256Signer, Script, ScriptedServer, http_get};

/// A request the issuer received (header names lower-cased, body as text).
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A scripted reply: the shared server's, with its delay settable in place.
#[derive(Clone)]
pub struct Reply {
    reply: codex_test_support::Reply,
    pub delay: Duration,
}

impl Reply {
    fn into_scripted(self) -> codex_test_support::Reply {
        self.reply.delayed(self.delay)
    }
}

pub fn json(status: u16, value: serde_json::Value) -> Reply {
    Reply {
        reply: codex_test_support::Reply::json(status, &value),
        delay: Duration::ZERO,
    }
}

pub fn status(status: u16) -> Reply {
    Reply {
        reply: codex_test_support::Reply::status(status),
        delay: Duration::ZERO,
    }
}

/// The issuer, on the shared scripted server. Unknown paths answer 404. `/oauth/authorize`
/// redirects to the `redirect_uri` with `code=test-code` and the request's `state` unless
/// scripted otherwise.
pub struct MockIssuer {
    pub url: String,
    server: ScriptedServer,
}

impl MockIssuer {
    pub fn start() -> MockIssuer {
        let server = ScriptedServer::start(Script::new().otherwise_with(default_reply));
        MockIssuer {
            url: server.url(),
            server,
        }
    }

    /// Every request to `path` gets `reply` (after the queued [`MockIssuer::once`] replies).
    pub fn on(&self, path: &str, reply: Reply) {
        self.server.set_path_reply(path, reply.into_scripted());
    }

    /// The next request to `path` gets `reply`.
    pub fn once(&self, path: &str, reply: Reply) {
        self.server.queue_path_reply(path, reply.into_scripted());
    }

    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.server
            .requests_to(path)
            .into_iter()
            .map(|request| Request {
                body: request.text(),
                method: request.method,
                headers: request.headers,
            })
            .collect()
    }
}

fn default_reply(request: &CapturedRequest) -> codex_test_support::Reply {
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
        return codex_test_support::Reply::status(302).header("Location", &location);
    }
    codex_test_support::Reply::status(404)
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
