//! The requests of the Steps component, parsed from `Parameters` with the spec's validation
//! rules: which identifier selects a list, the reset flag, the status filter.

use std::fmt;

use serde_json::Value;

use crate::error::Error;
use crate::keys;
use crate::params::Parameters;
use crate::steps::{StepsId, StepsStatusFilter};

/// A vehicle identification number: 17 characters of `[A-HJ-NPR-Z0-9]`.
///
/// ```
/// use pims_types::Vin;
/// assert!(Vin::parse("VR1AB12C3D4567890").is_ok());
/// assert!(Vin::parse("VR1AB12C3D456789O").is_err()); // O is not allowed
///
/// // `Vin::parse`
/// assert_eq!(pims_types::Vin::parse("short").unwrap_err().to_string(), "Invalid vin parameter");
/// // `Vin::as_str`
/// assert_eq!(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap().as_str(), "VR1AB12C3D4567890");
/// // `Vin::masked`
/// assert_eq!(pims_types::Vin::parse("VR1AB12C3D4567890").unwrap().masked(), "**************890");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vin(String);

impl Vin {
    /// Validates a VIN; 2102 `Invalid vin parameter` otherwise.
    pub fn parse(s: &str) -> Result<Vin, Error> {
        let ok = s.len() == 17
            && s.bytes().all(|b| {
                b.is_ascii_digit() || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'O' | b'Q'))
            });
        if ok {
            Ok(Vin(s.to_owned()))
        } else {
            Err(Error::invalid(
                keys::VIN,
                "expected 17 characters of A-H, J-N, P, R-Z, 0-9",
            ))
        }
    }

    /// The VIN.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The VIN masked for logs (last 3 characters).
    pub fn masked(&self) -> String {
        crate::redact::mask(&self.0)
    }
}

impl fmt::Debug for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vin({})", self.masked())
    }
}

impl fmt::Display for Vin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which list a request selects: exactly one identifier.
///
/// ```
/// use pims_types::{Parameters, StepsSelector};
/// let s = StepsSelector::from_parameters(&Parameters::new().with("vin", "VR1AB12C3D4567890")).unwrap();
/// assert_eq!(s.key(), "vin");
///
/// // `StepsSelector::car_association_id`
/// assert!(pims_types::StepsSelector::car_association_id("987654").is_ok());
/// assert!(pims_types::StepsSelector::car_association_id("").is_err());
/// // `StepsSelector::steps_id`
/// assert!(pims_types::StepsSelector::steps_id("132324").is_ok());
/// // `StepsSelector::vin`
/// assert!(pims_types::StepsSelector::vin("VR1AB12C3D4567890").is_ok());
/// // `StepsSelector::key`
/// assert_eq!(pims_types::StepsSelector::steps_id("1").unwrap().key(), "stepsID");
/// // `StepsSelector::value`
/// assert_eq!(pims_types::StepsSelector::steps_id("1").unwrap().value(), "1");
/// // `StepsSelector::from_parameters`
/// {
///     use pims_types::{Parameters, StepsSelector};
///     let both = Parameters::new().with("carAssociationID", "1").with("stepsID", "2");
///     assert_eq!(StepsSelector::from_parameters(&both).unwrap_err().to_string(), "Invalid stepsID parameter");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepsSelector {
    /// By carAssociationID (user + service + vehicle). The first request of a device uses it.
    CarAssociationId(String),
    /// By the stepsID an earlier request of this device returned.
    StepsId(StepsId),
    /// By vehicle.
    Vin(Vin),
}

impl StepsSelector {
    /// Selects by carAssociationID (validated like the parameter).
    pub fn car_association_id(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        crate::params::identifier_from_value(keys::CAR_ASSOCIATION_ID, &Value::String(id))
            .map(StepsSelector::CarAssociationId)
    }

    /// Selects by stepsID (validated like the parameter).
    pub fn steps_id(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        crate::params::identifier_from_value(keys::STEPS_ID, &Value::String(id))
            .map(|s| StepsSelector::StepsId(StepsId::text(s)))
    }

    /// Selects by VIN.
    pub fn vin(vin: &str) -> Result<Self, Error> {
        Vin::parse(vin).map(StepsSelector::Vin)
    }

    /// The parameter key of this identifier.
    pub fn key(&self) -> &'static str {
        match self {
            StepsSelector::CarAssociationId(_) => keys::CAR_ASSOCIATION_ID,
            StepsSelector::StepsId(_) => keys::STEPS_ID,
            StepsSelector::Vin(_) => keys::VIN,
        }
    }

    /// The identifier's value as text.
    pub fn value(&self) -> &str {
        match self {
            StepsSelector::CarAssociationId(s) => s,
            StepsSelector::StepsId(s) => s.as_str(),
            StepsSelector::Vin(v) => v.as_str(),
        }
    }

    /// Reads the selector from a parameter dictionary: none of the identifiers ->
    /// 2101 `Missing carAssociationID parameter`; more than one -> 2102 naming the second one in
    /// the order carAssociationID, stepsID, vin; a bad value -> 2102 naming it.
    pub fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        let car = params.lookup(keys::CAR_ASSOCIATION_ID, &[]).is_some();
        let steps = params
            .lookup(keys::STEPS_ID, keys::STEPS_ID_ALIASES)
            .is_some();
        let vin = params.lookup(keys::VIN, &[]).is_some();
        let present: Vec<&str> = [
            (car, keys::CAR_ASSOCIATION_ID),
            (steps, keys::STEPS_ID),
            (vin, keys::VIN),
        ]
        .into_iter()
        .filter_map(|(p, k)| p.then_some(k))
        .collect();
        match present.as_slice() {
            [] => Err(Error::missing(keys::CAR_ASSOCIATION_ID)),
            [_, second, ..] => Err(Error::invalid(
                *second,
                "only one of carAssociationID, stepsID, vin may be given",
            )),
            [one] => match *one {
                keys::CAR_ASSOCIATION_ID => params
                    .identifier(keys::CAR_ASSOCIATION_ID, &[])?
                    .map(StepsSelector::CarAssociationId)
                    .ok_or_else(|| Error::missing(keys::CAR_ASSOCIATION_ID)),
                keys::STEPS_ID => params
                    .identifier(keys::STEPS_ID, keys::STEPS_ID_ALIASES)?
                    .map(|s| StepsSelector::StepsId(StepsId::text(s)))
                    .ok_or_else(|| Error::missing(keys::STEPS_ID)),
                _ => match params.lookup(keys::VIN, &[]) {
                    Some((_, Value::String(s))) => Vin::parse(s).map(StepsSelector::Vin),
                    _ => Err(Error::invalid(keys::VIN, "expected a string")),
                },
            },
        }
    }
}

impl fmt::Display for StepsSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepsSelector::Vin(v) => write!(f, "vin {}", v.masked()),
            other => write!(f, "{} {}", other.key(), other.value()),
        }
    }
}

/// A `pims.subscription.steps` request.
///
/// ```
/// use pims_types::{Parameters, StepsQuery, StepsStatusFilter};
/// let q = StepsQuery::from_parameters(&Parameters::new().with("carAssociationID", "987654")).unwrap();
/// assert!(!q.reset);
/// assert_eq!(q.status, StepsStatusFilter::All);
///
/// // `StepsQuery::new`
/// let q = pims_types::StepsQuery::new(pims_types::StepsSelector::steps_id("1").unwrap());
/// assert_eq!(q.status, pims_types::StepsStatusFilter::All);
/// // `StepsQuery::from_parameters`
/// {
///     use pims_types::{Parameters, StepsQuery};
///     let p = Parameters::new().with("stepsId", 132324).with("stepStatus", "todo").with("resetStep", "true");
///     let q = StepsQuery::from_parameters(&p).unwrap();
///     assert!(q.reset);
///     assert_eq!(q.to_parameters().to_value(),
///         serde_json::json!({"stepsID": "132324", "resetSteps": true, "stepsStatus": "todo"}));
/// }
/// // `StepsQuery::to_parameters`
/// let q = pims_types::StepsQuery::new(pims_types::StepsSelector::car_association_id("9").unwrap());
/// assert_eq!(q.to_parameters().get("resetSteps"), Some(&serde_json::json!(false)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepsQuery {
    /// Which list.
    pub selector: StepsSelector,
    /// `resetSteps`: wipe the cached list first (default false).
    pub reset: bool,
    /// `stepsStatus`: which steps to return (default all).
    pub status: StepsStatusFilter,
}

impl StepsQuery {
    /// A query for a list, no reset, all steps.
    pub fn new(selector: StepsSelector) -> Self {
        StepsQuery {
            selector,
            reset: false,
            status: StepsStatusFilter::All,
        }
    }

    /// Parses a request. `resetSteps` (alias `resetStep`) and `stepsStatus` (alias
    /// `stepStatus`) default to `false` / `all` when absent (the tutorial always sends them; the
    /// reference marks them required; we are lenient).
    pub fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        let selector = StepsSelector::from_parameters(params)?;
        let reset = params
            .boolean(keys::RESET_STEPS, keys::RESET_STEPS_ALIASES)?
            .unwrap_or(false);
        let status = match params.lookup(keys::STEPS_STATUS, keys::STEPS_STATUS_ALIASES) {
            None => StepsStatusFilter::All,
            Some((_, Value::String(s))) => StepsStatusFilter::parse(s).ok_or_else(|| {
                Error::invalid(keys::STEPS_STATUS, "expected all, todo or alreadyDone")
            })?,
            Some(_) => return Err(Error::invalid(keys::STEPS_STATUS, "expected a string")),
        };
        Ok(StepsQuery {
            selector,
            reset,
            status,
        })
    }

    /// The canonical parameter dictionary of this request.
    pub fn to_parameters(&self) -> Parameters {
        Parameters::new()
            .with(self.selector.key(), self.selector.value())
            .with(keys::RESET_STEPS, self.reset)
            .with(keys::STEPS_STATUS, self.status.as_str())
    }
}

/// A `pims.subscription.step` request: the required stepsID.
///
/// ```
/// use pims_types::{NextStepQuery, Parameters};
/// assert_eq!(NextStepQuery::from_parameters(&Parameters::new()).unwrap_err().to_string(), "Missing stepsID parameter");
///
/// // `NextStepQuery::from_parameters`
/// let p = pims_types::Parameters::new().with("stepsID", 132324);
/// assert_eq!(pims_types::NextStepQuery::from_parameters(&p).unwrap().steps_id.as_str(), "132324");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStepQuery {
    /// The list.
    pub steps_id: StepsId,
}

impl NextStepQuery {
    /// Parses a request (`stepsID`, alias `stepsId`, string or integer).
    pub fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        let id = params
            .identifier(keys::STEPS_ID, keys::STEPS_ID_ALIASES)?
            .ok_or_else(|| Error::missing(keys::STEPS_ID))?;
        Ok(NextStepQuery {
            steps_id: StepsId::text(id),
        })
    }
}

/// A `pims.subscription.services` request: the required VIN.
///
/// ```
/// let p = pims_types::Parameters::new().with("vin", "VR1AB12C3D4567890");
/// assert!(pims_types::ServicesQuery::from_parameters(&p).is_ok());
///
/// // `ServicesQuery::from_parameters`
/// let p = pims_types::Parameters::new().with("vin", 5);
/// assert_eq!(pims_types::ServicesQuery::from_parameters(&p).unwrap_err().to_string(), "Invalid vin parameter");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicesQuery {
    /// The vehicle.
    pub vin: Vin,
}

impl ServicesQuery {
    /// Parses a request: 2101 without `vin`, 2102 for a bad one.
    pub fn from_parameters(params: &Parameters) -> Result<Self, Error> {
        match params.lookup(keys::VIN, &[]) {
            None => Err(Error::missing(keys::VIN)),
            Some((_, Value::String(s))) => Ok(ServicesQuery {
                vin: Vin::parse(s)?,
            }),
            Some(_) => Err(Error::invalid(keys::VIN, "expected a string")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Parameters {
        Parameters::from_value(v).unwrap()
    }

    #[test]
    fn validation_rules_of_the_spec() {
        let cases = [
            (json!({}), "Missing carAssociationID parameter"),
            (
                json!({"carAssociationID": "1", "stepsID": "2"}),
                "Invalid stepsID parameter",
            ),
            (
                json!({"carAssociationID": "1", "vin": "VR1AB12C3D4567890"}),
                "Invalid vin parameter",
            ),
            (
                json!({"stepsID": "1", "vin": "VR1AB12C3D4567890"}),
                "Invalid vin parameter",
            ),
            (
                json!({"carAssociationID": "1", "stepsID": "2", "vin": "x"}),
                "Invalid stepsID parameter",
            ),
            (
                json!({"carAssociationID": ""}),
                "Invalid carAssociationID parameter",
            ),
            (
                json!({"carAssociationID": true}),
                "Invalid carAssociationID parameter",
            ),
            (json!({"stepsID": 1.5}), "Invalid stepsID parameter"),
            (json!({"vin": "VR1AB12C3D456789"}), "Invalid vin parameter"),
            (
                json!({"vin": 12345678901234567_u64}),
                "Invalid vin parameter",
            ),
            (
                json!({"stepsID": "1", "stepsStatus": "done"}),
                "Invalid stepsStatus parameter",
            ),
            (
                json!({"stepsID": "1", "stepsStatus": 1}),
                "Invalid stepsStatus parameter",
            ),
            (
                json!({"stepsID": "1", "resetSteps": "yes"}),
                "Invalid resetSteps parameter",
            ),
            (
                json!({"stepsID": "1", "resetSteps": 0}),
                "Invalid resetSteps parameter",
            ),
        ];
        for (p, label) in cases {
            let e = StepsQuery::from_parameters(&params(p.clone())).unwrap_err();
            assert_eq!(e.to_string(), label, "{p}");
        }
    }

    #[test]
    fn unknown_extras_are_ignored() {
        let q = StepsQuery::from_parameters(&params(json!({"vin": "VR1AB12C3D4567890", "x": [1]})))
            .unwrap();
        assert_eq!(q.selector.key(), "vin");
    }
}
