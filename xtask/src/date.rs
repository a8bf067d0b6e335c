//! Calendar dates for changelog headings (`## [1.2.3] - 2026-12-01`), in UTC.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A day of the proleptic Gregorian calendar, printed as `YYYY-MM-DD`.
///
/// ```
/// use xtask::Date;
///
/// assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
/// assert_eq!(Date::new(2026, 12, 1).to_string(), "2026-12-01");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: i64,
    month: u8,
    day: u8,
}

impl Date {
    /// The date `year-month-day` (not validated: callers build it from a calendar).
    ///
    /// ```
    /// assert_eq!(xtask::Date::new(2027, 1, 31).to_string(), "2027-01-31");
    /// ```
    pub const fn new(year: i64, month: u8, day: u8) -> Self {
        Self { year, month, day }
    }

    /// Today in UTC, from the system clock (a clock before 1970 reads as 1970-01-01).
    ///
    /// ```
    /// assert!(xtask::Date::today_utc() > xtask::Date::new(2020, 1, 1));
    /// ```
    pub fn today_utc() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Whole days fit an i64 for any clock value.
        Self::from_unix_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The date `days` after 1970-01-01 (negative: before).
    ///
    /// ```
    /// assert_eq!(xtask::Date::from_unix_days(11_016).to_string(), "2000-02-29");
    /// ```
    pub fn from_unix_days(days: i64) -> Self {
        // Howard Hinnant's civil_from_days: eras of 400 years (146 097 days) starting in March.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        // month is in 1..=12 and day in 1..=31 by construction.
        Self::new(
            year,
            u8::try_from(month).unwrap_or(1),
            u8::try_from(day).unwrap_or(1),
        )
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        let cases = [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (31, "1970-02-01"),
            (59, "1970-03-01"),
            (10_957, "2000-01-01"),
            (11_016, "2000-02-29"),
            (11_017, "2000-03-01"),
            (20_788, "2026-12-01"),
            (20_818, "2026-12-31"),
            (20_819, "2027-01-01"),
            (47_540, "2100-02-28"),
            (47_541, "2100-03-01"), // 2100 is not a leap year
        ];
        for (days, text) in cases {
            assert_eq!(Date::from_unix_days(days).to_string(), text, "day {days}");
        }
    }

    #[test]
    fn consecutive_days_are_consecutive_dates() {
        // Walk 5 years day by day: every step moves the date forward by exactly one day.
        let mut prev = Date::from_unix_days(20_000);
        for days in 20_001..21_826 {
            let next = Date::from_unix_days(days);
            assert!(next > prev, "{prev} -> {next}");
            let rolled_over = next.day == 1;
            if !rolled_over {
                assert_eq!(
                    (next.year, next.month, next.day - 1),
                    (prev.year, prev.month, prev.day)
                );
            }
            prev = next;
        }
    }
}
