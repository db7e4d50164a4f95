//! Human-readable durations for status lines.
//!
//! - [`format_duration`]: `250ms`, `1.50s`, `1m 05s`.
//! - [`format_elapsed`]: the same for the time since an [`Instant`].
//!
//! Values are truncated, never rounded up, so a duration is never shown in a larger unit than
//! it has reached (`59.999s` is `59.99s`, not `60.00s`).

use std::time::{Duration, Instant};

/// Format `duration`:
///
/// - under one second: whole milliseconds (`0ms`, `250ms`, `999ms`);
/// - under one minute: seconds with two decimals (`1.00s`, `1.50s`, `59.99s`);
/// - otherwise: minutes and two-digit seconds (`1m 00s`, `1m 05s`, `61m 01s`).
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1_000 {
        return format!("{millis}ms");
    }
    let seconds = duration.as_secs();
    if seconds < 60 {
        let hundredths = duration.subsec_millis() / 10;
        return format!("{seconds}.{hundredths:02}s");
    }
    format!("{}m {:02}s", seconds / 60, seconds % 60)
}

/// Format the time elapsed since `start` with [`format_duration`].
pub fn format_elapsed(start: Instant) -> String {
    format_duration(start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(value: u64) -> String {
        format_duration(Duration::from_millis(value))
    }

    #[test]
    fn milliseconds_below_one_second() {
        assert_eq!(millis(0), "0ms");
        assert_eq!(format_duration(Duration::from_micros(999)), "0ms");
        assert_eq!(millis(1), "1ms");
        assert_eq!(millis(250), "250ms");
        assert_eq!(millis(999), "999ms");
        assert_eq!(format_duration(Duration::from_nanos(999_999_999)), "999ms");
    }

    #[test]
    fn seconds_with_two_decimals_below_one_minute() {
        assert_eq!(millis(1_000), "1.00s");
        assert_eq!(millis(1_009), "1.00s");
        assert_eq!(millis(1_010), "1.01s");
        assert_eq!(millis(1_500), "1.50s");
        assert_eq!(millis(12_345), "12.34s");
        assert_eq!(millis(59_999), "59.99s");
    }

    #[test]
    fn minutes_and_seconds_from_one_minute() {
        assert_eq!(millis(60_000), "1m 00s");
        assert_eq!(millis(65_000), "1m 05s");
        assert_eq!(millis(65_999), "1m 05s");
        assert_eq!(millis(119_999), "1m 59s");
        assert_eq!(millis(120_000), "2m 00s");
        assert_eq!(millis(3_661_000), "61m 01s");
    }

    #[test]
    fn elapsed_since_an_instant() {
        // 90 s ago; allow a slow machine a few seconds between the two clock reads.
        let earlier = Instant::now()
            .checked_sub(Duration::from_secs(90))
            .expect("the monotonic clock has run for more than 90 s");
        let text = format_elapsed(earlier);
        assert!(text.starts_with("1m 3") && text.ends_with('s'), "{text}");
    }
}
