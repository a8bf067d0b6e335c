//! Counting tests from the closing lines of the test runners (nextest's `Summary` line,
//! libtest's `test result:` lines), so that `cargo xtask ci` can end on one total.

use std::fmt;

/// Passed, failed and skipped test counts, summed over runner outputs.
///
/// ```
/// use xtask::TestCounts;
///
/// let mut counts = TestCounts::default();
/// counts.scan_line("     Summary [   2.345s] 120 tests run: 119 passed, 1 failed, 3 skipped");
/// counts.scan_line("test result: ok. 57 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out");
/// assert_eq!(counts.to_string(), "176 passed, 1 failed, 5 skipped");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed (including timed out).
    pub failed: u64,
    /// Tests skipped or ignored.
    pub skipped: u64,
    /// How many runner summaries were read.
    pub summaries: u64,
}

impl TestCounts {
    /// Adds the counts of `line` when it is a runner's summary line (colours are ignored).
    pub fn scan_line(&mut self, line: &str) {
        let plain = strip_ansi(line);
        let text = plain.trim();
        if let Some(rest) = text.strip_prefix("test result: ") {
            // libtest: "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; ..."
            let rest = rest.split_once(". ").map_or(rest, |(_, r)| r);
            self.add(rest.split(';'));
        } else if text.starts_with("Summary [") {
            // nextest: "Summary [ 1.2s] 5 tests run: 4 passed (1 slow), 1 failed, 2 skipped"
            if let Some((_, counts)) = text.split_once(" run: ") {
                self.add(counts.split(','));
            }
        }
    }

    fn add<'a>(&mut self, parts: impl Iterator<Item = &'a str>) {
        for part in parts {
            let mut words = part.split_whitespace();
            let (Some(n), Some(word)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match word {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                // nextest: "1 timed out"
                "timed" => self.failed += n,
                "skipped" | "ignored" => self.skipped += n,
                _ => {}
            }
        }
        self.summaries += 1;
    }

    /// Adds `other`'s counts to these.
    ///
    /// ```
    /// let mut a = xtask::TestCounts { passed: 1, ..Default::default() };
    /// a.merge(xtask::TestCounts { failed: 2, ..Default::default() });
    /// assert_eq!((a.passed, a.failed), (1, 2));
    /// ```
    pub fn merge(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.summaries += other.summaries;
    }
}

impl fmt::Display for TestCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// `line` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip the CSI sequence up to its final byte (a letter).
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(lines: &[&str]) -> TestCounts {
        let mut c = TestCounts::default();
        for l in lines {
            c.scan_line(l);
        }
        c
    }

    #[test]
    fn nextest_summaries() {
        let c = scan(&["     Summary [   0.010s] 5 tests run: 5 passed, 0 skipped"]);
        assert_eq!((c.passed, c.failed, c.skipped, c.summaries), (5, 0, 0, 1));
        let c = scan(&[
            "     Summary [  12.000s] 10/12 tests run: 8 passed (2 slow), 1 failed, 1 timed out, 3 skipped",
        ]);
        assert_eq!((c.passed, c.failed, c.skipped), (8, 2, 3));
        let c =
            scan(&["\u{1b}[32;1m     Summary\u{1b}[0m [   1.0s] 3 tests run: 3 passed, 0 skipped"]);
        assert_eq!(c.passed, 3);
    }

    #[test]
    fn libtest_results_add_up() {
        let c = scan(&[
            "test result: ok. 138 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.13s",
            "test result: FAILED. 2 passed; 1 failed; 4 ignored; 0 measured; 0 filtered out",
            "test tests::x ... ok",
            "running 3 tests",
        ]);
        assert_eq!((c.passed, c.failed, c.skipped, c.summaries), (140, 1, 4, 2));
    }

    #[test]
    fn display_is_the_plain_closing_line() {
        let c = TestCounts {
            passed: 7,
            failed: 0,
            skipped: 0,
            summaries: 1,
        };
        assert_eq!(c.to_string(), "7 passed, 0 failed");
    }
}
