//! The run's date in UTC (RFC 3339, whole seconds), as the records carry it.

use jiff::Timestamp;

/// `YYYY-MM-DDTHH:MM:SSZ` for a time in seconds since the Unix epoch (a time past jiff's range,
/// year 9999, reads as its last second).
pub(crate) fn rfc3339(unix_seconds: u64) -> String {
    let seconds = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
    let at = Timestamp::from_second(seconds).unwrap_or(Timestamp::MAX);
    whole_seconds(at)
}

/// Now, in RFC 3339.
pub(crate) fn now() -> String {
    whole_seconds(Timestamp::now())
}

/// jiff prints fractional seconds when there are some: the records have none.
fn whole_seconds(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn now_has_whole_seconds() {
        let text = now();
        assert_eq!(text.len(), "1970-01-01T00:00:00Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text}");
    }
}
