//! [`http_get`]: one blocking HTTP/1.1 GET, no redirects followed, for tests that play the
//! browser (the sign-in callback server, the scripted issuer).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a response may take before the test fails.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`http_get`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code (0 when the status line could not be read).
    pub status: u16,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Everything after the head, as text.
    pub body: String,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// `GET url` (`http://host:port/target`; `localhost` connects to 127.0.0.1 but is kept in
/// `Host`) with `Connection: close`, reading until the server closes.
pub fn http_get(url: &str) -> HttpResponse {
    http_get_with_headers(url, &[])
}

/// [`http_get`] with extra header lines (`"Origin: http://example.com"`).
pub fn http_get_with_headers(url: &str, headers: &[&str]) -> HttpResponse {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("http_get needs an http:// URL, got `{url}`"));
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let target = if target.is_empty() { "/" } else { target };
    let address = authority.replace("localhost", "127.0.0.1");
    let mut stream = TcpStream::connect(&address)
        .unwrap_or_else(|error| panic!("connect to `{address}`: {error}"));
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .unwrap_or_else(|error| panic!("set a read timeout: {error}"));
    let mut request =
        format!("GET {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .unwrap_or_else(|error| panic!("send the request to `{address}`: {error}"));
    let mut raw = Vec::new();
    // A reset after a complete response is still a response.
    let _ = stream.read_to_end(&mut raw);
    parse_response(&String::from_utf8_lossy(&raw))
}

fn parse_response(response: &str) -> HttpResponse {
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Reply, Script, ScriptedServer};

    #[test]
    fn gets_status_headers_and_body_and_sends_host_and_extra_headers() {
        let server = ScriptedServer::start(
            Script::new().then(
                Reply::status(302)
                    .header("Location", "http://localhost/next")
                    .body("moved"),
            ),
        );
        let url = server.url().replace("127.0.0.1", "localhost");
        let response = http_get_with_headers(&format!("{url}/a?b=c"), &["Origin: http://x"]);
        assert_eq!(response.status, 302);
        assert_eq!(response.header("location"), Some("http://localhost/next"));
        assert_eq!(response.body, "moved");
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, "GET");
        assert_eq!(
            (requests[0].path.as_str(), requests[0].query.as_str()),
            ("/a", "b=c")
        );
        assert_eq!(requests[0].header("origin"), Some("http://x"));
        assert_eq!(
            requests[0].header("host"),
            Some(url.trim_start_matches("http://"))
        );
    }

    #[test]
    fn a_closed_connection_without_a_response_is_status_zero() {
        assert_eq!(
            parse_response(""),
            HttpResponse {
                status: 0,
                headers: Vec::new(),
                body: String::new()
            }
        );
    }
}
