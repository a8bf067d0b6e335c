//! The command line of `cargo xtask`.
//!
//! ```
//! use xtask::cli::{parse, Task};
//!
//! assert_eq!(parse(&["ci"]).unwrap(), Task::Ci);
//! assert!(parse(&["deploy"]).is_err());
//! ```

use std::process::ExitCode;

use crate::ci;
use crate::dist::{self, Completions};
use crate::failure::{self, ErrorKind};
use crate::release::{self, ReleaseOptions};
use crate::tidy;
use crate::version::Bump;
use crate::workspace::Workspace;
use anyhow::Result;

/// The usage text.
pub const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci        the project's whole check, in order, failing fast: fmt, clippy, tests (nextest),
            the PostgreSQL tests, the simulator's API contract (schemathesis), the bindings
            (Kotlin and Python suites, Swift checks), doc tests, docs (warnings denied), tidy,
            supply chain (cargo deny), bench (the regression gate: counted figures vs
            benchmarks/baseline.json)
  tidy      the repository tidy checks alone
  contract  the simulator's API contract alone (schemathesis against pims-sim's OpenAPI
            document; see docs/simulator.md)
  release <major|minor|patch|X.Y.Z> [--dry-run] [--no-verify]
            bump every crate, date the changelog, package every crate in dependency order,
            commit and tag vX.Y.Z (not with --dry-run); runs `ci` first
  dist      release builds of pims and pims-sim packed in target/dist/ with SHA256SUMS, and
            the bindings' artefacts (Python wheel, Kotlin/JVM jar, Swift sources)
  bindings [--test]
            Kotlin, Swift and Python sources of pims-ffi into target/bindings/; with --test,
            the Swift checks and the Kotlin and Python suites against pims-sim (the `bindings`
            stage of ci)
  bench [--quick] [ARGS...]
            the benchmarks: runs the release build of pims-bench with ARGS (valgrind and
            strace installed with apt when missing)
  bench --record-baseline
            counts the gated figures and writes benchmarks/baseline.json (on purpose only;
            say why in the commit message)
  help      this text

see docs/releasing.md";

/// A parsed `cargo xtask` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// `cargo xtask ci`.
    Ci,
    /// `cargo xtask tidy`.
    Tidy,
    /// `cargo xtask contract`.
    Contract,
    /// `cargo xtask release ...`.
    Release {
        /// The level or version.
        bump: Bump,
        /// `--dry-run`.
        dry_run: bool,
        /// Not `--no-verify`.
        verify: bool,
    },
    /// `cargo xtask dist`.
    Dist,
    /// `cargo xtask bindings [--test]`: `true` with `--test`.
    Bindings(bool),
    /// `cargo xtask bench [ARGS...]`: the arguments go to the `pims-bench` binary.
    Bench(Vec<String>),
    /// `cargo xtask help` (or no command).
    Help,
}

fn usage_error(message: String) -> anyhow::Error {
    failure::new(ErrorKind::Usage, format!("{message}\n\n{USAGE}"))
}

/// The command line as clap reads it; [`USAGE`] is the help (clap's own help and its error
/// texts are off: the errors are [`usage_of`]'s, with the usage after them).
#[derive(Debug, clap::Parser)]
#[command(
    name = "cargo xtask",
    disable_help_flag = true,
    disable_help_subcommand = true,
    disable_version_flag = true
)]
struct CommandLine {
    #[command(subcommand)]
    task: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Ci,
    Tidy,
    Contract,
    Dist,
    Help,
    Bindings {
        #[arg(long)]
        test: bool,
    },
    Bench {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    Release {
        /// Parsed by [`Bump`]'s `FromStr`, for its message.
        bump: Option<String>,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        no_verify: bool,
    },
}

/// Parses the arguments after `cargo xtask`.
///
/// ```
/// use xtask::{cli::{parse, Task}, Bump};
///
/// assert_eq!(
///     parse(&["release", "patch", "--dry-run"]).unwrap(),
///     Task::Release { bump: Bump::Patch, dry_run: true, verify: true }
/// );
/// ```
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Task> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let Some(&command) = args.first() else {
        return Ok(Task::Help);
    };
    if matches!(command, "--help" | "-h") {
        return Ok(Task::Help);
    }
    let line = <CommandLine as clap::Parser>::try_parse_from(
        std::iter::once("cargo xtask").chain(args.iter().copied()),
    )
    .map_err(|e| usage_of(command, &e))?;
    Ok(match line.task {
        None | Some(Command::Help) => Task::Help,
        Some(Command::Ci) => Task::Ci,
        Some(Command::Tidy) => Task::Tidy,
        Some(Command::Contract) => Task::Contract,
        Some(Command::Dist) => Task::Dist,
        Some(Command::Bindings { test }) => Task::Bindings(test),
        Some(Command::Bench { args }) => Task::Bench(args),
        Some(Command::Release {
            bump,
            dry_run,
            no_verify,
        }) => {
            let bump = bump.ok_or_else(|| {
                usage_error(
                    "release needs a level or a version: major, minor, patch or X.Y.Z".into(),
                )
            })?;
            Task::Release {
                bump: bump
                    .parse()
                    .map_err(|e: anyhow::Error| usage_error(e.to_string()))?,
                dry_run,
                verify: !no_verify,
            }
        }
    })
}

/// The usage error for what clap refused in the arguments of `command`.
fn usage_of(command: &str, err: &clap::Error) -> anyhow::Error {
    use clap::error::{ContextKind, ErrorKind as Clap};
    let arg = err
        .get(ContextKind::InvalidArg)
        .map(|v| v.to_string())
        .unwrap_or_default();
    // clap shows a positional with its placeholder (`[ARGS]...`) or quoted: the word alone.
    let arg = arg.trim_matches(|c| c == '\'' || c == '"');
    let message = match (err.kind(), command) {
        (Clap::InvalidSubcommand, _) => format!("unknown command `{command}`"),
        (_, "bindings") => format!("`bindings` takes only `--test` (got `{arg}`)"),
        (_, "release") if arg.starts_with('-') => format!("unknown release option `{arg}`"),
        (_, "release") => {
            format!("release takes one level or version (got another: `{arg}`)")
        }
        _ => format!("`{command}` takes no arguments (got `{arg}`)"),
    };
    usage_error(message)
}

/// Runs `cargo xtask` with `args` on this workspace; the exit code for the process.
pub fn main<S: AsRef<str>>(args: &[S]) -> Result<ExitCode> {
    let task = parse(args)?;
    // The one shell (xshell) every command runs through, rooted in the workspace.
    let ws = Workspace::this()?;
    match task {
        Task::Help => println!("{USAGE}"),
        Task::Ci => {
            if !ci::run(&ws).passed() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Task::Tidy => tidy::run(ws.root())?,
        Task::Contract => crate::contract::run_stage(&ws)?,
        Task::Release {
            bump,
            dry_run,
            verify,
        } => {
            let mut opts = ReleaseOptions::new(bump).dry_run(dry_run);
            opts.verify = verify;
            release::release(&ws, &opts)?;
        }
        Task::Dist => {
            dist::dist(&ws, Completions::Required)?;
            dist::bindings(&ws)?;
        }
        Task::Bench(args) => crate::bench::bench(&ws, &args)?,
        Task::Bindings(false) => {
            crate::bindings::generate(&ws, false, &[])?;
        }
        Task::Bindings(true) => crate::bindings::test(&ws)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KindOf as _;
    use crate::Version;

    #[test]
    fn commands() {
        assert_eq!(parse::<&str>(&[]).unwrap(), Task::Help);
        assert_eq!(parse(&["help"]).unwrap(), Task::Help);
        assert_eq!(parse(&["tidy"]).unwrap(), Task::Tidy);
        assert_eq!(parse(&["dist"]).unwrap(), Task::Dist);
        assert_eq!(parse(&["bindings"]).unwrap(), Task::Bindings(false));
        assert_eq!(
            parse(&["bindings", "--test"]).unwrap(),
            Task::Bindings(true)
        );
        assert_eq!(
            parse(&["bench", "--quick", "B3"]).unwrap(),
            Task::Bench(vec!["--quick".to_owned(), "B3".to_owned()])
        );
        assert_eq!(
            parse(&["release", "--no-verify", "1.0.0"]).unwrap(),
            Task::Release {
                bump: Bump::Exact(Version::new(1, 0, 0)),
                dry_run: false,
                verify: false
            }
        );
    }

    #[test]
    fn bad_command_lines_are_usage_errors_with_the_usage() {
        for (args, says) in [
            (&["deploy"][..], "unknown command `deploy`"),
            (
                &["ci", "--fast"][..],
                "`ci` takes no arguments (got `--fast`)",
            ),
            (&["release"][..], "release needs a level or a version"),
            (
                &["bindings", "--fast"][..],
                "`bindings` takes only `--test` (got `--fast`)",
            ),
            (&["release", "patch", "minor"][..], "got another: `minor`"),
            (
                &["release", "patch", "--force"][..],
                "unknown release option `--force`",
            ),
            (
                &["release", "huge"][..],
                "`huge` is neither major, minor, patch nor a version",
            ),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{args:?}");
            let text = err.to_string();
            assert!(text.contains(says), "{args:?}: {text}");
            assert!(text.contains("usage: cargo xtask <command>"), "{text}");
        }
    }
}
