//! The scenario document: the whole state of the simulated backend as JSON. Loaded at start
//! (`--scenario FILE`), by `POST /admin/scenario`, from the state file, and written back by
//! `GET /admin/state` and to the state file. Every field is described in `docs/simulator.md`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The activation vocabulary is pims-types' (the same values as the SDK's, on the wire and in
/// this document); a document accepts only the values a backend state can hold: `blocked` is
/// `NotBlocked` or `PinBlocked` (never `Unknown`), `cvsStatus` one of the four known statuses.
pub use pims_types::{AccountBlocked, CvsStatus, SmsPurpose};
use pims_types::{Secret, Service};

use crate::pin_hash::PinHash;
use crate::{
    DEMO_CAR_ASSOCIATION_ID, DEMO_FIRST_STEPS_ID, DEMO_PHONE_NUMBER, DEMO_TOKEN, DEMO_VIN,
};

/// The version of the document format this simulator reads and writes.
///
/// ```
/// assert_eq!(pims_sim::Scenario::empty().version, pims_sim::SCENARIO_VERSION);
/// ```
pub const SCENARIO_VERSION: u32 = 1;

/// How many digits the codes of the SMS outbox have: the simulator sends codes of this length
/// (it accepts 4 to 10 on input, the SDK's rule, and answers 2305 for a code it did not send).
pub(crate) const SMS_CODE_DIGITS: usize = 6;

/// Text fields (email, brand): no control characters.
const TEXT_PATTERN: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]+$";
/// An access token: 1 to 256 printable ASCII characters without spaces.
const TOKEN_PATTERN: &str = "^[!-~]{1,256}$";
/// A PIN in clear: 4 to 8 digits.
const PIN_PATTERN: &str = "^[0-9]{4,8}$";
/// A PIN hash as the simulator writes it: a PBKDF2-HMAC-SHA256 PHC string of at most
/// `MAX_PIN_HASH_ROUNDS` rounds, a 16-byte salt and a 32-byte hash (base64 without padding,
/// whose last character carries no stray bits).
const PIN_HASH_PATTERN: &str = "^\\$pbkdf2-sha256\\$i=(100000|[1-9][0-9]{0,4}),l=32\\$\
    [A-Za-z0-9+/]{22}\\$[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$";
/// The shape of an RFC 3339 date-time, as `clock::is_rfc3339` checks it before the calendar
/// (a pattern cannot say which days a month has).
const RFC3339_SHAPE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$";
/// A step name.
const STEP_PATTERN: &str = "^(trusterPhoneNumber|trustedPhone|trustedphone|trustedPhoneNumber|deviceActivation|mediumCarKey)$";

/// The `blocked` values a document may give (`Unknown` is refused).
#[derive(JsonSchema)]
#[allow(dead_code)]
enum BlockedState {
    NotBlocked,
    PinBlocked,
}

/// The CVS statuses a document may give.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum KnownCvsStatus {
    Unknown,
    Active,
    Suspended,
    Disabled,
}

/// A scenario document: accounts, devices, vehicles, CarKeys, car associations, issued step
/// lists, vehicle selections and the SMS outbox, plus the simulator's settings.
///
/// Every collection may be omitted (empty). [`Scenario::from_json`] validates the document and
/// names the field at fault; `Debug` never shows a token, PIN or SMS code.
///
/// ```
/// use pims_sim::{DEMO_CAR_ASSOCIATION_ID, Scenario};
///
/// // A document: omitted collections are empty, omitted fields take their defaults.
/// let s = Scenario::from_json(br#"{
///   "accounts": [{"id": "alice", "tokens": ["alice-token"], "trustedPhoneNumber": "+33600000001"}],
///   "vehicles": [{"vin": "VR1AB12C3D4567891", "services": [{"code": "RC", "name": "Remote Commands"}]}],
///   "carAssociations": [{"id": "1", "accountId": "alice", "serviceCode": "RC", "vin": "VR1AB12C3D4567891"}]
/// }"#).unwrap();
/// assert_eq!(s.accounts[0].max_enrolled_devices, 5);
/// assert_eq!(s.car_associations[0].steps, ["trusterPhoneNumber", "deviceActivation", "mediumCarKey"]);
/// assert!(!format!("{s:?}").contains("alice-token"));
///
/// // A bad document: the error names the field at fault, and why.
/// let bad = Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": ["t"], "pin": "12"}]}"#).unwrap_err();
/// assert_eq!(bad.to_string(), "invalid scenario: accounts[0].pin: expected 4 to 8 digits");
/// let e = Scenario::from_json(br#"{"vehicles": [{"vin": "short"}]}"#).unwrap_err();
/// assert_eq!(e.field(), Some("vehicles[0].vin"));
/// assert_eq!(Scenario::from_json(b"{").unwrap_err().field(), Some("$"));
/// let e = Scenario::from_file(std::path::Path::new("/dev/zero")).unwrap_err();
/// assert!(e.to_string().contains("not a regular file"), "{e}");
///
/// // The built-in demo, changed in code, checked again.
/// let mut s = Scenario::default_scenario();
/// assert!(s.validate().is_ok());
/// assert_eq!(s.car_associations[0].id, DEMO_CAR_ASSOCIATION_ID);
/// s.car_associations[0].vin = "VR1AB12C3D4567899".into();
/// assert_eq!(s.validate().unwrap_err().field(), Some("carAssociations[0].vin"));
///
/// // Written back as JSON, it reads the same.
/// let text = Scenario::default_scenario().to_json_pretty();
/// assert_eq!(Scenario::from_json(text.as_bytes()).unwrap(), Scenario::default_scenario());
/// assert!(Scenario::empty().accounts.is_empty());
/// assert_eq!(Scenario::empty().to_value()["version"], 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// The document format version; only [`SCENARIO_VERSION`] is accepted (default).
    #[serde(default = "default_version")]
    #[schemars(range(min = SCENARIO_VERSION, max = SCENARIO_VERSION))]
    pub version: u32,
    /// The simulator's rules (SMS validity, quota, PIN attempts).
    #[serde(default)]
    pub settings: Settings,
    /// The user accounts.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    /// The devices known to the strong-authentication service (one entry per device and account).
    #[serde(default)]
    pub devices: Vec<DeviceSpec>,
    /// The vehicles.
    #[serde(default)]
    pub vehicles: Vec<VehicleSpec>,
    /// The CarKeys, one per (account, vehicle).
    #[serde(default)]
    pub car_keys: Vec<CarKeySpec>,
    /// The car associations (user + service + vehicle).
    #[serde(default)]
    pub car_associations: Vec<CarAssociationSpec>,
    /// The step lists already issued: stepsID -> (car association, device).
    #[serde(default)]
    pub step_lists: Vec<StepListSpec>,
    /// The next stepsID to issue; default: [`DEMO_FIRST_STEPS_ID`], or one more than the
    /// largest issued stepsID when that is larger.
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "u64")]
    pub next_steps_id: Option<u64>,
    /// The vehicle each (account, device) selected with `set pims.vehicle.vin`.
    #[serde(default)]
    pub vehicle_selections: Vec<VehicleSelectionSpec>,
    /// The SMS codes "sent" (the outbox).
    #[serde(default)]
    pub sms_outbox: Vec<SmsSpec>,
}

/// The simulator's rules.
///
/// ```
/// let s = pims_sim::Settings::default();
/// assert_eq!((s.sms_validity_secs, s.sms_hourly_quota, s.max_wrong_pins), (300, 10, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// How long an SMS code stays valid, in seconds (1..=86400, default 300).
    #[serde(default = "default_sms_validity")]
    #[schemars(range(min = 1, max = 86_400))]
    pub sms_validity_secs: u64,
    /// How many SMS codes one phone number may receive per sliding hour (1..=10000, default 10).
    #[serde(default = "default_sms_quota")]
    #[schemars(range(min = 1, max = 10_000))]
    pub sms_hourly_quota: u32,
    /// Wrong PINs in a row that block an account (1..=100, default 3).
    #[serde(default = "default_max_wrong_pins")]
    #[schemars(range(min = 1, max = 100))]
    pub max_wrong_pins: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sms_validity_secs: default_sms_validity(),
            sms_hourly_quota: default_sms_quota(),
            max_wrong_pins: default_max_wrong_pins(),
        }
    }
}

/// A user account.
///
/// ```
/// let a = pims_sim::AccountSpec::new("bob", "bob-token");
/// assert!(!a.has_pin() && a.trusted_phone_number.is_none());
/// assert_eq!(a.max_enrolled_devices, 5);
///
/// // `AccountSpec::new`
/// assert_eq!(pims_sim::AccountSpec::new("a", "t").tokens[0].expose(), "t");
/// // `AccountSpec::has_pin`
/// let mut a = pims_sim::AccountSpec::new("a", "t");
/// a.pin_hash = Some(pims_sim::PinHash::of(&pims_types::Secret::new("1234")));
/// assert!(a.has_pin());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountSpec {
    /// The account id (1-64 printable characters, unique).
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN))]
    pub id: String,
    /// The e-mail address (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256), regex(pattern = TEXT_PATTERN))]
    pub email: Option<String>,
    /// The bearer tokens that authenticate as this account (at least one; unique across accounts).
    #[serde(with = "secret_list")]
    #[schemars(with = "Vec<String>", length(min = 1), inner(regex(pattern = TOKEN_PATTERN)))]
    pub tokens: Vec<Secret>,
    /// The PIN in clear (4 to 8 digits), as a document written by hand may give it: the
    /// simulator keeps only its hash ([`AccountSpec::pin_hash`]) and never writes it back.
    /// None (and no `pin_hash`) before the first enrolment registers one.
    #[serde(
        default,
        with = "secret_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", regex(pattern = PIN_PATTERN))]
    pub pin: Option<Secret>,
    /// The PIN as the simulator keeps it: a salted hash (`pinHash`, a PHC string; see
    /// [`PinHash`]). The state file and `GET /admin/state` give this, never `pin`; a document
    /// gives one of the two at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", regex(pattern = PIN_HASH_PATTERN))]
    pub pin_hash: Option<PinHash>,
    /// Wrong PINs in a row so far (below `settings.maxWrongPins` unless blocked).
    #[serde(default)]
    pub wrong_pin_count: u32,
    /// Whether the account is blocked by wrong PINs: `NotBlocked` (default) or `PinBlocked`
    /// (a document saying `Unknown` is refused).
    #[serde(default = "not_blocked", deserialize_with = "account_blocked")]
    #[schemars(with = "BlockedState")]
    pub blocked: AccountBlocked,
    /// The trusted phone number (E.164: `+` then 8 to 15 digits), or none.
    #[serde(default)]
    #[schemars(regex(pattern = pims_types::schema::PHONE_NUMBER_PATTERN))]
    pub trusted_phone_number: Option<String>,
    /// How many devices may be enrolled at once (1..=1000, default 5).
    #[serde(default = "default_max_devices")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_enrolled_devices: u32,
}

impl AccountSpec {
    /// An account with one token, no PIN, no phone number, not blocked.
    pub fn new(id: impl Into<String>, token: impl Into<String>) -> Self {
        AccountSpec {
            id: id.into(),
            email: None,
            tokens: vec![Secret::new(token.into())],
            pin: None,
            pin_hash: None,
            wrong_pin_count: 0,
            blocked: AccountBlocked::NotBlocked,
            trusted_phone_number: None,
            max_enrolled_devices: default_max_devices(),
        }
    }

    /// Whether the account has a PIN (in clear as a document gives it, or hashed).
    pub fn has_pin(&self) -> bool {
        self.pin.is_some() || self.pin_hash.is_some()
    }
}

/// A device as the strong-authentication service knows it, for one account.
///
/// ```
/// let d: pims_sim::DeviceSpec = serde_json::from_value(serde_json::json!(
///     {"id": "phone-1", "accountId": "demo", "status": "enrolled"})).unwrap();
/// assert_eq!(d.status, pims_sim::DeviceStatus::Enrolled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceSpec {
    /// The device id (the `Pims-Device-Id` header; 1-64 printable characters).
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN))]
    pub id: String,
    /// The account it is (or was) enrolled for; none for a device disabled before any enrolment.
    #[serde(default)]
    pub account_id: Option<String>,
    /// Its status.
    pub status: DeviceStatus,
}

/// The status of a device for an account.
///
/// ```
/// assert_eq!(serde_json::to_value(pims_sim::DeviceStatus::Disabled).unwrap(), "disabled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeviceStatus {
    /// Enrolled: strong authentication works from it.
    Enrolled,
    /// Disabled (admin action): OTP answers 2312 until it is enrolled again.
    Disabled,
    /// Its enrolment was removed (`set pims.authentication.enrollment {action: remove}`).
    Removed,
}

/// A vehicle.
///
/// ```
/// let v: pims_sim::VehicleSpec = serde_json::from_value(serde_json::json!({"vin": "VR1AB12C3D4567890"})).unwrap();
/// assert!(v.services.is_empty() && v.paired_devices.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VehicleSpec {
    /// The VIN (17 characters of `[A-HJ-NPR-Z0-9]`, unique).
    #[schemars(regex(pattern = pims_types::schema::VIN_PATTERN))]
    pub vin: String,
    /// The brand (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = TEXT_PATTERN))]
    pub brand: Option<String>,
    /// The devices paired with it over Bluetooth.
    #[serde(default)]
    #[schemars(inner(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN)))]
    pub paired_devices: Vec<String>,
    /// The connected services available for it (`pims.subscription.services`).
    #[serde(default)]
    pub services: Vec<Service>,
}

/// The CarKey of an account for a vehicle.
///
/// ```
/// let k: pims_sim::CarKeySpec = serde_json::from_value(serde_json::json!(
///     {"accountId": "demo", "vin": "VR1AB12C3D4567890", "verified": true, "cvsStatus": "active"})).unwrap();
/// assert_eq!(k.cvs_status, pims_sim::CvsStatus::Active);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CarKeySpec {
    /// The account.
    pub account_id: String,
    /// The vehicle.
    #[schemars(regex(pattern = pims_types::schema::VIN_PATTERN))]
    pub vin: String,
    /// Whether the CarKey was verified (`set pims.vehicle.carkey` succeeded).
    #[serde(default)]
    pub verified: bool,
    /// Its CVS status: one of the four known ones (default unknown; another is refused).
    #[serde(default, deserialize_with = "known_cvs_status")]
    #[schemars(with = "KnownCvsStatus")]
    pub cvs_status: CvsStatus,
    /// The last date it can be reactivated (RFC 3339), when suspended.
    #[serde(default)]
    #[schemars(regex(pattern = RFC3339_SHAPE))]
    pub max_reactivation_date: Option<String>,
}

/// A car association: a user's subscription to a service for a vehicle.
///
/// ```
/// let a: pims_sim::CarAssociationSpec = serde_json::from_value(serde_json::json!(
///     {"id": "1", "accountId": "demo", "serviceCode": "RC", "vin": "VR1AB12C3D4567890",
///      "steps": ["trusterPhoneNumber", "deviceActivation"]})).unwrap();
/// assert_eq!(a.steps.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CarAssociationSpec {
    /// The carAssociationID (1-64 printable characters, no whitespace, unique).
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN))]
    pub id: String,
    /// The account.
    pub account_id: String,
    /// The service subscribed to (one of the vehicle's service codes).
    pub service_code: String,
    /// The vehicle.
    #[schemars(regex(pattern = pims_types::schema::VIN_PATTERN))]
    pub vin: String,
    /// The steps this service requires, in order (default: all three).
    #[serde(default = "default_steps")]
    #[schemars(length(min = 1), inner(regex(pattern = STEP_PATTERN)))]
    pub steps: Vec<String>,
}

/// An issued step list: stepsID -> (car association, device).
///
/// ```
/// let l: pims_sim::StepListSpec = serde_json::from_value(serde_json::json!(
///     {"stepsId": 132324, "carAssociationId": "987654", "deviceId": "phone-1"})).unwrap();
/// assert_eq!(l.steps_id, 132324);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepListSpec {
    /// The stepsID.
    pub steps_id: u64,
    /// The car association it lists the steps of.
    pub car_association_id: String,
    /// The device it was issued to (the only one that may use it).
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN))]
    pub device_id: String,
}

/// The vehicle an (account, device) selected with `set pims.vehicle.vin`.
///
/// ```
/// let s: pims_sim::VehicleSelectionSpec = serde_json::from_value(serde_json::json!(
///     {"accountId": "demo", "deviceId": "phone-1", "vin": "VR1AB12C3D4567890"})).unwrap();
/// assert_eq!(s.device_id, "phone-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VehicleSelectionSpec {
    /// The account.
    pub account_id: String,
    /// The device.
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN), regex(pattern = crate::identifiers::DEVICE_ID_PATTERN))]
    pub device_id: String,
    /// The selected vehicle.
    #[schemars(regex(pattern = pims_types::schema::VIN_PATTERN))]
    pub vin: String,
}

/// One SMS of the outbox.
///
/// ```
/// let m: pims_sim::SmsSpec = serde_json::from_value(serde_json::json!({"id": 1,
///     "phoneNumber": "+33612345678", "purpose": "enrollment", "code": "654321",
///     "sentAtMs": 0, "expiresAtMs": 300000, "state": "pending"})).unwrap();
/// assert!(!format!("{m:?}").contains("654321"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsSpec {
    /// A number unique in the outbox (increasing).
    pub id: u64,
    /// The number it was sent to.
    #[schemars(regex(pattern = pims_types::schema::PHONE_NUMBER_PATTERN))]
    pub phone_number: String,
    /// What it authorises.
    pub purpose: SmsPurpose,
    /// The code (6 digits).
    #[serde(with = "secret_value")]
    #[schemars(with = "String", regex(pattern = "^[0-9]{6}$"))]
    pub code: Secret,
    /// When it was sent (milliseconds since the Unix epoch, simulator clock).
    #[schemars(range(max = crate::clock::MAX_RFC3339_MS))]
    pub sent_at_ms: u64,
    /// When it expires (same unit).
    #[schemars(range(max = crate::clock::MAX_RFC3339_MS))]
    pub expires_at_ms: u64,
    /// Whether it can still be used.
    pub state: SmsState,
}

/// Whether an SMS code can still be used.
///
/// ```
/// assert_eq!(serde_json::to_value(pims_sim::SmsState::Consumed).unwrap(), "consumed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmsState {
    /// Not used yet (valid until it expires).
    Pending,
    /// Used by the operation it authorised.
    Consumed,
    /// Replaced by a newer code of the same purpose.
    Voided,
}

impl SmsState {
    /// The wire text.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SmsState::Pending => "pending",
            SmsState::Consumed => "consumed",
            SmsState::Voided => "voided",
        }
    }
}

impl Scenario {
    /// The built-in scenario: the documentation's example. Account `demo` (token
    /// [`DEMO_TOKEN`], trusted phone [`DEMO_PHONE_NUMBER`], no PIN, no enrolled device), vehicle
    /// [`DEMO_VIN`] with three services, car association [`DEMO_CAR_ASSOCIATION_ID`] for the
    /// remote-commands service, no CarKey; the first stepsID issued is [`DEMO_FIRST_STEPS_ID`].
    pub fn default_scenario() -> Scenario {
        let mut demo = AccountSpec::new("demo", DEMO_TOKEN);
        demo.email = Some("demo@pims.example".into());
        demo.trusted_phone_number = Some(DEMO_PHONE_NUMBER.into());
        let service = |code: &str, name: &str| Service {
            code: code.into(),
            name: name.into(),
        };
        Scenario {
            version: SCENARIO_VERSION,
            settings: Settings::default(),
            accounts: vec![demo],
            devices: Vec::new(),
            vehicles: vec![VehicleSpec {
                vin: DEMO_VIN.into(),
                brand: Some("Peugeot".into()),
                paired_devices: Vec::new(),
                services: vec![
                    service("REMOTE_COMMANDS", "Remote Commands"),
                    service("VEHICLE_STATUS", "Vehicle Status"),
                    service("CONNECTED_NAVIGATION", "Connected Navigation"),
                ],
            }],
            car_keys: Vec::new(),
            car_associations: vec![CarAssociationSpec {
                id: DEMO_CAR_ASSOCIATION_ID.into(),
                account_id: "demo".into(),
                service_code: "REMOTE_COMMANDS".into(),
                vin: DEMO_VIN.into(),
                steps: default_steps(),
            }],
            step_lists: Vec::new(),
            next_steps_id: Some(DEMO_FIRST_STEPS_ID),
            vehicle_selections: Vec::new(),
            sms_outbox: Vec::new(),
        }
    }

    /// An empty scenario (no account at all): a base for documents built in code.
    pub fn empty() -> Scenario {
        Scenario {
            version: SCENARIO_VERSION,
            settings: Settings::default(),
            accounts: Vec::new(),
            devices: Vec::new(),
            vehicles: Vec::new(),
            car_keys: Vec::new(),
            car_associations: Vec::new(),
            step_lists: Vec::new(),
            next_steps_id: None,
            vehicle_selections: Vec::new(),
            sms_outbox: Vec::new(),
        }
    }

    /// The document as pretty-printed JSON, secrets included as the document holds them
    /// (tokens, SMS codes, and a PIN in clear if it was given so: a state from the simulator
    /// holds only PIN hashes).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

fn default_version() -> u32 {
    SCENARIO_VERSION
}

fn default_sms_validity() -> u64 {
    300
}

fn default_sms_quota() -> u32 {
    10
}

fn default_max_wrong_pins() -> u32 {
    3
}

fn default_max_devices() -> u32 {
    5
}

fn not_blocked() -> AccountBlocked {
    AccountBlocked::NotBlocked
}

/// `blocked`: what a backend state holds, `NotBlocked` or `PinBlocked`; `Unknown` is a value
/// the account check may answer, never a state (refused as serde refuses an unknown variant).
fn account_blocked<'de, D: Deserializer<'de>>(d: D) -> Result<AccountBlocked, D::Error> {
    const STATES: &[&str] = &[
        AccountBlocked::NotBlocked.as_str(),
        AccountBlocked::PinBlocked.as_str(),
    ];
    let text = String::deserialize(d)?;
    match AccountBlocked::parse(&text) {
        Some(state @ (AccountBlocked::NotBlocked | AccountBlocked::PinBlocked)) => Ok(state),
        _ => Err(serde::de::Error::unknown_variant(&text, STATES)),
    }
}

/// `cvsStatus`: one of the four documented statuses. The SDK keeps an unknown status it reads
/// from a backend ([`CvsStatus::Other`]); the simulator is that backend, and holds known ones.
fn known_cvs_status<'de, D: Deserializer<'de>>(d: D) -> Result<CvsStatus, D::Error> {
    let text = String::deserialize(d)?;
    match CvsStatus::parse(&text) {
        CvsStatus::Other(_) => Err(serde::de::Error::unknown_variant(
            &text,
            &CvsStatus::KNOWN_TEXTS,
        )),
        status => Ok(status),
    }
}

/// The three steps of the documentation, in order.
pub(crate) fn default_steps() -> Vec<String> {
    ["trusterPhoneNumber", "deviceActivation", "mediumCarKey"]
        .into_iter()
        .map(String::from)
        .collect()
}

/// Reads a secret without ever quoting it in an error.
fn secret_from_value<E: serde::de::Error>(v: Value, what: &str) -> Result<Secret, E> {
    match v {
        Value::String(s) => Ok(Secret::new(s)),
        _ => Err(E::custom(format!("expected {what} as a string"))),
    }
}

mod secret_value {
    use super::*;

    pub(super) fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        secret_from_value(Value::deserialize(d)?, "the code")
    }
}

mod secret_option {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        secret: &Option<Secret>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => s.serialize_str(secret.expose()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            v => secret_from_value(v, "the PIN").map(Some),
        }
    }
}

mod secret_list {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(super) fn serialize<S: Serializer>(secrets: &[Secret], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(secrets.len()))?;
        for secret in secrets {
            seq.serialize_element(secret.expose())?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Secret>, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| secret_from_value(v, &format!("token {i}")))
                .collect(),
            _ => Err(serde::de::Error::custom("expected a list of tokens")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_round_trips_through_json() {
        let s = Scenario::default_scenario();
        let back = Scenario::from_json(s.to_json_pretty().as_bytes()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn type_errors_never_quote_secrets() {
        let e =
            Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": ["t"], "pin": 987123}]}"#)
                .unwrap_err();
        assert_eq!(e.field(), Some("accounts[0].pin"));
        assert!(!e.to_string().contains("987123"), "{e}");
        let e = Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": [55501234]}]}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("55501234"), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let e = Scenario::from_json(br#"{"acounts": []}"#).unwrap_err();
        assert!(e.to_string().contains("acounts"), "{e}");
        let e =
            Scenario::from_json(br#"{"accounts": [{"id": "a", "tokens": ["t"], "pinn": "1"}]}"#)
                .unwrap_err();
        assert!(e.to_string().contains("pinn"), "{e}");
    }

    /// The enums of the document are pims-types' wire enums: their spellings in the state file
    /// must not move (a state written by an older simulator must load).
    #[test]
    fn every_enum_value_keeps_its_spelling_in_the_document() {
        let mut s = Scenario::empty();
        let mut blocked = AccountSpec::new("a", "t");
        blocked.blocked = AccountBlocked::PinBlocked;
        s.accounts = vec![blocked, AccountSpec::new("b", "u")];
        let vin = "VR1AB12C3D4567890";
        s.car_keys = CvsStatus::KNOWN
            .into_iter()
            .map(|cvs_status| CarKeySpec {
                account_id: "a".into(),
                vin: vin.into(),
                verified: false,
                cvs_status,
                max_reactivation_date: None,
            })
            .collect();
        s.sms_outbox = SmsPurpose::ALL
            .iter()
            .enumerate()
            .map(|(i, purpose)| SmsSpec {
                id: i as u64,
                phone_number: "+33612345678".into(),
                purpose: *purpose,
                code: Secret::new("123456"),
                sent_at_ms: 0,
                expires_at_ms: 1,
                state: SmsState::Voided,
            })
            .collect();
        let v = s.to_value();
        let texts = |list: &str, key: &str| -> Vec<String> {
            v[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e[key].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(texts("accounts", "blocked"), ["PinBlocked", "NotBlocked"]);
        assert_eq!(
            texts("carKeys", "cvsStatus"),
            ["unknown", "active", "suspended", "disabled"]
        );
        assert_eq!(
            texts("smsOutbox", "purpose"),
            ["phoneNumberCertification", "enrollment", "resetPIN"]
        );
        let back: Scenario = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn values_a_backend_state_cannot_hold_are_refused() {
        let cases: [(&[u8], &str, &str); 4] = [
            (
                br#"{"accounts": [{"id": "a", "tokens": ["t"], "blocked": "Unknown"}]}"#,
                "accounts[0].blocked",
                "unknown variant `Unknown`, expected `NotBlocked` or `PinBlocked`",
            ),
            (
                br#"{"carKeys": [{"accountId": "a", "vin": "VR1AB12C3D4567890", "cvsStatus": "revoked"}]}"#,
                "carKeys[0].cvsStatus",
                "unknown variant `revoked`, expected one of `unknown`, `active`, `suspended`, `disabled`",
            ),
            (
                br#"{"carKeys": [{"accountId": "a", "vin": "VR1AB12C3D4567890", "cvsStatus": "Active"}]}"#,
                "carKeys[0].cvsStatus",
                "unknown variant `Active`",
            ),
            (
                br#"{"smsOutbox": [{"id": 1, "phoneNumber": "+33612345678", "purpose": "resetPin",
                    "code": "123456", "sentAtMs": 0, "expiresAtMs": 1, "state": "voided"}]}"#,
                "smsOutbox[0].purpose",
                "unknown variant `resetPin`",
            ),
        ];
        for (doc, field, message) in cases {
            let e = Scenario::from_json(doc).unwrap_err();
            assert_eq!(e.field(), Some(field));
            assert!(e.to_string().contains(message), "{e}");
        }
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(Scenario::from_json(b"{} x").is_err());
    }
}
