//! UTC timestamps (RFC 3339 with milliseconds, rollout file names) and version 7 UUIDs, without
//! a date library.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

/// A moment, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub u64);

impl Instant {
    pub fn now() -> Instant {
        Instant(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_millis() as u64),
        )
    }

    /// `(year, month, day, hour, minute, second, millisecond)` in UTC.
    fn parts(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let millis = self.0 % 1000;
        let seconds = self.0 / 1000;
        let days = (seconds / 86_400) as i64;
        let in_day = seconds % 86_400;
        let (year, month, day) = civil_from_days(days);
        (
            year,
            month,
            day,
            (in_day / 3600) as u32,
            (in_day % 3600 / 60) as u32,
            (in_day % 60) as u32,
            millis as u32,
        )
    }

    /// `2026-01-02T03:04:05.678Z`.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// `2026-01-02`.
    pub fn date(self) -> String {
        let (y, mo, d, ..) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}")
    }

    /// `("2026", "01", "02", "2026-01-02T03-04-05")` for the rollout path.
    pub fn rollout_parts(self) -> (String, String, String, String) {
        let (y, mo, d, h, mi, s, _) = self.parts();
        (
            format!("{y:04}"),
            format!("{mo:02}"),
            format!("{d:02}"),
            format!("{y:04}-{mo:02}-{d:02}T{h:02}-{mi:02}-{s:02}"),
        )
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A version 7 UUID (time-ordered): 48 bits of milliseconds, then random bits from the OS.
pub fn uuid_v7() -> String {
    let mut bytes = [0u8; 16];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .is_ok();
    if !filled {
        // Still unique enough for a file name: time and process id.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes.copy_from_slice(&(nanos ^ (u128::from(std::process::id()) << 64)).to_le_bytes());
    }
    let millis = Instant::now().0.to_be_bytes();
    bytes[..6].copy_from_slice(&millis[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Whether `text` is a UUID in the 8-4-4-4-12 hexadecimal form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc() {
        // 2024-02-29T12:34:56.789Z
        let instant = Instant(1_709_210_096_789);
        assert_eq!(instant.rfc3339(), "2024-02-29T12:34:56.789Z");
        assert_eq!(instant.date(), "2024-02-29");
        assert_eq!(Instant(0).rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(instant.rollout_parts().3, "2024-02-29T12-34-56".to_string());
    }

    #[test]
    fn uuids_are_v7_and_distinct() {
        let (a, b) = (uuid_v7(), uuid_v7());
        assert!(is_uuid(&a) && is_uuid(&b), "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(&a[14..15], "7");
        assert!(!is_uuid("not-a-uuid"));
    }
}
