//! Reading a failed response: transport error texts, bounded and redacted error bodies, and
//! the 429s that must not be retried.

use std::io::Read;

use codex_login::Secret;

use crate::error::{ModelError, bounded_text};

/// Largest error body read.
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;
/// Largest server message kept in an error.
pub(crate) const MAX_MESSAGE_CHARS: usize = 2000;

pub(crate) fn transport_message(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        ureq::Error::HostNotFound => "failed to lookup address information".to_string(),
        ureq::Error::Timeout(_) => "timed out waiting for the server".to_string(),
        other => bounded_text(&other.to_string(), MAX_MESSAGE_CHARS, None),
    }
}

/// The (bounded, redacted) body of an error response.
pub(crate) fn error_body(
    response: ureq::http::Response<ureq::Body>,
    bearer: Option<&Secret>,
) -> String {
    let mut bytes = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(MAX_ERROR_BODY_BYTES)
        .read_to_end(&mut bytes);
    bounded_text(&String::from_utf8_lossy(&bytes), MAX_MESSAGE_CHARS, bearer)
}

/// `error.message` of a JSON error body, else the body.
pub(crate) fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| {
            json.pointer("/error/message")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.to_string())
}

/// A 429 that must not be retried: usage limit, plan without Codex, or no quota.
pub(crate) fn fatal_429(body: &str) -> Option<ModelError> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = json.get("error")?;
    let field = |name: &str| error.get(name).and_then(serde_json::Value::as_str);
    let kind = field("type").or_else(|| field("code"))?;
    match kind {
        "usage_limit_reached" => Some(ModelError::UsageLimitReached {
            resets_in: error
                .get("resets_in_seconds")
                .and_then(serde_json::Value::as_u64)
                .map(human_duration),
        }),
        "usage_not_included" => Some(ModelError::UsageNotIncluded),
        "insufficient_quota" => Some(ModelError::QuotaExceeded),
        _ => None,
    }
}

/// `3 hours 32 minutes`, `1 day 2 hours`, `less than a minute`.
fn human_duration(seconds: u64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    let unit =
        |count: u64, name: &str| format!("{count} {name}{}", if count == 1 { "" } else { "s" });
    let parts: Vec<String> = [(days, "day"), (hours, "hour"), (minutes, "minute")]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .take(2)
        .map(|(count, name)| unit(count, name))
        .collect();
    if parts.is_empty() {
        "less than a minute".to_string()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_429_kinds_and_durations() {
        assert_eq!(
            fatal_429(r#"{"error":{"type":"usage_limit_reached","resets_in_seconds":12720}}"#),
            Some(ModelError::UsageLimitReached {
                resets_in: Some("3 hours 32 minutes".into())
            })
        );
        assert_eq!(
            fatal_429(r#"{"error":{"code":"insufficient_quota"}}"#),
            Some(ModelError::QuotaExceeded)
        );
        assert_eq!(
            fatal_429(r#"{"error":{"code":"rate_limit_exceeded"}}"#),
            None
        );
        assert_eq!(fatal_429("busy"), None);
        assert_eq!(human_duration(90_061), "1 day 1 hour");
        assert_eq!(human_duration(30), "less than a minute");
        assert_eq!(
            error_message(r#"{"error":{"message":"slow down"}}"#),
            "slow down"
        );
    }
}
