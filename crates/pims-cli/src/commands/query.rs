//! `steps`, `next-step`, `services` and `call`: one SDK call each, so `--json` prints the message
//! exactly as the SDK answers it. `steps` and `next-step` go through the typed API, which hands
//! back the envelope of the same call (the table comes from the typed value, `--json` from the
//! envelope); `services` and `call` through the dispatcher (`Pims::call`).

use pims::types::{Api, keys, names};
use pims::{Parameters, StepsList, StepsSelector, Verb};
use serde_json::Value;

use super::{answer, answered};
use crate::cli::{CallArgs, CallVerb, NextStepArgs, ServicesArgs, StepsArgs};
use crate::failure::Failure;
use crate::render;
use crate::session::Session;
use crate::style::Style;

/// The selector of `pims steps` (clap guarantees exactly one flag). A malformed value is the
/// facade's refusal of the parameter (2102 naming it: a FAILED answer, as when the dispatcher
/// parses it), not a usage error.
fn selector(args: &StepsArgs) -> Result<Result<StepsSelector, pims::Error>, Failure> {
    let parsed = match (&args.car_association_id, &args.steps_id, &args.vin) {
        (Some(c), None, None) => StepsSelector::car_association_id(c.clone()),
        (None, Some(s), None) => StepsSelector::steps_id(s.clone()),
        (None, None, Some(v)) => StepsSelector::vin(v),
        _ => {
            return Err(Failure::usage(
                "give exactly one of --car-association-id, --steps-id, --vin",
            ));
        }
    };
    Ok(parsed.map_err(pims::Error::from))
}

/// Renders a step-list result (`pims call get pims.subscription.steps`).
fn steps_result(style: &Style, result: Option<&Value>) -> String {
    match result.map(StepsList::from_value) {
        Some(Ok(list)) => render::steps_table(style, &list),
        _ => render::any_result(result),
    }
}

/// `pims steps`.
pub(crate) async fn steps(
    session: &Session,
    style: &Style,
    args: &StepsArgs,
) -> Result<(), Failure> {
    let answer = match selector(args)? {
        Ok(selector) => {
            session
                .pims
                .steps(selector)
                .status(args.status.filter())
                .reset(args.reset)
                .send_with_envelope()
                .await
        }
        Err(refused) => Err(refused),
    };
    answered(session, style, answer, |steps| {
        render::steps_table(style, &steps.list)
    })
}

/// `pims next-step`.
pub(crate) async fn next_step(
    session: &Session,
    style: &Style,
    args: &NextStepArgs,
) -> Result<(), Failure> {
    let answer = session
        .pims
        .next_step(args.steps_id.clone())
        .send_with_envelope()
        .await;
    answered(session, style, answer, |step| {
        render::next_step(style, &args.steps_id, step.as_ref())
    })
}

/// `pims services`.
pub(crate) async fn services(
    session: &Session,
    style: &Style,
    args: &ServicesArgs,
) -> Result<(), Failure> {
    let params = Parameters::new().with(keys::VIN, args.vin.clone());
    let message = session
        .pims
        .call(Verb::Get, names::SUBSCRIPTION_SERVICES, params)
        .await;
    answer(session, style, &message, |result| match result {
        Some(r) => render::services(style, r),
        None => render::any_result(None),
    })
}

/// The value that makes `pims call` read a parameter from standard input (`pinCode=-`).
const FROM_STDIN: &str = "-";

/// The longest line read for one parameter (a PIN, an SMS code: a few digits).
const STDIN_VALUE_CAP: u64 = 1024;

/// The parameters of `pims call`, checked before any backend is opened. A value `-` is read
/// from standard input, one line per such parameter in the order given (without echo on a
/// terminal): the way to pass a PIN or an SMS code that other local users cannot read in the
/// process's arguments.
pub(crate) fn call_parameters(args: &CallArgs) -> Result<Parameters, Failure> {
    let mut params = Parameters::new();
    for (key, value) in &args.params {
        if params.contains(key) {
            return Err(Failure::usage(format!(
                "parameter {key} is given twice: give each KEY=VALUE once"
            )));
        }
        if value.as_str() == Some(FROM_STDIN) {
            let line = crate::prompt::stdin_line(key, STDIN_VALUE_CAP).map_err(|e| {
                Failure::usage(format!("{key}=-: cannot read standard input ({e})"))
            })?;
            if line.is_empty() {
                return Err(Failure::usage(format!(
                    "{key}=-: standard input holds no value for it (one line per KEY=- \
                     parameter, in order)"
                )));
            }
            params.insert(key.clone(), line.expose());
            continue;
        }
        if pims::types::is_secret_key(key) {
            crate::render::warn(&format!(
                "{key} given on the command line can be read by other local users while pims \
                 runs: pass {key}=- to read it from standard input"
            ));
        }
        params.insert(key.clone(), value.clone());
    }
    Ok(params)
}

/// `pims call`.
pub(crate) async fn call(
    session: &Session,
    style: &Style,
    args: &CallArgs,
    params: Parameters,
) -> Result<(), Failure> {
    let verb = match args.verb {
        CallVerb::Get => Verb::Get,
        CallVerb::Set => Verb::Set,
    };
    let is_steps = verb == Verb::Get && Api::parse(&args.api) == Some(Api::SubscriptionSteps);
    let message = session.pims.call(verb, &args.api, params).await;
    answer(session, style, &message, |result| {
        if is_steps {
            steps_result(style, result)
        } else {
            render::any_result(result)
        }
    })
}
