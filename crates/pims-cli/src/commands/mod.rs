//! The commands, one module each, and what they share: printing an answer.

pub(crate) mod activate;
pub(crate) mod cache;
pub(crate) mod completions;
pub(crate) mod query;
pub(crate) mod sim;

use pims_types::Message;

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
        Some(error) => {
            let failure = Failure::failed(error.clone());
            Err(match session.hint_for(error.code) {
                Some(hint) => failure.with_hint(hint),
                None => failure,
            })
        }
        None => {
            if !style.json {
                render::out(&table(message.result()));
            }
            Ok(())
        }
    }
}
