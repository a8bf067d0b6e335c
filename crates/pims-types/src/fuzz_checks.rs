//! The invariants the fuzz targets (`fuzz/`, cargo-fuzz) check, shared with the ordinary test that
//! replays their seed corpus, so CI exercises them without a nightly toolchain.
//!
//! Each function takes arbitrary bytes and panics only if an invariant is broken: decoding may
//! fail (with an error), but never panic, and what decodes must survive a round trip.
//!
//! ```
//! pims_types::fuzz_checks::envelope(b"{}");
//! pims_types::fuzz_checks::parameters(b"{}");
//! ```

use crate::{CallBody, Message, NextStepQuery, Parameters, ServicesQuery, StepsList, StepsQuery};

/// Envelope decoder: arbitrary bytes never panic; a decoded envelope re-encodes to text that
/// decodes to the same envelope. Step lists inside a successful result round-trip too, and the
/// steps decoder ([`Message::from_slice_steps`]) gives what the general one gives.
///
/// ```
/// pims_types::fuzz_checks::envelope(br#"{"transactionId":"953cfefb-bc72","status":"SUCCEEDED","result":null}"#);
/// pims_types::fuzz_checks::envelope(b"\xff garbage");
/// ```
#[allow(clippy::panic)] // broken invariants are what a fuzz target reports
pub fn envelope(bytes: &[u8]) {
    if let Ok(message) = Message::from_slice(bytes) {
        let text = message.to_json_string();
        match Message::from_slice(text.as_bytes()) {
            Ok(again) if again == message => {}
            other => panic!("envelope did not round-trip: {other:?}"),
        }
        if let Some(result) = message.result()
            && let Ok(list) = StepsList::from_value(result)
        {
            match StepsList::from_value(&list.to_value()) {
                Ok(again) if again == list => {}
                other => panic!("step list did not round-trip: {other:?}"),
            }
        }
    }
    // The steps decoder (straight into a StepsList) decides like the general one.
    match (Message::from_slice_steps(bytes), Message::from_slice(bytes)) {
        (Ok(steps), Ok(general)) if steps == general => {
            if steps.to_json_string() != general.to_json_string() {
                panic!("the steps decoder's message writes other text: {steps:?}");
            }
        }
        (Err(steps), Err(general)) if steps.to_string() == general.to_string() => {}
        other => panic!("the steps decoder disagrees: {other:?}"),
    }
    let _ = CallBody::from_slice(bytes);
}

/// Parameter parser: arbitrary bytes (read as JSON) never panic; a parsed steps query
/// re-parses from its canonical parameters to the same query.
///
/// ```
/// pims_types::fuzz_checks::parameters(br#"{"stepsId": 5, "resetStep": "true"}"#);
/// pims_types::fuzz_checks::parameters(b"[]");
/// ```
#[allow(clippy::panic)]
pub fn parameters(bytes: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let Ok(params) = Parameters::from_value(value) else {
        return;
    };
    if let Ok(query) = StepsQuery::from_parameters(&params) {
        match StepsQuery::from_parameters(&query.to_parameters()) {
            Ok(again) if again == query => {}
            other => panic!("steps query did not round-trip: {other:?}"),
        }
    }
    let _ = NextStepQuery::from_parameters(&params);
    let _ = ServicesQuery::from_parameters(&params);
    for key in ["pinCode", "smsCode", "phoneNumber", "action", "type"] {
        let _ = params.digits(key, &[]);
        let _ = params.string(key, &[]);
        let _ = params.boolean(key, &[]);
        let _ = params.identifier(key, &[]);
    }
}
