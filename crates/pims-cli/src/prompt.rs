//! Asking the user: only on a terminal. Without one, a value that is needed and was not given
//! is a usage error naming the flag to pass (exit 2): the command never waits on a prompt
//! nobody can see.

use std::io::{BufRead, Write};

use pims::Secret;

use crate::failure::Failure;

/// Asks for values, or says which flag to pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prompter {
    interactive: bool,
}

impl Prompter {
    /// A prompter; `interactive` when stdin and stderr are terminals.
    pub(crate) fn new(interactive: bool) -> Prompter {
        Prompter { interactive }
    }

    /// Whether the user can be asked.
    pub(crate) fn interactive(&self) -> bool {
        self.interactive
    }

    /// The usage error for a value that is missing and cannot be asked.
    pub(crate) fn missing(flag: &str, what: &str) -> Failure {
        Failure::usage(format!(
            "{what} is needed and there is no terminal to ask on: pass {flag}"
        ))
    }

    /// An empty answer at the prompt: say so, and how else to give it.
    fn nothing_typed(flag: &str, what: &str) -> Failure {
        Failure::usage(format!(
            "nothing typed for {what}: type it at the prompt, or pass {flag}"
        ))
    }

    /// A line of text (echoed).
    pub(crate) fn line(&self, question: &str, flag: &str, what: &str) -> Result<String, Failure> {
        if !self.interactive {
            return Err(Prompter::missing(flag, what));
        }
        tokio::task::block_in_place(|| {
            eprint!("{question}: ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut answer)
                .map_err(|e| Failure::usage(format!("cannot read {what} ({e}): pass {flag}")))?;
            let answer = answer.trim().to_owned();
            if answer.is_empty() {
                return Err(Prompter::nothing_typed(flag, what));
            }
            Ok(answer)
        })
    }

    /// A secret, without echo.
    pub(crate) fn secret(&self, question: &str, flag: &str, what: &str) -> Result<Secret, Failure> {
        if !self.interactive {
            return Err(Prompter::missing(flag, what));
        }
        tokio::task::block_in_place(|| {
            let answer = rpassword::prompt_password(format!("{question}: "))
                .map_err(|e| Failure::usage(format!("cannot read {what} ({e}): pass {flag}")))?;
            let answer = Secret::new(answer.trim());
            if answer.is_empty() {
                return Err(Prompter::nothing_typed(flag, what));
            }
            Ok(answer)
        })
    }

    /// Waits for Enter (`true`) or anything else typed first (`false`); without a terminal,
    /// `true` (the call that follows tells whether the conditions were met).
    pub(crate) fn confirm(&self, question: &str) -> bool {
        if !self.interactive {
            return true;
        }
        tokio::task::block_in_place(|| {
            eprint!("{question} [Enter to go on, n to stop] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            if std::io::stdin().lock().read_line(&mut answer).is_err() {
                return false;
            }
            !matches!(answer.trim(), "n" | "N" | "no" | "q")
        })
    }
}

/// One line of standard input, at most `cap` bytes, trimmed: read without echo (after
/// `question` on stderr) when standard input is a terminal, read as it comes otherwise (a pipe
/// from a password manager). The way to hand pims a secret that no other local user can read in
/// the process's arguments.
pub(crate) fn stdin_line(question: &str, cap: u64) -> std::io::Result<Secret> {
    use std::io::{IsTerminal, Read};
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        rpassword::prompt_password(format!("{question}: "))?
    } else {
        let mut line = String::new();
        stdin.lock().take(cap).read_line(&mut line)?;
        line
    };
    Ok(Secret::new(line.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_says_what_was_left_empty_and_how_else_to_give_it() {
        let Failure::Usage(m) = Prompter::nothing_typed("--pin-stdin", "the PIN") else {
            panic!("not usage")
        };
        assert_eq!(
            m,
            "nothing typed for the PIN: type it at the prompt, or pass --pin-stdin"
        );
    }

    #[test]
    fn without_a_terminal_the_flag_is_named() {
        let p = Prompter::new(false);
        let e = p
            .line("Phone", "--phone NUMBER", "a phone number")
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let Failure::Usage(m) = e else { panic!() };
        assert!(m.contains("pass --phone NUMBER"), "{m}");
        assert!(p.secret("PIN", "--pin PIN", "the PIN").is_err());
        assert!(p.confirm("ready?"));
    }
}
