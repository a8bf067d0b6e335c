//! Colours and terminals: colours only when asked for nothing else (`--no-color`, `NO_COLOR`)
//! and the stream is a terminal; prompts and spinners only on a terminal.

use std::io::IsTerminal;

/// How output looks, decided once at start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Colours on stdout.
    out_color: bool,
    /// Colours on stderr.
    err_color: bool,
    /// stderr is a terminal (spinners).
    pub(crate) err_terminal: bool,
    /// stdin and stderr are terminals: the user can be asked.
    pub(crate) interactive: bool,
    /// `--json`.
    pub(crate) json: bool,
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Whether `NO_COLOR` asks for no colours (set and not empty, per no-color.org).
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Style {
    /// The style for this process.
    pub(crate) fn detect(no_color_flag: bool, json: bool) -> Style {
        let allowed = !no_color_flag && !no_color_env();
        let out_terminal = std::io::stdout().is_terminal();
        let err_terminal = std::io::stderr().is_terminal();
        Style {
            out_color: allowed && out_terminal && !json,
            err_color: allowed && err_terminal,
            err_terminal,
            interactive: std::io::stdin().is_terminal() && err_terminal,
            json,
        }
    }

    /// No colours, no terminal (tests, pipes).
    #[cfg(test)]
    pub(crate) fn plain() -> Style {
        Style {
            out_color: false,
            err_color: false,
            err_terminal: false,
            interactive: false,
            json: false,
        }
    }

    /// Whether stderr gets colours (the log output follows it).
    pub(crate) fn err_color(&self) -> bool {
        self.err_color
    }

    fn paint(on: bool, code: &str, text: &str) -> String {
        if on {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// A step status on stdout: green when done, yellow when still to do.
    pub(crate) fn status(&self, status: &str) -> String {
        let code = match status {
            "alreadyDone" => GREEN,
            "todo" => YELLOW,
            _ => BOLD,
        };
        Style::paint(self.out_color, code, status)
    }

    /// A heading on stdout.
    pub(crate) fn bold(&self, text: &str) -> String {
        Style::paint(self.out_color, BOLD, text)
    }

    /// A remark on stdout.
    pub(crate) fn dim(&self, text: &str) -> String {
        Style::paint(self.out_color, DIM, text)
    }

    /// A success mark on the progress stream.
    pub(crate) fn progress_ok(&self, text: &str, on_stderr: bool) -> String {
        let on = if on_stderr {
            self.err_color
        } else {
            self.out_color
        };
        Style::paint(on, GREEN, text)
    }

    /// An error word on stderr.
    pub(crate) fn err_red(&self, text: &str) -> String {
        Style::paint(self.err_color, RED, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_has_no_escape_codes() {
        let s = Style::plain();
        assert_eq!(s.status("todo"), "todo");
        assert_eq!(s.err_red("error 2202"), "error 2202");
    }

    #[test]
    fn colours_wrap_the_text() {
        let s = Style {
            out_color: true,
            ..Style::plain()
        };
        assert_eq!(s.status("alreadyDone"), "\x1b[32malreadyDone\x1b[0m");
    }
}
