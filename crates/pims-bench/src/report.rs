//! The rows of the benchmark report: the printed table and `report.json`.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// A measured value with its unit.
///
/// ```
/// let m = pims_bench::Measure::new(1234.5, "req/s");
/// assert_eq!(m.to_string(), "1234 req/s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    /// The value.
    pub value: f64,
    /// Its unit (`req/s`, `µs`, `ops/s`, `B/list`, `MiB`, `ms`).
    pub unit: &'static str,
}

impl Measure {
    /// A value in a unit.
    ///
    /// ```
    /// assert_eq!(pims_bench::Measure::new(2.0, "ms").unit, "ms");
    /// ```
    pub fn new(value: f64, unit: &'static str) -> Self {
        Measure { value, unit }
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.value;
        // Three significant digits at least, no pointless decimals on big numbers.
        if v.abs() >= 100.0 {
            write!(f, "{v:.0} {}", self.unit)
        } else if v.abs() >= 10.0 {
            write!(f, "{v:.1} {}", self.unit)
        } else {
            write!(f, "{v:.2} {}", self.unit)
        }
    }
}

/// What a figure must reach.
///
/// ```
/// use pims_bench::Goal;
/// assert_eq!(Goal::RatioAtLeast(0.85).met(Some(0.9), 0.0), Some(true));
/// assert_eq!(Goal::RatioAtMost(1.2).met(Some(1.5), 0.0), Some(false));
/// assert_eq!(Goal::ValueAtMost(512.0).met(None, 300.0), Some(true));
/// assert_eq!(Goal::Report.met(Some(3.0), 1.0), None);
/// assert_eq!(Goal::RatioAtLeast(0.85).to_string(), ">= 0.85x");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// ours / baseline must be at least this.
    RatioAtLeast(f64),
    /// ours / baseline must be at most this.
    RatioAtMost(f64),
    /// ours (in its unit) must be at most this.
    ValueAtMost(f64),
    /// Reported, no goal.
    Report,
}

impl Goal {
    /// Whether the goal is met (`None`: no goal, or no ratio to judge).
    ///
    /// ```
    /// assert_eq!(pims_bench::Goal::RatioAtLeast(1.0).met(None, 5.0), None);
    /// ```
    pub fn met(self, ratio: Option<f64>, ours: f64) -> Option<bool> {
        match self {
            Goal::RatioAtLeast(g) => ratio.filter(|r| r.is_finite()).map(|r| r >= g),
            Goal::RatioAtMost(g) => ratio.filter(|r| r.is_finite()).map(|r| r <= g),
            Goal::ValueAtMost(g) => ours.is_finite().then_some(ours <= g),
            Goal::Report => None,
        }
    }
}

impl std::fmt::Display for Goal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Goal::RatioAtLeast(g) => write!(f, ">= {g}x"),
            Goal::RatioAtMost(g) => write!(f, "<= {g}x"),
            Goal::ValueAtMost(g) => write!(f, "<= {g}"),
            Goal::Report => f.write_str("report"),
        }
    }
}

/// One line of the report.
///
/// ```
/// use pims_bench::{Goal, Measure, Row};
/// let row = Row::ratio("B1", "steps, 64 callers", Measure::new(900.0, "req/s"),
///     Measure::new(1000.0, "req/s"), Goal::RatioAtLeast(0.85));
/// assert_eq!(row.ratio, Some(0.9));
/// assert_eq!(row.met(), Some(true));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The figure of quality.md (`B1` ... `B8`).
    pub figure: &'static str,
    /// What is measured.
    pub what: String,
    /// Our value.
    pub ours: Measure,
    /// The baseline's value, measured in the same run.
    pub baseline: Option<Measure>,
    /// ours / baseline.
    pub ratio: Option<f64>,
    /// The goal.
    pub goal: Goal,
    /// How it was measured when it matters (sizes, rounds), or why it failed.
    pub note: Option<String>,
    /// Not measured for want of something optional on this machine (PostgreSQL, outside CI):
    /// reported, not a failure of the run.
    pub skipped: bool,
}

impl Row {
    /// A row judged on ours / baseline.
    ///
    /// ```
    /// use pims_bench::{Goal, Measure, Row};
    /// let r = Row::ratio("B4", "durable change", Measure::new(3.0, "ms"), Measure::new(2.0, "ms"),
    ///     Goal::RatioAtMost(2.0));
    /// assert_eq!(r.ratio, Some(1.5));
    /// ```
    pub fn ratio(
        figure: &'static str,
        what: impl Into<String>,
        ours: Measure,
        baseline: Measure,
        goal: Goal,
    ) -> Row {
        Row {
            figure,
            what: what.into(),
            ours,
            baseline: Some(baseline),
            ratio: Some(ours.value / baseline.value),
            goal,
            note: None,
            skipped: false,
        }
    }

    /// A row judged on our value alone (a count, a size).
    ///
    /// ```
    /// use pims_bench::{Goal, Measure, Row};
    /// let r = Row::value("B7", "bytes on disk per list", Measure::new(300.0, "B"), Goal::ValueAtMost(512.0));
    /// assert_eq!(r.met(), Some(true));
    /// ```
    pub fn value(figure: &'static str, what: impl Into<String>, ours: Measure, goal: Goal) -> Row {
        Row {
            figure,
            what: what.into(),
            ours,
            baseline: None,
            ratio: None,
            goal,
            note: None,
            skipped: false,
        }
    }

    /// A row for a figure that could not be measured: the reason goes in the note.
    ///
    /// ```
    /// let r = pims_bench::Row::failed("B1", "steps", "the simulator did not start");
    /// assert_eq!(r.met(), None);
    /// assert!(r.note.unwrap().contains("did not start"));
    /// ```
    pub fn failed(figure: &'static str, what: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            figure,
            what: what.into(),
            ours: Measure::new(f64::NAN, ""),
            baseline: None,
            ratio: None,
            goal: Goal::Report,
            note: Some(format!("NOT MEASURED: {}", why.into())),
            skipped: false,
        }
    }

    /// A row for a figure this machine cannot measure and need not (PostgreSQL not installed,
    /// outside CI): not measured, the reason in the note, and not a failure of the run.
    ///
    /// ```
    /// let r = pims_bench::Row::skipped("B10", "durable change", "PostgreSQL is not installed");
    /// assert!(r.skipped && !r.ours.value.is_finite());
    /// assert!(r.note.unwrap().starts_with("NOT MEASURED (skipped): PostgreSQL"));
    /// ```
    pub fn skipped(figure: &'static str, what: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            skipped: true,
            note: Some(format!("NOT MEASURED (skipped): {}", why.into())),
            ..Row::failed(figure, what, "")
        }
    }

    /// With a note.
    ///
    /// ```
    /// let r = pims_bench::Row::failed("B1", "x", "y").with_note("z");
    /// assert_eq!(r.note.as_deref(), Some("z"));
    /// ```
    pub fn with_note(mut self, note: impl Into<String>) -> Row {
        self.note = Some(note.into());
        self
    }

    /// Whether the goal is met (`None`: no goal, or not measured).
    ///
    /// ```
    /// let r = pims_bench::Row::failed("B2", "x", "y");
    /// assert!(r.met().is_none());
    /// ```
    pub fn met(&self) -> Option<bool> {
        self.goal.met(self.ratio, self.ours.value)
    }

    /// The row as JSON (`null` for what is missing).
    ///
    /// ```
    /// use pims_bench::{Goal, Measure, Row};
    /// let r = Row::value("B7", "bytes", Measure::new(300.0, "B/list"), Goal::ValueAtMost(512.0));
    /// assert_eq!(r.to_json()["met"], true);
    /// assert_eq!(r.to_json()["baseline"], serde_json::Value::Null);
    /// ```
    pub fn to_json(&self) -> Value {
        let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
        json!({
            "figure": self.figure,
            "what": self.what,
            "ours": finite(self.ours.value),
            "unit": self.ours.unit,
            "baseline": self.baseline.map_or(Value::Null, |b| finite(b.value)),
            "baseline_unit": self.baseline.map_or(Value::Null, |b| json!(b.unit)),
            "ratio": self.ratio.map_or(Value::Null, finite),
            "goal": self.goal.to_string(),
            "met": self.met(),
            "note": self.note,
            "skipped": self.skipped,
        })
    }
}

/// The printed table: figure, what, ours, baseline, ratio, goal, met; notes below it.
///
/// ```
/// use pims_bench::{Goal, Measure, Row};
/// let rows = [Row::value("B7", "bytes on disk per list", Measure::new(300.0, "B"), Goal::ValueAtMost(512.0))];
/// let table = pims_bench::table(&rows);
/// assert!(table.contains("B7"));
/// assert!(table.contains("yes"));
/// ```
pub fn table(rows: &[Row]) -> String {
    let header = ["figure", "what", "ours", "baseline", "ratio", "goal", "met"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.figure.to_owned(),
                r.what.clone(),
                if r.ours.value.is_finite() {
                    r.ours.to_string()
                } else {
                    "-".into()
                },
                r.baseline.map_or("-".into(), |b| b.to_string()),
                r.ratio
                    .filter(|x| x.is_finite())
                    .map_or("-".into(), |x| format!("{x:.3}x")),
                r.goal.to_string(),
                match r.met() {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cols: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i > 0 {
                l.push_str(" | ");
            }
            let pad = w.saturating_sub(c.chars().count());
            l.push_str(c);
            l.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(
        &mut out,
        &rule.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for row in &cells {
        line(
            &mut out,
            &row.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    let notes: Vec<&Row> = rows.iter().filter(|r| r.note.is_some()).collect();
    if !notes.is_empty() {
        out.push('\n');
        for r in notes {
            let _ = writeln!(
                out,
                "{} {}: {}",
                r.figure,
                r.what,
                r.note.as_deref().unwrap_or("")
            );
        }
    }
    out
}

/// The table as Markdown (for docs/benchmarks.md).
///
/// ```
/// use pims_bench::{Goal, Measure, Row};
/// let rows = [Row::value("B3i", "on Mutex<HashMap>", Measure::new(300.0, "B"), Goal::ValueAtMost(512.0))];
/// let md = pims_bench::markdown_table(&rows);
/// assert!(md.starts_with("| figure |"));
/// assert!(md.contains("Mutex&lt;HashMap&gt;"));
/// ```
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | what | ours | baseline | ratio | goal | met |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.figure,
            r.what.replace('<', "&lt;").replace('>', "&gt;"),
            if r.ours.value.is_finite() {
                r.ours.to_string()
            } else {
                "-".into()
            },
            r.baseline.map_or("-".into(), |b| b.to_string()),
            r.ratio
                .filter(|x| x.is_finite())
                .map_or("-".into(), |x| format!("{x:.3}x")),
            r.goal.to_string().replace('<', "&lt;").replace('>', "&gt;"),
            match r.met() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "-",
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rows_show_dashes_and_the_reason() {
        let rows = [
            Row::failed("B6", "simulator", "bind refused"),
            Row::ratio(
                "B1",
                "x",
                Measure::new(50.0, "req/s"),
                Measure::new(100.0, "req/s"),
                Goal::RatioAtLeast(0.85),
            ),
        ];
        let t = table(&rows);
        assert!(t.contains("NOT MEASURED: bind refused"), "{t}");
        assert!(t.contains("0.500x"), "{t}");
        assert!(t.contains("NO"), "{t}");
        let j = rows[0].to_json();
        assert_eq!(j["ours"], Value::Null);
        assert_eq!(j["met"], Value::Null);
    }
}
