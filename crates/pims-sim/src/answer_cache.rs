//! The cache of serialised steps answers: the hot path of the simulator (an SDK polling its
//! steps) answers without decoding the parameters, computing the list or serialising it again.
//!
//! What is cached: the JSON text of the `result` of a SUCCEEDED `get pims.subscription.steps`
//! or `get pims.subscription.step` that changed nothing, keyed by (account, `Pims-Device-Id`,
//! API name as sent, the `parameters` JSON text as sent). A hit writes the envelope around it
//! with the call's own `transactionId`, byte for byte what the full path would answer.
//!
//! What invalidates it: the cache lives next to the model under the state lock and is emptied
//! whenever the state may have changed: every admin change (scenario load, device disabled,
//! vehicle paired, CarKey suspended), every call that is not a cached-kind read or that
//! reports a change (a stepsID issued, an SMS code used, an enrolment, ...), every new
//! generation of the state. Steps answers do not read the clock; a clock moved forward empties
//! it anyway (cheap insurance should a rule ever read time). Faults are applied before the
//! cache is consulted, and when a fault is active the call takes the full path.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash, Hasher};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use pims_types::{Api, TransactionId};

/// How many answers are kept; the cache is emptied when full (devices are unbounded).
pub(crate) const CAPACITY: usize = 4096;

/// Longest parameters text of a cached call: a steps request's is under 100 bytes, and a
/// client padding its calls with unknown keys (ignored by the decoder) must not make the
/// cache hold `CAPACITY` × 64 KiB.
pub(crate) const MAX_PARAMETERS_BYTES: usize = 1024;

/// Whether answers of this API (with verb `get`) may be cached: pure reads of the state.
pub(crate) fn is_cacheable(api: Api) -> bool {
    matches!(api, Api::SubscriptionSteps | Api::SubscriptionStep)
}

/// The parts of a call body a cached answer is keyed by, borrowed from the body.
///
/// Read with a strict, borrowing decoder: anything unusual (not an object, a duplicated or
/// unknown field, a field of the wrong type, no parameters object) gives `None` and the call
/// takes the full path, whose decoder ([`pims_types::CallBody`]) alone decides the answer. A
/// key is only stored after the full path decoded the same verb, API and parameters text, so
/// equal keys mean equal calls. (Unknown fields are refused rather than skipped: the full
/// decoder could still refuse one, e.g. nested too deep.)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallKey<'a> {
    #[serde(rename = "transactionId", borrow)]
    transaction_id: Cow<'a, str>,
    #[serde(borrow)]
    verb: Cow<'a, str>,
    #[serde(borrow)]
    api: Cow<'a, str>,
    #[serde(borrow)]
    parameters: &'a RawValue,
}

impl<'a> CallKey<'a> {
    /// The key of a body, when the call is of a cacheable kind (`get` of a cacheable API, with
    /// a parameters object).
    pub(crate) fn read(body: &'a [u8]) -> Option<CallKey<'a>> {
        // A struct decoder also accepts a JSON array; a call body is an object.
        if body.trim_ascii_start().first() != Some(&b'{') {
            return None;
        }
        let key: CallKey<'a> = serde_json::from_slice(body).ok()?;
        let cacheable = key.verb == "get"
            && key.parameters.get().starts_with('{')
            && key.parameters.get().len() <= MAX_PARAMETERS_BYTES
            && Api::parse(&key.api).is_some_and(is_cacheable);
        cacheable.then_some(key)
    }

    /// The call's transaction id, when valid (else the full path answers the error).
    pub(crate) fn transaction_id(&self) -> Option<TransactionId> {
        TransactionId::parse(&self.transaction_id).ok()
    }

    /// The API name as sent.
    pub(crate) fn api(&self) -> &str {
        &self.api
    }
}

#[derive(Debug)]
struct Entry {
    account: usize,
    device: String,
    api: String,
    parameters: String,
    result: Bytes,
}

impl Entry {
    fn is_for(&self, account: usize, device: &str, key: &CallKey<'_>) -> bool {
        self.account == account
            && self.device == device
            && self.api == key.api
            && self.parameters == key.parameters.get()
    }
}

/// The cached answers, valid for the state they were computed from.
#[derive(Debug, Default)]
pub(crate) struct AnswerCache {
    entries: std::collections::HashMap<u64, Entry>,
    /// The clock offset the entries were computed at.
    clock_offset_ms: u128,
}

impl AnswerCache {
    /// The cached `result` text of a call by `account` from `device`.
    pub(crate) fn get(
        &mut self,
        hasher: &impl BuildHasher,
        clock_offset_ms: u128,
        account: usize,
        device: &str,
        key: &CallKey<'_>,
    ) -> Option<Bytes> {
        if clock_offset_ms != self.clock_offset_ms {
            self.clear();
            self.clock_offset_ms = clock_offset_ms;
            return None;
        }
        let entry = self.entries.get(&hash(hasher, account, device, key))?;
        entry
            .is_for(account, device, key)
            .then(|| entry.result.clone())
    }

    /// Keeps the `result` text of a call (computed at `clock_offset_ms`).
    pub(crate) fn insert(
        &mut self,
        hasher: &impl BuildHasher,
        clock_offset_ms: u128,
        account: usize,
        device: &str,
        key: &CallKey<'_>,
        result: Bytes,
    ) {
        if clock_offset_ms != self.clock_offset_ms {
            self.clear();
            self.clock_offset_ms = clock_offset_ms;
        }
        if self.entries.len() >= CAPACITY {
            self.entries.clear();
        }
        let entry = Entry {
            account,
            device: device.to_owned(),
            api: key.api.clone().into_owned(),
            parameters: key.parameters.get().to_owned(),
            result,
        };
        // A hash collision replaces the other entry (each is checked in full on a hit).
        self.entries
            .insert(hash(hasher, account, device, key), entry);
    }

    /// Forgets every answer: the state may have changed.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

fn hash(hasher: &impl BuildHasher, account: usize, device: &str, key: &CallKey<'_>) -> u64 {
    let mut h = hasher.build_hasher();
    account.hash(&mut h);
    device.hash(&mut h);
    key.api.as_ref().hash(&mut h);
    key.parameters.get().hash(&mut h);
    h.finish()
}

/// A SUCCEEDED envelope around a serialised result: the bytes
/// `Message::succeeded(transaction_id, result).to_json_string()` gives.
pub(crate) fn succeeded_envelope(transaction_id: &TransactionId, result: &[u8]) -> Option<Bytes> {
    const STATUS: &[u8] = b",\"status\":\"SUCCEEDED\",\"result\":";
    let mut out =
        Vec::with_capacity(24 + transaction_id.as_str().len() + STATUS.len() + result.len());
    out.extend_from_slice(b"{\"transactionId\":");
    serde_json::to_writer(&mut out, transaction_id.as_str()).ok()?;
    out.extend_from_slice(STATUS);
    out.extend_from_slice(result);
    out.push(b'}');
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims_types::Message;
    use serde_json::json;
    use std::collections::hash_map::RandomState;

    #[test]
    fn envelopes_are_the_full_paths_bytes() {
        let result = json!({"stepsID": 132324, "deviceActivation":
            {"name": "deviceActivation", "status": "todo", "order": 2}});
        let text = serde_json::to_vec(&result).unwrap();
        for tid in ["953cfefb-bc72", "a\"b\\c", "{}[]:,", "~!@#$%^&*()"] {
            let tid = TransactionId::parse(tid).unwrap();
            let full = Message::succeeded(tid.clone(), result.clone()).to_json_string();
            let spliced = succeeded_envelope(&tid, &text).unwrap();
            assert_eq!(std::str::from_utf8(&spliced).unwrap(), full);
        }
    }

    #[test]
    fn only_cacheable_calls_have_a_key() {
        let ok = br#" {"parameters":{"stepsID":"1"},"transactionId":"a","verb":"get","api":"pims.subscription.steps"} "#;
        let key = CallKey::read(ok).unwrap();
        assert_eq!(key.transaction_id().unwrap().as_str(), "a");
        assert_eq!(key.api(), "pims.subscription.steps");
        assert!(
            CallKey::read(
                br#"{"transactionId":"a","verb":"get","api":"pims.vehicle.steps","parameters":{}}"#
            )
            .is_some()
        );
        assert!(CallKey::read(br#"{"transactionId":"a","verb":"get","api":"pims.subscription.step","parameters":{}}"#).is_some());
        for not in [
            // other verbs and APIs
            &br#"{"transactionId":"a","verb":"set","api":"pims.subscription.steps","parameters":{}}"#[..],
            br#"{"transactionId":"a","verb":"GET","api":"pims.subscription.steps","parameters":{}}"#,
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.services","parameters":{}}"#,
            br#"{"transactionId":"a","verb":"get","api":"pims.authentication.otp","parameters":{}}"#,
            // parameters missing, null or not an object
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps"}"#,
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":null}"#,
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":[1]}"#,
            // unknown or duplicated fields, wrong types, not an object, not JSON
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":{},"extra":[1]}"#,
            br#"{"transactionId":"a","verb":"get","verb":"get","api":"pims.subscription.steps","parameters":{}}"#,
            br#"{"transactionId":1,"verb":"get","api":"pims.subscription.steps","parameters":{}}"#,
            br#"["a","get","pims.subscription.steps",{}]"#,
            br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":{}"#,
            b"",
        ] {
            assert!(CallKey::read(not).is_none(), "{}", String::from_utf8_lossy(not));
        }
        let bad_tid = br#"{"transactionId":"a b","verb":"get","api":"pims.subscription.steps","parameters":{}}"#;
        assert!(CallKey::read(bad_tid).unwrap().transaction_id().is_none());
        // Parameters padded past the limit (unknown keys the decoder ignores) are not cached.
        let padded = |n: usize| {
            format!(
                r#"{{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":{{"stepsID":"1","pad":"{}"}}}}"#,
                "x".repeat(n)
            )
        };
        assert!(CallKey::read(padded(10).as_bytes()).is_some());
        assert!(CallKey::read(padded(MAX_PARAMETERS_BYTES).as_bytes()).is_none());
    }

    #[test]
    fn entries_match_in_full_and_the_clock_empties_the_cache() {
        let s = RandomState::new();
        let body = br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":{"stepsID":"1"}}"#;
        let other = br#"{"transactionId":"b","verb":"get","api":"pims.subscription.steps","parameters":{"stepsID":"2"}}"#;
        let key = CallKey::read(body).unwrap();
        let other = CallKey::read(other).unwrap();
        let mut cache = AnswerCache::default();
        cache.insert(&s, 0, 0, "d", &key, Bytes::from_static(b"{}"));
        assert_eq!(
            cache.get(&s, 0, 0, "d", &key),
            Some(Bytes::from_static(b"{}"))
        );
        assert_eq!(cache.get(&s, 0, 1, "d", &key), None);
        assert_eq!(cache.get(&s, 0, 0, "e", &key), None);
        assert_eq!(cache.get(&s, 0, 0, "d", &other), None);
        assert_eq!(cache.get(&s, 5, 0, "d", &key), None);
        assert_eq!(cache.len(), 0);
        cache.insert(&s, 5, 0, "d", &key, Bytes::from_static(b"{}"));
        cache.clear();
        assert_eq!(cache.get(&s, 5, 0, "d", &key), None);
    }

    #[test]
    fn a_full_cache_starts_again() {
        let s = RandomState::new();
        let body = br#"{"transactionId":"a","verb":"get","api":"pims.subscription.steps","parameters":{}}"#;
        let key = CallKey::read(body).unwrap();
        let mut cache = AnswerCache::default();
        for i in 0..CAPACITY {
            cache.insert(&s, 0, 0, &format!("d{i}"), &key, Bytes::new());
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.insert(&s, 0, 0, "one-more", &key, Bytes::new());
        assert_eq!(cache.len(), 1);
    }
}
