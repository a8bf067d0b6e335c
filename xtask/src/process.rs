//! What xshell leaves to xtask: a command's stdout with its stderr kept for the error, and the
//! command line as a person types it for the runs that stay on `std::process::Command`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use xshell::Cmd;

use crate::failure::{self, ErrorKind, WithSource as _};

/// Runs `cmd` quietly and returns its standard output. Unlike xshell's `read`, which lets
/// stderr through to the terminal, the error of a failed command carries its stderr (a failed
/// `git status` or `cargo metadata` says why in the error, not in stray lines above it).
pub(crate) fn read(cmd: Cmd<'_>) -> Result<String> {
    let line = cmd.to_string();
    let out = cmd.quiet().ignore_status().output()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(failure::new(
            ErrorKind::CommandFailed,
            format!("`{line}` failed ({}):\n{}", out.status, stderr.trim_end()),
        ));
    }
    String::from_utf8(out.stdout)
        .map_err(|e| failure::invalid(format!("`{line}` printed non-UTF-8 output")).with_source(e))
}

/// True when `cmd` starts and exits successfully (its output is discarded).
pub(crate) fn succeeds(cmd: Cmd<'_>) -> bool {
    cmd.quiet().ignore_stdout().ignore_stderr().run().is_ok()
}

/// The command line of `cmd` as a person would type it (`cargo fmt --all -- --check`), for the
/// processes xtask streams or keeps running, which stay on `std::process::Command`.
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

#[cfg(test)]
mod tests {
    use xshell::{Shell, cmd};

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
        let sh = Shell::new().unwrap();
        let script = "echo broken >&2; exit 3";
        let err = read(cmd!(sh, "sh -c {script}")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CommandFailed);
        let text = err.to_string();
        assert!(
            text.contains("`sh -c \"echo broken >&2; exit 3\"` failed"),
            "{text}"
        );
        assert!(text.contains("broken"), "{text}");

        // What xshell's own runner says, where stderr goes to the terminal.
        let err = anyhow::Error::from(cmd!(sh, "sh -c {script}").quiet().run().unwrap_err());
        assert_eq!(err.kind(), ErrorKind::CommandFailed);
        let text = err.to_string();
        assert!(
            text.contains("`sh -c \"echo broken >&2; exit 3\"`"),
            "{text}"
        );
        assert!(text.contains('3'), "{text}");
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let sh = Shell::new().unwrap();
        let missing = "/nonexistent/xtask-no-such-program";
        let err = anyhow::Error::from(sh.cmd(missing).quiet().run().unwrap_err());
        assert_eq!(err.kind(), ErrorKind::CommandFailed);
        assert!(err.to_string().contains("command not found"), "{err}");
        assert!(err.to_string().contains(missing), "{err}");
        let err = read(sh.cmd(missing)).unwrap_err();
        assert!(err.to_string().contains(missing), "{err}");
        assert!(!succeeds(sh.cmd(missing)));
    }
}
