//! Property tests: round trips of envelopes and step lists, and the laws of merge, filter and
//! next step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pims_types::{
    ApiError, ErrorCode, Message, Parameters, Step, StepName, StepStatus, StepsId, StepsList,
    StepsQuery, StepsStatusFilter, TransactionId, filter, merge, next_step,
};
use proptest::prelude::*;
use serde_json::Value;

fn step_name() -> impl Strategy<Value = StepName> {
    prop_oneof![
        Just(StepName::TrusterPhoneNumber),
        Just(StepName::DeviceActivation),
        Just(StepName::MediumCarKey),
        "[a-z][a-zA-Z]{0,8}"
            .prop_filter("not a known or reserved name", |s| {
                matches!(StepName::parse(s), StepName::Other(_)) && s != "stepsId"
            })
            .prop_map(StepName::Other),
    ]
}

fn status() -> impl Strategy<Value = StepStatus> {
    prop_oneof![Just(StepStatus::Todo), Just(StepStatus::AlreadyDone)]
}

fn steps_id() -> impl Strategy<Value = StepsId> {
    prop_oneof![
        any::<u64>().prop_map(StepsId::number),
        "[A-Za-z0-9-]{1,20}".prop_map(StepsId::text),
    ]
}

fn list() -> impl Strategy<Value = StepsList> {
    (
        steps_id(),
        prop::collection::vec((step_name(), status(), -5i64..10), 0..7),
    )
        .prop_map(|(id, steps)| {
            StepsList::new(
                id,
                steps
                    .into_iter()
                    .map(|(n, s, o)| Step::new(n, s, o))
                    .collect(),
            )
        })
}

/// Two lists over the same names universe, as a cached and a fresh answer would be.
fn list_pair() -> impl Strategy<Value = (StepsList, StepsList)> {
    (list(), list())
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ]
}

/// Objects shaped like envelopes, with each key present or not and of any type, so the decoder
/// is exercised past the JSON parser.
fn envelope_like() -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        Just(Value::from("SUCCEEDED")),
        Just(Value::from("FAILED")),
        Just(Value::from("RESULT")),
        json_leaf(),
    ];
    let error = prop_oneof![
        (json_leaf(), json_leaf(), prop::option::of(json())).prop_map(|(code, label, sub)| {
            let mut m = serde_json::Map::new();
            m.insert("code".into(), code);
            m.insert("label".into(), label);
            if let Some(sub) = sub {
                m.insert("subCode".into(), sub);
            }
            Value::Object(m)
        }),
        json(),
    ];
    (
        prop::option::of(prop_oneof![Just(Value::from("953cfefb-bc72")), json_leaf()]),
        prop::option::of(status),
        prop::option::of(json()),
        prop::option::of(error),
    )
        .prop_map(|(tid, status, result, error)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("transactionId", tid),
                ("status", status),
                ("result", result),
                ("error", error),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

fn json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The result of a steps answer: a list as the documentation writes it (`StepsList::to_value`),
/// then, half of the time, one change that takes it out of that form (the keys reordered, a
/// legacy spelling, an extra or a renamed field, an order written as a string, a key that is
/// not a step, the id under `stepsId`, a step twice, a null id).
fn steps_result() -> impl Strategy<Value = Value> {
    (list(), 0u8..20, any::<prop::sample::Index>()).prop_map(|(list, change, at)| {
        let Value::Object(map) = list.to_value() else {
            unreachable!("a list is an object")
        };
        let mut entries: Vec<(String, Value)> = map.into_iter().collect();
        let i = at.index(entries.len());
        let step = (i > 0).then_some(i);
        match (change, step) {
            (0, _) => entries.reverse(),
            (1, Some(i)) if entries[i].0 == "trusterPhoneNumber" => {
                entries[i].0 = "trustedPhone".into()
            }
            (2, Some(i)) => {
                entries[i].1["extra"] = Value::from(1);
            }
            (3, Some(i)) => entries[i].1["name"] = Value::from("other"),
            (4, Some(i)) => {
                let order = entries[i].1["order"].to_string();
                entries[i].1["order"] = Value::from(order);
            }
            (5, _) => entries.push(("note".into(), Value::from("x"))),
            (6, _) => entries[0].0 = "stepsId".into(),
            (7, Some(i)) => {
                let twice = entries[i].clone();
                entries.push(twice);
            }
            (8, _) => entries[0].1 = Value::Null,
            (9, Some(i)) => {
                // The fields of a step in another order.
                let Value::Object(fields) = entries[i].1.clone() else {
                    unreachable!()
                };
                entries[i].1 = Value::Object(fields.into_iter().rev().collect());
            }
            _ => {}
        }
        // Written in this order (a Map would merge a key given twice).
        Value::Object(entries.into_iter().collect())
    })
}

/// A steps answer as text, keys in the order given (a key twice stays twice).
fn steps_answer() -> impl Strategy<Value = String> {
    let status = prop_oneof![
        4 => Just("SUCCEEDED"),
        1 => Just("RESULT"),
        1 => Just("FAILED"),
    ];
    (steps_result(), status, any::<bool>(), any::<bool>()).prop_map(
        |(result, status, error, twice)| {
            let mut text = format!(
                r#"{{"transactionId":"953cfefb-bc72","status":"{status}","result":{result}"#
            );
            if twice
                && let Value::Object(m) = &result
                && let Some((k, v)) = m.iter().nth(1)
            {
                // The same key written twice in the result.
                if let Some(open) = text.strip_suffix('}') {
                    text = format!("{open},{}:{v}}}", Value::from(k.as_str()));
                }
            }
            if error {
                text.push_str(r#","error":{"code":2346,"label":"x"}"#);
            }
            text.push('}');
            text
        },
    )
}

fn message() -> impl Strategy<Value = Message> {
    let id = any::<u64>().prop_map(TransactionId::from_u64);
    prop_oneof![
        (id.clone(), json()).prop_map(|(i, r)| Message::succeeded(i, r)),
        id.clone().prop_map(Message::succeeded_empty),
        (id.clone(), json()).prop_map(|(i, r)| Message::event(i, r)),
        (
            id,
            1000u32..9999,
            "[ -~]{0,30}",
            prop::option::of(prop::collection::vec(json_leaf(), 0..3))
        )
            .prop_map(|(i, code, label, sub)| {
                let mut e = ApiError::new(ErrorCode(code), label);
                e.sub_code = sub;
                Message::failed(i, e)
            }),
    ]
}

proptest! {
    #[test]
    fn envelopes_round_trip(m in message()) {
        let text = m.to_json_string();
        // The direct serialiser writes exactly what the Value form holds, in the same order.
        prop_assert_eq!(&text, &m.to_value().to_string());
        let back = Message::from_slice(text.as_bytes()).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.to_json_string(), text);
    }

    #[test]
    fn step_lists_round_trip(l in list()) {
        let v = l.to_value();
        let back = StepsList::from_value(&v).unwrap();
        prop_assert_eq!(&back, &l);
        prop_assert_eq!(back.to_value().to_string(), v.to_string());
    }

    #[test]
    fn lists_are_sorted_by_order(l in list()) {
        prop_assert!(l.steps().windows(2).all(|w| w[0].order <= w[1].order));
    }

    #[test]
    fn merge_is_sticky((cached, fresh) in list_pair()) {
        let m = merge(&cached, &fresh);
        for s in cached.steps().iter().chain(fresh.steps()) {
            if s.status == StepStatus::AlreadyDone {
                let got = m.step(&s.name).map(|x| x.status);
                prop_assert_eq!(got, Some(StepStatus::AlreadyDone), "{}", s.name);
            }
        }
    }

    #[test]
    fn merge_keeps_every_backend_step((cached, fresh) in list_pair()) {
        let m = merge(&cached, &fresh);
        for s in fresh.steps() {
            let got = m.step(&s.name).unwrap();
            prop_assert_eq!(got.order, s.order);
        }
        prop_assert_eq!(m.steps_id(), fresh.steps_id());
    }

    #[test]
    fn merge_is_idempotent((cached, fresh) in list_pair()) {
        let once = merge(&cached, &fresh);
        prop_assert_eq!(&merge(&once, &fresh), &once);
        prop_assert_eq!(&merge(&once, &once), &once);
        prop_assert_eq!(&merge(&fresh, &fresh), &fresh);
    }

    #[test]
    fn filter_all_is_identity(l in list()) {
        prop_assert_eq!(&filter(&l, StepsStatusFilter::All), &l);
    }

    #[test]
    fn filter_partitions(l in list()) {
        let todo = filter(&l, StepsStatusFilter::Todo);
        let done = filter(&l, StepsStatusFilter::AlreadyDone);
        prop_assert_eq!(todo.len() + done.len(), l.len());
        prop_assert!(todo.steps().iter().all(|s| s.status == StepStatus::Todo));
        prop_assert!(done.steps().iter().all(|s| s.status == StepStatus::AlreadyDone));
    }

    #[test]
    fn next_step_is_the_first_todo(l in list()) {
        let expected = l.steps().iter().filter(|s| s.status == StepStatus::Todo)
            .min_by_key(|s| s.order);
        let got = next_step(&l);
        prop_assert_eq!(got.map(|s| s.order), expected.map(|s| s.order));
        if let Some(g) = got {
            prop_assert_eq!(g.status, StepStatus::Todo);
            // Among equal orders, the first in list order.
            let first = l.steps().iter().find(|s| s.status == StepStatus::Todo && s.order == g.order);
            prop_assert_eq!(Some(g), first);
        }
    }

    #[test]
    fn call_bodies_serialise_as_their_value_and_round_trip(
        params in prop::collection::vec(("[a-zA-Z]{1,12}", json()), 0..6),
        get in any::<bool>(),
        n in any::<u64>(),
    ) {
        let mut p = pims_types::Parameters::new();
        for (k, v) in params {
            p = p.with(k, v);
        }
        let verb = if get { pims_types::Verb::Get } else { pims_types::Verb::Set };
        let body = pims_types::CallBody::new(
            pims_types::TransactionId::from_u64(n), verb, "pims.subscription.steps", p);
        let text = body.to_json_string();
        // The direct serialiser writes exactly what the Value form says, in the same order.
        prop_assert_eq!(&text, &body.to_value().to_string());
        prop_assert_eq!(pims_types::CallBody::from_slice(text.as_bytes()).ok(), Some(body));
        // From bytes (parameters moved out of the document) and from the value: the same.
        let value: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(
            pims_types::CallBody::from_slice(text.as_bytes()).ok(),
            pims_types::CallBody::from_value(&value).ok()
        );
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Message::from_slice(&bytes);
        let from_bytes = pims_types::CallBody::from_slice(&bytes);
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let from_value = pims_types::CallBody::from_value(&value);
            prop_assert_eq!(
                from_bytes.map_err(|e| e.to_string()),
                from_value.map_err(|e| e.to_string())
            );
        }
    }

    #[test]
    fn envelope_shaped_documents_decode_or_fail_cleanly_and_round_trip(v in envelope_like()) {
        let text = v.to_string();
        pims_types::fuzz_checks::envelope(text.as_bytes());
        // From bytes (with its fast path for successes) and from the value: the same answer.
        let from_bytes = Message::from_slice(text.as_bytes());
        let from_value = Message::from_value(&v);
        prop_assert_eq!(from_bytes.as_ref().ok(), from_value.as_ref().ok());
        prop_assert_eq!(
            from_bytes.as_ref().err().map(ToString::to_string),
            from_value.as_ref().err().map(ToString::to_string)
        );
        if let Ok(m) = Message::from_value(&v) {
            // What decodes is a valid envelope: a result xor an error, as its status says.
            prop_assert_eq!(m.error().is_some(), m.status() == pims_types::Status::Failed);
            prop_assert_eq!(m.result().is_some(), m.status() != pims_types::Status::Failed);
        }
    }

    #[test]
    fn steps_answers_decode_like_any_answer(text in steps_answer()) {
        // The steps decoder (a canonical list straight into a StepsList) gives what the general
        // decoder gives: the same message, the same error, the same list, the same text back.
        let steps = Message::from_slice_steps(text.as_bytes());
        let general = Message::from_slice(text.as_bytes());
        prop_assert_eq!(steps.as_ref().ok(), general.as_ref().ok());
        prop_assert_eq!(
            steps.as_ref().err().map(ToString::to_string),
            general.as_ref().err().map(ToString::to_string)
        );
        if let (Ok(steps), Ok(general)) = (steps, general) {
            prop_assert_eq!(steps.to_json_string(), general.to_json_string());
            prop_assert_eq!(format!("{steps:?}"), format!("{general:?}"));
            prop_assert_eq!(steps.result(), general.result());
            prop_assert_eq!(
                steps.into_steps_list().map_err(|e| e.to_string()),
                general.into_steps_list().map_err(|e| e.to_string())
            );
        }
    }

    #[test]
    fn parameter_parser_never_panics(v in json()) {
        if let Ok(p) = Parameters::from_value(v.clone()) {
            let _ = StepsQuery::from_parameters(&p);
            let _ = pims_types::NextStepQuery::from_parameters(&p);
            let _ = pims_types::ServicesQuery::from_parameters(&p);
        }
        let _ = Message::from_value(&v);
        let _ = StepsList::from_value(&v);
    }
}
