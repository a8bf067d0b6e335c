//! The step model: names, statuses, steps, and the ordered list keyed as the documentation shows.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::decode::{Path, expect_object, type_name};
use crate::error::Error;

/// The name (and key) of a step. Unknown names are kept (forward compatible).
///
/// ```
/// use pims_types::StepName;
/// assert_eq!(StepName::parse("mediumCarKey"), StepName::MediumCarKey);
/// assert_eq!(StepName::parse("trustedphone").as_str(), "trusterPhoneNumber");
///
/// // `StepName::parse`
/// {
///     use pims_types::StepName;
///     assert_eq!(StepName::parse("trustedPhone"), StepName::TrusterPhoneNumber);
///     assert_eq!(StepName::parse("faceId"), StepName::Other("faceId".into()));
/// }
/// // `StepName::as_str`
/// assert_eq!(pims_types::StepName::TrusterPhoneNumber.as_str(), "trusterPhoneNumber");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepName {
    /// `trusterPhoneNumber` (sic): the account has a trusted phone number.
    TrusterPhoneNumber,
    /// `deviceActivation`: this device is enrolled for strong authentication.
    DeviceActivation,
    /// `mediumCarKey`: the user holds the vehicle's keys.
    MediumCarKey,
    /// A name this SDK does not know, passed through as it is.
    Other(String),
}

impl StepName {
    /// Reads a name; the legacy spellings (`trustedPhone`, `trustedphone`,
    /// `trustedPhoneNumber`) read as `trusterPhoneNumber`.
    pub fn parse(s: &str) -> StepName {
        match s {
            "trusterPhoneNumber" | "trustedPhone" | "trustedphone" | "trustedPhoneNumber" => {
                StepName::TrusterPhoneNumber
            }
            "deviceActivation" => StepName::DeviceActivation,
            "mediumCarKey" => StepName::MediumCarKey,
            other => StepName::Other(other.to_owned()),
        }
    }

    /// The canonical name, as emitted.
    pub fn as_str(&self) -> &str {
        match self {
            StepName::TrusterPhoneNumber => "trusterPhoneNumber",
            StepName::DeviceActivation => "deviceActivation",
            StepName::MediumCarKey => "mediumCarKey",
            StepName::Other(s) => s,
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StepName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StepName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(StepName::parse(&String::deserialize(d)?))
    }
}

/// Whether a step is still required.
///
/// ```
/// let s: pims_types::StepStatus = serde_json::from_str("\"alreadyDone\"").unwrap();
/// assert_eq!(s, pims_types::StepStatus::AlreadyDone);
///
/// // `StepStatus::as_str`
/// assert_eq!(pims_types::StepStatus::AlreadyDone.as_str(), "alreadyDone");
/// // `StepStatus::parse`
/// assert_eq!(pims_types::StepStatus::parse("todo"), Some(pims_types::StepStatus::Todo));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepStatus {
    /// Still required.
    #[serde(rename = "todo")]
    Todo,
    /// Checked; need not be done again.
    #[serde(rename = "alreadyDone")]
    AlreadyDone,
}

impl StepStatus {
    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Todo => "todo",
            StepStatus::AlreadyDone => "alreadyDone",
        }
    }

    /// Reads the wire text.
    pub fn parse(s: &str) -> Option<StepStatus> {
        match s {
            "todo" => Some(StepStatus::Todo),
            "alreadyDone" => Some(StepStatus::AlreadyDone),
            _ => None,
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `stepsStatus` filter of a list request.
///
/// ```
/// assert_eq!(pims_types::StepsStatusFilter::default(), pims_types::StepsStatusFilter::All);
///
/// // `StepsStatusFilter::parse`
/// {
///     use pims_types::StepsStatusFilter;
///     assert_eq!(StepsStatusFilter::parse("todo"), Some(StepsStatusFilter::Todo));
///     assert_eq!(StepsStatusFilter::parse("TODO"), None);
/// }
/// // `StepsStatusFilter::as_str`
/// assert_eq!(pims_types::StepsStatusFilter::All.as_str(), "all");
/// // `StepsStatusFilter::admits`
/// {
///     use pims_types::{StepStatus, StepsStatusFilter};
///     assert!(!StepsStatusFilter::Todo.admits(StepStatus::AlreadyDone));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StepsStatusFilter {
    /// Every step (the default).
    #[default]
    All,
    /// Only the steps still to do.
    Todo,
    /// Only the steps already done.
    AlreadyDone,
}

impl StepsStatusFilter {
    /// Reads `all`, `todo` or `alreadyDone`.
    pub fn parse(s: &str) -> Option<StepsStatusFilter> {
        match s {
            "all" => Some(StepsStatusFilter::All),
            "todo" => Some(StepsStatusFilter::Todo),
            "alreadyDone" => Some(StepsStatusFilter::AlreadyDone),
            _ => None,
        }
    }

    /// The wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            StepsStatusFilter::All => "all",
            StepsStatusFilter::Todo => "todo",
            StepsStatusFilter::AlreadyDone => "alreadyDone",
        }
    }

    /// Whether a step with this status passes the filter.
    pub fn admits(self, status: StepStatus) -> bool {
        match self {
            StepsStatusFilter::All => true,
            StepsStatusFilter::Todo => status == StepStatus::Todo,
            StepsStatusFilter::AlreadyDone => status == StepStatus::AlreadyDone,
        }
    }
}

impl fmt::Display for StepsStatusFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step: `{"name", "status", "order"}`.
///
/// ```
/// use pims_types::{Step, StepName, StepStatus};
/// let s = Step::new(StepName::DeviceActivation, StepStatus::Todo, 2);
/// assert_eq!(serde_json::to_value(&s).unwrap()["status"], "todo");
///
/// // `Step::new`
/// let s = pims_types::Step::new(pims_types::StepName::MediumCarKey, pims_types::StepStatus::Todo, 3);
/// assert_eq!(s.order, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// Which step.
    pub name: StepName,
    /// Whether it is still required.
    pub status: StepStatus,
    /// Its position: steps are done in ascending order.
    pub order: i64,
}

impl Step {
    /// A step.
    pub fn new(name: StepName, status: StepStatus, order: i64) -> Self {
        Step {
            name,
            status,
            order,
        }
    }

    /// Decodes a step object found under `key` (the key wins over a differing `name`, as in the
    /// documentation's generated samples).
    fn from_value(key: &str, value: &Value, path: &Path<'_>) -> Result<Step, Error> {
        let map = expect_object(value, path)?;
        let status_path = path.key("status");
        let status = match map.get("status") {
            Some(Value::String(s)) => StepStatus::parse(s).ok_or_else(|| {
                Error::decode(status_path.render(), "expected todo or alreadyDone")
            })?,
            Some(other) => {
                return Err(Error::decode(
                    status_path.render(),
                    format!("expected a string, found {}", type_name(other)),
                ));
            }
            None => return Err(Error::decode(status_path.render(), "missing")),
        };
        let order_path = path.key("order");
        let order = match map.get("order") {
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| Error::decode(order_path.render(), "expected an integer"))?,
            // Lenient: an order sent as a string of digits.
            Some(Value::String(s)) => s
                .parse()
                .map_err(|_| Error::decode(order_path.render(), "expected an integer"))?,
            Some(other) => {
                return Err(Error::decode(
                    order_path.render(),
                    format!("expected an integer, found {}", type_name(other)),
                ));
            }
            None => return Err(Error::decode(order_path.render(), "missing")),
        };
        Ok(Step {
            name: StepName::parse(key),
            status,
            order,
        })
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), Value::String(self.name.as_str().to_owned()));
        map.insert("status".into(), Value::String(self.status.as_str().into()));
        map.insert("order".into(), Value::from(self.order));
        Value::Object(map)
    }
}

/// A stepsID: kept as the backend gave it (number or string) and compared as a string.
///
/// ```
/// use pims_types::StepsId;
/// assert_eq!(StepsId::number(132324), StepsId::text("132324"));
/// assert_eq!(serde_json::to_value(StepsId::number(132324)).unwrap(), serde_json::json!(132324));
///
/// // `StepsId::number`
/// assert_eq!(pims_types::StepsId::number(7).as_str(), "7");
/// // `StepsId::text`
/// assert_eq!(pims_types::StepsId::text("abc").as_str(), "abc");
/// // `StepsId::as_str`
/// assert_eq!(pims_types::StepsId::number(1).as_str(), "1");
/// // `StepsId::is_number`
/// assert!(pims_types::StepsId::number(7).is_number());
/// assert!(!pims_types::StepsId::text("7").is_number());
/// // `StepsId::to_value`
/// assert!(pims_types::StepsId::number(1).to_value().is_number());
/// ```
#[derive(Debug, Clone)]
pub struct StepsId {
    text: String,
    numeric: bool,
}

impl StepsId {
    /// A stepsID the backend sent as a number.
    pub fn number(n: u64) -> Self {
        StepsId {
            text: n.to_string(),
            numeric: true,
        }
    }

    /// A stepsID sent (or typed) as a string.
    pub fn text(s: impl Into<String>) -> Self {
        StepsId {
            text: s.into(),
            numeric: false,
        }
    }

    /// The id as a string (the form used for comparison and cache keys).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the backend sent it as a number (its JSON form is a number).
    pub fn is_number(&self) -> bool {
        self.numeric && self.text.parse::<u64>().is_ok()
    }

    /// The JSON form: a number when the backend sent one, else a string.
    pub fn to_value(&self) -> Value {
        if self.numeric
            && let Ok(n) = self.text.parse::<u64>()
        {
            return Value::from(n);
        }
        Value::String(self.text.clone())
    }

    fn from_value(value: &Value, path: &Path<'_>) -> Result<StepsId, Error> {
        match value {
            Value::Number(n) => n
                .as_u64()
                .map(StepsId::number)
                .ok_or_else(|| Error::decode(path.render(), "expected a non-negative integer")),
            Value::String(s) if !s.is_empty() && s.len() <= crate::params::MAX_IDENTIFIER_LEN => {
                Ok(StepsId::text(s.clone()))
            }
            Value::String(_) => Err(Error::decode(path.render(), "empty or too long")),
            other => Err(Error::decode(
                path.render(),
                format!(
                    "expected a string or an integer, found {}",
                    type_name(other)
                ),
            )),
        }
    }
}

impl PartialEq for StepsId {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for StepsId {}

impl std::hash::Hash for StepsId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Display for StepsId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for StepsId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for StepsId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        StepsId::from_value(&v, &Path::root()).map_err(serde::de::Error::custom)
    }
}

/// A step list: its stepsID and its steps in ascending `order` (ties keep their list order).
/// Serialises to the keyed object of the documentation, keys in order, and reads it back.
///
/// ```
/// use pims_types::StepsList;
/// let v = serde_json::json!({"stepsID": 132324,
///     "mediumCarKey": {"name": "mediumCarKey", "status": "todo", "order": 3},
///     "trusterPhoneNumber": {"name": "trusterPhoneNumber", "status": "alreadyDone", "order": 1}});
/// let list = StepsList::from_value(&v).unwrap();
/// assert_eq!(list.steps()[0].name.as_str(), "trusterPhoneNumber");
/// let keys: Vec<_> = list.to_value().as_object().unwrap().keys().cloned().collect();
/// assert_eq!(keys, ["stepsID", "trusterPhoneNumber", "mediumCarKey"]);
///
/// // `StepsList::new`
/// {
///     use pims_types::{Step, StepName, StepStatus, StepsId, StepsList};
///     let l = StepsList::new(StepsId::number(1), vec![Step::new(StepName::MediumCarKey, StepStatus::Todo, 3)]);
///     assert_eq!(l.len(), 1);
/// }
/// // `StepsList::steps_id`
/// let l = pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]);
/// assert_eq!(l.steps_id().as_str(), "9");
/// // `StepsList::steps`
/// assert!(pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]).steps().is_empty());
/// // `StepsList::step`
/// {
///     use pims_types::{Step, StepName, StepStatus, StepsId, StepsList};
///     let l = StepsList::new(StepsId::number(1), vec![Step::new(StepName::MediumCarKey, StepStatus::Todo, 3)]);
///     assert!(l.step(&StepName::MediumCarKey).is_some());
/// }
/// // `StepsList::len`
/// assert_eq!(pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]).len(), 0);
/// // `StepsList::is_empty`
/// assert!(pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]).is_empty());
/// // `StepsList::all_done`
/// assert!(pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]).all_done());
/// // `StepsList::with_steps_id`
/// let l = pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]);
/// assert_eq!(l.with_steps_id(pims_types::StepsId::text("x")).steps_id().as_str(), "x");
/// // `StepsList::to_value`
/// let v = pims_types::StepsList::new(pims_types::StepsId::number(9), vec![]).to_value();
/// assert_eq!(v, serde_json::json!({"stepsID": 9}));
/// // `StepsList::from_value`
/// let e = pims_types::StepsList::from_value(&serde_json::json!({"deviceActivation": {}})).unwrap_err();
/// assert!(e.to_string().contains("$.stepsID"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepsList {
    steps_id: StepsId,
    steps: Vec<Step>,
}

impl StepsList {
    /// A list; steps are sorted by `order` (stable), a repeated name keeps its first entry, and
    /// a step named `stepsID`/`stepsId` (the id's own key) is dropped.
    pub fn new(steps_id: StepsId, steps: Vec<Step>) -> Self {
        let mut unique: Vec<Step> = Vec::with_capacity(steps.len());
        for step in steps {
            // A step named like the id key could not be written next to it.
            let reserved =
                matches!(&step.name, StepName::Other(n) if n == "stepsID" || n == "stepsId");
            if !reserved && !unique.iter().any(|s| s.name == step.name) {
                unique.push(step);
            }
        }
        unique.sort_by_key(|s| s.order);
        StepsList {
            steps_id,
            steps: unique,
        }
    }

    /// The stepsID.
    pub fn steps_id(&self) -> &StepsId {
        &self.steps_id
    }

    /// The steps, in ascending order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The step with this name.
    pub fn step(&self, name: &StepName) -> Option<&Step> {
        self.steps.iter().find(|s| &s.name == name)
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the list has no step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether every step is `alreadyDone`.
    pub fn all_done(&self) -> bool {
        self.steps
            .iter()
            .all(|s| s.status == StepStatus::AlreadyDone)
    }

    /// The same list with another stepsID.
    pub fn with_steps_id(mut self, steps_id: StepsId) -> Self {
        self.steps_id = steps_id;
        self
    }

    /// The keyed object of the documentation: `stepsID` first, then one key per step in order.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("stepsID".into(), self.steps_id.to_value());
        for step in &self.steps {
            map.insert(step.name.as_str().to_owned(), step.to_value());
        }
        Value::Object(map)
    }

    /// Reads the keyed object (a backend answer or an old cache record). `stepsID` (or
    /// `stepsId`) is required; every other key whose value is an object is a step (legacy
    /// names normalised, unknown names kept); keys with non-object values are ignored.
    pub fn from_value(value: &Value) -> Result<StepsList, Error> {
        StepsList::from_value_at(value, &Path::root())
    }

    pub(crate) fn from_value_at(value: &Value, path: &Path<'_>) -> Result<StepsList, Error> {
        let map = expect_object(value, path)?;
        let (id_key, id_value) = ["stepsID", "stepsId"]
            .into_iter()
            .find_map(|k| map.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
            .ok_or_else(|| Error::decode(path.key("stepsID").render(), "missing"))?;
        let steps_id = StepsId::from_value(id_value, &path.key(id_key))?;
        let mut steps = Vec::new();
        for (key, v) in map {
            if key == "stepsID" || key == "stepsId" || !v.is_object() {
                continue;
            }
            steps.push(Step::from_value(key, v, &path.key(key))?);
        }
        Ok(StepsList::new(steps_id, steps))
    }
}

impl Serialize for StepsList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for StepsList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        StepsList::from_value(&v).map_err(serde::de::Error::custom)
    }
}

/// The result of `pims.subscription.step`: the next step, keyed by its name, or null.
///
/// ```
/// use pims_types::{next_step_result, Step, StepName, StepStatus};
/// let s = Step::new(StepName::DeviceActivation, StepStatus::Todo, 2);
/// assert_eq!(next_step_result(Some(&s)),
///     serde_json::json!({"deviceActivation": {"name": "deviceActivation", "status": "todo", "order": 2}}));
/// assert!(next_step_result(None).is_null());
/// ```
pub fn next_step_result(step: Option<&Step>) -> Value {
    match step {
        None => Value::Null,
        Some(step) => {
            let mut map = Map::new();
            map.insert(step.name.as_str().to_owned(), step.to_value());
            Value::Object(map)
        }
    }
}

/// Reads the result of `pims.subscription.step` (null or an object with one step).
///
/// ```
/// let v = serde_json::json!({"mediumCarKey": {"name": "mediumCarKey", "status": "todo", "order": 3}});
/// let s = pims_types::parse_next_step_result(&v).unwrap().unwrap();
/// assert_eq!(s.order, 3);
/// ```
pub fn parse_next_step_result(value: &Value) -> Result<Option<Step>, Error> {
    let root = Path::root();
    if value.is_null() {
        return Ok(None);
    }
    let map = expect_object(value, &root)?;
    let mut found = map.iter().filter(|(_, v)| v.is_object());
    match (found.next(), found.next()) {
        (Some((k, v)), None) => Step::from_value(k, v, &root.key(k)).map(Some),
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(Error::decode("$", "expected one step, found several")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_named_like_the_id_key_cannot_break_the_document() {
        let odd = Step::new(StepName::parse("stepsID"), StepStatus::Todo, 1);
        let list = StepsList::new(StepsId::number(7), vec![odd]);
        assert!(list.is_empty());
        assert_eq!(StepsList::from_value(&list.to_value()).unwrap(), list);
    }
}
