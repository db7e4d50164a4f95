//! The rate-limit snapshot of the `x-codex-{primary,secondary}-*` response headers.

/// One rate-limit window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimitWindow {
    /// `x-codex-<window>-used-percent`.
    pub used_percent: f64,
    /// `x-codex-<window>-window-minutes`.
    pub window_minutes: Option<u64>,
    /// `x-codex-<window>-reset-at` (unix seconds).
    pub resets_at: Option<i64>,
}

/// The primary and secondary windows, when the server reported them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateLimitSnapshot {
    pub primary: Option<RateLimitWindow>,
    pub secondary: Option<RateLimitWindow>,
}

impl RateLimitSnapshot {
    /// From a header lookup; `None` when no window is reported.
    pub(crate) fn from_headers(
        header: impl Fn(&str) -> Option<String>,
    ) -> Option<RateLimitSnapshot> {
        let window = |name: &str| {
            let value = |field: &str| header(&format!("x-codex-{name}-{field}"));
            let used_percent = value("used-percent")?.trim().parse::<f64>().ok()?;
            if !used_percent.is_finite() {
                return None;
            }
            Some(RateLimitWindow {
                used_percent,
                window_minutes: value("window-minutes").and_then(|text| text.trim().parse().ok()),
                resets_at: value("reset-at").and_then(|text| text.trim().parse().ok()),
            })
        };
        let snapshot = RateLimitSnapshot {
            primary: window("primary"),
            secondary: window("secondary"),
        };
        (snapshot.primary.is_some() || snapshot.secondary.is_some()).then_some(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_windows_and_ignores_garbage() {
        let headers = [
            ("x-codex-primary-used-percent", "12.5"),
            ("x-codex-primary-window-minutes", "300"),
            ("x-codex-primary-reset-at", "1800000000"),
            ("x-codex-secondary-used-percent", "NaN"),
        ];
        let lookup = |name: &str| {
            headers
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let snapshot = RateLimitSnapshot::from_headers(lookup).unwrap();
        assert_eq!(
            snapshot.primary,
            Some(RateLimitWindow {
                used_percent: 12.5,
                window_minutes: Some(300),
                resets_at: Some(1_800_000_000),
            })
        );
        assert_eq!(snapshot.secondary, None);
        assert_eq!(RateLimitSnapshot::from_headers(|_| None), None);
    }
}
