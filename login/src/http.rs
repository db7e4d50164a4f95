//! A small blocking HTTP client for the sign-in endpoints, URL encoding helpers, and the
//! summary of error bodies (which may echo a token, so they are reduced and redacted).

use std::time::Duration;

use crate::secret::Secret;

/// Upper bound on any response body we read.
const MAX_BODY_BYTES: u64 = 1 << 20;

/// A response: status and body. Redirects are not followed.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The request did not produce a response (connection, TLS, timeout…).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(String);

pub(crate) struct HttpClient {
    agent: ureq::Agent,
}

impl HttpClient {
    /// A client whose every request is bounded by `timeout`.
    pub(crate) fn new(timeout: Duration, originator: &str) -> HttpClient {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("{originator}/{}", env!("CARGO_PKG_VERSION")))
            .build();
        HttpClient {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    pub(crate) fn get(
        &self,
        url: &str,
        bearer: Option<&Secret>,
    ) -> Result<HttpResponse, TransportError> {
        let mut request = self.agent.get(url).header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {}", token.expose()));
        }
        read(request.call())
    }

    pub(crate) fn post_form(
        &self,
        url: &str,
        fields: &[(&str, &str)],
    ) -> Result<HttpResponse, TransportError> {
        let body = form_urlencode(fields);
        let request = self
            .agent
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        read(request.send(body.as_bytes()))
    }

    pub(crate) fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<HttpResponse, TransportError> {
        let request = self
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        read(request.send(body.to_string().as_bytes()))
    }
}

fn read(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<HttpResponse, TransportError> {
    let mut response = result.map_err(|error| TransportError(error.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|error| TransportError(error.to_string()))?;
    Ok(HttpResponse { status, body })
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `k=v&k=v`, percent-encoded.
pub(crate) fn form_urlencode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decode `application/x-www-form-urlencoded` text (`+` is a space). Invalid escapes are kept.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len()
                && bytes[index + 1].is_ascii_hexdigit()
                && bytes[index + 2].is_ascii_hexdigit() =>
            {
                let hex = [bytes[index + 1], bytes[index + 2]];
                let value = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                    .unwrap_or(b'?');
                out.push(value);
                index += 2;
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split a query string into decoded pairs.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// A short, safe description of an error response: the OAuth `error`/`error.code`,
/// `error_description`/`message` fields when the body is JSON, else a truncated single line.
/// Every secret in `secrets` is redacted.
pub(crate) fn error_summary(body: &[u8], secrets: &[&Secret]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            let error = json.get("error");
            let code = error
                .and_then(|error| error.get("code").or(Some(error)))
                .and_then(serde_json::Value::as_str)
                .or_else(|| json.get("code").and_then(serde_json::Value::as_str));
            let message = json
                .get("error_description")
                .or_else(|| error.and_then(|error| error.get("message")))
                .or_else(|| json.get("message"))
                .and_then(serde_json::Value::as_str);
            match (code, message) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                (None, Some(message)) => message.to_string(),
                (None, None) => String::new(),
            }
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut text = text;
    for secret in secrets {
        text = secret.redact_in(&text);
    }
    printable(&text)
}

/// Text from a server or a token, made safe to print (control characters and bidi marks become
/// spaces, at most 200 characters).
pub(crate) use codex_agent_identity::printable;

/// The lower-cased error code of an OAuth error body: `error.code`, `error` (string) or `code`.
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = json.get("error");
    error
        .and_then(|error| error.get("code"))
        .or(error.filter(|error| error.is_string()))
        .or_else(|| json.get("code"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes_like_a_browser() {
        assert_eq!(
            percent_encode("http://localhost:1457/auth/callback"),
            "http%3A%2F%2Flocalhost%3A1457%2Fauth%2Fcallback"
        );
        assert_eq!(form_urlencode(&[("a b", "c&d=e")]), "a%20b=c%26d%3De");
        assert_eq!(percent_decode("a+b%20c%2"), "a b c%2");
        assert_eq!(
            parse_query("code=x%2By&state=&flag"),
            vec![
                ("code".to_string(), "x+y".to_string()),
                ("state".to_string(), String::new()),
                ("flag".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn printable_removes_escapes_and_caps_the_length() {
        assert_eq!(
            printable("\u{1b}]0;owned\u{7}\u{1b}[2Jhi\u{9b}31m\u{202e}x\r\n"),
            "]0;owned  [2Jhi 31m x"
        );
        let long = "é".repeat(500);
        assert_eq!(printable(&long).chars().count(), 200);
    }

    #[test]
    fn error_summary_keeps_codes_and_redacts_secrets() {
        let token = Secret::new("rt-secret-value");
        let body = br#"{"error":{"code":"refresh_token_expired","message":"token rt-secret-value expired"}}"#;
        assert_eq!(
            error_summary(body, &[&token]),
            "refresh_token_expired: token <redacted> expired"
        );
        assert_eq!(error_code(body).as_deref(), Some("refresh_token_expired"));
        assert_eq!(
            error_code(br#"{"error":"Authorization_Declined"}"#).as_deref(),
            Some("authorization_declined")
        );
        assert_eq!(error_code(br#"{"code":"x"}"#).as_deref(), Some("x"));
        let long = "rt-secret-value\n".repeat(40);
        let summary = error_summary(long.as_bytes(), &[&token]);
        assert!(
            !summary.contains("rt-secret") && summary.len() <= 220,
            "{summary}"
        );
    }
}
