//! The key layout of the cache (see `docs/cache.md`): every key starts with a tag byte, then
//! length-prefixed segments (u16 big-endian length + bytes), so that a prefix of segments is a
//! prefix of keys and no value can forge another key.
//!
//! - `d`                                  the device id
//! - `l` account device stepsID           a list record
//! - `i` account device kind value        an index entry: kind `c` carAssociationID, `v` VIN,
//!   pointing to a stepsID

use pims_types::Vin;

/// Tag of the device id record.
pub(crate) const DEVICE: &[u8] = b"d";
/// Tag of list records.
pub(crate) const LIST: u8 = b'l';
/// Tag of index entries.
pub(crate) const INDEX: u8 = b'i';

/// An identifier other than the stepsID (which is the record's own key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// A carAssociationID.
    Car(String),
    /// A VIN.
    Vin(Vin),
}

impl Link {
    fn kind(&self) -> u8 {
        match self {
            Link::Car(_) => b'c',
            Link::Vin(_) => b'v',
        }
    }

    fn value(&self) -> &str {
        match self {
            Link::Car(c) => c,
            Link::Vin(v) => v.as_str(),
        }
    }
}

/// Appends one segment. Callers validated lengths (every segment is at most a few KiB).
pub(crate) fn push_segment(out: &mut Vec<u8>, s: &[u8]) {
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&s[..usize::from(len)]);
}

/// Reads one segment; returns it and the rest.
pub(crate) fn read_segment(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = input.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The key of a list record, after the namespace prefix `ns` (segments of account and device).
pub(crate) fn list_key(ns: &[u8], steps_id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + ns.len() + 2 + steps_id.len());
    k.push(LIST);
    k.extend_from_slice(ns);
    push_segment(&mut k, steps_id.as_bytes());
    k
}

/// The key of an index entry.
pub(crate) fn index_key(ns: &[u8], link: &Link) -> Vec<u8> {
    let v = link.value();
    let mut k = Vec::with_capacity(2 + ns.len() + 2 + v.len());
    k.push(INDEX);
    k.extend_from_slice(ns);
    k.push(link.kind());
    push_segment(&mut k, v.as_bytes());
    k
}

/// The prefix of every key of one tag in one namespace.
pub(crate) fn namespace_prefix(tag: u8, ns: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + ns.len());
    k.push(tag);
    k.extend_from_slice(ns);
    k
}

/// The parts of a list key: account, device, stepsID (None if it is not a well-formed one).
pub(crate) fn parse_list_key(key: &[u8]) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix(&[LIST])?;
    let (account, rest) = read_segment(rest)?;
    let (device, rest) = read_segment(rest)?;
    let (steps_id, rest) = read_segment(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some((
        std::str::from_utf8(account).ok()?,
        std::str::from_utf8(device).ok()?,
        std::str::from_utf8(steps_id).ok()?,
    ))
}

/// The parts of an index key: namespace prefix bytes and the link it names.
pub(crate) fn parse_index_key(key: &[u8]) -> Option<(&[u8], Link)> {
    let rest = key.strip_prefix(&[INDEX])?;
    let (account, after_account) = read_segment(rest)?;
    let (device, after_device) = read_segment(after_account)?;
    let ns_len = 2 + account.len() + 2 + device.len();
    let (kind, rest) = after_device.split_first()?;
    let (value, rest) = read_segment(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let value = std::str::from_utf8(value).ok()?;
    let link = match kind {
        b'c' => Link::Car(value.to_owned()),
        b'v' => Link::Vin(Vin::parse(value).ok()?),
        _ => return None,
    };
    Some((key.get(1..1 + ns_len)?, link))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(account: &str, device: &str) -> Vec<u8> {
        let mut v = Vec::new();
        push_segment(&mut v, account.as_bytes());
        push_segment(&mut v, device.as_bytes());
        v
    }

    #[test]
    fn keys_round_trip() {
        let n = ns("acct/with/slashes", "dev");
        let k = list_key(&n, "132324");
        assert_eq!(
            parse_list_key(&k),
            Some(("acct/with/slashes", "dev", "132324"))
        );
        let vin = Vin::parse("VR1AB12C3D4567890").unwrap();
        let k = index_key(&n, &Link::Vin(vin.clone()));
        assert_eq!(parse_index_key(&k), Some((&n[..], Link::Vin(vin))));
        let k = index_key(&n, &Link::Car("987654".into()));
        assert_eq!(
            parse_index_key(&k),
            Some((&n[..], Link::Car("987654".into())))
        );
    }

    #[test]
    fn one_namespace_is_never_a_prefix_of_another() {
        // "ab" + "c" and "a" + "bc" would collide with a plain separator-free concatenation.
        let a = namespace_prefix(LIST, &ns("ab", "c"));
        let b = namespace_prefix(LIST, &ns("a", "bc"));
        assert!(!a.starts_with(&b) && !b.starts_with(&a));
        let acct = namespace_prefix(LIST, &ns("a", "d"));
        assert!(!list_key(&ns("a", "d2"), "1").starts_with(&acct));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(parse_list_key(b"l\x00\x05ab"), None);
        assert_eq!(parse_list_key(b"x"), None);
        assert_eq!(parse_index_key(b"i\x00\x01a\x00\x01dz\x00\x011"), None);
    }
}
