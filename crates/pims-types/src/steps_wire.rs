//! The answer to a steps call decoded straight into a [`StepsList`], without a `Value` (the
//! facade's most frequent call: building the result's `Value` and reading it back cost a
//! quarter of the client's instructions per call).
//!
//! Only the canonical form is taken: a SUCCEEDED envelope whose result is the list as
//! [`StepsList::to_value`] writes it (`stepsID` first, then each step keyed by its own name with
//! exactly `name` (equal to the key), `status` and `order`, in ascending order, no name twice).
//! For that form the list's value is the document, so a message holding the list is the
//! message [`Message::from_slice`](crate::Message::from_slice) makes. Anything else (another
//! order, a legacy spelling, an extra field, an escaped key, any error) gives `None`, and the
//! caller decodes the bytes the general way, with its exact errors.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::params::MAX_IDENTIFIER_LEN;
use crate::steps::{Step, StepName, StepStatus, StepsId, StepsList};
use crate::transaction_id::TransactionId;

/// The transaction id and the list of a canonical steps answer, or `None`.
pub(crate) fn decode(bytes: &[u8]) -> Option<(TransactionId, StepsList)> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Envelope<'a> {
        #[serde(rename = "transactionId", borrow)]
        transaction_id: Cow<'a, str>,
        #[serde(borrow)]
        status: Cow<'a, str>,
        #[serde(default)]
        result: Option<Canonical>,
        #[serde(default)]
        error: Option<IgnoredAny>,
    }
    // A derived struct also reads arrays: only objects are envelopes.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let envelope: Envelope<'_> = serde_json::from_slice(bytes).ok()?;
    if envelope.error.is_some() || envelope.status != "SUCCEEDED" {
        return None;
    }
    let transaction_id = TransactionId::parse(&envelope.transaction_id).ok()?;
    Some((transaction_id, envelope.result?.0))
}

/// A list in its canonical form (see the module docs); any other form is a decoding error.
struct Canonical(StepsList);

impl<'de> Deserialize<'de> for Canonical {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ListVisitor)
    }
}

fn not_canonical<E: de::Error>(what: &str) -> E {
    E::custom(format_args!("not a canonical step list: {what}"))
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Canonical;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step list as the documentation writes it")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Canonical, A::Error> {
        match map.next_key::<&'de str>()? {
            Some("stepsID") => {}
            _ => return Err(not_canonical("stepsID is not the first key")),
        }
        let steps_id = map.next_value::<IdWire>()?.0;
        let mut steps: Vec<Step> = Vec::with_capacity(3);
        while let Some(key) = map.next_key::<&'de str>()? {
            let name = StepName::parse(key);
            if name.as_str() != key || key == "stepsID" || key == "stepsId" {
                return Err(not_canonical("a key that is not a step's own name"));
            }
            if steps.iter().any(|s| s.name == name) {
                return Err(not_canonical("a step twice"));
            }
            let (status, order) = map.next_value_seed(StepSeed { key })?;
            if steps.last().is_some_and(|last| last.order > order) {
                return Err(not_canonical("steps out of order"));
            }
            steps.push(Step::new(name, status, order));
        }
        Ok(Canonical(StepsList::new(steps_id, steps)))
    }
}

/// `stepsID`: a non-negative integer, or a string of 1 to [`MAX_IDENTIFIER_LEN`] bytes (what
/// [`StepsId`]'s reading of a `Value` accepts).
struct IdWire(StepsId);

impl<'de> Deserialize<'de> for IdWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl<'de> Visitor<'de> for IdVisitor {
    type Value = IdWire;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stepsID")
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<IdWire, E> {
        Ok(IdWire(StepsId::number(n)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<IdWire, E> {
        if s.is_empty() || s.len() > MAX_IDENTIFIER_LEN {
            return Err(not_canonical("an empty or too long stepsID"));
        }
        Ok(IdWire(StepsId::text(s)))
    }
}

/// One step's object, checked against the key it is under: exactly `name` (the key),
/// `status` and `order`, in that order.
struct StepSeed<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for StepSeed<'_> {
    type Value = (StepStatus, i64);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StepSeed<'_> {
    type Value = (StepStatus, i64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a step: name, status, order")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        expect_key(&mut map, "name")?;
        if map.next_value::<&'de str>()? != self.key {
            return Err(not_canonical("a step named unlike its key"));
        }
        expect_key(&mut map, "status")?;
        let status = StepStatus::parse(map.next_value::<&'de str>()?)
            .ok_or_else(|| not_canonical("a step's status"))?;
        expect_key(&mut map, "order")?;
        let order = map.next_value::<i64>()?;
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(not_canonical("a step's fields"));
        }
        Ok((status, order))
    }
}

/// The next key of `map` is `expected`.
fn expect_key<'de, A: MapAccess<'de>>(map: &mut A, expected: &str) -> Result<(), A::Error> {
    match map.next_key::<&'de str>()? {
        Some(k) if k == expected => Ok(()),
        _ => Err(not_canonical("a step's fields")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn envelope(result: &str) -> String {
        format!(r#"{{"transactionId":"00000000-0001","status":"SUCCEEDED","result":{result}}}"#)
    }

    #[test]
    fn the_documented_answer_is_decoded() {
        let text = envelope(
            r#"{"stepsID":132324,
              "trusterPhoneNumber":{"name":"trusterPhoneNumber","status":"alreadyDone","order":1},
              "deviceActivation":{"name":"deviceActivation","status":"todo","order":2},
              "faceId":{"name":"faceId","status":"todo","order":2}}"#,
        );
        let (tid, list) = decode(text.as_bytes()).unwrap();
        assert_eq!(tid.as_str(), "00000000-0001");
        assert_eq!(list.steps_id(), &StepsId::number(132324));
        assert_eq!(list.len(), 3);
        assert_eq!(list.steps()[2].name, StepName::Other("faceId".into()));
    }

    proptest::proptest! {
        #[test]
        fn every_list_in_its_written_form_is_decoded_as_itself(
            id in proptest::prop_oneof![
                proptest::prelude::any::<u64>().prop_map(StepsId::number),
                "[A-Za-z0-9-]{1,20}".prop_map(StepsId::text),
            ],
            steps in proptest::collection::vec(
                ("[a-z][a-zA-Z]{0,8}|trusterPhoneNumber|deviceActivation|mediumCarKey",
                 proptest::prelude::any::<bool>(), -5i64..10),
                0..6,
            ),
        ) {
            let list = StepsList::new(id, steps.into_iter().map(|(n, done, o)| {
                let status = if done { StepStatus::AlreadyDone } else { StepStatus::Todo };
                Step::new(StepName::parse(&n), status, o)
            }).collect());
            let canonical = list.steps().iter().all(|s| StepName::parse(s.name.as_str()) == s.name);
            let decoded = decode(envelope(&list.to_value().to_string()).as_bytes());
            if canonical {
                // (StepsId compares as text: the form, number or string, is checked too.)
                let (_, got) = decoded.unwrap();
                proptest::prop_assert_eq!(got.to_value(), list.to_value());
            } else {
                proptest::prop_assert!(decoded.is_none());
            }
        }
    }

    #[test]
    fn other_forms_are_left_to_the_general_decoder() {
        for result in [
            r#"{"deviceActivation":{"name":"deviceActivation","status":"todo","order":2},"stepsID":1}"#,
            r#"{"stepsId":1}"#,
            r#"{"stepsID":"1","trustedPhone":{"name":"trustedPhone","status":"todo","order":1}}"#,
            r#"{"stepsID":1,"mediumCarKey":{"name":"mediumCarKey","status":"todo","order":"3"}}"#,
            r#"{"stepsID":1,"mediumCarKey":{"status":"todo","name":"mediumCarKey","order":3}}"#,
            r#"{"stepsID":1,"mediumCarKey":{"name":"x","status":"todo","order":3}}"#,
            r#"{"stepsID":1,"mediumCarKey":{"name":"mediumCarKey","status":"todo","order":3,"x":1}}"#,
            r#"{"stepsID":1,"b":{"name":"b","status":"todo","order":3},"a":{"name":"a","status":"todo","order":2}}"#,
            r#"{"stepsID":1,"a":{"name":"a","status":"todo","order":1},"a":{"name":"a","status":"todo","order":1}}"#,
            r#"{"stepsID":1,"note":"x"}"#,
            r#"{"stepsID":-1}"#,
            r#"{"stepsID":1.5}"#,
            r#"{"stepsID":""}"#,
            r#"{"stepsID":null}"#,
            r#"{"step\u0073ID":1}"#,
            r#"{"stepsID":1,"a":{"name":"a","status":"done","order":1}}"#,
            r#"{"stepsID":1,"a":{"name":"a","status":"todo","order":9223372036854775808}}"#,
            r#"{"stepsID":1,"stepsId":{"name":"stepsId","status":"todo","order":1}}"#,
            "null",
            "[]",
        ] {
            assert!(decode(envelope(result).as_bytes()).is_none(), "{result}");
        }
        for text in [
            r#"{"transactionId":"a","status":"RESULT","result":{"stepsID":1}}"#,
            r#"{"transactionId":"a","status":"SUCCEEDED","result":{"stepsID":1},"error":{}}"#,
            r#"{"transactionId":"a","status":"SUCCEEDED","result":{"stepsID":1},"x":1}"#,
            r#"{"transactionId":"a","status":"SUCCEEDED","result":{"stepsID":1}} x"#,
            r#"{"transactionId":"a","status":"SUCCEEDED"}"#,
            r#"["a","SUCCEEDED",{"stepsID":1}]"#,
        ] {
            assert!(decode(text.as_bytes()).is_none(), "{text}");
        }
    }
}
