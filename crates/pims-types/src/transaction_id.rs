//! The `transactionId` of a message: [`TransactionId`].

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest transaction id accepted when decoding (ids are echoed, so bound them).
const MAX_TRANSACTION_ID_LEN: usize = 64;

/// A transaction id. Generated ids have the documentation's shape (`953cfefb-bc72`: 8 + 4
/// lowercase hex digits); decoding accepts any 1–64 printable ASCII characters, so a backend
/// with longer ids still works.
///
/// ```
/// use pims_types::TransactionId;
/// let id = TransactionId::generate();
/// assert!(id.has_documented_shape());
/// assert!(TransactionId::parse("953cfefb-bc72").is_ok());
/// assert!(TransactionId::parse("").is_err());
///
/// // `TransactionId::generate`
/// let a = pims_types::TransactionId::generate();
/// let b = pims_types::TransactionId::generate();
/// assert_ne!(a, b);
/// // `TransactionId::from_u64`
/// assert_eq!(pims_types::TransactionId::from_u64(0x953cfefbbc72).as_str(), "953cfefb-bc72");
/// // `TransactionId::parse`
/// assert!(pims_types::TransactionId::parse("a b").is_err());
/// // `TransactionId::has_documented_shape`
/// assert!(!pims_types::TransactionId::parse("ABC").unwrap().has_documented_shape());
/// // `TransactionId::as_str`
/// assert_eq!(pims_types::TransactionId::from_u64(1).as_str(), "00000000-0001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(String);

impl TransactionId {
    /// A fresh id in the documentation's shape. Randomness comes from std's per-process random
    /// hasher keys mixed with a counter and the clock: unique within a process, unpredictable
    /// enough for correlation ids (they are not secrets).
    pub fn generate() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        // The counter keeps ids of one process distinct even if the hash collides on 48 bits
        // for nearby counters: mix it into the low bits.
        let bits = (h.finish() ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xFFFF_FFFF_FFFF;
        TransactionId::from_u64(bits)
    }

    /// The id whose 48 low bits are `bits`, in the documentation's shape.
    pub fn from_u64(bits: u64) -> Self {
        let bits = bits & 0xFFFF_FFFF_FFFF;
        TransactionId(format!("{:08x}-{:04x}", bits >> 16, bits & 0xFFFF))
    }

    /// Reads an id: 1–64 printable ASCII characters (no spaces).
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.is_empty()
            || s.len() > MAX_TRANSACTION_ID_LEN
            || !s.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(Error::invalid(
                "transactionId",
                "expected 1-64 printable ASCII characters",
            ));
        }
        Ok(TransactionId(s.to_owned()))
    }

    /// Whether the id has the documentation's shape (8 + 4 lowercase hex digits).
    pub fn has_documented_shape(&self) -> bool {
        let b = self.0.as_bytes();
        let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
        b.len() == 13 && b[8] == b'-' && b[..8].iter().all(hex) && b[9..].iter().all(hex)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TransactionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TransactionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TransactionId::parse(&s).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_documented_shape_and_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let t = TransactionId::generate();
            assert!(t.has_documented_shape(), "{t}");
            assert!(seen.insert(t));
        }
    }
}
