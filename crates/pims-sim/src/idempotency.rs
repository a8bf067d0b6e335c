//! `Idempotency-Key` on any call (a `get` may send an SMS or count a PIN attempt): the first
//! answer of a key is kept and replayed for a repeated key, without doing the work again. Keys
//! are scoped by account; a key reused for a different call is refused (2102). Kept in memory,
//! the latest [`CAPACITY`] keys.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;

/// How many keys are remembered (the oldest are forgotten first).
pub(crate) const CAPACITY: usize = 10_000;

/// The longest key accepted.
pub(crate) const MAX_KEY_LEN: usize = 128;

/// Whether a key is acceptable: 1-128 printable ASCII characters.
pub(crate) fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What a repeated key finds.
#[derive(Debug, PartialEq)]
pub(crate) enum Lookup<'a, T> {
    /// Not seen: do the work.
    New,
    /// Seen with the same call: replay this answer.
    Replay(&'a T),
    /// Seen with another call: refuse.
    Conflict,
}

/// The remembered answers.
#[derive(Debug)]
pub(crate) struct IdempotencyCache<T> {
    entries: HashMap<(String, String), (u64, T)>,
    order: VecDeque<(String, String)>,
    capacity: usize,
}

impl<T> IdempotencyCache<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        IdempotencyCache {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn lookup(&self, account: &str, key: &str, fingerprint: u64) -> Lookup<'_, T> {
        match self.entries.get(&(account.to_owned(), key.to_owned())) {
            None => Lookup::New,
            Some((f, answer)) if *f == fingerprint => Lookup::Replay(answer),
            Some(_) => Lookup::Conflict,
        }
    }

    pub(crate) fn record(&mut self, account: &str, key: &str, fingerprint: u64, answer: T) {
        let k = (account.to_owned(), key.to_owned());
        if self
            .entries
            .insert(k.clone(), (fingerprint, answer))
            .is_none()
        {
            self.order.push_back(k);
        }
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

/// A fingerprint of a call (device, verb, API, parameters with keys in any order), keyed by the
/// server's random hasher so that parameters (PINs) are never kept in clear for this purpose.
pub(crate) fn fingerprint(
    hasher: &impl BuildHasher,
    device: &str,
    verb: &str,
    api: &str,
    params: &Value,
) -> u64 {
    let mut h = hasher.build_hasher();
    device.hash(&mut h);
    verb.hash(&mut h);
    api.hash(&mut h);
    hash_value(params, &mut h);
    h.finish()
}

fn hash_value(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => (2u8, n.to_string()).hash(h),
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            for item in items {
                hash_value(item, h);
            }
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(h);
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                k.hash(h);
                hash_value(&map[k.as_str()], h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::hash_map::RandomState;

    #[test]
    fn fingerprints_ignore_key_order_but_not_values() {
        let s = RandomState::new();
        let a = fingerprint(&s, "d", "set", "x", &json!({"a": 1, "b": [true, "x"]}));
        let b = fingerprint(&s, "d", "set", "x", &json!({"b": [true, "x"], "a": 1}));
        let c = fingerprint(&s, "d", "set", "x", &json!({"a": 2, "b": [true, "x"]}));
        let d = fingerprint(&s, "e", "set", "x", &json!({"a": 1, "b": [true, "x"]}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn replays_conflicts_and_forgets_the_oldest() {
        let mut cache = IdempotencyCache::new(2);
        cache.record("acc", "k1", 1, "first");
        assert_eq!(cache.lookup("acc", "k1", 1), Lookup::Replay(&"first"));
        assert_eq!(cache.lookup("acc", "k1", 2), Lookup::Conflict);
        assert_eq!(cache.lookup("other", "k1", 1), Lookup::New);
        cache.record("acc", "k2", 1, "second");
        cache.record("acc", "k3", 1, "third");
        assert_eq!(cache.lookup("acc", "k1", 1), Lookup::New);
        assert_eq!(cache.lookup("acc", "k3", 1), Lookup::Replay(&"third"));
    }

    #[test]
    fn keys() {
        assert!(is_valid_key("4f1c2a9e-7d3b-4c1a-9e2f-0a1b2c3d4e5f"));
        assert!(!is_valid_key("") && !is_valid_key("a b") && !is_valid_key(&"k".repeat(129)));
    }
}
