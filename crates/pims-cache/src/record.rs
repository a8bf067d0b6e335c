//! The record formats: one format byte, then a JSON payload. A record that does not decode, or
//! has a format byte this version does not know, is a miss (and the cache removes it).
//!
//! None of these types has a field for a secret: the cache cannot store a PIN, an OTP, an SMS
//! code or a token even by mistake.

use std::borrow::Cow;

use pims_types::{Step, StepName, StepStatus, StepsId, StepsList, StepsSelector, Vin};
use serde::{Deserialize, Serialize};

use crate::error::CacheError;
use crate::keys::Link;

/// The only format this version writes and reads.
pub(crate) const FORMAT_V1: u8 = 1;

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

#[derive(Serialize)]
struct ListOut<'a> {
    id: &'a StepsId,
    #[serde(skip_serializing_if = "Option::is_none")]
    car: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vin: Option<&'a str>,
    /// `[name, status, order]` triples: compact, and still readable in a dump.
    steps: Vec<(&'a str, StepStatus, i64)>,
}

#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct ListIn<'a> {
    id: StepsId,
    #[serde(default, borrow)]
    car: Option<Text<'a>>,
    #[serde(default, borrow)]
    vin: Option<Text<'a>>,
    #[serde(borrow)]
    steps: Vec<(Text<'a>, StepStatus, i64)>,
}

fn encode_error(e: serde_json::Error) -> CacheError {
    CacheError::storage("encode a record", e)
}

/// Encodes a list record.
pub(crate) fn encode_list(rec: &ListRecord) -> Result<Vec<u8>, CacheError> {
    let out = ListOut {
        id: rec.list.steps_id(),
        car: rec.car.as_deref(),
        vin: rec.vin.as_ref().map(Vin::as_str),
        steps: rec
            .list
            .steps()
            .iter()
            .map(|s| (s.name.as_str(), s.status, s.order))
            .collect(),
    };
    let mut bytes = vec![FORMAT_V1];
    serde_json::to_writer(&mut bytes, &out).map_err(encode_error)?;
    Ok(bytes)
}

/// Decodes a list record; the error says why it is unusable.
pub(crate) fn decode_list(bytes: &[u8]) -> Result<ListRecord, String> {
    let payload = payload(bytes)?;
    let rec: ListIn<'_> = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let car = match rec.car {
        Some(Text(c)) => {
            StepsSelector::car_association_id(c.as_ref())
                .map_err(|_| "invalid carAssociationID".to_owned())?;
            Some(c.into_owned())
        }
        None => None,
    };
    let vin = match rec.vin {
        Some(Text(v)) => Some(Vin::parse(&v).map_err(|_| "invalid vin".to_owned())?),
        None => None,
    };
    let mut steps = Vec::with_capacity(rec.steps.len());
    for (Text(name), status, order) in rec.steps {
        if name.is_empty() {
            return Err("a step without a name".to_owned());
        }
        steps.push(Step::new(StepName::parse(&name), status, order));
    }
    Ok(ListRecord {
        list: StepsList::new(rec.id, steps),
        car,
        vin,
    })
}

/// Encodes an index entry (or the device id record): a JSON string.
pub(crate) fn encode_text(text: &str) -> Result<Vec<u8>, CacheError> {
    let mut bytes = vec![FORMAT_V1];
    serde_json::to_writer(&mut bytes, text).map_err(encode_error)?;
    Ok(bytes)
}

/// Decodes an index entry (or the device id record).
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String, String> {
    let payload = payload(bytes)?;
    let Text(text) = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Err("empty".to_owned());
    }
    Ok(text.into_owned())
}

fn payload(bytes: &[u8]) -> Result<&[u8], String> {
    match bytes.split_first() {
        Some((&FORMAT_V1, payload)) => Ok(payload),
        Some((other, _)) => Err(format!("unknown record format {other}")),
        None => Err("empty record".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ListRecord {
        ListRecord {
            list: StepsList::new(
                StepsId::number(132324),
                vec![
                    Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
                    Step::new(StepName::DeviceActivation, StepStatus::Todo, 2),
                    Step::new(
                        StepName::Other("a \"quoted\" \\ name".into()),
                        StepStatus::Todo,
                        9,
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
        let bytes = encode_list(&rec).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(decode_list(&bytes).unwrap(), rec);
        let plain = ListRecord {
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
        };
        let bytes = encode_list(&plain).unwrap();
        assert!(bytes.len() < 160, "{} bytes", bytes.len());
        // A string stepsID stays a string.
        let mut text = plain.clone();
        text.list = text.list.with_steps_id(StepsId::text("abc"));
        let back = decode_list(&encode_list(&text).unwrap()).unwrap();
        assert_eq!(back.list.steps_id().to_value(), serde_json::json!("abc"));
    }

    #[test]
    fn unknown_formats_and_garbage_are_refused() {
        let mut bytes = encode_list(&sample()).unwrap();
        bytes[0] = 2;
        assert!(
            decode_list(&bytes)
                .unwrap_err()
                .contains("unknown record format 2")
        );
        assert!(decode_list(&[]).is_err());
        assert!(decode_list(b"\x01{").is_err());
        assert!(decode_list(b"\x01{\"id\":1,\"steps\":[],\"vin\":\"short\"}").is_err());
        assert!(decode_list(b"\x01{\"id\":1,\"steps\":[[\"\",\"todo\",1]]}").is_err());
        assert!(decode_text(b"\x01\"\"").is_err());
        assert_eq!(
            decode_text(&encode_text("132324").unwrap()).unwrap(),
            "132324"
        );
    }

    #[test]
    fn legacy_step_names_are_normalised() {
        let rec =
            decode_list(b"\x01{\"id\":\"7\",\"steps\":[[\"trustedPhone\",\"alreadyDone\",1]]}")
                .unwrap();
        assert_eq!(rec.list.steps()[0].name, StepName::TrusterPhoneNumber);
    }
}
