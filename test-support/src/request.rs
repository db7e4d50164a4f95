//! A request as the scripted server received it, and how it is read off the socket.

use std::io::{self, Read};

/// Largest request (head + body) the server reads.
const MAX_REQUEST_BYTES: usize = 64 << 20;

/// One request: method, path, query, headers (names lower-cased, in order) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRequest {
    /// The 0-based position of this request among all the server received.
    pub index: usize,
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string without `?` (empty when there is none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CapturedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Every header name, lower-cased, in order.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// Read one request (`Content-Length` or chunked body) from `stream`.
pub(crate) fn read_request(stream: &mut impl Read, index: usize) -> io::Result<CapturedRequest> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(end) = find(&data, b"\r\n\r\n") {
            break end;
        }
        if data.len() > MAX_REQUEST_BYTES {
            return Err(invalid("request head too large"));
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the request head",
            ));
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let mut rest = data[head_end + 4..].to_vec();
    let body = if header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        read_chunked(stream, rest)?
    } else {
        let length: usize = header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        if length > MAX_REQUEST_BYTES {
            return Err(invalid("request body too large"));
        }
        while rest.len() < length {
            let read = stream.read(&mut buffer)?;
            if read == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
            }
            rest.extend_from_slice(&buffer[..read]);
        }
        rest.truncate(length);
        rest
    };
    Ok(CapturedRequest {
        index,
        method,
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body,
    })
}

fn read_chunked(stream: &mut impl Read, mut data: Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let mut more = |data: &mut Vec<u8>| -> io::Result<()> {
        if data.len() > MAX_REQUEST_BYTES {
            return Err(invalid("request body too large"));
        }
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
        }
        data.extend_from_slice(&buffer[..read]);
        Ok(())
    };
    loop {
        let line_end = loop {
            match find(&data, b"\r\n") {
                Some(end) => break end,
                None => more(&mut data)?,
            }
        };
        let size_text = String::from_utf8_lossy(&data[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("bad chunk size"))?;
        data.drain(..line_end + 2);
        if size == 0 {
            return Ok(body);
        }
        while data.len() < size + 2 {
            more(&mut data)?;
        }
        body.extend_from_slice(&data[..size]);
        data.drain(..size + 2);
    }
}
