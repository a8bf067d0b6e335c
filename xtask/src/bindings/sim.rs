//! A pims-sim process on 127.0.0.1:0 for one language's suite, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::failure::{self, ErrorKind, WithSource as _};
use anyhow::Result;

/// A running simulator: its base URL and admin token.
#[derive(Debug)]
pub(crate) struct Sim {
    child: Child,
    pub(crate) url: String,
    pub(crate) admin_token: String,
}

impl Sim {
    /// Starts `profile_dir/pims-sim` and reads its one stdout line
    /// (`pims-sim listening on http://127.0.0.1:PORT admin-token=...`).
    pub(crate) fn start(profile_dir: &Path) -> Result<Sim> {
        let program = profile_dir.join(format!("pims-sim{}", std::env::consts::EXE_SUFFIX));
        // std's Command, not xshell: the simulator keeps running beside the suite.
        let mut child = Command::new(&program)
            .args(["--addr", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                failure::new(
                    ErrorKind::CommandFailed,
                    format!("could not start {}", program.display()),
                )
                .with_source(e)
            })?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        match parse_line(&line) {
            Some((url, admin_token)) => Ok(Sim {
                child,
                url,
                admin_token,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(failure::new(
                    ErrorKind::CommandFailed,
                    format!("pims-sim did not say where it listens (it printed {line:?})"),
                ))
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The base URL and admin token of pims-sim's start line.
fn parse_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("pims-sim listening on ")?;
    let (url, token) = rest.split_once(" admin-token=")?;
    (!url.is_empty() && !token.is_empty()).then(|| (url.to_owned(), token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_line_gives_url_and_token() {
        assert_eq!(
            parse_line("pims-sim listening on http://127.0.0.1:4321 admin-token=abc\n"),
            Some(("http://127.0.0.1:4321".into(), "abc".into()))
        );
        assert_eq!(
            parse_line("pims-sim listening on http://127.0.0.1:1\n"),
            None
        );
        assert_eq!(parse_line(""), None);
    }
}
