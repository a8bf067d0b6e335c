//! How one `swap_all` becomes one transaction, as pure functions over what the statements
//! answer (the statements are in `store`):
//!
//! 1. every key is locked, in key order, by one statement (`lock_all`): an existing row gets a
//!    row lock; an absent key gets our own, uncommitted row, holding the value the batch creates
//!    it with, or a placeholder when the batch only needs it absent. Until we end, no one else
//!    can write any key of the batch, not even create one of the absent ones (a phantom);
//! 2. the locked rows are read: every entry's current value is now exact ([`judge`]);
//! 3. on a mismatch the transaction is rolled back (placeholders included) and the first
//!    failing entry reported; otherwise the writes that remain are made ([`Writes`]) and the
//!    transaction committed.

use std::collections::{HashMap, HashSet};

use pims_cache::{BatchSwap, CacheError, KeySwap};

use crate::options::invalid;

/// What an absent key that must stay absent is created with, until the batch ends.
const PLACEHOLDER: &[u8] = b"";

/// Refuses a batch that names a key twice (its outcome would depend on the order; PostgreSQL
/// refuses one statement touching a row twice anyway).
pub(crate) fn check(swaps: &[KeySwap<'_>]) -> Result<(), CacheError> {
    let mut seen = HashSet::with_capacity(swaps.len());
    if swaps.iter().all(|s| seen.insert(s.key)) {
        Ok(())
    } else {
        Err(invalid("swap_all", "a key is named twice in one batch"))
    }
}

/// The keys to lock, sorted, with what each absent one is created with.
pub(crate) fn locks<'a>(swaps: &[KeySwap<'a>]) -> (Vec<&'a [u8]>, Vec<&'a [u8]>) {
    let mut sorted: Vec<&KeySwap<'a>> = swaps.iter().collect();
    sorted.sort_by_key(|s| s.key);
    sorted
        .into_iter()
        .map(|s| (s.key, creates(s).unwrap_or(PLACEHOLDER)))
        .unzip()
}

/// The value an entry creates its key with when it is absent (expected absent, new present).
fn creates<'a>(s: &KeySwap<'a>) -> Option<&'a [u8]> {
    match (s.expected, s.new) {
        (None, Some(new)) => Some(new),
        _ => None,
    }
}

/// The writes left once every key is locked and holds what it should.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Writes<'a> {
    /// Existing keys that get a new value.
    pub(crate) set_keys: Vec<&'a [u8]>,
    /// Their new values.
    pub(crate) set_values: Vec<&'a [u8]>,
    /// Keys removed: entries that remove an existing key, and placeholders.
    pub(crate) delete: Vec<&'a [u8]>,
}

/// Each entry's current value (`created`: the keys `lock_all` created, absent before it;
/// `present`: the values of the others) against what it expects: the first mismatch in batch
/// order, or the writes still to make.
pub(crate) fn judge<'a>(
    swaps: &[KeySwap<'a>],
    created: &HashSet<Vec<u8>>,
    present: &HashMap<Vec<u8>, Vec<u8>>,
) -> Result<Writes<'a>, BatchSwap> {
    let mut writes = Writes::default();
    for (index, s) in swaps.iter().enumerate() {
        let was_created = created.contains(s.key);
        let current = if was_created {
            None
        } else {
            present.get(s.key).cloned()
        };
        if current.as_deref() != s.expected {
            return Err(BatchSwap::Conflict { index, current });
        }
        match (s.expected, s.new) {
            // Created by the lock with its value already.
            (None, Some(_)) => {}
            // A placeholder that must go.
            (None, None) => writes.delete.push(s.key),
            (Some(_), None) => writes.delete.push(s.key),
            (Some(old), Some(new)) if old != new => {
                writes.set_keys.push(s.key);
                writes.set_values.push(new);
            }
            // A condition only: locked, not written.
            (Some(_), Some(_)) => {}
        }
    }
    Ok(writes)
}

/// A batch of conditions only: its outcome from one snapshot of its keys.
pub(crate) fn judge_checks(
    swaps: &[KeySwap<'_>],
    present: &HashMap<Vec<u8>, Vec<u8>>,
) -> BatchSwap {
    for (index, s) in swaps.iter().enumerate() {
        let current = present.get(s.key);
        if current.map(Vec::as_slice) != s.expected {
            return BatchSwap::Conflict {
                index,
                current: current.cloned(),
            };
        }
    }
    BatchSwap::Swapped
}

/// The bounds of a prefix scan after `after`: from (inclusive), below (exclusive, None: no
/// end). `k > a` is `k >= a ‖ 0x00` in byte order; the keys starting with `p` are those in
/// `[p, successor(p))`, where the successor increments the last byte that is not 0xFF.
pub(crate) fn scan_bounds(prefix: &[u8], after: Option<&[u8]>) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut from = prefix.to_vec();
    if let Some(a) = after {
        let mut next = a.to_vec();
        next.push(0);
        if next > from {
            from = next;
        }
    }
    let mut below = prefix.to_vec();
    while below.last() == Some(&0xFF) {
        below.pop();
    }
    let below = match below.last_mut() {
        Some(last) => {
            *last += 1;
            Some(below)
        }
        None => None,
    };
    (from, below)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_are_taken_in_key_order_with_what_creates_each_key() {
        let swaps = [
            KeySwap::new(b"c", None, Some(b"3")),
            KeySwap::check(b"a", None),
            KeySwap::new(b"b", Some(b"x"), Some(b"y")),
        ];
        let (keys, values) = locks(&swaps);
        assert_eq!(keys, [&b"a"[..], b"b", b"c"]);
        assert_eq!(values, [PLACEHOLDER, PLACEHOLDER, b"3"]);
    }

    #[test]
    fn the_first_mismatch_in_batch_order_is_reported_with_the_current_value() {
        let swaps = [
            KeySwap::new(b"z", None, Some(b"1")),
            KeySwap::new(b"a", Some(b"old"), Some(b"new")),
        ];
        let created = HashSet::new();
        let present = HashMap::from([(b"z".to_vec(), b"there".to_vec())]);
        assert_eq!(
            judge(&swaps, &created, &present),
            Err(BatchSwap::Conflict {
                index: 0,
                current: Some(b"there".to_vec())
            })
        );
        // A key the lock created was absent, whatever it holds now.
        let created = HashSet::from([b"z".to_vec(), b"a".to_vec()]);
        assert_eq!(
            judge(&swaps, &created, &present),
            Err(BatchSwap::Conflict {
                index: 1,
                current: None
            })
        );
    }

    #[test]
    fn only_the_writes_left_are_made() {
        let swaps = [
            KeySwap::new(b"new", None, Some(b"1")),
            KeySwap::check(b"gone", None),
            KeySwap::new(b"old", Some(b"x"), None),
            KeySwap::new(b"chg", Some(b"x"), Some(b"y")),
            KeySwap::check(b"same", Some(b"s")),
        ];
        let created = HashSet::from([b"new".to_vec(), b"gone".to_vec()]);
        let present = HashMap::from([
            (b"old".to_vec(), b"x".to_vec()),
            (b"chg".to_vec(), b"x".to_vec()),
            (b"same".to_vec(), b"s".to_vec()),
        ]);
        let w = judge(&swaps, &created, &present).unwrap_or_default();
        assert_eq!(w.set_keys, [&b"chg"[..]]);
        assert_eq!(w.set_values, [&b"y"[..]]);
        assert_eq!(w.delete, [&b"gone"[..], b"old"]);
    }

    #[test]
    fn a_key_named_twice_is_refused() {
        let e = check(&[KeySwap::check(b"a", None), KeySwap::check(b"a", None)]);
        assert!(matches!(
            e,
            Err(CacheError::InvalidInput {
                what: "swap_all",
                ..
            })
        ));
        assert!(check(&[KeySwap::check(b"a", None), KeySwap::check(b"b", None)]).is_ok());
    }

    #[test]
    fn checks_are_judged_from_one_snapshot() {
        let present = HashMap::from([(b"a".to_vec(), b"1".to_vec())]);
        assert_eq!(
            judge_checks(
                &[KeySwap::check(b"a", Some(b"1")), KeySwap::check(b"b", None)],
                &present
            ),
            BatchSwap::Swapped
        );
        assert_eq!(
            judge_checks(&[KeySwap::check(b"a", None)], &present),
            BatchSwap::Conflict {
                index: 0,
                current: Some(b"1".to_vec())
            }
        );
    }

    #[test]
    fn scan_bounds_cover_the_prefix_after_the_last_key() {
        assert_eq!(
            scan_bounds(b"ab", None),
            (b"ab".to_vec(), Some(b"ac".to_vec()))
        );
        assert_eq!(
            scan_bounds(b"a\xff\xff", None),
            (b"a\xff\xff".to_vec(), Some(b"b".to_vec()))
        );
        assert_eq!(scan_bounds(b"\xff", None), (b"\xff".to_vec(), None));
        assert_eq!(scan_bounds(b"", None), (Vec::new(), None));
        assert_eq!(
            scan_bounds(b"a", Some(b"a1")),
            (b"a1\0".to_vec(), Some(b"b".to_vec()))
        );
        // An `after` before the prefix does not widen the scan.
        assert_eq!(scan_bounds(b"b", Some(b"a")).0, b"b".to_vec());
    }
}
