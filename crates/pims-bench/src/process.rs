//! Whole-process measurements (B8): a child spawned and timed from outside, its memory read
//! from the operating system — `/proc/<pid>/status` while it idles, and `getrusage` of the
//! finished child (which is why the measuring is done by a fresh `pims-bench measure`
//! process, whose only child is the one measured).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The line a measured process prints when it is ready (then it idles until its standard
/// input closes); anything after the word is the process's own JSON report.
pub const READY: &str = "ready";

/// How long a measured process may take before it is killed.
const DEADLINE: Duration = Duration::from_secs(120);

/// How long the process is left idle before its resident memory is read.
const SETTLE: Duration = Duration::from_millis(200);

/// One measured run of a process.
///
/// ```
/// let s = pims_bench::ProcessSample::from_json(&serde_json::json!({"total_ms": 3.0})).unwrap();
/// assert_eq!(s.total_ms, 3.0);
/// assert!(s.ready_ms.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProcessSample {
    /// From spawn to the `ready` line (processes that announce it).
    pub ready_ms: Option<f64>,
    /// From spawn to exit.
    pub total_ms: f64,
    /// Resident memory while idle after `ready` (`VmRSS`), KiB.
    pub idle_rss_kib: Option<u64>,
    /// Peak resident memory (`ru_maxrss` of the finished child, else `VmHWM`), KiB.
    pub peak_rss_kib: Option<u64>,
    /// The process's own report (the JSON after `ready`).
    pub report: Option<Value>,
}

impl ProcessSample {
    /// As JSON (what `pims-bench measure` prints).
    ///
    /// ```
    /// let s = pims_bench::ProcessSample { total_ms: 1.5, ..Default::default() };
    /// assert_eq!(s.to_json()["total_ms"], 1.5);
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "ready_ms": self.ready_ms,
            "total_ms": self.total_ms,
            "idle_rss_kib": self.idle_rss_kib,
            "peak_rss_kib": self.peak_rss_kib,
            "report": self.report,
        })
    }

    /// From [`to_json`](Self::to_json)'s output.
    ///
    /// ```
    /// let s = pims_bench::ProcessSample { ready_ms: Some(2.0), total_ms: 3.0, peak_rss_kib: Some(9), ..Default::default() };
    /// assert_eq!(pims_bench::ProcessSample::from_json(&s.to_json()), Some(s));
    /// ```
    pub fn from_json(v: &Value) -> Option<ProcessSample> {
        Some(ProcessSample {
            ready_ms: v["ready_ms"].as_f64(),
            total_ms: v["total_ms"].as_f64()?,
            idle_rss_kib: v["idle_rss_kib"].as_u64(),
            peak_rss_kib: v["peak_rss_kib"].as_u64(),
            report: v.get("report").filter(|r| !r.is_null()).cloned(),
        })
    }
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// A child process with its three standard streams piped: the lines it prints arrive on
/// `lines` (read on a thread, so that a hung child can be killed at a deadline), and what it
/// writes to stderr is collected by `errors`, for the message when it fails.
pub(crate) struct Piped {
    /// The child (its stdin still in it).
    pub(crate) child: Child,
    /// Its standard output, line by line.
    pub(crate) lines: mpsc::Receiver<String>,
    /// Its standard error, whole, once it closes it.
    pub(crate) errors: std::thread::JoinHandle<String>,
}

/// Starts `command` as a [`Piped`] child; `name` names it in the error.
pub(crate) fn spawn_piped(command: &mut Command, name: &str) -> Result<Piped, String> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(Piped {
        child,
        lines,
        errors,
    })
}

/// Runs `program args` and measures it, in this process. With `wait_ready`, the program must
/// print a line starting with [`READY`] and then idle until its standard input closes.
///
/// Peak memory is read with `getrusage(RUSAGE_CHILDREN)`, which covers every child this
/// process ever waited for: call it from a process with no other children
/// ([`measure_isolated`] does).
///
/// ```
/// let s = pims_bench::measure_here(std::path::Path::new("true"), &[], false).unwrap();
/// assert!(s.total_ms >= 0.0);
/// assert!(s.peak_rss_kib.unwrap() > 0);
/// ```
pub fn measure_here(
    program: &Path,
    args: &[String],
    wait_ready: bool,
) -> Result<ProcessSample, String> {
    let name = program.display().to_string();
    let start = Instant::now();
    let Piped {
        mut child,
        lines: rx,
        errors,
    } = spawn_piped(Command::new(program).args(args), &name)?;
    let pid = child.id();
    let mut sample = ProcessSample::default();
    if wait_ready {
        loop {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(READY) {
                        sample.ready_ms = Some(millis(start.elapsed()));
                        sample.report = serde_json::from_str(rest.trim()).ok();
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{name}: not ready within {DEADLINE:?}"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().map_err(|e| e.to_string())?;
                    let errors = errors.join().unwrap_or_default();
                    return Err(format!(
                        "{name} ended ({status}) before it was ready: {}",
                        errors.trim()
                    ));
                }
            }
        }
        std::thread::sleep(SETTLE);
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            sample.idle_rss_kib = status_kib(&status, "VmRSS");
            sample.peak_rss_kib = status_kib(&status, "VmHWM");
        }
        // Closing its standard input tells it to exit.
        drop(child.stdin.take());
    }
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name}: still running after {DEADLINE:?}"));
            }
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    };
    sample.total_ms = millis(start.elapsed());
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{name} failed ({status}): {}", errors.trim()));
    }
    if let Ok(usage) = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        && let Ok(kib) = u64::try_from(usage.max_rss())
        && kib > 0
    {
        sample.peak_rss_kib = Some(kib);
    }
    Ok(sample)
}

/// Measures `program args` from a fresh `measurer measure [--ready] -- program args`
/// process (so that `getrusage` sees that child alone) and reads its report.
///
/// ```no_run
/// let me = std::env::current_exe().unwrap(); // the pims-bench binary
/// let s = pims_bench::measure_isolated(&me, std::path::Path::new("/bin/true"), &[], false).unwrap();
/// assert!(s.total_ms > 0.0);
/// ```
pub fn measure_isolated(
    measurer: &Path,
    program: &Path,
    args: &[String],
    wait_ready: bool,
) -> Result<ProcessSample, String> {
    let mut command = Command::new(measurer);
    command.arg("measure");
    if wait_ready {
        command.arg("--ready");
    }
    let output = command
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", measurer.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "measuring {} failed: {}{}",
            program.display(),
            text.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let value: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("unreadable measurement ({e}): {text}"))?;
    ProcessSample::from_json(&value).ok_or_else(|| format!("unreadable measurement: {text}"))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let status = "Name:\tx\nVmHWM:\t   12345 kB\nVmRSS:\t    2048 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(12345));
        assert_eq!(status_kib(status, "VmRSS"), Some(2048));
        assert_eq!(status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn a_ready_process_is_measured_while_idle() {
        // A shell that announces itself, then waits for its stdin to close.
        let args = [
            "-c".to_owned(),
            "echo 'ready {\"x\":1}'; cat >/dev/null".to_owned(),
        ];
        let s = measure_here(Path::new("sh"), &args, true).unwrap();
        assert!(s.ready_ms.unwrap() <= s.total_ms);
        assert!(s.idle_rss_kib.unwrap() > 0);
        assert_eq!(s.report, Some(json!({"x": 1})));
    }

    #[test]
    fn a_failing_process_is_an_error() {
        let e = measure_here(Path::new("false"), &[], false).unwrap_err();
        assert!(e.contains("failed"), "{e}");
        let e = measure_here(Path::new("true"), &[], true).unwrap_err();
        assert!(e.contains("before it was ready"), "{e}");
    }
}
