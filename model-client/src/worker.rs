//! The worker thread of one streamed request: open (with request-level retries), read the SSE
//! stream (with stream-level retries), forward events, enforce the stream limits.
//!
//! Budgets, per issue 11: while opening, 5xx, 429 and transport errors (connection refused and
//! DNS failures included) are retried up to `request_max_retries`, honouring `Retry-After`;
//! each stream attempt gets that budget afresh. After the stream opened, EOF before
//! `response.completed`, `stream_idle_timeout_ms` without a byte, and retryable
//! `response.failed` retry the whole request up to `stream_max_retries`. So a call makes at
//! most `(1 + stream_max_retries) × (1 + request_max_retries)` requests, plus one after a
//! ChatGPT token refresh; with both budgets 0, exactly one.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, SystemTime};

use codex_login::Secret;

use crate::auth::{RequestAuth, refresh_after_unauthorized, request_auth};
use crate::client::Inner;
use crate::error::{ModelError, RetryCause, StreamLimit, bounded_text};
use crate::events::{Parsed, ResponseEvent, RetryNotice, RetryPhase, parse_record};
use crate::provider::valid_header;
use crate::rate_limits::RateLimitSnapshot;
use crate::request::{Request, request_body};
use crate::retry::{parse_retry_after, parse_try_again_in};
use crate::sse::SseParser;
use crate::status::{MAX_MESSAGE_CHARS, error_body, error_message, fatal_429, transport_message};
use crate::stream::{Cancellation, Message};
use crate::wire::ResponseItem;

/// Headers the client sets itself; configured headers with these names are skipped.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "accept",
    "content-type",
    "content-length",
    "host",
    "originator",
    "user-agent",
    "session-id",
    "thread-id",
    "x-client-request-id",
    "chatgpt-account-id",
];

/// How one stream attempt ended.
enum StreamEnd {
    Completed,
    Retry {
        cause: RetryCause,
        hint: Option<Duration>,
    },
    Fatal(ModelError),
    /// Cancelled, or the consumer went away.
    Stopped,
}

/// An opened stream.
struct Opened {
    response: ureq::http::Response<ureq::Body>,
    auth: RequestAuth,
}

pub(crate) struct Worker {
    inner: Arc<Inner>,
    request: Request,
    sender: SyncSender<Message>,
    cancellation: Arc<Cancellation>,
    /// Requests made so far (for the final error).
    requests: u64,
    /// Whether a ChatGPT token refresh was already tried.
    refreshed: bool,
    /// Whether a final message (`Completed` or an error) was sent.
    finished: bool,
    /// The URL of the latest request.
    url: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.sender.try_send(Message::Error(ModelError::Internal(
                "the stream worker stopped".into(),
            )));
        }
    }
}

impl Worker {
    pub(crate) fn new(
        inner: Arc<Inner>,
        request: Request,
        sender: SyncSender<Message>,
        cancellation: Arc<Cancellation>,
    ) -> Worker {
        Worker {
            inner,
            request,
            sender,
            cancellation,
            requests: 0,
            refreshed: false,
            finished: false,
            url: String::new(),
        }
    }

    /// `false` when the stream was cancelled or the consumer is gone.
    fn send(&self, event: ResponseEvent) -> bool {
        !self.cancellation.is_cancelled() && self.sender.send(Message::Event(event)).is_ok()
    }

    fn fail(&mut self, error: ModelError) {
        self.finished = true;
        if !self.cancellation.is_cancelled() {
            let _ = self.sender.send(Message::Error(error));
        }
    }

    pub(crate) fn run(mut self) {
        let mut carried: Vec<ResponseItem> = Vec::new();
        let max = self.inner.provider.stream_max_retries;
        let mut retries = 0;
        loop {
            let body = match request_body(
                &self.inner.defaults,
                &self.request,
                &carried,
                &self.inner.session_id,
            ) {
                Ok(body) => body,
                Err(error) => {
                    return self.fail(ModelError::Internal(format!(
                        "the request cannot be encoded: {error}"
                    )));
                }
            };
            let opened = match self.open(&body) {
                Ok(Some(opened)) => opened,
                Ok(None) => {
                    self.finished = true;
                    return;
                }
                Err(error) => return self.fail(error),
            };
            let mut delivered = Vec::new();
            match self.consume(opened, &mut delivered) {
                StreamEnd::Completed | StreamEnd::Stopped => {
                    self.finished = true;
                    return;
                }
                StreamEnd::Fatal(error) => return self.fail(error),
                StreamEnd::Retry { cause, hint } => {
                    if retries >= max {
                        let url = self.url.clone();
                        let requests = self.requests;
                        return self.fail(ModelError::RetriesExhausted {
                            url,
                            requests,
                            last: cause,
                        });
                    }
                    retries += 1;
                    carried.extend(delivered);
                    if !self.retry_wait(RetryPhase::Stream, retries, max, cause, hint) {
                        self.finished = true;
                        return;
                    }
                }
            }
        }
    }

    /// Report a retry and wait; `false` when cancelled meanwhile.
    fn retry_wait(
        &self,
        phase: RetryPhase,
        attempt: u64,
        max: u64,
        cause: RetryCause,
        hint: Option<Duration>,
    ) -> bool {
        let delay = self.inner.provider.retry_delays.delay(attempt, hint);
        let notice = RetryNotice {
            phase,
            attempt,
            max,
            delay,
            cause,
        };
        self.send(ResponseEvent::Retrying(notice)) && !self.cancellation.wait(delay)
    }

    /// Open the stream, retrying 5xx, 429 and transport errors. `Ok(None)` when cancelled.
    fn open(&mut self, body: &[u8]) -> Result<Option<Opened>, ModelError> {
        let max = self.inner.provider.request_max_retries;
        let mut retries = 0;
        loop {
            if self.cancellation.is_cancelled() {
                return Ok(None);
            }
            let auth = request_auth(
                &self.inner.provider,
                &self.inner.auth,
                self.inner.api_key_env,
            )?;
            if auth
                .bearer
                .as_ref()
                .is_some_and(|bearer| !valid_header("Authorization", bearer.expose()))
            {
                return Err(ModelError::UnsupportedCredentials(format!(
                    "the credential for provider `{}` contains characters an HTTP header cannot carry (a line break?); set it again",
                    self.inner.provider.id
                )));
            }
            let url = self.inner.provider.responses_url(auth.chatgpt);
            self.url.clone_from(&url);
            self.requests += 1;
            let (cause, hint) = match self.send_request(&url, &auth, body) {
                Err(error) => (RetryCause::Transport(transport_message(&error)), None),
                Ok(response) if response.status().is_success() => {
                    return Ok(Some(Opened { response, auth }));
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| parse_retry_after(value, SystemTime::now()));
                    let text = error_body(response, auth.bearer.as_ref());
                    match status {
                        401 => {
                            if let (Some(snapshot), false) = (&auth.refreshable, self.refreshed) {
                                self.refreshed = true;
                                refresh_after_unauthorized(&self.inner.auth, snapshot)?;
                                continue;
                            }
                            return Err(ModelError::Unauthorized {
                                url,
                                refreshed: self.refreshed,
                                message: error_message(&text),
                            });
                        }
                        429 => {
                            if let Some(fatal) = fatal_429(&text) {
                                return Err(fatal);
                            }
                            let message = error_message(&text);
                            (RetryCause::Status { status, message }, retry_after)
                        }
                        500..=599 => {
                            let message = error_message(&text);
                            (RetryCause::Status { status, message }, retry_after)
                        }
                        _ => {
                            return Err(ModelError::UnexpectedStatus {
                                url,
                                status,
                                body: text,
                            });
                        }
                    }
                }
            };
            if retries >= max {
                return Err(ModelError::RetriesExhausted {
                    url,
                    requests: self.requests,
                    last: cause,
                });
            }
            retries += 1;
            if !self.retry_wait(RetryPhase::Request, retries, max, cause, hint) {
                return Ok(None);
            }
        }
    }

    fn send_request(
        &self,
        url: &str,
        auth: &RequestAuth,
        body: &[u8],
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let inner = &self.inner;
        let session = inner.session_id.as_str();
        let mut request = inner
            .agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream")
            .header("originator", inner.originator.as_str())
            .header("User-Agent", inner.user_agent.as_str())
            .header("session-id", session)
            .header("thread-id", session)
            .header("x-client-request-id", session);
        if let Some(bearer) = &auth.bearer {
            request = request.header("Authorization", format!("Bearer {}", bearer.expose()));
        }
        if let Some(account) = auth
            .account_id
            .as_deref()
            .filter(|account| valid_header("ChatGPT-Account-ID", account))
        {
            request = request.header("ChatGPT-Account-ID", account);
        }
        for (name, value) in &inner.provider.headers {
            if !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                request = request.header(name.as_str(), value.expose());
            }
        }
        request.send(body)
    }

    /// Read the stream of `opened`, forwarding events. Items delivered live (messages and
    /// reasoning before the first tool call) are pushed to `delivered`.
    fn consume(&mut self, opened: Opened, delivered: &mut Vec<ResponseItem>) -> StreamEnd {
        let Opened { response, auth } = opened;
        let snapshot = RateLimitSnapshot::from_headers(|name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        });
        if let Some(snapshot) = snapshot
            && !self.send(ResponseEvent::RateLimits(snapshot))
        {
            return StreamEnd::Stopped;
        }
        let limits = self.inner.limits;
        let limit_error = |limit: StreamLimit| {
            StreamEnd::Fatal(ModelError::LimitExceeded {
                limit,
                max: limit.value(&limits),
            })
        };
        let mut reader = response.into_body().into_reader();
        let event_limit = usize::try_from(limits.max_event_bytes).unwrap_or(usize::MAX);
        let mut parser = SseParser::new(event_limit);
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total: u64 = 0;
        let mut state = AttemptState {
            held: Vec::new(),
            items: 0,
            end: None,
        };
        loop {
            if self.cancellation.is_cancelled() {
                return StreamEnd::Stopped;
            }
            let read = match reader.read(&mut buffer) {
                Ok(0) => {
                    return StreamEnd::Retry {
                        cause: RetryCause::StreamClosed,
                        hint: None,
                    };
                }
                Ok(read) => read,
                Err(error) => {
                    let cause = if is_timeout(&error) {
                        RetryCause::IdleTimeout
                    } else {
                        RetryCause::StreamClosed
                    };
                    return StreamEnd::Retry { cause, hint: None };
                }
            };
            total = total.saturating_add(read as u64);
            if total > limits.max_response_bytes {
                return limit_error(StreamLimit::ResponseBytes);
            }
            let mut sink = |record: crate::sse::SseRecord<'_>| {
                if state.end.is_none() {
                    self.handle(
                        parse_record(record.data),
                        &mut state,
                        delivered,
                        auth.bearer.as_ref(),
                    );
                }
            };
            if parser.feed(&buffer[..read], &mut sink).is_err() {
                return limit_error(StreamLimit::EventBytes);
            }
            if let Some(end) = state.end.take() {
                return end;
            }
        }
    }

    fn handle(
        &mut self,
        parsed: Parsed,
        state: &mut AttemptState,
        delivered: &mut Vec<ResponseItem>,
        bearer: Option<&Secret>,
    ) {
        let limits = self.inner.limits;
        match parsed {
            Parsed::Skipped => {}
            Parsed::Event(event) => {
                if !self.send(event) {
                    state.end = Some(StreamEnd::Stopped);
                }
            }
            Parsed::ItemDone(item) => {
                state.items += 1;
                if state.items > limits.max_output_items {
                    state.end = Some(StreamEnd::Fatal(ModelError::LimitExceeded {
                        limit: StreamLimit::OutputItems,
                        max: limits.max_output_items,
                    }));
                } else if item.is_tool_call() || !state.held.is_empty() {
                    state.held.push(item);
                } else if self.send(ResponseEvent::OutputItemDone(item.clone())) {
                    delivered.push(item);
                } else {
                    state.end = Some(StreamEnd::Stopped);
                }
            }
            Parsed::Completed { response_id, usage } => {
                for item in std::mem::take(&mut state.held) {
                    if !self.send(ResponseEvent::OutputItemDone(item)) {
                        state.end = Some(StreamEnd::Stopped);
                        return;
                    }
                }
                let completed = ResponseEvent::Completed { response_id, usage };
                self.finished = self.send(completed);
                state.end = Some(if self.finished {
                    StreamEnd::Completed
                } else {
                    StreamEnd::Stopped
                });
            }
            Parsed::Failed { code, message } => {
                let message = bounded_text(
                    message.as_deref().unwrap_or("response.failed"),
                    MAX_MESSAGE_CHARS,
                    bearer,
                );
                state.end = Some(match code.as_deref() {
                    Some("context_length_exceeded") => {
                        StreamEnd::Fatal(ModelError::ContextWindowExceeded)
                    }
                    Some("insufficient_quota") => StreamEnd::Fatal(ModelError::QuotaExceeded),
                    Some("usage_not_included") => StreamEnd::Fatal(ModelError::UsageNotIncluded),
                    Some("usage_limit_reached") => {
                        StreamEnd::Fatal(ModelError::UsageLimitReached { resets_in: None })
                    }
                    _ => StreamEnd::Retry {
                        hint: parse_try_again_in(&message),
                        cause: RetryCause::Failed { code, message },
                    },
                });
            }
            Parsed::Incomplete { reason } => {
                state.end = Some(StreamEnd::Fatal(ModelError::Incomplete { reason }));
            }
        }
    }
}

struct AttemptState {
    /// Items from the first tool call on, delivered at `response.completed`.
    held: Vec<ResponseItem>,
    items: u64,
    end: Option<StreamEnd>,
}

fn is_timeout(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::TimedOut
        || error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}
