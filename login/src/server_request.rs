//! Reading the browser-login server's requests: the head only, within a deadline for the whole
//! read, and the cross-site check for `/cancel`.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::Instant;

/// Largest request head accepted.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// A request head as far as the server needs it.
pub(crate) struct Request {
    pub(crate) target: String,
    /// Header names lower-cased, values trimmed.
    headers: Vec<(String, String)>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether a browser says this request comes from another site: `Sec-Fetch-Site` other
    /// than `same-origin` / `none` (typed in the address bar), or an `Origin` that is not this
    /// server. A request without either header (another `codex login`, curl) is not.
    pub(crate) fn is_cross_site(&self, port: u16) -> bool {
        let foreign_fetch = self.header("sec-fetch-site").is_some_and(|site| {
            !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none")
        });
        let foreign_origin = self.header("origin").is_some_and(|origin| {
            let own = [
                format!("http://localhost:{port}"),
                format!("http://127.0.0.1:{port}"),
            ];
            !own.iter().any(|own| own.eq_ignore_ascii_case(origin))
        });
        foreign_fetch || foreign_origin
    }
}

pub(crate) enum ReadRequest {
    Request(Request),
    /// The head was not complete by the connection's deadline.
    TimedOut,
    /// Closed early, too large, or not an origin-form HTTP request.
    Invalid,
}

/// Read the request head; the whole read must finish by `deadline` (each read's timeout is the
/// time that is left, so a client sending a byte at a time cannot stretch it).
pub(crate) fn read_request(stream: &mut TcpStream, deadline: Instant) -> ReadRequest {
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    loop {
        let Some(remaining) = deadline
            .checked_duration_since(Instant::now())
            .filter(|remaining| !remaining.is_zero())
        else {
            return ReadRequest::TimedOut;
        };
        if stream.set_read_timeout(Some(remaining)).is_err() {
            return ReadRequest::Invalid;
        }
        let read = match stream.read(&mut buffer) {
            Ok(0) => return ReadRequest::Invalid,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return ReadRequest::TimedOut;
            }
            Err(_) => return ReadRequest::Invalid,
        };
        if head.len() + read > MAX_REQUEST_HEAD {
            return ReadRequest::Invalid;
        }
        let search_from = head.len().saturating_sub(3);
        head.extend_from_slice(&buffer[..read]);
        if head[search_from..]
            .windows(4)
            .any(|window| window == b"\r\n\r\n")
        {
            break;
        }
    }
    parse_head(&head).map_or(ReadRequest::Invalid, ReadRequest::Request)
}

pub(crate) fn parse_head(head: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (_method, target) = (parts.next()?, parts.next()?);
    if !target.starts_with('/') {
        return None;
    }
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Some(Request {
        target: target.to_string(),
        headers,
    })
}
