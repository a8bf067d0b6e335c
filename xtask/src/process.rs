//! Running the programs xtask drives (cargo, git, rustc), with errors that say which one failed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::Result;

use crate::failure::{self, ErrorKind, WithSource as _};

/// The command line of `cmd` as a person would type it (`cargo fmt --all -- --check`).
pub(crate) fn describe(cmd: &Command) -> String {
    // `$CARGO` is an absolute path into the toolchain: the program's name is what people type.
    let program = Path::new(cmd.get_program());
    let mut out = shown(program.file_name().unwrap_or(program.as_os_str()));
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&shown(arg));
    }
    out
}

fn shown(part: &OsStr) -> String {
    let text = part.to_string_lossy();
    if text.is_empty() || text.contains(char::is_whitespace) {
        format!("'{text}'")
    } else {
        text.into_owned()
    }
}

/// Runs `cmd` with the terminal's stdin/stdout/stderr; an error if it cannot start or fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let line = describe(cmd);
    let status = cmd.status().map_err(|e| {
        failure::new(
            ErrorKind::CommandFailed,
            format!("could not start `{line}`"),
        )
        .with_source(e)
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(failure::new(
            ErrorKind::CommandFailed,
            format!("`{line}` failed ({status})"),
        ))
    }
}

/// Runs `cmd` capturing its output; the error carries stderr when it fails.
pub(crate) fn output(cmd: &mut Command) -> Result<Output> {
    let line = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            failure::new(
                ErrorKind::CommandFailed,
                format!("could not start `{line}`"),
            )
            .with_source(e)
        })?;
    if out.status.success() {
        Ok(out)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(failure::new(
            ErrorKind::CommandFailed,
            format!("`{line}` failed ({}):\n{}", out.status, stderr.trim_end()),
        ))
    }
}

/// Runs `cmd` and returns its standard output as text.
pub(crate) fn stdout(cmd: &mut Command) -> Result<String> {
    let line = describe(cmd);
    let out = output(cmd)?;
    String::from_utf8(out.stdout)
        .map_err(|e| failure::invalid(format!("`{line}` printed non-UTF-8 output")).with_source(e))
}

/// True when `cmd` starts and exits successfully (its output is discarded).
pub(crate) fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KindOf as _;

    #[test]
    fn describe_shows_the_program_name_only() {
        let cmd = Command::new("/root/.rustup/toolchains/stable/bin/cargo");
        assert_eq!(describe(&cmd), "cargo");
    }

    #[test]
    fn describe_quotes_arguments_with_spaces() {
        let mut cmd = Command::new("git");
        cmd.args(["commit", "-m", "Release v1.2.3"]);
        assert_eq!(describe(&cmd), "git commit -m 'Release v1.2.3'");
    }

    #[test]
    fn failures_name_the_command_and_carry_stderr() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo broken >&2; exit 3"]);
        let err = output(&mut cmd).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CommandFailed);
        let text = err.to_string();
        assert!(
            text.contains("`sh -c 'echo broken >&2; exit 3'` failed"),
            "{text}"
        );
        assert!(text.contains("broken"), "{text}");
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let err = run(&mut Command::new("/nonexistent/xtask-no-such-program")).unwrap_err();
        assert!(err.to_string().contains("could not start"), "{err}");
        assert!(!succeeds(&mut Command::new(
            "/nonexistent/xtask-no-such-program"
        )));
    }
}
