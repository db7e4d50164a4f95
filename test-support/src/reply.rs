//! What the scripted server answers.

use std::time::Duration;

/// One step of a streamed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes written (and flushed) as one HTTP chunk.
    Data(Vec<u8>),
    /// Wait before the next step.
    Delay(Duration),
    /// Send nothing more until the server shuts down (the connection stays open).
    Stall,
    /// Close the connection at once, without the terminating chunk.
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// Sent with `Content-Length`.
    Fixed(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked`, step by step.
    Streamed(Vec<Chunk>),
}

/// A scripted answer: status line, headers and body, or a connection that never answers or
/// closes without a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// Wait this long before writing anything.
    pub(crate) delay: Duration,
    pub(crate) kind: ReplyKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyKind {
    Respond,
    /// Read the request, then never answer.
    StallBeforeHeaders,
    /// Read the request, then close the connection.
    CloseWithoutResponse,
}

impl Reply {
    /// `status` with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Fixed(Vec::new()),
            delay: Duration::ZERO,
            kind: ReplyKind::Respond,
        }
    }

    /// `status` with a JSON body.
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply::status(status)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// `200` with `Content-Type: text/event-stream` and one chunk per event (see [`crate::sse`]).
    pub fn sse<I, S>(events: I) -> Reply
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let chunks = events
            .into_iter()
            .map(|event| Chunk::Data(event.into().into_bytes()))
            .collect();
        Reply::streamed(200, "text/event-stream", chunks)
    }

    /// `status` with a chunked body of `content_type` played step by step.
    pub fn streamed(status: u16, content_type: &str, chunks: Vec<Chunk>) -> Reply {
        Reply {
            body: Body::Streamed(chunks),
            ..Reply::status(status).header("Content-Type", content_type)
        }
    }

    /// Read the request and never answer (until shutdown).
    pub fn stall() -> Reply {
        Reply {
            kind: ReplyKind::StallBeforeHeaders,
            ..Reply::status(0)
        }
    }

    /// Read the request and close the connection without a response.
    pub fn close() -> Reply {
        Reply {
            kind: ReplyKind::CloseWithoutResponse,
            ..Reply::status(0)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A fixed body (replaces a streamed one).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = Body::Fixed(body.into());
        self
    }

    /// Wait `delay` before answering.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Put `delay` before every chunk of a streamed body.
    pub fn chunk_delay(mut self, delay: Duration) -> Reply {
        if let Body::Streamed(chunks) = &mut self.body {
            *chunks = chunks
                .drain(..)
                .flat_map(|chunk| [Chunk::Delay(delay), chunk])
                .collect();
        }
        self
    }

    /// Append steps to a streamed body (a fixed body becomes its first chunk).
    pub fn then(mut self, chunk: Chunk) -> Reply {
        match &mut self.body {
            Body::Streamed(chunks) => chunks.push(chunk),
            Body::Fixed(bytes) => {
                let first = Chunk::Data(std::mem::take(bytes));
                self.body = Body::Streamed(vec![first, chunk]);
            }
        }
        self
    }

    /// After the body so far, send nothing more (the connection stays open).
    pub fn then_stall(self) -> Reply {
        self.then(Chunk::Stall)
    }

    /// After the body so far, close the connection without finishing the body.
    pub fn then_close(self) -> Reply {
        self.then(Chunk::Close)
    }
}

pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
