//! Why a command did not succeed, and how that is told: the exit code and the lines on stderr.
//!
//! | exit | meaning | stderr |
//! |---|---|---|
//! | 0 | SUCCEEDED | — |
//! | 1 | a call FAILED | `error <code>: <label>`, then the remedy in words (and a hint) |
//! | 2 | bad usage: flags, values, files, an unusable `--home`, a missing token | `pims: <what to do>` |
//! | 3 | the pims home (or the simulator state) is in use by another process | `pims: <who holds it>` |
//!
//! Messages never hold a secret: they are built from labels, paths, flags and masked identifiers.
//! Every text is escaped when rendered ([`crate::escape`]): a label comes from the backend, a
//! hint may carry a path or a detail from it.

use std::process::ExitCode;

use pims::{ApiError, ErrorCode};

use crate::escape::escape;
use crate::style::Style;

/// A command that did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A call answered FAILED (exit 1).
    Failed {
        /// The error as the SDK gives it.
        error: ApiError,
        /// What to do, when the context knows better than the catalogue's remedy (2317 during
        /// enrolment means "remove all enrolments", not "reset the steps").
        advice: Option<String>,
        /// What the CLI knows beyond the catalogue's remedy (a flag to check, a step to redo).
        hint: Option<String>,
    },
    /// A local operation (on the cache) could not be done, with no backend call involved
    /// (exit 1): the message says what was done, what is left and what to do. No catalogue code
    /// is made up for it.
    NotDone(String),
    /// Bad usage (exit 2): the message says what to pass or fix.
    Usage(String),
    /// The home, the cache or the simulator state is held by another process (exit 3).
    Busy(String),
}

impl Failure {
    /// A FAILED call.
    pub(crate) fn failed(error: ApiError) -> Self {
        Failure::Failed {
            error,
            advice: None,
            hint: None,
        }
    }

    /// A FAILED call from a facade error.
    pub(crate) fn from_pims(error: &pims::Error) -> Self {
        Failure::failed(error.api_error().clone())
    }

    /// A FAILED call with a code of the catalogue and a hint.
    pub(crate) fn code(code: ErrorCode, values: &[&str], hint: impl Into<String>) -> Self {
        Failure::Failed {
            error: ApiError::with_values(code, values),
            advice: None,
            hint: Some(hint.into()),
        }
    }

    /// Bad usage.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(message.into())
    }

    /// Adds (or replaces) the hint of a FAILED call; other failures are kept as they are.
    pub(crate) fn with_hint(self, hint: impl Into<String>) -> Self {
        match self {
            Failure::Failed { error, advice, .. } => Failure::Failed {
                error,
                advice,
                hint: Some(hint.into()),
            },
            other => other,
        }
    }

    /// Replaces the catalogue's remedy of a FAILED call with what applies here.
    pub(crate) fn with_advice(self, text: impl Into<String>) -> Self {
        match self {
            Failure::Failed { error, hint, .. } => Failure::Failed {
                error,
                advice: Some(text.into()),
                hint,
            },
            other => other,
        }
    }

    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Failed { .. } | Failure::NotDone(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Busy(_) => 3,
        }
    }

    /// The lines for stderr (no trailing newline).
    pub(crate) fn render(&self, style: &Style) -> String {
        match self {
            Failure::Failed {
                error,
                advice,
                hint,
            } => {
                let mut out = format!(
                    "{}: {}",
                    style.err_red(&format!("error {}", error.code)),
                    escape(&error.label)
                );
                let advice = advice
                    .as_deref()
                    .or_else(|| error.code.remedy().map(|r| r.advice()));
                if let Some(advice) = advice {
                    out.push_str("\n  what to do: ");
                    out.push_str(&escape(advice));
                }
                if let Some(hint) = hint {
                    out.push_str("\n  ");
                    out.push_str(&escape(hint));
                }
                out
            }
            Failure::NotDone(message) | Failure::Usage(message) | Failure::Busy(message) => {
                format!("pims: {}", escape(message))
            }
        }
    }

    /// Writes the failure on stderr and gives the exit code.
    pub(crate) fn report(&self, style: &Style) -> ExitCode {
        eprintln!("{}", self.render(style));
        ExitCode::from(self.exit_code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_calls_show_code_label_and_remedy() {
        let f = Failure::failed(ApiError::with_values(
            ErrorCode::NO_STEP_FOR_STEPS_ID,
            &["999"],
        ));
        let text = f.render(&Style::plain());
        assert!(
            text.starts_with("error 2346: No Step for this stepsID 999\n"),
            "{text}"
        );
        assert!(
            text.contains("what to do: this device does not know that stepsID"),
            "{text}"
        );
        assert_eq!(f.exit_code(), 1);
    }

    #[test]
    fn hints_come_after_the_remedy() {
        let f = Failure::failed(ApiError::from_code(ErrorCode::NETWORK))
            .with_hint("is the backend at http://127.0.0.1:9 running?");
        let text = f.render(&Style::plain());
        let remedy = text.find("what to do").unwrap();
        let hint = text.find("is the backend").unwrap();
        assert!(remedy < hint, "{text}");
    }

    #[test]
    fn advice_replaces_the_catalogue_remedy() {
        let f = Failure::failed(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION))
            .with_advice("remove all enrolments, then start again");
        let text = f.render(&Style::plain());
        assert!(text.contains("what to do: remove all enrolments"), "{text}");
        assert!(!text.contains("resetSteps"), "{text}");
    }

    #[test]
    fn labels_hints_and_messages_are_escaped() {
        let mut error = ApiError::from_code(ErrorCode::SERVER_ERROR);
        error.label = "\x1b[2J\x1b[Hpims: all good".into();
        let text = Failure::failed(error)
            .with_hint("\x1b]0;title\x07")
            .render(&Style::plain());
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(text.contains("\\u{1b}[2J"), "{text}");
        let text = Failure::usage("bad\rpath").render(&Style::plain());
        assert_eq!(text, "pims: bad\\rpath");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Failure::usage("x").exit_code(), 2);
        assert_eq!(Failure::Busy("x".into()).exit_code(), 3);
        assert_eq!(
            Failure::usage("pass --pin").render(&Style::plain()),
            "pims: pass --pin"
        );
    }
}
