//! UTC timestamps as RFC 3339 strings (`2025-08-06T20:41:36.232376Z`), as `last_refresh` stores.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with microsecond precision, serialized as RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    micros: i64,
}

impl Timestamp {
    pub fn now() -> Timestamp {
        Timestamp::from_system_time(SystemTime::now())
    }

    pub fn from_system_time(time: SystemTime) -> Timestamp {
        let micros = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Timestamp { micros }
    }

    pub fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp {
            micros: seconds.saturating_mul(1_000_000),
        }
    }

    pub fn unix_seconds(self) -> i64 {
        self.micros.div_euclid(1_000_000)
    }

    /// `self - duration`, saturating.
    pub fn minus(self, duration: Duration) -> Timestamp {
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        Timestamp {
            micros: self.micros.saturating_sub(micros),
        }
    }

    pub fn to_rfc3339(self) -> String {
        let seconds = self.micros.div_euclid(1_000_000);
        let fraction = self.micros.rem_euclid(1_000_000);
        let days = seconds.div_euclid(86_400);
        let second_of_day = seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60
        )
    }

    /// Parse `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/`z`/space separators are accepted.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let bytes = text.as_bytes();
        if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            part.bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
        let separators_ok = bytes[4] == b'-' && bytes[7] == b'-' && bytes[13] == b':';
        if !separators_ok || bytes[16] != b':' || !(1..=12).contains(&month) {
            return None;
        }
        if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut rest = &text[19..];
        let mut micros = 0;
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let padded: String = fraction[..digits]
                .chars()
                .chain("000000".chars())
                .take(6)
                .collect();
            micros = padded.parse::<i64>().ok()?;
            rest = &fraction[digits..];
        }
        let offset_seconds = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hours: i64 = rest.get(1..3)?.parse().ok()?;
                let minutes: i64 = rest.get(4..6)?.parse().ok()?;
                sign * (hours * 3600 + minutes * 60)
            }
            _ => return None,
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
                - offset_seconds;
        Some(Timestamp {
            micros: seconds * 1_000_000 + micros,
        })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_upstream_timestamps() {
        let parsed = Timestamp::parse_rfc3339("2025-08-06T20:41:36.232376Z").unwrap();
        assert_eq!(parsed.to_rfc3339(), "2025-08-06T20:41:36.232376Z");
        assert_eq!(parsed.unix_seconds(), 1_754_512_896);
    }

    #[test]
    fn accepts_offsets_nanoseconds_and_no_fraction() {
        let with_offset = Timestamp::parse_rfc3339("2025-08-06T22:41:36.232376999+02:00").unwrap();
        assert_eq!(with_offset.to_rfc3339(), "2025-08-06T20:41:36.232376Z");
        let plain = Timestamp::parse_rfc3339("2000-02-29T00:00:00Z").unwrap();
        assert_eq!(plain.to_rfc3339(), "2000-02-29T00:00:00.000000Z");
        assert_eq!(
            Timestamp::from_unix_seconds(0).to_rfc3339(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "yesterday",
            "2025-13-01T00:00:00Z",
            "2025-01-01T00:00:00",
            "2025-01-01T00:00:00.Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(text), None, "{text}");
        }
    }
}
