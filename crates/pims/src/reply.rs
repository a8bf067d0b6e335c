//! What a call answered, typed ([`Reply`]; [`Steps`], a steps call's list), rendered into the
//! envelope's `result` once, when (and only when) a caller wants the envelope ([`Answered`]).

use std::ops::Deref;

use pims_types::{ErrorCode, Message, Step, StepsList, next_step_result};
use serde_json::Value;

use crate::error::{Error, ErrorKind};

/// The typed result of a [`Request`](crate::request::Request).
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    /// A steps call: the merged, filtered list.
    Steps(Steps),
    /// A next-step call: the step, or none left.
    NextStep(Option<Step>),
    /// A call passed through: the backend's result.
    Value(Value),
}

impl Reply {
    /// The steps of a steps request.
    pub(crate) fn into_steps(self) -> Result<Steps, Error> {
        match self {
            Reply::Steps(steps) => Ok(steps),
            other => Err(other.unexpected()),
        }
    }

    /// The step of a next-step request.
    pub(crate) fn into_next_step(self) -> Result<Option<Step>, Error> {
        match self {
            Reply::NextStep(step) => Ok(step),
            other => Err(other.unexpected()),
        }
    }

    /// The backend's result of a call passed through.
    pub(crate) fn into_value(self) -> Result<Value, Error> {
        match self {
            Reply::Value(v) => Ok(v),
            other => Err(other.unexpected()),
        }
    }

    /// A reply of another kind than its request's: a facade bug, answered 2000 (never a panic).
    fn unexpected(&self) -> Error {
        tracing::error!(reply = ?std::mem::discriminant(self), "pims: a reply of the wrong kind");
        Error::from_code(ErrorKind::Lifecycle, ErrorCode::UNKNOWN, &[])
    }

    /// The envelope's `result`.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Reply::Steps(steps) => steps.list.to_value(),
            Reply::NextStep(step) => next_step_result(step.as_ref()),
            Reply::Value(v) => v.clone(),
        }
    }
}

/// A typed answer and the SUCCEEDED envelope it came in (its real transaction id), for callers
/// that show both: a table from the value, `--json` from the envelope.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let sel = pims::StepsSelector::car_association_id("987654")?;
/// let answered = pims.steps(sel).send_with_envelope().await?;
/// println!("{}", answered.message.to_json_string()); // the envelope, as `get` gives it
/// for step in answered.value.steps() { println!("{} {}", step.name, step.status); }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Answered<T> {
    /// The typed value.
    pub value: T,
    /// The envelope, as the verb API answers the same call.
    pub message: Message,
}

/// A step list as the facade answers it: merged with the cache and filtered. It derefs to the
/// list; it may gain fields (say more about where the answer came from).
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let steps = pims.steps(pims::StepsSelector::car_association_id("987654")?).send().await?;
/// if steps.stale {
///     println!("from the cache: the backend could not be reached");
/// }
/// println!("{} steps in list {}", steps.len(), steps.steps_id());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Steps {
    /// The list.
    pub list: StepsList,
    /// `true` when the backend could not be reached and the list comes from the cache alone
    /// (the offline-fallback policy).
    pub stale: bool,
}

impl Deref for Steps {
    type Target = StepsList;
    fn deref(&self) -> &StepsList {
        &self.list
    }
}
