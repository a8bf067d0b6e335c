//! The run's date in UTC (RFC 3339, whole seconds), as the records carry it.

use jiff::Timestamp;

/// Now, in RFC 3339.
pub(crate) fn now() -> String {
    rfc3339(Timestamp::now())
}

/// `YYYY-MM-DDTHH:MM:SSZ`: jiff prints fractional seconds when there are some, the records
/// have none.
fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix_seconds: i64) -> String {
        rfc3339(Timestamp::from_second(unix_seconds).unwrap())
    }

    #[test]
    fn known_dates() {
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
    }

    #[test]
    fn now_has_whole_seconds() {
        let text = now();
        assert_eq!(text.len(), "1970-01-01T00:00:00Z".len(), "{text}");
        assert!(text.ends_with('Z'), "{text}");
    }
}
