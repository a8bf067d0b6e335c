//! How one `swap_all` becomes one transaction (the statements are in `sql`, inside the store's
//! function `<table>_swap_all`, which `transaction` calls: one statement, one round trip), and
//! the pure functions it needs on the client:
//!
//! 1. every key is locked, in key order, by one statement: an existing row gets a row lock; an
//!    absent key gets our own, uncommitted row, holding the value the batch creates it with, or
//!    a placeholder when the batch only needs it absent. Until we end, no one else can write any
//!    key of the batch, not even create one of the absent ones (a phantom);
//! 2. one statement reads the locked rows (a fresh snapshot: their values are now exact) and
//!    judges every entry: on a mismatch it removes the rows the lock created and reports the
//!    first failing entry; otherwise it makes the writes that remain;
//! 3. the call's transaction is committed (synchronously: the acknowledgement is durable).

use std::collections::HashSet;

use pims_cache::{BatchSwap, CacheError, KeySwap};

use crate::error::invalid;

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

/// A batch of conditions only: its outcome from one snapshot of its keys (`values`: what
/// each entry's key holds, in batch order).
pub(crate) fn judge_checks(swaps: &[KeySwap<'_>], values: Vec<Option<Vec<u8>>>) -> BatchSwap {
    for (index, (s, current)) in swaps.iter().zip(values).enumerate() {
        if current.as_deref() != s.expected {
            return BatchSwap::Conflict { index, current };
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
        assert_eq!(
            judge_checks(
                &[KeySwap::check(b"a", Some(b"1")), KeySwap::check(b"b", None)],
                vec![Some(b"1".to_vec()), None]
            ),
            BatchSwap::Swapped
        );
        assert_eq!(
            judge_checks(&[KeySwap::check(b"a", None)], vec![Some(b"1".to_vec())]),
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
