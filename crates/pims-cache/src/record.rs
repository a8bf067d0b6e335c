//! The record formats: one format byte, then the payload. A record that does not decode, or
//! has a format byte this version does not know, is a miss (and the cache removes it).
//!
//! - Format 2 (lists, index entries and namespace ids): compact binary (see [`encode_list`]);
//!   a list record of the documentation's 3-step list is about 20 bytes.
//! - Format 1 (the device id record only): JSON text. A list record in format 1 (as the
//!   unreleased layout 1 wrote them) is refused like any unknown format.
//!
//! None of these types has a field for a secret: the cache cannot store a PIN, an OTP, an SMS
//! code or a token even by mistake.

use std::borrow::Cow;

use pims_types::{Step, StepName, StepStatus, StepsId, StepsList, StepsSelector, Vin};
use serde::Deserialize;

use crate::error::CacheError;
use crate::keys::{Link, push_varint, read_varint};

/// JSON text (the device id record).
pub(crate) const FORMAT_V1: u8 = 1;
/// Binary records.
pub(crate) const FORMAT_V2: u8 = 2;

/// Flag: the stepsID is a number (else a string).
const NUMERIC_ID: u8 = 0b001;
/// Flag: a carAssociationID follows.
const HAS_CAR: u8 = 0b010;
/// Flag: a VIN follows.
const HAS_VIN: u8 = 0b100;

/// Step name codes; 0 is a name spelled out.
const NAME_OTHER: u8 = 0;
const NAME_TRUSTER_PHONE: u8 = 1;
const NAME_DEVICE_ACTIVATION: u8 = 2;
const NAME_MEDIUM_CAR_KEY: u8 = 3;

/// Longest VIN (and the only length).
const VIN_LEN: usize = 17;

/// A cached list and the identifiers it is reachable by (besides its stepsID, its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListRecord {
    pub(crate) list: StepsList,
    pub(crate) car: Option<String>,
    pub(crate) vin: Option<Vin>,
}

impl ListRecord {
    /// Whether this record is the one `link` names (index entries are checked against it).
    pub(crate) fn claims(&self, link: &Link) -> bool {
        match link {
            Link::Car(c) => self.car.as_deref() == Some(c.as_str()),
            Link::Vin(v) => self.vin.as_ref() == Some(v),
        }
    }

    /// The index links this record claims.
    pub(crate) fn links(&self) -> Vec<Link> {
        let mut links = Vec::with_capacity(2);
        if let Some(c) = &self.car {
            links.push(Link::Car(c.clone()));
        }
        if let Some(v) = &self.vin {
            links.push(Link::Vin(v.clone()));
        }
        links
    }
}

/// Encodes a list record (format 2). Its stepsID is its key's, so only its form is kept:
///
/// ```text
/// 0x02 flags [varint len, carAssociationID] [17-byte VIN] varint count
///      count × (name code [varint len, name if code 0], status 0 todo | 1 alreadyDone,
///               zigzag varint order)
/// ```
pub(crate) fn encode_list(rec: &ListRecord) -> Vec<u8> {
    let mut flags = 0;
    if rec.list.steps_id().is_number() {
        flags |= NUMERIC_ID;
    }
    if rec.car.is_some() {
        flags |= HAS_CAR;
    }
    if rec.vin.is_some() {
        flags |= HAS_VIN;
    }
    let mut out = Vec::with_capacity(32);
    out.extend_from_slice(&[FORMAT_V2, flags]);
    if let Some(car) = &rec.car {
        push_bytes(&mut out, car.as_bytes());
    }
    if let Some(vin) = &rec.vin {
        out.extend_from_slice(vin.as_str().as_bytes());
    }
    push_varint(&mut out, rec.list.steps().len() as u64);
    for step in rec.list.steps() {
        match &step.name {
            StepName::TrusterPhoneNumber => out.push(NAME_TRUSTER_PHONE),
            StepName::DeviceActivation => out.push(NAME_DEVICE_ACTIVATION),
            StepName::MediumCarKey => out.push(NAME_MEDIUM_CAR_KEY),
            StepName::Other(name) => {
                out.push(NAME_OTHER);
                push_bytes(&mut out, name.as_bytes());
            }
        }
        out.push(match step.status {
            StepStatus::Todo => 0,
            StepStatus::AlreadyDone => 1,
        });
        push_varint(&mut out, zigzag(step.order));
    }
    out
}

/// Decodes list record `sid` (the stepsID of its key); the error says why it is unusable.
pub(crate) fn decode_list(bytes: &[u8], sid: &str) -> Result<ListRecord, String> {
    match bytes.split_first() {
        Some((&FORMAT_V2, payload)) => decode_binary(payload, sid),
        Some((other, _)) => Err(format!("unknown record format {other}")),
        None => Err("empty record".to_owned()),
    }
}

fn decode_binary(payload: &[u8], sid: &str) -> Result<ListRecord, String> {
    let mut r = Reader(payload);
    let flags = r.byte()?;
    if flags & !(NUMERIC_ID | HAS_CAR | HAS_VIN) != 0 {
        return Err(format!("unknown record flags {flags:#04x}"));
    }
    let steps_id = if flags & NUMERIC_ID == 0 {
        StepsId::text(sid)
    } else {
        // Only the canonical text of a number: "05" or "+5" under a key would read as list 5.
        match sid.parse::<u64>() {
            Ok(n) if n.to_string() == sid => StepsId::number(n),
            _ => return Err("a numeric stepsID that is not a number".to_owned()),
        }
    };
    let car = if flags & HAS_CAR == 0 {
        None
    } else {
        let car = r.text()?;
        StepsSelector::car_association_id(car)
            .map_err(|_| "invalid carAssociationID".to_owned())?;
        Some(car.to_owned())
    };
    let vin = if flags & HAS_VIN == 0 {
        None
    } else {
        let raw = std::str::from_utf8(r.take(VIN_LEN)?).map_err(|_| "invalid vin".to_owned())?;
        Some(Vin::parse(raw).map_err(|_| "invalid vin".to_owned())?)
    };
    let count = r.varint()?;
    // Every step takes at least 3 bytes: a count larger than what is left is corrupt.
    if count > (r.0.len() / 3) as u64 {
        return Err("more steps than bytes".to_owned());
    }
    let mut steps = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        let name = match r.byte()? {
            NAME_TRUSTER_PHONE => StepName::TrusterPhoneNumber,
            NAME_DEVICE_ACTIVATION => StepName::DeviceActivation,
            NAME_MEDIUM_CAR_KEY => StepName::MediumCarKey,
            NAME_OTHER => match r.text()? {
                "" => return Err("a step without a name".to_owned()),
                name => StepName::parse(name),
            },
            other => return Err(format!("unknown step name code {other}")),
        };
        let status = match r.byte()? {
            0 => StepStatus::Todo,
            1 => StepStatus::AlreadyDone,
            other => return Err(format!("unknown step status code {other}")),
        };
        steps.push(Step::new(name, status, unzigzag(r.varint()?)));
    }
    if !r.0.is_empty() {
        return Err("trailing bytes".to_owned());
    }
    Ok(ListRecord {
        list: StepsList::new(steps_id, steps),
        car,
        vin,
    })
}

/// Encodes an index entry's target: a stepsID (format 2, the raw text).
pub(crate) fn encode_target(steps_id: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(1 + steps_id.len());
    bytes.push(FORMAT_V2);
    bytes.extend_from_slice(steps_id.as_bytes());
    bytes
}

/// Encodes the device id record (format 1, which every version reads).
pub(crate) fn encode_text(text: &str) -> Result<Vec<u8>, CacheError> {
    let mut bytes = vec![FORMAT_V1];
    serde_json::to_writer(&mut bytes, text)
        .map_err(|e| CacheError::storage("encode a record", e))?;
    Ok(bytes)
}

/// Decodes an index entry's target or the device id record, in either format.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String, String> {
    let text = match bytes.split_first() {
        Some((&FORMAT_V2, raw)) => std::str::from_utf8(raw)
            .map_err(|_| "not UTF-8".to_owned())?
            .to_owned(),
        Some((&FORMAT_V1, json)) => {
            let Text(text) = serde_json::from_slice(json).map_err(|e| e.to_string())?;
            text.into_owned()
        }
        Some((other, _)) => return Err(format!("unknown record format {other}")),
        None => return Err("empty record".to_owned()),
    };
    if text.is_empty() {
        return Err("empty".to_owned());
    }
    Ok(text)
}

/// Encodes a number (a namespace id, the next one to try): format 2, a varint.
pub(crate) fn encode_number(n: u64) -> Vec<u8> {
    let mut bytes = vec![FORMAT_V2];
    push_varint(&mut bytes, n);
    bytes
}

/// Decodes a number written by [`encode_number`].
pub(crate) fn decode_number(bytes: &[u8]) -> Result<u64, String> {
    match bytes.split_first() {
        Some((&FORMAT_V2, rest)) => match read_varint(rest) {
            Some((n, [])) => Ok(n),
            _ => Err("not a number".to_owned()),
        },
        Some((other, _)) => Err(format!("unknown record format {other}")),
        None => Err("empty record".to_owned()),
    }
}

fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// A cursor over a binary payload: every read says what was missing.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let (&b, rest) = self.0.split_first().ok_or("truncated record")?;
        self.0 = rest;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("truncated record".to_owned());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let (n, rest) = read_varint(self.0).ok_or("a malformed number")?;
        self.0 = rest;
        Ok(n)
    }

    fn text(&mut self) -> Result<&'a str, String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "truncated record")?;
        std::str::from_utf8(self.take(len)?).map_err(|_| "not UTF-8".to_owned())
    }
}

// ---- format 1 (JSON text: the device id record) -----------------------------------------

#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn documented() -> ListRecord {
        ListRecord {
            list: StepsList::new(
                StepsId::number(132324),
                vec![
                    Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
                    Step::new(StepName::DeviceActivation, StepStatus::Todo, 2),
                    Step::new(StepName::MediumCarKey, StepStatus::Todo, 3),
                ],
            ),
            car: Some("987654".into()),
            vin: None,
        }
    }

    fn sample() -> ListRecord {
        ListRecord {
            list: StepsList::new(
                StepsId::number(132324),
                vec![
                    Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
                    Step::new(StepName::DeviceActivation, StepStatus::Todo, -2),
                    Step::new(
                        StepName::Other("a \"quoted\" \\ name".into()),
                        StepStatus::Todo,
                        i64::MAX,
                    ),
                ],
            ),
            car: Some("987654".into()),
            vin: Some(Vin::parse("VR1AB12C3D4567890").unwrap()),
        }
    }

    #[test]
    fn list_records_round_trip_and_are_small() {
        let rec = sample();
        let bytes = encode_list(&rec);
        assert_eq!(bytes[0], FORMAT_V2);
        assert_eq!(decode_list(&bytes, "132324").unwrap(), rec);
        let bytes = encode_list(&documented());
        assert_eq!(bytes.len(), 19, "{bytes:?}");
        assert_eq!(decode_list(&bytes, "132324").unwrap(), documented());
        // A string stepsID stays a string, a number a number.
        let mut text = documented();
        text.list = text.list.with_steps_id(StepsId::text("132324"));
        let back = decode_list(&encode_list(&text), "132324").unwrap();
        assert_eq!(back.list.steps_id().to_value(), serde_json::json!("132324"));
        let back = decode_list(&encode_list(&documented()), "132324").unwrap();
        assert_eq!(back.list.steps_id().to_value(), serde_json::json!(132324));
    }

    #[test]
    fn unknown_formats_and_garbage_are_refused() {
        let good = encode_list(&sample());
        let mut bad = good.clone();
        bad[0] = 3;
        assert!(
            decode_list(&bad, "132324")
                .unwrap_err()
                .contains("unknown record format 3")
        );
        assert!(decode_list(&[], "1").is_err());
        for cut in 1..good.len() {
            assert!(decode_list(&good[..cut], "132324").is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode_list(&trailing, "132324").is_err());
        assert!(decode_list(&good, "abc").is_err(), "numeric flag, text key");
        assert!(decode_list(&good, "+132324").is_err(), "not canonical");
        assert!(decode_list(&good, "0132324").is_err(), "not canonical");
        assert!(decode_list(b"\x02\x08\x00", "1").is_err(), "unknown flag");
        assert!(
            decode_list(b"\x02\x00\x01\x07\x00\x02", "1").is_err(),
            "name code"
        );
        assert!(
            decode_list(b"\x02\x00\x01\x01\x05\x02", "1").is_err(),
            "status"
        );
        assert!(
            decode_list(b"\x02\x00\x01\x00\x00\x00\x02", "1").is_err(),
            "no name"
        );
        assert!(
            decode_list(b"\x02\x00\xff\xff\xff\xff\x0f", "1").is_err(),
            "count"
        );
        assert!(
            decode_list(b"\x02\x04VR1AB12C3D456789", "1").is_err(),
            "short vin"
        );
        // Format 1 list records (the unreleased layout 1's) are an unknown format.
        assert!(
            decode_list(b"\x01{\"id\":1,\"steps\":[]}", "1")
                .unwrap_err()
                .contains("unknown record format 1")
        );
        assert!(decode_list(b"\x01{", "1").is_err());
        assert!(decode_list(b"\x01{\"id\":1,\"steps\":[],\"vin\":\"short\"}", "1").is_err());
        assert!(decode_list(b"\x01{\"id\":1,\"steps\":[[\"\",\"todo\",1]]}", "1").is_err());
        assert!(
            decode_list(b"\x01{\"id\":2,\"steps\":[]}", "1").is_err(),
            "other id"
        );
        assert!(decode_text(b"\x01\"\"").is_err());
        assert!(decode_text(b"\x02").is_err());
        assert!(decode_text(b"\x02\xff").is_err());
        assert_eq!(
            decode_text(&encode_text("132324").unwrap()).unwrap(),
            "132324"
        );
        assert_eq!(decode_text(&encode_target("132324")).unwrap(), "132324");
        assert_eq!(decode_number(&encode_number(300)).unwrap(), 300);
        assert!(decode_number(b"\x02\x80").is_err());
        assert!(decode_number(b"\x02\x01\x01").is_err());
    }

    #[test]
    fn legacy_step_names_are_normalised() {
        let mut other = documented();
        other.list = StepsList::new(
            StepsId::text("7"),
            vec![Step::new(
                StepName::Other("trustedPhone".into()),
                StepStatus::AlreadyDone,
                1,
            )],
        );
        let back = decode_list(&encode_list(&other), "7").unwrap();
        assert_eq!(back.list.steps()[0].name, StepName::TrusterPhoneNumber);
    }

    fn name() -> impl Strategy<Value = StepName> {
        prop_oneof![
            Just(StepName::TrusterPhoneNumber),
            Just(StepName::DeviceActivation),
            Just(StepName::MediumCarKey),
            "[a-zA-Z0-9 \"\\\\é]{1,40}".prop_map(|s| StepName::parse(&s)),
        ]
    }

    proptest! {
        #[test]
        fn binary_records_round_trip(
            numeric in any::<bool>(),
            n in any::<u64>(),
            car in proptest::option::of("[0-9A-Za-z_-]{1,64}"),
            with_vin in any::<bool>(),
            steps in proptest::collection::vec((name(), any::<bool>(), any::<i64>()), 0..12),
        ) {
            let id = if numeric { StepsId::number(n) } else { StepsId::text(format!("s-{n}")) };
            let sid = id.as_str().to_owned();
            let rec = ListRecord {
                list: StepsList::new(id, steps.into_iter().map(|(name, done, order)| {
                    let status = if done { StepStatus::AlreadyDone } else { StepStatus::Todo };
                    Step::new(name, status, order)
                }).collect()),
                car,
                vin: with_vin.then(|| Vin::parse("VR1AB12C3D4567890").unwrap()),
            };
            let back = decode_list(&encode_list(&rec), &sid).unwrap();
            prop_assert_eq!(back.list.steps_id().is_number(), numeric);
            prop_assert_eq!(back, rec);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_list(&bytes, "1");
            let _ = decode_text(&bytes);
            let _ = decode_number(&bytes);
        }
    }
}
