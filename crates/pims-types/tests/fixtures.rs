//! The documentation's examples (copied from the shared fixtures) parse and serialise back to the
//! same JSON, keys in the same order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pims_types::{
    Api, Message, NextStepQuery, Parameters, StepName, StepsList, StepsQuery, Verb,
    parse_next_step_result,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Keys of every object, depth first, to compare order (Value equality ignores it).
fn key_order(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                key_order(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| key_order(v, out)),
        _ => {}
    }
}

fn assert_same_json(a: &Value, b: &Value) {
    assert_eq!(a, b);
    let (mut ka, mut kb) = (vec![], vec![]);
    key_order(a, &mut ka);
    key_order(b, &mut kb);
    assert_eq!(ka, kb, "key order");
}

const ANSWERS: &[&str] = &[
    "need-strong-authentication.json",
    "next-step-none.json",
    "next-step.json",
    "otp-with-pin.json",
    "steps-by-car-association.json",
    "steps-by-steps-id.json",
];

#[test]
fn every_fixture_file_is_covered() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut covered: Vec<&str> = ANSWERS.to_vec();
    covered.push("legacy-spellings.json");
    covered.sort();
    assert_eq!(names, covered);
}

#[test]
fn answers_round_trip_exactly() {
    for name in ANSWERS {
        let doc = fixture(name);
        let answer = &doc["answer"];
        let message = Message::from_value(answer).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(message.transaction_id().has_documented_shape());
        assert_same_json(&message.to_value(), answer);
        // Through text as well.
        let again = Message::from_slice(message.to_json_string().as_bytes()).unwrap();
        assert_eq!(again, message);
    }
}

#[test]
fn calls_parse_into_their_queries() {
    for name in ANSWERS {
        let doc = fixture(name);
        let Some(call) = doc.get("call") else {
            continue;
        };
        let verb: Verb = serde_json::from_value(call["verb"].clone()).unwrap();
        let api = Api::parse(call["api"].as_str().unwrap()).unwrap();
        assert!(api.supports(verb), "{name}");
        let params = Parameters::from_value(call["parameters"].clone()).unwrap();
        match api {
            Api::SubscriptionSteps => {
                let q = StepsQuery::from_parameters(&params).unwrap();
                assert_same_json(&q.to_parameters().to_value(), &call["parameters"]);
            }
            Api::SubscriptionStep => {
                let q = NextStepQuery::from_parameters(&params).unwrap();
                assert_eq!(q.steps_id.as_str(), "132324");
            }
            _ => {}
        }
    }
}

#[test]
fn step_lists_read_and_write_the_keyed_object() {
    for name in ["steps-by-car-association.json", "steps-by-steps-id.json"] {
        let result = fixture(name)["answer"]["result"].clone();
        let list = StepsList::from_value(&result).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.steps_id().as_str(), "132324");
        assert_same_json(&list.to_value(), &result);
    }
}

#[test]
fn next_step_results() {
    let some = fixture("next-step.json")["answer"]["result"].clone();
    let step = parse_next_step_result(&some).unwrap().unwrap();
    assert_eq!(step.name, StepName::DeviceActivation);
    assert_eq!(step.order, 2);
    assert_same_json(&pims_types::next_step_result(Some(&step)), &some);
    let none = fixture("next-step-none.json")["answer"]["result"].clone();
    assert!(parse_next_step_result(&none).unwrap().is_none());
}

#[test]
fn legacy_spellings_map_to_the_canonical_call() {
    let doc = fixture("legacy-spellings.json");
    let cases = doc["cases"].as_array().unwrap();
    let mut seen = 0;
    for case in cases {
        if let Some(p) = case.get("parameters") {
            let q =
                StepsQuery::from_parameters(&Parameters::from_value(p.clone()).unwrap()).unwrap();
            assert_same_json(&q.to_parameters().to_value(), &case["canonical"]);
            seen += 1;
        }
        if let Some(api) = case.get("api") {
            let canonical = Api::parse(api.as_str().unwrap()).unwrap();
            assert_eq!(canonical.name(), case["canonical_api"].as_str().unwrap());
            seen += 1;
        }
        if let Some(step) = case.get("backend_step") {
            let mut with_id = step.as_object().unwrap().clone();
            with_id.insert("stepsID".into(), Value::from(1));
            let list = StepsList::from_value(&Value::Object(with_id)).unwrap();
            let mut out = list.to_value().as_object().unwrap().clone();
            out.remove("stepsID");
            assert_same_json(&Value::Object(out), &case["canonical_step"]);
            seen += 1;
        }
    }
    assert_eq!(seen, cases.len());
}
