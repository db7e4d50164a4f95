//! The typed events of a response stream, and how one SSE record becomes one.

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;

use crate::error::RetryCause;
use crate::rate_limits::RateLimitSnapshot;
use crate::wire::{ResponseItem, TokenUsage};

/// What [`crate::ResponseStream`] yields, in order. The stream ends after
/// [`ResponseEvent::Completed`] or an error.
///
/// Items arrive as `OutputItemDone`. Messages and reasoning come as soon as the server sends
/// them; once a tool call has arrived, it and every later item are held back until
/// `response.completed`, so a call is only ever delivered from a response that completed (a
/// retried attempt never leaves a call behind that the agent might have started).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    /// `response.created`.
    Created { response_id: Option<String> },
    /// `response.output_item.done`: a complete item to record in the history.
    OutputItemDone(ResponseItem),
    /// `response.output_text.delta`.
    OutputTextDelta {
        item_id: Option<String>,
        delta: String,
    },
    /// `response.reasoning_summary_text.delta`.
    ReasoningSummaryDelta { summary_index: u64, delta: String },
    /// `response.reasoning_summary_part.added`: a new summary section starts.
    ReasoningSummaryPartAdded { summary_index: u64 },
    /// `response.reasoning_text.delta` (raw reasoning).
    ReasoningContentDelta { content_index: u64, delta: String },
    /// From the `x-codex-*` response headers, when present.
    RateLimits(RateLimitSnapshot),
    /// The request is about to be sent again.
    Retrying(RetryNotice),
    /// `response.completed`: the response is done.
    Completed {
        response_id: String,
        usage: Option<TokenUsage>,
    },
}

/// Which budget a retry uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryPhase {
    /// Opening the stream failed (`request_max_retries`).
    Request,
    /// The stream failed after it opened (`stream_max_retries`).
    Stream,
}

/// One retry: the `attempt`-th of at most `max`, after `delay`, because of `cause`. Items of the
/// failed attempt already delivered (messages, reasoning) are resent with the new request, as
/// upstream does; the agent keeps them in its history.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
    pub phase: RetryPhase,
    pub attempt: u64,
    pub max: u64,
    pub delay: Duration,
    pub cause: RetryCause,
}

impl RetryNotice {
    /// Upstream's line: `Reconnecting... n/max (<cause>)`.
    pub fn message(&self) -> String {
        format!(
            "Reconnecting... {}/{} ({})",
            self.attempt, self.max, self.cause
        )
    }
}

/// One SSE record, classified.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parsed {
    /// Forwarded as is.
    Event(ResponseEvent),
    ItemDone(ResponseItem),
    Completed {
        response_id: String,
        usage: Option<TokenUsage>,
    },
    Failed {
        code: Option<String>,
        message: Option<String>,
    },
    Incomplete {
        reason: Option<String>,
    },
    /// Unknown type, not JSON, or not the shape we need.
    Skipped,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    delta: Option<Cow<'a, str>>,
    #[serde(default)]
    item: Option<ResponseItem>,
    #[serde(default)]
    response: Option<RawResponse>,
    #[serde(default)]
    summary_index: Option<u64>,
    #[serde(default)]
    content_index: Option<u64>,
    #[serde(default)]
    item_id: Option<String>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    error: Option<RawError>,
    #[serde(default)]
    incomplete_details: Option<RawIncomplete>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<RawInputDetails>,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    output_tokens_details: Option<RawOutputDetails>,
    #[serde(default)]
    total_tokens: u64,
}

#[derive(Deserialize)]
struct RawInputDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Deserialize)]
struct RawOutputDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

#[derive(Deserialize)]
struct RawError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct RawIncomplete {
    #[serde(default)]
    reason: Option<String>,
}

impl From<RawUsage> for TokenUsage {
    fn from(raw: RawUsage) -> TokenUsage {
        TokenUsage {
            input_tokens: raw.input_tokens,
            cached_input_tokens: raw.input_tokens_details.map_or(0, |d| d.cached_tokens),
            output_tokens: raw.output_tokens,
            reasoning_output_tokens: raw.output_tokens_details.map_or(0, |d| d.reasoning_tokens),
            total_tokens: raw.total_tokens,
        }
    }
}

/// Classify the `data` of one record. The `event:` line is not needed: every Responses event
/// names its type in the JSON.
pub(crate) fn parse_record(data: &[u8]) -> Parsed {
    let Ok(raw) = serde_json::from_slice::<RawEvent<'_>>(data) else {
        return Parsed::Skipped;
    };
    let delta = |raw: RawEvent<'_>| raw.delta.map(Cow::into_owned);
    match raw.kind.as_ref() {
        "response.output_text.delta" => {
            let item_id = raw.item_id.clone();
            match delta(raw) {
                Some(delta) => Parsed::Event(ResponseEvent::OutputTextDelta { item_id, delta }),
                None => Parsed::Skipped,
            }
        }
        "response.reasoning_summary_text.delta" => {
            let summary_index = raw.summary_index.unwrap_or(0);
            match delta(raw) {
                Some(delta) => Parsed::Event(ResponseEvent::ReasoningSummaryDelta {
                    summary_index,
                    delta,
                }),
                None => Parsed::Skipped,
            }
        }
        "response.reasoning_text.delta" => {
            let content_index = raw.content_index.unwrap_or(0);
            match delta(raw) {
                Some(delta) => Parsed::Event(ResponseEvent::ReasoningContentDelta {
                    content_index,
                    delta,
                }),
                None => Parsed::Skipped,
            }
        }
        "response.reasoning_summary_part.added" => {
            Parsed::Event(ResponseEvent::ReasoningSummaryPartAdded {
                summary_index: raw.summary_index.unwrap_or(0),
            })
        }
        "response.output_item.done" => match raw.item {
            Some(item) => Parsed::ItemDone(item),
            None => Parsed::Skipped,
        },
        "response.created" => Parsed::Event(ResponseEvent::Created {
            response_id: raw.response.and_then(|response| response.id),
        }),
        "response.completed" => match raw.response {
            Some(response) => Parsed::Completed {
                response_id: response.id.unwrap_or_default(),
                usage: response.usage.map(TokenUsage::from),
            },
            None => Parsed::Skipped,
        },
        "response.failed" => {
            let error = raw.response.and_then(|response| response.error);
            Parsed::Failed {
                code: error.as_ref().and_then(|error| error.code.clone()),
                message: error.and_then(|error| error.message),
            }
        }
        "response.incomplete" => Parsed::Incomplete {
            reason: raw
                .response
                .and_then(|response| response.incomplete_details)
                .and_then(|details| details.reason),
        },
        _ => Parsed::Skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_driven_event_kinds() {
        let cases: Vec<(&str, Parsed)> = vec![
            (
                r#"{"type":"response.output_text.delta","item_id":"m1","delta":"Hel"}"#,
                Parsed::Event(ResponseEvent::OutputTextDelta {
                    item_id: Some("m1".into()),
                    delta: "Hel".into(),
                }),
            ),
            (
                r#"{"type":"response.reasoning_summary_text.delta","summary_index":1,"delta":"\u00e9\n"}"#,
                Parsed::Event(ResponseEvent::ReasoningSummaryDelta {
                    summary_index: 1,
                    delta: "é\n".into(),
                }),
            ),
            (
                r#"{"type":"response.reasoning_summary_part.added","summary_index":2}"#,
                Parsed::Event(ResponseEvent::ReasoningSummaryPartAdded { summary_index: 2 }),
            ),
            (
                r#"{"type":"response.reasoning_text.delta","content_index":0,"delta":"x"}"#,
                Parsed::Event(ResponseEvent::ReasoningContentDelta {
                    content_index: 0,
                    delta: "x".into(),
                }),
            ),
            (
                r#"{"type":"response.completed","response":{"id":"r1","usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":20},"output_tokens":10,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":110}}}"#,
                Parsed::Completed {
                    response_id: "r1".into(),
                    usage: Some(TokenUsage {
                        input_tokens: 100,
                        cached_input_tokens: 20,
                        output_tokens: 10,
                        reasoning_output_tokens: 3,
                        total_tokens: 110,
                    }),
                },
            ),
            (
                r#"{"type":"response.failed","response":{"error":{"code":"rate_limit_exceeded","message":"Try again in 1s"}}}"#,
                Parsed::Failed {
                    code: Some("rate_limit_exceeded".into()),
                    message: Some("Try again in 1s".into()),
                },
            ),
            (
                r#"{"type":"response.incomplete","response":{"incomplete_details":{"reason":"max_output_tokens"}}}"#,
                Parsed::Incomplete {
                    reason: Some("max_output_tokens".into()),
                },
            ),
            (
                r#"{"type":"response.created","response":{"id":"r1"}}"#,
                Parsed::Event(ResponseEvent::Created {
                    response_id: Some("r1".into()),
                }),
            ),
            (r#"{"type":"response.in_progress"}"#, Parsed::Skipped),
            (r#"{"type":"response.output_text.delta"}"#, Parsed::Skipped),
            (r#"{"type":"response.output_item.done"}"#, Parsed::Skipped),
            ("not json", Parsed::Skipped),
            ("[DONE]", Parsed::Skipped),
            (r#"{"no_type":1}"#, Parsed::Skipped),
        ];
        for (data, expected) in cases {
            assert_eq!(parse_record(data.as_bytes()), expected, "{data}");
        }
    }

    #[test]
    fn items_are_parsed_whole() {
        let data = r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","id":"fc","status":"completed","call_id":"c1","name":"exec_command","arguments":"{}"}}"#;
        let Parsed::ItemDone(item) = parse_record(data.as_bytes()) else {
            panic!("not an item");
        };
        assert!(item.is_tool_call());
    }
}
