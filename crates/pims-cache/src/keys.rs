//! The key spaces of the store, declared once (see `docs/cache.md`, "Key spaces").
//!
//! Every key starts with a tag byte naming its key space. [`SPACES`] lists every space this
//! layout ([`LAYOUT`]) uses: its tag, what it holds, which module owns it, and who may remove
//! its keys. Every scan and every removal of the cache is confined to one space (a removal by
//! scan only through [`Removable`], which names the list and index spaces alone), so a record
//! of a space the cache does not own is never deleted: not the device id or the namespace ids,
//! not layout 1's retired spaces ([`RETIRED`]), not a later version's records in the
//! [`RESERVED`] tags (a quota ledger, ...), not an undeclared tag.
//!
//! A namespace (account, device) is named in list and index keys by a short id, a LEB128
//! varint (prefix free, so one namespace's prefix is never a prefix of another's keys); the
//! (account, device) pair is spelled out only once, in the namespace's own entries.
//!
//! - `V`                                        the layout of the store (see `layout`)
//! - `d`                                        the device id
//! - `n` ‹account› ‹device›                     namespace → id (segments: u16 BE length + bytes)
//! - `m` id                                     id → namespace (claims the id; see `spaces`)
//! - `N`                                        the next namespace id to try (a hint)
//! - `L` id stepsID                             a list record (the stepsID is the key's rest)
//! - `I` id kind value                          an index entry: kind `c` carAssociationID,
//!   `v` VIN (the value is the key's rest), pointing to a stepsID

use std::ops::RangeInclusive;

use pims_types::Vin;

/// The layout this version reads and writes: what the key spaces below mean. Layout 1 was a
/// development layout, never released (its spaces are [`RETIRED`]).
pub(crate) const LAYOUT: u64 = 2;

/// Key of the layout record. This key and its encoding (`0x02` + varint) never change, so
/// that every version can tell which layout a store holds.
pub(crate) const LAYOUT_KEY: &[u8] = b"V";
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

/// Tags of layout 1's key spaces (`l` lists, `i` index entries, the namespace spelled out in
/// every key): never reused, never read, never removed by this layout.
pub(crate) const RETIRED: [u8; 2] = [b'l', b'i'];

/// Tags reserved for later records (a quota ledger, ...): a later version may add a key space
/// there without a new layout, because this one never reads, scans or removes a key in it.
/// (Nothing uses it at run time, by design: it is declared for readers and checked by tests.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const RESERVED: RangeInclusive<u8> = 0x80..=0xFF;

/// Who may remove the keys of a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Nothing in this crate removes them (only a damaged database moved aside loses them).
    Never,
    /// `check` removes the record when it does not read (a new one is then made).
    WhenUnreadable,
    /// `reset`, `invalidate_device` (one namespace), `wipe` (all), and reading with repair
    /// (`check`, lookups: unreadable records, dangling links, orphans).
    Cache,
}

/// One key space of the store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeySpace {
    /// Its tag (the first byte of every key in it).
    pub(crate) tag: u8,
    /// What it holds.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) holds: &'static str,
    /// The module that writes it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) owner: &'static str,
    /// Who may remove its keys.
    pub(crate) removal: Removal,
}

/// Every key space of this layout.
pub(crate) const SPACES: [KeySpace; 7] = [
    KeySpace {
        tag: LAYOUT_KEY[0],
        holds: "the layout of the store",
        owner: "cache::layout",
        removal: Removal::Never,
    },
    KeySpace {
        tag: DEVICE[0],
        holds: "the device id",
        owner: "cache::device_id",
        removal: Removal::WhenUnreadable,
    },
    KeySpace {
        tag: SPACE,
        holds: "namespace (account, device) -> its id",
        owner: "spaces",
        removal: Removal::Never,
    },
    KeySpace {
        tag: SPACE_ID,
        holds: "namespace id -> the namespace claiming it",
        owner: "spaces",
        removal: Removal::Never,
    },
    KeySpace {
        tag: NEXT_SPACE[0],
        holds: "the next namespace id to try (a hint)",
        owner: "spaces",
        removal: Removal::Never,
    },
    KeySpace {
        tag: LIST,
        holds: "list records, by namespace id and stepsID",
        owner: "cache::rules, cache::links",
        removal: Removal::Cache,
    },
    KeySpace {
        tag: INDEX,
        holds: "identifier links (carAssociationID, VIN) -> stepsID, by namespace id",
        owner: "cache::links",
        removal: Removal::Cache,
    },
];

/// The declared space `key` belongs to, if any.
pub(crate) fn space_of(key: &[u8]) -> Option<&'static KeySpace> {
    let tag = key.first()?;
    SPACES.iter().find(|s| s.tag == *tag)
}

/// The spaces the cache removes whole or by namespace: lists and index entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removable {
    /// List records (`L`).
    Lists,
    /// Index entries (`I`).
    Links,
}

impl Removable {
    fn tag(self) -> u8 {
        match self {
            Removable::Lists => LIST,
            Removable::Links => INDEX,
        }
    }

    /// The prefix of every key of this space.
    pub(crate) fn all(self) -> Vec<u8> {
        vec![self.tag()]
    }

    /// The prefix of this space's keys in namespace `id`.
    pub(crate) fn of(self, id: SpaceId) -> Vec<u8> {
        prefix(self.tag(), id)
    }

    /// Whether `key`, met by a scan of `prefix` (made by [`all`](Removable::all) or
    /// [`of`](Removable::of)), may be removed: under the prefix, and of a space the cache
    /// removes. A store's scan that strays outside its prefix (a custom store's bug) thus
    /// never makes the cache delete another space's record.
    pub(crate) fn may_remove(prefix: &[u8], key: &[u8]) -> bool {
        key.starts_with(prefix) && space_of(key).is_some_and(|s| s.removal == Removal::Cache)
    }
}

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
    fn key_spaces_are_declared_once_and_apart() {
        for (i, space) in SPACES.iter().enumerate() {
            assert!(
                SPACES[i + 1..].iter().all(|o| o.tag != space.tag),
                "{} twice",
                space.tag
            );
            assert!(!RETIRED.contains(&space.tag), "{} is retired", space.tag);
            assert!(!RESERVED.contains(&space.tag), "{} is reserved", space.tag);
            assert!(space.tag.is_ascii_alphabetic());
        }
        // Every key the cache builds is of a declared space.
        let vin = Vin::parse("VR1AB12C3D4567890").unwrap();
        let id = SpaceId(7);
        for key in [
            LAYOUT_KEY.to_vec(),
            DEVICE.to_vec(),
            NEXT_SPACE.to_vec(),
            space_key(&segments("a", "d")),
            space_id_key(id),
            list_key(id, "1"),
            index_key(id, &Link::Car("c".into())),
            index_key(id, &Link::Vin(vin)),
        ] {
            assert!(space_of(&key).is_some(), "{key:?}");
        }
        // Only lists and links are removed by scans, and only within their prefix.
        for space in SPACES {
            let removable = [Removable::Lists, Removable::Links]
                .iter()
                .any(|r| r.tag() == space.tag);
            assert_eq!(removable, space.removal == Removal::Cache, "{}", space.tag);
        }
        let all = Removable::Lists.all();
        assert!(Removable::may_remove(&all, &list_key(id, "1")));
        assert!(!Removable::may_remove(
            &all,
            &index_key(id, &Link::Car("c".into()))
        ));
        let one = Removable::Links.of(SpaceId(1));
        assert!(!Removable::may_remove(
            &one,
            &index_key(SpaceId(129), &Link::Car("c".into()))
        ));
        for foreign in [
            &b"d"[..],
            b"V",
            b"m\x01",
            b"n",
            b"N",
            b"l\x01a",
            b"i",
            b"\x80q",
            b"Z",
        ] {
            assert!(!Removable::may_remove(b"", foreign), "{foreign:?}");
        }
    }

    #[test]
    fn the_documented_key_spaces_are_these() {
        // docs/cache.md, "Key spaces": one row per space, naming what it holds and its owner.
        let doc = include_str!("../../../docs/cache.md");
        let section = doc
            .split("## Key spaces")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        for space in SPACES {
            let tag = format!("| `{}` ", char::from(space.tag));
            let row = section
                .lines()
                .find(|l| l.starts_with(&tag))
                .unwrap_or_else(|| panic!("no row for {tag}"));
            assert!(row.contains(space.owner), "{row}: owner {}", space.owner);
            assert!(row.contains(space.holds), "{row}: holds {}", space.holds);
        }
        for tag in RETIRED {
            assert!(section.contains(&format!("`{}`", char::from(tag))));
        }
        assert!(section.contains("`0x80`–`0xFF`"));
        assert!(section.contains(&format!("layout is {LAYOUT}")));
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
