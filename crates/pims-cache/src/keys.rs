//! The key layout of the cache (see `docs/cache.md`).
//!
//! Every key starts with a tag byte. A namespace
//! (account, device) is named in list and index keys by a short id, a LEB128 varint (prefix
//! free, so one namespace's prefix is never a prefix of another's keys); the (account, device)
//! pair is spelled out only once, in the namespace's own entries.
//!
//! - `d`                                        the device id
//! - `n` ‹account› ‹device›                     namespace → id (segments: u16 BE length + bytes)
//! - `m` id                                     id → namespace (claims the id; see `spaces`)
//! - `N`                                        the next namespace id to try (a hint)
//! - `L` id stepsID                             a list record (the stepsID is the key's rest)
//! - `I` id kind value                          an index entry: kind `c` carAssociationID,
//!   `v` VIN (the value is the key's rest), pointing to a stepsID

use pims_types::Vin;

/// Tag of the device id record.
pub(crate) const DEVICE: &[u8] = b"d";
/// Tag of namespace → id entries.
pub(crate) const SPACE: u8 = b'n';
/// Tag of id → namespace entries.
pub(crate) const SPACE_ID: u8 = b'm';
/// Key of the next namespace id to try.
pub(crate) const NEXT_SPACE: &[u8] = b"N";
/// Tag of list records.
pub(crate) const LIST: u8 = b'L';
/// Tag of index entries.
pub(crate) const INDEX: u8 = b'I';

/// The short id of a namespace in one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SpaceId(pub(crate) u64);

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

    fn parse(kind: u8, value: &[u8]) -> Option<Link> {
        let value = std::str::from_utf8(value).ok()?;
        match kind {
            b'c' if !value.is_empty() => Some(Link::Car(value.to_owned())),
            b'v' => Some(Link::Vin(Vin::parse(value).ok()?)),
            _ => None,
        }
    }
}

/// Appends `n` as a LEB128 varint.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        // Truncation intended: the low seven bits, with the continuation bit.
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a canonical LEB128 varint (no redundant trailing zero groups, at most 64 bits): the
/// value and the rest. Non-canonical forms are refused so that an id has exactly one key.
pub(crate) fn read_varint(input: &[u8]) -> Option<(u64, &[u8])> {
    let mut n: u64 = 0;
    for (i, &b) in input.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        let shift = 7 * u32::try_from(i).ok()?;
        if shift == 63 && part > 1 {
            return None;
        }
        n |= part << shift;
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return None;
            }
            return Some((n, &input[i + 1..]));
        }
    }
    None
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

/// The prefix of every key of one tag in one namespace.
pub(crate) fn prefix(tag: u8, id: SpaceId) -> Vec<u8> {
    let mut k = Vec::with_capacity(11);
    k.push(tag);
    push_varint(&mut k, id.0);
    k
}

/// The key of a list record.
pub(crate) fn list_key(id: SpaceId, steps_id: &str) -> Vec<u8> {
    let mut k = prefix(LIST, id);
    k.extend_from_slice(steps_id.as_bytes());
    k
}

/// The key of an index entry.
pub(crate) fn index_key(id: SpaceId, link: &Link) -> Vec<u8> {
    let mut k = prefix(INDEX, id);
    k.push(link.kind());
    k.extend_from_slice(link.value().as_bytes());
    k
}

/// The key of a namespace's id entry; `segments` are the namespace's encoded (account,
/// device).
pub(crate) fn space_key(segments: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + segments.len());
    k.push(SPACE);
    k.extend_from_slice(segments);
    k
}

/// The key claiming namespace id `id`.
pub(crate) fn space_id_key(id: SpaceId) -> Vec<u8> {
    prefix(SPACE_ID, id)
}

/// The parts of a list key: namespace id and stepsID.
pub(crate) fn parse_list_key(key: &[u8]) -> Option<(SpaceId, &str)> {
    let rest = key.strip_prefix(&[LIST])?;
    let (id, sid) = read_varint(rest)?;
    let sid = std::str::from_utf8(sid).ok()?;
    (!sid.is_empty()).then_some((SpaceId(id), sid))
}

/// The parts of an index key: namespace id and the link it names.
pub(crate) fn parse_index_key(key: &[u8]) -> Option<(SpaceId, Link)> {
    let rest = key.strip_prefix(&[INDEX])?;
    let (id, rest) = read_varint(rest)?;
    let (kind, value) = rest.split_first()?;
    Some((SpaceId(id), Link::parse(*kind, value)?))
}

/// Two segments, account and device, and nothing else.
pub(crate) fn parse_segments(input: &[u8]) -> Option<(&str, &str)> {
    let (account, rest) = read_segment(input)?;
    let (device, rest) = read_segment(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some((
        std::str::from_utf8(account).ok()?,
        std::str::from_utf8(device).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(account: &str, device: &str) -> Vec<u8> {
        let mut v = Vec::new();
        push_segment(&mut v, account.as_bytes());
        push_segment(&mut v, device.as_bytes());
        v
    }

    #[test]
    fn keys_round_trip_and_are_short() {
        let id = SpaceId(3);
        let k = list_key(id, "132324");
        assert_eq!(k, b"L\x03132324");
        assert_eq!(parse_list_key(&k), Some((id, "132324")));
        let vin = Vin::parse("VR1AB12C3D4567890").unwrap();
        let k = index_key(id, &Link::Vin(vin.clone()));
        assert_eq!(k.len(), 3 + 17);
        assert_eq!(parse_index_key(&k), Some((id, Link::Vin(vin))));
        let k = index_key(SpaceId(300), &Link::Car("987654".into()));
        assert_eq!(
            parse_index_key(&k),
            Some((SpaceId(300), Link::Car("987654".into())))
        );
        let seg = segments("acct/with/slashes", "dev");
        assert_eq!(space_key(&seg)[1..], seg[..]);
        assert_eq!(parse_segments(&seg), Some(("acct/with/slashes", "dev")));
    }

    #[test]
    fn varints_round_trip_and_only_canonical_forms_parse() {
        for n in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut v = Vec::new();
            push_varint(&mut v, n);
            v.push(0xAA);
            assert_eq!(read_varint(&v), Some((n, &[0xAA][..])), "{n}");
        }
        assert_eq!(read_varint(&[0x80, 0x00]), None, "redundant zero group");
        assert_eq!(read_varint(&[0x80]), None, "truncated");
        assert_eq!(read_varint(&[]), None);
        assert_eq!(read_varint(&[0xFF; 10]), None, "over 64 bits");
        assert_eq!(
            read_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]),
            None
        );
    }

    #[test]
    fn one_namespace_is_never_a_prefix_of_another() {
        // Varints are prefix free: id 1's prefix is not a prefix of id 129's keys (0x81 0x01).
        let one = prefix(LIST, SpaceId(1));
        for other in [0, 2, 128, 129, 257, 16_385] {
            assert!(!list_key(SpaceId(other), "1").starts_with(&one), "{other}");
        }
        // Segments: "ab" + "c" and "a" + "bc" would collide with a plain concatenation.
        assert_ne!(segments("ab", "c"), segments("a", "bc"));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(parse_list_key(b"L\x01"), None, "no stepsID");
        assert_eq!(parse_list_key(b"L\x80\x001"), None, "non-canonical id");
        assert_eq!(parse_list_key(b"x"), None);
        assert_eq!(parse_index_key(b"I\x01z1"), None, "unknown kind");
        assert_eq!(parse_index_key(b"I\x01vshort"), None, "not a VIN");
        assert_eq!(parse_index_key(b"I\x01c"), None, "empty carAssociationID");
        assert_eq!(parse_segments(b"\x00\x01a\x00\x01dz"), None);
    }
}
