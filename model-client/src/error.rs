//! Errors of the model client. Server text in them is bounded and never holds the bearer.

use std::fmt;

use codex_config::StreamLimits;

/// Why a request is retried (and, when the budget runs out, why it failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryCause {
    /// The server answered 5xx or 429 while the stream was opening.
    Status { status: u16, message: String },
    /// No response: connection refused, DNS failure, TLS, timeout, reset.
    Transport(String),
    /// EOF (or a broken connection) before `response.completed`.
    StreamClosed,
    /// `stream_idle_timeout_ms` passed without a byte.
    IdleTimeout,
    /// A retryable `response.failed`.
    Failed {
        code: Option<String>,
        message: String,
    },
}

impl fmt::Display for RetryCause {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryCause::Status { status, message } if message.is_empty() => {
                write!(formatter, "unexpected status {}", status_line(*status))
            }
            RetryCause::Status { status, message } => {
                write!(
                    formatter,
                    "unexpected status {}: {message}",
                    status_line(*status)
                )
            }
            RetryCause::Transport(error) => write!(formatter, "{error}"),
            RetryCause::StreamClosed => write!(
                formatter,
                "stream disconnected before completion: stream closed before response.completed"
            ),
            RetryCause::IdleTimeout => write!(
                formatter,
                "stream disconnected before completion: idle timeout waiting for SSE"
            ),
            RetryCause::Failed { message, .. } => {
                write!(
                    formatter,
                    "stream disconnected before completion: {message}"
                )
            }
        }
    }
}

/// `429 Too Many Requests`.
pub(crate) fn status_line(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} {reason}")
    }
}

/// Which stream limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamLimit {
    ResponseBytes,
    EventBytes,
    OutputItems,
}

impl StreamLimit {
    /// The configuration key.
    pub fn key(self) -> &'static str {
        match self {
            StreamLimit::ResponseBytes => "model_stream_limits.max_response_bytes",
            StreamLimit::EventBytes => "model_stream_limits.max_event_bytes",
            StreamLimit::OutputItems => "model_stream_limits.max_output_items",
        }
    }

    pub(crate) fn value(self, limits: &StreamLimits) -> u64 {
        match self {
            StreamLimit::ResponseBytes => limits.max_response_bytes,
            StreamLimit::EventBytes => limits.max_event_bytes,
            StreamLimit::OutputItems => limits.max_output_items,
        }
    }
}

/// A streamed request failed. Every variant ends the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The retry budget ran out. `requests` counts every request made for this call.
    #[error("{}", retries_exhausted(url, *requests, last))]
    RetriesExhausted {
        url: String,
        requests: u64,
        last: RetryCause,
    },
    /// A 4xx other than 429 (and 401 handled below): not retried. The body is included, as
    /// upstream does.
    #[error("unexpected status {} from `{url}`: {body}", status_line(*status))]
    UnexpectedStatus {
        url: String,
        status: u16,
        body: String,
    },
    /// 401 that a token refresh did not fix, or credentials that cannot be refreshed.
    #[error(
        "`{url}` refused the credentials (401 Unauthorized{}): {message}; sign in again with `codex login` or check the provider's API key",
        if *refreshed { " after a token refresh" } else { "" }
    )]
    Unauthorized {
        url: String,
        refreshed: bool,
        message: String,
    },
    /// Refreshing ChatGPT tokens after a 401 failed.
    #[error("{0}")]
    SignIn(String),
    /// The provider needs OpenAI credentials and none are available.
    #[error(
        "not signed in: run `codex login`, or set `CODEX_API_KEY` for `codex exec`, to use provider `{provider}`"
    )]
    NotSignedIn { provider: String },
    /// Stored credentials exist but this build cannot send them.
    #[error("{0}")]
    UnsupportedCredentials(String),
    /// Upstream text.
    #[error(
        "Your input exceeds the context window of this model. Please adjust your input and try again."
    )]
    ContextWindowExceeded,
    /// Upstream text.
    #[error("Quota exceeded. Check your plan and billing details.")]
    QuotaExceeded,
    /// Upstream text.
    #[error(
        "To use Codex with your ChatGPT plan, upgrade to Plus: https://openai.com/chatgpt/pricing."
    )]
    UsageNotIncluded,
    /// A 429 `usage_limit_reached`.
    #[error("You've hit your usage limit.{}", resets_in.as_ref().map(|text| format!(" Try again in {text}.")).unwrap_or_default())]
    UsageLimitReached { resets_in: Option<String> },
    /// `response.incomplete`.
    #[error("incomplete response returned, reason: `{}`", reason.as_deref().unwrap_or("unknown"))]
    Incomplete { reason: Option<String> },
    /// The response exceeded a `[model_stream_limits]` bound; nothing more was read.
    #[error(
        "the model response exceeded `{}` ({max}); the stream was cut. Raise the limit in config.toml if the response is legitimate",
        limit.key()
    )]
    LimitExceeded { limit: StreamLimit, max: u64 },
    /// The stream was cancelled through its [`crate::CancelHandle`].
    #[error("the model request was cancelled")]
    Cancelled,
    /// Reading stored credentials failed.
    #[error("{0}")]
    Auth(String),
    /// An internal failure (the worker thread ended without a result).
    #[error("the model client stopped unexpectedly: {0}")]
    Internal(String),
}

fn retries_exhausted(url: &str, requests: u64, last: &RetryCause) -> String {
    let plural = if requests == 1 { "" } else { "s" };
    let tally = format!("{requests} request{plural} to `{url}`");
    match last {
        RetryCause::Status { status: 500, .. } => format!(
            "We\u{2019}re currently experiencing high demand, which may cause temporary errors. ({tally}, last status: 500 Internal Server Error)"
        ),
        RetryCause::Status { status, .. } => format!(
            "exceeded retry limit, last status: {} ({tally})",
            status_line(*status)
        ),
        RetryCause::Transport(error) => format!(
            "could not reach `{url}`: {error} ({requests} request{plural}); check the provider's `base_url` and your network"
        ),
        other => format!("{other} ({tally})"),
    }
}

/// The configuration cannot produce a working provider. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveProviderError {
    /// Upstream text: ``Model provider `x` not found``.
    #[error(
        "Model provider `{0}` not found; define `[model_providers.{0}]` or pick one of `openai`, `ollama`, `lmstudio`"
    )]
    UnknownProvider(String),
    /// Upstream text plus the provider's instructions.
    #[error("Missing environment variable: `{var}`.{}", instructions.as_ref().map(|text| format!(" {text}")).unwrap_or_default())]
    MissingEnvKey {
        var: String,
        instructions: Option<String>,
    },
    /// A project layer (`.codex/config.toml`) chose where credentials go.
    #[error(
        "`{key}` is set by the {layer} layer, which may not send your credentials to a new host; set it in your user config.toml or with `-c` instead"
    )]
    ProjectLayerRedirect { key: String, layer: String },
    #[error("`{key}` must be an http:// or https:// URL, not `{url}`")]
    InvalidBaseUrl { key: String, url: String },
    /// `CODEX_OSS_PORT` is not a port number.
    #[error("`CODEX_OSS_PORT` must be a port number, not `{0}`")]
    InvalidOssPort(String),
}

/// Server text made safe to keep in an error: at most `limit` characters, control characters
/// (other than newline) replaced by spaces, and every occurrence of `secret` removed.
pub(crate) fn bounded_text(
    text: &str,
    limit: usize,
    secret: Option<&codex_login::Secret>,
) -> String {
    let text = match secret {
        Some(secret) => secret.redact_in(text),
        None => text.to_string(),
    };
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .take(limit)
        .collect();
    if text.chars().count() > limit {
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_messages() {
        let url = "http://127.0.0.1:1/v1/responses".to_string();
        let exhausted = |last| ModelError::RetriesExhausted {
            url: url.clone(),
            requests: 3,
            last,
        };
        assert_eq!(
            exhausted(RetryCause::Status {
                status: 500,
                message: String::new()
            })
            .to_string(),
            "We\u{2019}re currently experiencing high demand, which may cause temporary errors. (3 requests to `http://127.0.0.1:1/v1/responses`, last status: 500 Internal Server Error)"
        );
        assert_eq!(
            exhausted(RetryCause::Status {
                status: 429,
                message: "slow".into()
            })
            .to_string(),
            "exceeded retry limit, last status: 429 Too Many Requests (3 requests to `http://127.0.0.1:1/v1/responses`)"
        );
        assert_eq!(
            exhausted(RetryCause::StreamClosed).to_string(),
            "stream disconnected before completion: stream closed before response.completed (3 requests to `http://127.0.0.1:1/v1/responses`)"
        );
        assert_eq!(
            ModelError::RetriesExhausted {
                url: url.clone(),
                requests: 1,
                last: RetryCause::Transport("connection refused".into())
            }
            .to_string(),
            "could not reach `http://127.0.0.1:1/v1/responses`: connection refused (1 request); check the provider's `base_url` and your network"
        );
        assert_eq!(
            ResolveProviderError::MissingEnvKey {
                var: "MOCK_API_KEY".into(),
                instructions: Some("Create a key at https://example.".into())
            }
            .to_string(),
            "Missing environment variable: `MOCK_API_KEY`. Create a key at https://example."
        );
        assert_eq!(
            ModelError::UsageLimitReached {
                resets_in: Some("3 hours 32 minutes".into())
            }
            .to_string(),
            "You've hit your usage limit. Try again in 3 hours 32 minutes."
        );
    }

    #[test]
    fn bounded_text_redacts_and_cuts() {
        let secret = codex_login::Secret::new("sk-secret-123");
        assert_eq!(
            bounded_text("bad key sk-secret-123\u{1b}[2J done", 100, Some(&secret)),
            "bad key <redacted> [2J done"
        );
        assert_eq!(
            bounded_text(&"x".repeat(50), 10, None),
            format!("{}…", "x".repeat(10))
        );
    }
}
