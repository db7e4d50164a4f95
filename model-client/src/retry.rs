//! Retry delays: exponential backoff with jitter, `Retry-After` (seconds or HTTP date), and the
//! "try again in Xs" hint of `response.failed`.

use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryDelays {
    /// The first backoff delay (doubled per attempt, ±10 % jitter).
    pub base: Duration,
    /// No single wait is longer, whatever the server asks.
    pub max: Duration,
}

impl Default for RetryDelays {
    fn default() -> Self {
        RetryDelays {
            base: Duration::from_millis(200),
            max: Duration::from_secs(60),
        }
    }
}

impl RetryDelays {
    /// The wait before retry `attempt` (1-based): the server's hint when it gave one, else
    /// `base × 2^(attempt-1)` times a jitter in [0.9, 1.1); never more than `max`.
    pub(crate) fn delay(&self, attempt: u64, hint: Option<Duration>) -> Duration {
        let delay = hint.unwrap_or_else(|| {
            let exponent = u32::try_from(attempt.saturating_sub(1))
                .unwrap_or(u32::MAX)
                .min(30);
            let backoff = self.base.saturating_mul(1u32 << exponent);
            backoff.mul_f64(jitter())
        });
        delay.min(self.max)
    }
}

/// A pseudo-random factor in [0.9, 1.1).
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let random = std::collections::hash_map::RandomState::new().hash_one(nanos);
    0.9 + (random % 1_000_000) as f64 / 1_000_000.0 * 0.2
}

/// `Retry-After`: delay-seconds, or an HTTP date (IMF-fixdate) relative to `now`. A date in the
/// past is a zero delay.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → unix seconds.
fn parse_http_date(value: &str) -> Option<u64> {
    let rest = value.split_once(", ").map_or(value, |(_, rest)| rest);
    let mut parts = rest.split_ascii_whitespace();
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: u32 = parts.next()?.parse().ok()?;
    let mut clock = parts
        .next()?
        .split(':')
        .map(|part| part.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let rfc3339 = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    let seconds = codex_login::Timestamp::parse_rfc3339(&rfc3339)?.unix_seconds();
    u64::try_from(seconds).ok()
}

/// The delay in "… try again in 11.054s / 28ms / 35 seconds …" (case-insensitive).
pub(crate) fn parse_try_again_in(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let start = lower.find("try again in")? + "try again in".len();
    let rest = lower[start..].trim_start();
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let number: f64 = rest[..number_end].parse().ok()?;
    let unit = rest[number_end..].trim_start();
    let seconds = if unit.starts_with("ms") || unit.starts_with("millisecond") {
        number / 1000.0
    } else if unit.starts_with('s') {
        number
    } else if unit.starts_with("min") || unit.starts_with('m') {
        number * 60.0
    } else {
        return None;
    };
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", UNIX_EPOCH),
            Some(Duration::from_secs(1_767_225_600))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 25:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn try_parse_retry_after_hints() {
        assert_eq!(
            parse_try_again_in("Rate limit reached. Please try again in 11.054s. Visit …"),
            Some(Duration::from_secs_f64(11.054))
        );
        assert_eq!(
            parse_try_again_in("Please Try Again In 28ms."),
            Some(Duration::from_millis(28))
        );
        assert_eq!(
            parse_try_again_in("try again in 35 seconds"),
            Some(Duration::from_secs(35))
        );
        assert_eq!(parse_try_again_in("try again later"), None);
        assert_eq!(parse_try_again_in("no hint"), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let delays = RetryDelays {
            base: Duration::from_millis(200),
            max: Duration::from_secs(1),
        };
        for (attempt, nominal) in [(1, 200.0), (2, 400.0), (3, 800.0)] {
            let millis = delays.delay(attempt, None).as_secs_f64() * 1000.0;
            assert!(
                millis >= nominal * 0.9 && millis < nominal * 1.1,
                "attempt {attempt}: {millis}"
            );
        }
        assert_eq!(delays.delay(10, None), Duration::from_secs(1));
        assert_eq!(delays.delay(u64::MAX, None), Duration::from_secs(1));
        assert_eq!(
            delays.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(1)
        );
        assert_eq!(
            delays.delay(1, Some(Duration::from_millis(5))),
            Duration::from_millis(5)
        );
    }
}
