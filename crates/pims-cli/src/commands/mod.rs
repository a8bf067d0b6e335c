//! The commands, one module each, and what they share: printing an answer.

pub(crate) mod activate;
pub(crate) mod cache;
pub(crate) mod completions;
pub(crate) mod query;
pub(crate) mod sim;

use pims::{Answered, ApiError, Message};

use crate::failure::Failure;
use crate::render;
use crate::session::Session;
use crate::style::Style;

/// Prints one answer: the envelope line with `--json`, else what `table` makes of the result.
/// A FAILED answer is the command's failure (its envelope is printed first with `--json`).
pub(crate) fn answer(
    session: &Session,
    style: &Style,
    message: &Message,
    table: impl FnOnce(Option<&serde_json::Value>) -> String,
) -> Result<(), Failure> {
    if style.json {
        render::out_line(&render::json_line(message));
    }
    match message.error() {
        Some(error) => Err(call_failure(session, error.clone())),
        None => {
            if !style.json {
                render::out(&table(message.result()));
            }
            Ok(())
        }
    }
}

/// Prints one typed answer, from the one call that gave it: its envelope with `--json`, else
/// what `table` makes of its value. A failure is the command's failure (with `--json` its FAILED
/// envelope, carrying the call's transaction id, is printed first).
pub(crate) fn answered<T>(
    session: &Session,
    style: &Style,
    answer: Result<Answered<T>, pims::Error>,
    table: impl FnOnce(&T) -> String,
) -> Result<(), Failure> {
    match answer {
        Ok(answered) => {
            if style.json {
                render::out_line(&render::json_line(&answered.message));
            } else {
                render::out(&table(&answered.value));
            }
            Ok(())
        }
        Err(e) => {
            if style.json {
                render::out_line(&render::json_line(&e.to_message()));
            }
            Err(call_failure(session, e.into_api_error()))
        }
    }
}

/// A FAILED call as the command's failure, with the CLI's hint for its code when it has one.
fn call_failure(session: &Session, error: ApiError) -> Failure {
    let hint = session.hint_for(error.code);
    let failure = Failure::failed(error);
    match hint {
        Some(hint) => failure.with_hint(hint),
        None => failure,
    }
}
