//! The regression gate of `cargo xtask ci`: the counted figures that repeat, counted once and
//! compared with the values recorded in `benchmarks/baseline.json`. A figure whose ratio (ours /
//! its baseline) or whose own count grew more than [`TOLERANCE`] fails the gate; a goal that is
//! missed is reported, never a failure. The file changes only on purpose
//! (`cargo xtask bench --record-baseline`, the reason in the commit message).
//!
//! Our own count is compared only when the environment that counted it is the recorded one
//! (rustc, C library, processor): another compiler or C library changes every count a little,
//! both sides of a ratio alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::callgrind::OutDir;
use crate::counted_figures::{CountBinaries, CountPlan, CountRig, Counted, counted_goal};

/// How much a gated value may grow over the recorded one.
pub const TOLERANCE: f64 = 0.05;

/// The counted figures the gate compares, by key: those that repeat within 1 % from one run to
/// the next, whatever prepared them (docs/benchmarks.md shows the agreement). B8i itself is
/// not among them (see [`B8I_OWN`](crate::counted_figures::B8I_OWN)): its part without
/// opening sled is.
pub const GATED: [&str; 4] = ["B1i", "B3i", "B6i", "B8i.own"];

/// What counted the figures: a count compares with a recorded one only when this is the same.
///
/// ```
/// let e = pims_bench::Environment::current();
/// assert!(!e.rustc.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// `rustc -V`.
    pub rustc: String,
    /// `getconf GNU_LIBC_VERSION`.
    pub libc: String,
    /// The processor's model name.
    pub cpu: String,
    /// `valgrind --version`.
    pub valgrind: String,
}

impl Environment {
    /// This machine's.
    pub fn current() -> Environment {
        let run = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        Environment {
            rustc: run(&rustc, &["-V"]),
            libc: run("getconf", &["GNU_LIBC_VERSION"]),
            cpu,
            valgrind: crate::callgrind::version().unwrap_or_else(|| "unknown".to_owned()),
        }
    }

    fn to_json(&self) -> Value {
        json!({"rustc": self.rustc, "libc": self.libc, "cpu": self.cpu, "valgrind": self.valgrind})
    }

    fn from_json(v: &Value) -> Environment {
        let s = |k: &str| v[k].as_str().unwrap_or("unknown").to_owned();
        Environment {
            rustc: s("rustc"),
            libc: s("libc"),
            cpu: s("cpu"),
            valgrind: s("valgrind"),
        }
    }

    /// What differs from `other` that changes counts (valgrind does not: it counts the same
    /// instructions), in words; empty when nothing does.
    fn differences(&self, other: &Environment) -> Vec<String> {
        let mut out = Vec::new();
        for (what, a, b) in [
            ("rustc", &self.rustc, &other.rustc),
            ("libc", &self.libc, &other.libc),
            ("cpu", &self.cpu, &other.cpu),
        ] {
            if a != b {
                out.push(format!("{what} {a:?} (recorded {b:?})"));
            }
        }
        out
    }
}

/// One recorded figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recorded {
    /// Our instructions per operation.
    pub ours: f64,
    /// The baseline's.
    pub baseline: f64,
    /// ours / baseline.
    pub ratio: f64,
}

/// The recorded values (`benchmarks/baseline.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineFile {
    /// When they were counted.
    pub recorded: String,
    /// What counted them.
    pub environment: Environment,
    /// The figures.
    pub figures: BTreeMap<String, Recorded>,
}

impl BaselineFile {
    /// The values of a counted run, the [`GATED`] ones only.
    pub fn of(counted: &[Counted], environment: Environment) -> BaselineFile {
        BaselineFile {
            recorded: crate::date::now(),
            environment,
            figures: counted
                .iter()
                .filter(|c| GATED.contains(&c.key))
                .map(|c| {
                    let (ours, baseline) = (c.ours_mean(), c.baseline_mean());
                    (
                        c.key.to_owned(),
                        Recorded {
                            ours,
                            baseline,
                            ratio: ours / baseline,
                        },
                    )
                })
                .collect(),
        }
    }

    /// As the file's JSON.
    pub fn to_json(&self, plan: &CountPlan) -> Value {
        let figures: serde_json::Map<String, Value> = self
            .figures
            .iter()
            .map(|(k, r)| {
                (
                    k.clone(),
                    json!({"ours": r.ours.round(), "baseline": r.baseline.round(), "ratio": r.ratio}),
                )
            })
            .collect();
        json!({
            "about": "Instructions counted under callgrind (docs/benchmarks.md). Changed only on purpose: `cargo xtask bench --record-baseline`, with the reason in the commit message.",
            "recorded": self.recorded,
            "environment": self.environment.to_json(),
            "tolerance": TOLERANCE,
            "plan": {
                "b1i_calls": plan.b1i_calls,
                "b3i_merges": plan.b3i_merges,
                "b6i_calls": plan.b6i_calls,
                "warmup": plan.warmup,
            },
            "figures": figures,
        })
    }

    /// Reads the file's JSON.
    ///
    /// ```
    /// let v = serde_json::json!({"recorded": "x", "environment": {"rustc": "r"},
    ///     "figures": {"B1i": {"ours": 120.0, "baseline": 100.0, "ratio": 1.2}}});
    /// let b = pims_bench::BaselineFile::from_json(&v).unwrap();
    /// assert_eq!(b.figures["B1i"].ratio, 1.2);
    /// assert!(pims_bench::BaselineFile::from_json(&serde_json::json!({})).is_err());
    /// ```
    pub fn from_json(v: &Value) -> Result<BaselineFile, String> {
        let figures = v["figures"]
            .as_object()
            .ok_or("no \"figures\" object")?
            .iter()
            .map(|(k, f)| {
                let num = |field: &str| {
                    f[field]
                        .as_f64()
                        .filter(|x| x.is_finite() && *x > 0.0)
                        .ok_or_else(|| format!("figure {k}: no positive \"{field}\""))
                };
                Ok((
                    k.clone(),
                    Recorded {
                        ours: num("ours")?,
                        baseline: num("baseline")?,
                        ratio: num("ratio")?,
                    },
                ))
            })
            .collect::<Result<_, String>>()?;
        Ok(BaselineFile {
            recorded: v["recorded"].as_str().unwrap_or("unknown").to_owned(),
            environment: Environment::from_json(&v["environment"]),
            figures,
        })
    }

    /// Reads `path`.
    pub fn read(path: &Path) -> Result<BaselineFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        BaselineFile::from_json(&v).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes `path`.
    pub fn write(&self, path: &Path, plan: &CountPlan) -> Result<(), String> {
        let text = serde_json::to_string_pretty(&self.to_json(plan)).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The gate's judgement of one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The figure.
    pub figure: String,
    /// What was counted now (`None`: it could not be counted).
    pub now: Option<Recorded>,
    /// What is recorded (`None`: nothing yet).
    pub recorded: Option<Recorded>,
    /// Why the figure fails the gate, if it does.
    pub regression: Option<String>,
    /// Notes (an improvement worth recording, a count not compared).
    pub notes: Vec<String>,
}

/// Compares counted figures with the recorded ones. `expected` are the figures the gate runs:
/// one of them recorded but not counted now fails too (a gate that counted nothing passes
/// nothing).
///
/// ```
/// use pims_bench::{BaselineFile, Environment, Recorded, compare};
/// let env = Environment { rustc: "r".into(), libc: "l".into(), cpu: "c".into(), valgrind: "v".into() };
/// let mut recorded = BaselineFile { recorded: "t".into(), environment: env.clone(), figures: Default::default() };
/// recorded.figures.insert("B1i".into(), Recorded { ours: 100.0, baseline: 100.0, ratio: 1.0 });
/// let mut now = recorded.clone();
/// now.figures.insert("B1i".into(), Recorded { ours: 106.0, baseline: 100.0, ratio: 1.06 });
/// let verdicts = compare(&now, &recorded, &["B1i"]);
/// assert!(verdicts[0].regression.as_deref().unwrap().contains("+6.0%"));
/// ```
pub fn compare(now: &BaselineFile, recorded: &BaselineFile, expected: &[&str]) -> Vec<Verdict> {
    let env_diff = now.environment.differences(&recorded.environment);
    let mut names: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    for k in now.figures.keys() {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    names
        .into_iter()
        .map(|figure| {
            let (n, r) = (
                now.figures.get(&figure).copied(),
                recorded.figures.get(&figure).copied(),
            );
            let mut v = Verdict {
                figure: figure.clone(),
                now: n,
                recorded: r,
                regression: None,
                notes: vec![],
            };
            match (n, r) {
                (None, Some(_)) => {
                    v.regression = Some("recorded, but could not be counted now".to_owned());
                }
                (None, None) => {
                    v.regression = Some("could not be counted".to_owned());
                }
                (Some(_), None) => v.notes.push(
                    "nothing recorded yet (cargo xtask bench --record-baseline)".to_owned(),
                ),
                (Some(n), Some(r)) => {
                    let mut grew = Vec::new();
                    let ratio = n.ratio / r.ratio - 1.0;
                    if ratio > TOLERANCE {
                        grew.push(format!(
                            "ratio {:.4}x vs {:.4}x recorded ({:+.1}%)",
                            n.ratio,
                            r.ratio,
                            ratio * 100.0
                        ));
                    }
                    let ours = n.ours / r.ours - 1.0;
                    if env_diff.is_empty() {
                        if ours > TOLERANCE {
                            grew.push(format!(
                                "our count {:.0} vs {:.0} recorded ({:+.1}%)",
                                n.ours,
                                r.ours,
                                ours * 100.0
                            ));
                        }
                    } else {
                        v.notes.push(format!(
                            "our count not compared (another environment: {})",
                            env_diff.join(", ")
                        ));
                    }
                    if !grew.is_empty() {
                        v.regression = Some(format!(
                            "grew more than {:.0}%: {}",
                            TOLERANCE * 100.0,
                            grew.join("; ")
                        ));
                    } else if ratio < -TOLERANCE || (env_diff.is_empty() && ours < -TOLERANCE) {
                        v.notes.push(
                            "more than 5% better than recorded: record it (cargo xtask bench --record-baseline)"
                                .to_owned(),
                        );
                    }
                }
            }
            v
        })
        .collect()
}

/// The gate's table: figure, ours now and recorded, the ratio now and recorded, the goal, and
/// the verdict; notes below.
pub fn gate_table(verdicts: &[Verdict]) -> String {
    let mut out = String::from(
        "figure  | ours now     | recorded     | change  | ratio now | recorded | change  | goal      | goal met | gate\n\
         --------|--------------|--------------|---------|-----------|----------|---------|-----------|----------|-----\n",
    );
    let num = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.0}"));
    let pct = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:+.2}%", (a / b - 1.0) * 100.0),
        _ => "-".to_owned(),
    };
    for v in verdicts {
        let goal = counted_goal(&v.figure);
        let met = match goal.met(v.now.map(|n| n.ratio), 0.0) {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let _ = writeln!(
            out,
            "{:<7} | {:>12} | {:>12} | {:>7} | {:>9} | {:>8} | {:>7} | {:<9} | {:<8} | {}",
            v.figure,
            num(v.now.map(|n| n.ours)),
            num(v.recorded.map(|r| r.ours)),
            pct(v.now.map(|n| n.ours), v.recorded.map(|r| r.ours)),
            v.now.map_or("-".to_owned(), |n| format!("{:.4}x", n.ratio)),
            v.recorded
                .map_or("-".to_owned(), |r| format!("{:.4}x", r.ratio)),
            pct(v.now.map(|n| n.ratio), v.recorded.map(|r| r.ratio)),
            goal.to_string(),
            met,
            if v.regression.is_some() {
                "FAILED"
            } else {
                "ok"
            }
        );
    }
    for v in verdicts {
        if let Some(r) = &v.regression {
            let _ = writeln!(out, "{}: REGRESSION: {r}", v.figure);
        }
        for n in &v.notes {
            let _ = writeln!(out, "{}: {n}", v.figure);
        }
    }
    out
}

/// What `pims-bench gate` was asked to do.
///
/// ```
/// let o = pims_bench::GateOptions::parse(["--record"]).unwrap();
/// assert!(o.record);
/// assert!(o.baseline.ends_with("benchmarks/baseline.json"));
/// assert!(pims_bench::GateOptions::parse(["--quick"]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateOptions {
    /// The recorded values.
    pub baseline: PathBuf,
    /// Write them instead of comparing.
    pub record: bool,
}

impl GateOptions {
    /// Reads the arguments after `gate`.
    pub fn parse<I, S>(args: I) -> Result<GateOptions, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut o = GateOptions {
            baseline: crate::run::workspace_root().join(BASELINE_FILE),
            record: false,
        };
        let mut it = args.into_iter().map(Into::into);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--record" => o.record = true,
                "--baseline" => o.baseline = it.next().ok_or("--baseline needs a file")?.into(),
                other => return Err(format!("unknown gate argument {other}\n{}", crate::USAGE)),
            }
        }
        Ok(o)
    }
}

/// Where the recorded values live, from the workspace root.
pub const BASELINE_FILE: &str = "benchmarks/baseline.json";

/// The gate: counts the [`GATED`] figures once (the binaries beside this one, built already),
/// then records them or compares them with the recorded ones. `Ok(true)`: passed (or recorded).
pub fn gate(options: &GateOptions) -> Result<bool, String> {
    let started = std::time::Instant::now();
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let out_dir = crate::run::target_dir()?.join("bench");
    let plan = CountPlan::gate();
    let rig = CountRig::new(
        &plan,
        &CountBinaries::beside(&exe),
        OutDir::new(out_dir.join("callgrind-gate"))?,
    )?;
    let (rows, counted) = rig.run(&|f| GATED.iter().any(|g| g.split('.').next() == Some(f)));
    for row in rows.iter().filter(|r| !r.ours.value.is_finite()) {
        eprintln!(
            "pims-bench gate: {} not counted: {}",
            row.figure,
            row.note.as_deref().unwrap_or("")
        );
    }
    let now = BaselineFile::of(&counted, Environment::current());
    if options.record {
        if now.figures.len() < GATED.len() {
            return Err("not every gated figure could be counted: nothing recorded".to_owned());
        }
        now.write(&options.baseline, &plan)?;
        println!("{}", gate_table(&compare(&now, &now, &GATED)));
        eprintln!(
            "pims-bench gate: recorded in {} ({:.0} s); commit it with the reason",
            options.baseline.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(true);
    }
    let recorded = BaselineFile::read(&options.baseline)?;
    let verdicts = compare(&now, &recorded, &GATED);
    println!("{}", gate_table(&verdicts));
    let failed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.regression.is_some())
        .map(|v| v.figure.as_str())
        .collect();
    eprintln!(
        "pims-bench gate: {} against {} (recorded {}) in {:.0} s",
        if failed.is_empty() {
            "no regression".to_owned()
        } else {
            format!("REGRESSION in {}", failed.join(", "))
        },
        options.baseline.display(),
        recorded.recorded,
        started.elapsed().as_secs_f64()
    );
    Ok(failed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(rustc: &str) -> Environment {
        Environment {
            rustc: rustc.into(),
            libc: "glibc 2.36".into(),
            cpu: "cpu".into(),
            valgrind: "valgrind-3.19.0".into(),
        }
    }

    fn file(env: Environment, figures: &[(&str, f64, f64)]) -> BaselineFile {
        BaselineFile {
            recorded: "t".into(),
            environment: env,
            figures: figures
                .iter()
                .map(|(k, o, b)| {
                    (
                        (*k).to_owned(),
                        Recorded {
                            ours: *o,
                            baseline: *b,
                            ratio: o / b,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn growth_over_five_percent_fails_and_within_passes() {
        let recorded = file(env("r1"), &[("B1i", 1000.0, 800.0), ("B3i", 300.0, 100.0)]);
        let now = file(env("r1"), &[("B1i", 1049.0, 800.0), ("B3i", 316.0, 100.0)]);
        let v = compare(&now, &recorded, &["B1i", "B3i"]);
        assert!(v[0].regression.is_none(), "{v:?}");
        let r = v[1].regression.as_deref().unwrap();
        assert!(r.contains("ratio") && r.contains("our count"), "{r}");
        assert!(gate_table(&v).contains("B3i: REGRESSION"));
    }

    #[test]
    fn a_faster_baseline_alone_is_a_ratio_regression() {
        let recorded = file(env("r1"), &[("B6i", 1000.0, 1000.0)]);
        let now = file(env("r1"), &[("B6i", 1000.0, 900.0)]);
        let v = compare(&now, &recorded, &["B6i"]);
        let r = v[0].regression.as_deref().unwrap();
        assert!(r.contains("ratio") && !r.contains("our count"), "{r}");
    }

    #[test]
    fn another_compiler_compares_ratios_only() {
        let recorded = file(env("r1"), &[("B1i", 1000.0, 800.0)]);
        // Both sides 10% more: the ratio holds, our own count is not compared.
        let now = file(env("r2"), &[("B1i", 1100.0, 880.0)]);
        let v = compare(&now, &recorded, &["B1i"]);
        assert!(v[0].regression.is_none(), "{v:?}");
        assert!(v[0].notes[0].contains("rustc"), "{v:?}");
    }

    #[test]
    fn a_figure_not_counted_fails_and_an_improvement_is_noted() {
        let recorded = file(env("r1"), &[("B1i", 1000.0, 800.0), ("B8i", 50.0, 1.0)]);
        let now = file(env("r1"), &[("B1i", 900.0, 800.0)]);
        let v = compare(&now, &recorded, &["B1i", "B8i"]);
        assert!(v[0].regression.is_none());
        assert!(v[0].notes[0].contains("record"), "{v:?}");
        assert!(
            v[1].regression
                .as_deref()
                .unwrap()
                .contains("could not be counted")
        );
    }

    #[test]
    fn the_file_round_trips() {
        let f = file(env("r1"), &[("B1i", 1000.0, 800.0)]);
        let back = BaselineFile::from_json(&f.to_json(&CountPlan::gate())).unwrap();
        assert_eq!(back.figures, f.figures);
        assert_eq!(back.environment, f.environment);
    }
}
