//! Counting instructions: a process run under `valgrind --tool=callgrind`, its totals read from
//! the output files callgrind writes at exit, one per thread (`--separate-threads=yes`).
//!
//! A figure counts the process's **main thread**, start to exit ([`Count::main`]). The probes
//! do all their work there (a `current_thread` runtime); the other threads of these processes
//! are sled's I/O pool, whose count changes from run to run by millions of instructions: its
//! threads busy-wait (a spinning compare-and-swap in sled's `Lazy`) for whole scheduling quanta
//! of valgrind while the pool starts, as many quanta as the scheduling happens to give them.
//! Their total is kept ([`Count::other_threads`]) and reported, not counted in the figures.
//!
//! A figure per operation is a difference of two runs, `(count(2N) - count(N)) / N`
//! ([`PerOp`]): what the process does once (loading, start-up, opening a cache, the first
//! connection, exit) is in both runs and cancels out, without instrumenting the measured code.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The program run to count (`valgrind`, found on `PATH`).
pub const VALGRIND: &str = "valgrind";

/// `valgrind` resolved on this process's `PATH` (the counted processes get no `PATH`).
fn valgrind() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(VALGRIND))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| PathBuf::from(VALGRIND))
}

/// Whether valgrind can be run here.
pub fn available() -> bool {
    Command::new(VALGRIND)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The valgrind version line (`valgrind-3.19.0`), for the report.
pub fn version() -> Option<String> {
    let out = Command::new(VALGRIND).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `valgrind --tool=callgrind` around `program`, writing its counts to `out_file`.
///
/// Only what the figures need is collected (no per-line or per-instruction data, no cache
/// simulation): the total is the `Ir` event, instructions executed.
///
/// ```
/// let c = pims_bench::callgrind::command(std::path::Path::new("/bin/true"), std::path::Path::new("/tmp/x.out"));
/// assert!(c.get_program().to_string_lossy().ends_with("valgrind"));
/// ```
///
/// The counted process gets an empty environment but for `LC_ALL=C`: what a process finds on
/// its stack (its arguments, its environment) moves its memory by a few bytes, and copies of
/// differently aligned bytes take other numbers of instructions.
pub fn command(program: &Path, out_file: &Path) -> Command {
    let mut c = Command::new(valgrind());
    c.env_clear()
        .env("LC_ALL", "C")
        .args(base_options(out_file))
        .arg(program);
    c
}

fn base_options(out_file: &Path) -> Vec<String> {
    vec![
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out_file.display()),
        "--separate-threads=yes".to_owned(),
        "--dump-line=no".to_owned(),
        "--dump-instr=no".to_owned(),
        "--compress-strings=no".to_owned(),
        "-q".to_owned(),
    ]
}

/// The total instructions of a finished callgrind run, from its output file (the `summary:`
/// line, or `totals:` when there is none).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let f = dir.path().join("callgrind.out");
/// std::fs::write(&f, "version: 1\nevents: Ir\nfn=main\n3 5\nsummary: 123456\ntotals: 123456\n").unwrap();
/// assert_eq!(pims_bench::callgrind::read_total(&f).unwrap(), 123456);
/// ```
pub fn read_total(out_file: &Path) -> Result<u64, String> {
    let text =
        std::fs::read_to_string(out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let pick = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
    };
    pick("summary:")
        .or_else(|| pick("totals:"))
        .ok_or_else(|| format!("{}: no instruction total", out_file.display()))
}

/// The instructions of one counted process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    /// Its main thread's, start to exit: what the figures count.
    pub main: u64,
    /// Every other thread's, together (sled's I/O pool: see the module docs).
    pub other_threads: u64,
}

/// The totals of a finished run whose output file was `out_file` (callgrind wrote one file per
/// thread: `out_file-01` for the main thread, `-02`, ... for the others).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let f = dir.path().join("c.out");
/// std::fs::write(dir.path().join("c.out-01"), "events: Ir\nsummary: 1000\n").unwrap();
/// std::fs::write(dir.path().join("c.out-02"), "events: Ir\nsummary: 20\n").unwrap();
/// std::fs::write(dir.path().join("c.out-03"), "events: Ir\nsummary: 3\n").unwrap();
/// let c = pims_bench::callgrind::read_count(&f).unwrap();
/// assert_eq!((c.main, c.other_threads), (1000, 23));
/// ```
pub fn read_count(out_file: &Path) -> Result<Count, String> {
    let mut count = Count {
        main: read_total(&thread_file(out_file, 1))?,
        other_threads: 0,
    };
    for thread in 2.. {
        let file = thread_file(out_file, thread);
        if !file.exists() {
            break;
        }
        count.other_threads += read_total(&file)?;
    }
    Ok(count)
}

fn thread_file(out_file: &Path, thread: u32) -> PathBuf {
    let mut name = out_file.as_os_str().to_owned();
    name.push(format!("-{thread:02}"));
    PathBuf::from(name)
}

/// Removes what an earlier run left under `out_file`'s name (a run with more threads would
/// leave files this one does not overwrite).
fn clear(out_file: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(out_file);
    for thread in 1.. {
        let file = thread_file(out_file, thread);
        if !file.exists() {
            return Ok(());
        }
        std::fs::remove_file(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// Counts a whole process: runs `program args` under callgrind to its end; its output is
/// discarded, its failure is an error naming its last words.
pub fn count(program: &Path, args: &[String], out_file: &Path) -> Result<Count, String> {
    clear(out_file)?;
    let output = command(program, out_file)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{VALGRIND}: {e} (is valgrind installed?)"))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} under callgrind failed ({}): {}",
            program.display(),
            args.join(" "),
            output.status,
            last_lines(&String::from_utf8_lossy(&output.stderr), 5)
        ));
    }
    read_count(out_file)
}

/// Counts a process cut at checkpoints: callgrind writes the counts so far (and starts again
/// from zero) each time the main thread enters `checkpoint` (`--dump-before`); gives the main
/// thread's count of each part, in order: start to the first checkpoint, between checkpoints,
/// the last checkpoint to exit.
pub fn count_parts(
    program: &Path,
    args: &[String],
    out_file: &Path,
    checkpoint: &str,
) -> Result<Vec<u64>, String> {
    clear_parts(out_file)?;
    let mut c = Command::new(valgrind());
    c.env_clear()
        .env("LC_ALL", "C")
        .args(base_options(out_file))
        .arg(format!("--dump-before={checkpoint}"))
        .arg(program)
        .args(args)
        .stdin(Stdio::null());
    let output = c
        .output()
        .map_err(|e| format!("{VALGRIND}: {e} (is valgrind installed?)"))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} under callgrind failed ({}): {}",
            program.display(),
            args.join(" "),
            output.status,
            last_lines(&String::from_utf8_lossy(&output.stderr), 5)
        ));
    }
    let mut parts = Vec::new();
    for part in 1.. {
        let file = thread_file(&part_file(out_file, part), 1);
        if !file.exists() {
            break;
        }
        parts.push(read_total(&file)?);
    }
    if parts.len() < 2 {
        return Err(format!(
            "{}: callgrind wrote no checkpoint ({checkpoint} never entered?)",
            out_file.display()
        ));
    }
    Ok(parts)
}

/// The file of part `part` of a run cut at checkpoints (`out_file.<part>`).
fn part_file(out_file: &Path, part: u32) -> PathBuf {
    let mut name = out_file.as_os_str().to_owned();
    name.push(format!(".{part}"));
    PathBuf::from(name)
}

fn clear_parts(out_file: &Path) -> Result<(), String> {
    clear(out_file)?;
    for part in 1.. {
        let file = part_file(out_file, part);
        if !thread_file(&file, 1).exists() {
            return Ok(());
        }
        clear(&file)?;
    }
    Ok(())
}

/// Starts `program args` under callgrind with piped standard input and output (a server the
/// caller drives, then stops by closing its input); [`finish`] waits and reads the count.
pub fn spawn(program: &Path, args: &[String], out_file: &Path) -> Result<Child, String> {
    clear(out_file)?;
    command(program, out_file)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{VALGRIND}: {e} (is valgrind installed?)"))
}

/// Closes a [`spawn`]ed process's input, waits for its end and reads its count.
pub fn finish(mut child: Child, out_file: &Path) -> Result<Count, String> {
    drop(child.stdin.take());
    let output = child
        .wait_with_output()
        .map_err(|e| format!("waiting for a counted process: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "a counted process failed ({}): {}",
            output.status,
            last_lines(&String::from_utf8_lossy(&output.stderr), 5)
        ));
    }
    read_count(out_file)
}

/// The instructions the main thread of a finished run (output file `out_file`) spent inside
/// `function` and everything it called: its own cost lines and the inclusive cost of each call
/// it made, summed over every block callgrind wrote for it. `function` is the name as
/// callgrind writes it (`sled::config::Config::open`); a function that calls itself would be
/// counted more than once (the figures use none).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let f = dir.path().join("c.out");
/// std::fs::write(dir.path().join("c.out-01"), "events: Ir\nsummary: 100\nfn=main\n1 5\n\
///     cfn=open\ncalls=1 9\n* 60\nfn=open\n9 10\n+1 2\ncfn=read\ncalls=3 4\n* 48\nfn=read\n4 48\n").unwrap();
/// assert_eq!(pims_bench::callgrind::read_inclusive(&f, "open").unwrap(), 60);
/// assert_eq!(pims_bench::callgrind::read_inclusive(&f, "main").unwrap(), 65);
/// assert!(pims_bench::callgrind::read_inclusive(&f, "absent").is_err());
/// ```
pub fn read_inclusive(out_file: &Path, function: &str) -> Result<u64, String> {
    let file = thread_file(out_file, 1);
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let (mut total, mut inside, mut seen) = (0u64, false, false);
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("fn=") {
            inside = name == function;
            seen |= inside;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '*')) {
            // A cost line: the position, then the instructions (the call's inclusive cost when
            // it follows a `calls=` line, else the function's own).
            if inside && let Some(cost) = line.split_whitespace().nth(1) {
                total += cost
                    .parse::<u64>()
                    .map_err(|_| format!("{}: a cost line {line:?}", file.display()))?;
            }
        }
    }
    if seen {
        Ok(total)
    } else {
        Err(format!("{}: no function {function}", file.display()))
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().rev().take(n).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// Two counted runs of one workload, `n` and `2n` operations (main threads): the instructions
/// of `n` operations, whatever the process does once.
///
/// ```
/// let p = pims_bench::callgrind::PerOp { n: 100, once_plus_n: 5_000_000, once_plus_2n: 5_300_000 };
/// assert_eq!(p.per_op(), Some(3000.0));
/// let odd = pims_bench::callgrind::PerOp { n: 100, once_plus_n: 10, once_plus_2n: 5 };
/// assert_eq!(odd.per_op(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerOp {
    /// Operations in the shorter run (the longer one made twice as many).
    pub n: u64,
    /// Instructions of the run of `n` operations.
    pub once_plus_n: u64,
    /// Instructions of the run of `2n` operations.
    pub once_plus_2n: u64,
}

impl PerOp {
    /// Instructions per operation; `None` when the longer run did not count more (nothing was
    /// measured).
    pub fn per_op(&self) -> Option<f64> {
        (self.n > 0 && self.once_plus_2n > self.once_plus_n)
            .then(|| (self.once_plus_2n - self.once_plus_n) as f64 / self.n as f64)
    }

    /// Instructions the process spends once (start-up, set-up, exit), for the notes.
    ///
    /// ```
    /// let p = pims_bench::callgrind::PerOp { n: 10, once_plus_n: 1_100, once_plus_2n: 1_200 };
    /// assert_eq!(p.once(), Some(1_000.0));
    /// ```
    pub fn once(&self) -> Option<f64> {
        self.per_op()
            .map(|per| self.once_plus_n as f64 - per * self.n as f64)
    }
}

/// Where the callgrind output files of a run go, each named for what it counted.
#[derive(Debug, Clone)]
pub struct OutDir(PathBuf);

impl OutDir {
    /// Output files in `dir` (created).
    pub fn new(dir: PathBuf) -> Result<OutDir, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(OutDir(dir))
    }

    /// The file for one run (`b1i-ours-2n-run1.out`).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let out = pims_bench::callgrind::OutDir::new(dir.path().to_path_buf()).unwrap();
    /// assert!(out.file("b1i-ours-n").ends_with("callgrind.b1i-ours-n.out"));
    /// ```
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(format!("callgrind.{name}.out"))
    }
}
