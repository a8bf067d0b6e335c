//! The simulator's clock: the system clock plus an offset that tests (and `POST /admin/clock`)
//! move forward, so that SMS codes expire and quotas reset without waiting for real time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The latest instant an RFC 3339 date can say (four-digit years): 9999-12-31T23:59:59.999Z.
pub(crate) const MAX_RFC3339_MS: u64 = 253_402_300_799_999;

/// The clock never goes past 9999-01-01T00:00:00Z, so that every date computed from it (at
/// most 30 days ahead: a CarKey's reactivation window) is still an RFC 3339 date.
pub(crate) const MAX_CLOCK_MS: u64 = 253_370_764_800_000;

/// The clock every time-dependent rule of the simulator reads (SMS validity, the hourly SMS
/// quota, CarKey dates). Cloning gives another handle on the same clock.
///
/// ```
/// use std::time::Duration;
/// let clock = pims_sim::SimClock::new();
/// let before = clock.now_ms();
/// clock.advance(Duration::from_secs(301));
/// assert!(clock.now_ms() >= before + 301_000);
/// assert_eq!(clock.offset(), Duration::from_secs(301));
///
/// // `SimClock::new`
/// assert_eq!(pims_sim::SimClock::new().offset(), std::time::Duration::ZERO);
/// // `SimClock::now_ms`
/// assert!(pims_sim::SimClock::new().now_ms() > 1_600_000_000_000);
/// // `SimClock::advance`
/// {
///     use std::time::Duration;
///     let clock = pims_sim::SimClock::new();
///     clock.advance(Duration::from_millis(1500));
///     assert_eq!(clock.offset().as_millis(), 1500);
///     clock.advance(Duration::MAX);
///     assert_eq!(clock.now_ms(), 253_370_764_800_000); // 9999-01-01T00:00:00Z
/// }
/// // `SimClock::offset`
/// assert!(pims_sim::SimClock::new().offset().is_zero());
/// ```
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    offset_ms: Arc<AtomicI64>,
}

impl SimClock {
    /// A clock showing the system time (offset zero).
    pub fn new() -> Self {
        SimClock::default()
    }

    /// Milliseconds since the Unix epoch, offset included (never past 9999-01-01T00:00:00Z).
    pub fn now_ms(&self) -> u64 {
        let offset = self.offset_ms.load(Ordering::SeqCst);
        system_ms().saturating_add_signed(offset).min(MAX_CLOCK_MS)
    }

    /// Moves the clock forward (time travel for tests and demos; it never goes back). It stops
    /// at 9999-01-01T00:00:00Z, so that the dates it gives stay RFC 3339 dates.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let max_offset = i64::try_from(MAX_CLOCK_MS.saturating_sub(system_ms())).unwrap_or(0);
        // fetch_update cannot fail with a closure that always answers Some.
        let _ = self
            .offset_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| {
                Some(o.saturating_add(ms).min(max_offset.max(o)))
            });
    }

    /// How far the clock may still move forward.
    pub(crate) fn headroom(&self) -> Duration {
        Duration::from_millis(MAX_CLOCK_MS.saturating_sub(self.now_ms()))
    }

    /// How far the clock has been moved forward.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.offset_ms.load(Ordering::SeqCst)).unwrap_or(0))
    }
}

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Formats milliseconds since the epoch as an RFC 3339 UTC date-time (`2025-03-01T12:00:00Z`);
/// a later instant than RFC 3339 can say is given as its last second.
pub(crate) fn rfc3339(ms: u64) -> String {
    let secs = ms.min(MAX_RFC3339_MS) / 1000;
    // A civil date-time, not a `jiff::Timestamp`: jiff's timestamps end a day before
    // 9999-12-31T23:59:59Z (so that every offset can show them), the simulator's dates do not.
    let epoch = jiff::civil::DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let at = i64::try_from(secs)
        .ok()
        .and_then(|secs| {
            epoch
                .checked_add(jiff::SignedDuration::from_secs(secs))
                .ok()
        })
        .unwrap_or(jiff::civil::DateTime::MAX);
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Whether a text is an RFC 3339 date-time: the shape of the scenario document's pattern
/// (`YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z` or an offset `±HH:MM`), a real
/// calendar date and time of day (jiff's civil date-time: month 1-12, the days the month has,
/// hours 00-23, a leap second 60) and an offset of at most 23:59. Used to validate dates in
/// scenario documents.
pub(crate) fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    // The shape first: jiff's parser takes more (a space for the `T`, a comma before the
    // fraction, offsets without the colon) than the document's pattern allows.
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    // Any fraction is a valid one: the calendar check needs the seconds only.
    is_utc_offset(rest) && s[..19].parse::<jiff::civil::DateTime>().is_ok()
}

/// `Z` (either case) or `±HH:MM` with HH at most 23 and MM at most 59 (RFC 3339's
/// `time-offset`).
fn is_utc_offset(s: &str) -> bool {
    let two_digits = |hi: u8, lo: u8, max: u8| {
        hi.is_ascii_digit() && lo.is_ascii_digit() && (hi - b'0') * 10 + (lo - b'0') <= max
    };
    match *s.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => two_digits(h1, h2, 23) && two_digits(m1, m2, 59),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599_999), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_800_000), "2100-01-01T00:00:00Z");
        assert_eq!(rfc3339(MAX_CLOCK_MS), "9999-01-01T00:00:00Z");
        assert_eq!(rfc3339(MAX_RFC3339_MS), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn the_clock_stops_in_year_9999() {
        let clock = SimClock::new();
        clock.advance(Duration::from_secs(10 * 366 * 86_400));
        clock.advance(Duration::MAX);
        assert_eq!(clock.now_ms(), MAX_CLOCK_MS);
        assert!(clock.headroom().is_zero());
        clock.advance(Duration::from_secs(1));
        assert_eq!(rfc3339(clock.now_ms()), "9999-01-01T00:00:00Z");
    }

    #[test]
    fn recognises_rfc3339() {
        for ok in [
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.123Z",
            "2025-01-01T00:00:00+02:00",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2025-01-01",
            "2025-01-01 00:00:00Z",
            "2025-01-01T00:00:00",
            "2025-01-01T00:00:00.Z",
            "yesterday",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    /// The shape alone accepted month 13, February 30th, hour 24 and minute 60.
    #[test]
    fn refuses_dates_and_times_no_calendar_has() {
        for bad in [
            "2025-13-01T00:00:00Z",
            "2025-00-10T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:60:00Z",
            "2025-01-01T00:00:61Z",
            "2025-01-01T00:00:00+24:00",
            "2025-01-01T00:00:00+02:60",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
        for ok in [
            "2024-02-29T23:59:59Z",
            "2016-12-31T23:59:60Z",
            "9999-12-31T23:59:59.999999999999-23:59",
            "0000-01-01t00:00:00z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
    }

    #[test]
    fn advancing_is_shared_between_clones() {
        let a = SimClock::new();
        let b = a.clone();
        a.advance(Duration::from_secs(10));
        assert_eq!(b.offset(), Duration::from_secs(10));
    }
}
