//! A scenario document checked: every rule of its schema that serde does not check
//! (references, uniqueness, formats, bounds), and the readers that apply them
//! ([`Scenario::from_json`], [`Scenario::from_file`]). The model is built only from a document
//! that passed them, so it does not check anything again.

use std::collections::HashSet;

use pims_types::{StepName, Vin, is_phone_number, is_pin, is_sms_code};

use crate::clock::{MAX_RFC3339_MS, is_rfc3339};
use crate::error::SimError;
use crate::identifiers::{check_identifier, is_valid_token};
use crate::scenario::{
    AccountBlocked, DeviceStatus, SCENARIO_VERSION, SMS_CODE_DIGITS, Scenario, SmsState,
};

impl Scenario {
    /// Reads and validates a scenario document (JSON). The error names the field and why.
    pub fn from_json(bytes: &[u8]) -> Result<Scenario, SimError> {
        // serde would also read a struct from an array of its fields: a document is an object.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{') {
            return Err(SimError::scenario("$", "expected a JSON object"));
        }
        // A whole number may be written 5.0 (JSON Schema's integer): see whole_numbers.
        let scenario: Scenario = crate::whole_numbers::deserialize(bytes)
            .map_err(|e| SimError::scenario(e.field, e.message))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// Reads and validates a scenario file: a regular file (a symbolic link to one is
    /// followed) of at most [`MAX_FILE_BYTES`](crate::MAX_FILE_BYTES). A FIFO, a device or a
    /// directory is refused without being read (`SimError::FileRefused`), and so is a larger
    /// file; a missing one is `SimError::File`. Blocking.
    pub fn from_file(path: &std::path::Path) -> Result<Scenario, SimError> {
        const WHAT: &str = "scenario file";
        match crate::files::read_document(path, WHAT, crate::files::Symlinks::Follow)? {
            Some(bytes) => Scenario::from_json(&bytes),
            None => Err(SimError::File {
                what: WHAT,
                path: path.to_owned(),
                action: "read",
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            }),
        }
    }

    /// Checks every rule of the schema (references, uniqueness, formats); the error names the
    /// first field at fault.
    pub fn validate(&self) -> Result<(), SimError> {
        check_header(self)?;
        check_accounts(self)?;
        check_devices(self)?;
        check_vehicles(self)?;
        check_car_keys(self)?;
        check_car_associations(self)?;
        check_step_lists(self)?;
        check_selections(self)?;
        check_sms_outbox(self)
    }
}

/// The version and the settings' bounds.
fn check_header(s: &Scenario) -> Result<(), SimError> {
    if s.version != SCENARIO_VERSION {
        return Err(SimError::scenario(
            "version",
            format!("unsupported version (this simulator reads {SCENARIO_VERSION})"),
        ));
    }
    let st = &s.settings;
    if !(1..=86_400).contains(&st.sms_validity_secs) {
        return Err(SimError::scenario(
            "settings.smsValiditySecs",
            "expected 1 to 86400 seconds",
        ));
    }
    if !(1..=10_000).contains(&st.sms_hourly_quota) {
        return Err(SimError::scenario(
            "settings.smsHourlyQuota",
            "expected 1 to 10000",
        ));
    }
    if !(1..=100).contains(&st.max_wrong_pins) {
        return Err(SimError::scenario(
            "settings.maxWrongPins",
            "expected 1 to 100",
        ));
    }
    Ok(())
}

fn check_accounts(s: &Scenario) -> Result<(), SimError> {
    let mut ids = HashSet::new();
    let mut tokens = HashSet::new();
    for (i, a) in s.accounts.iter().enumerate() {
        let f = |name: &str| format!("accounts[{i}].{name}");
        check_identifier(&f("id"), &a.id)?;
        if !ids.insert(a.id.as_str()) {
            return Err(SimError::scenario(f("id"), "duplicate account id"));
        }
        if let Some(email) = &a.email {
            check_text(&f("email"), email, 256)?;
        }
        if a.tokens.is_empty() {
            return Err(SimError::scenario(
                f("tokens"),
                "at least one token is needed",
            ));
        }
        for (j, t) in a.tokens.iter().enumerate() {
            let field = format!("accounts[{i}].tokens[{j}]");
            let t = t.expose();
            if !is_valid_token(t) {
                return Err(SimError::scenario(
                    field,
                    "expected 1 to 256 printable ASCII characters without spaces",
                ));
            }
            if !tokens.insert(t) {
                return Err(SimError::scenario(
                    field,
                    "token already used (by this or another account)",
                ));
            }
        }
        if let Some(pin) = &a.pin {
            if !is_pin(pin.expose()) {
                return Err(SimError::scenario(f("pin"), "expected 4 to 8 digits"));
            }
            if a.pin_hash.is_some() {
                return Err(SimError::scenario(
                    f("pin"),
                    "give the PIN in clear (pin) or its hash (pinHash), not both",
                ));
            }
        }
        if a.blocked == AccountBlocked::NotBlocked && a.wrong_pin_count >= s.settings.max_wrong_pins
        {
            return Err(SimError::scenario(
                f("wrongPinCount"),
                "must be below settings.maxWrongPins unless the account is PinBlocked",
            ));
        }
        if let Some(phone) = &a.trusted_phone_number {
            check_phone(&f("trustedPhoneNumber"), phone)?;
        }
        if !(1..=1000).contains(&a.max_enrolled_devices) {
            return Err(SimError::scenario(
                f("maxEnrolledDevices"),
                "expected 1 to 1000",
            ));
        }
    }
    Ok(())
}

fn check_devices(s: &Scenario) -> Result<(), SimError> {
    let mut keys = HashSet::new();
    for (i, d) in s.devices.iter().enumerate() {
        let f = |name: &str| format!("devices[{i}].{name}");
        check_identifier(&f("id"), &d.id)?;
        match &d.account_id {
            Some(acc) => {
                // The first account of that id: ids are unique once `check_accounts` passed.
                let Some(account) = s.accounts.iter().find(|a| a.id == *acc) else {
                    return Err(SimError::scenario(f("accountId"), "unknown account"));
                };
                if d.status == DeviceStatus::Enrolled && !account.has_pin() {
                    return Err(SimError::scenario(
                        f("status"),
                        "an enrolled device needs an account with a PIN",
                    ));
                }
            }
            None if d.status == DeviceStatus::Enrolled => {
                return Err(SimError::scenario(
                    f("accountId"),
                    "an enrolled device needs an account",
                ));
            }
            None => {}
        }
        if !keys.insert((d.id.as_str(), d.account_id.as_deref())) {
            return Err(SimError::scenario(
                f("id"),
                "duplicate device for the same account",
            ));
        }
    }
    Ok(())
}

fn check_vehicles(s: &Scenario) -> Result<(), SimError> {
    let mut vins = HashSet::new();
    for (i, v) in s.vehicles.iter().enumerate() {
        let f = |name: &str| format!("vehicles[{i}].{name}");
        check_vin(&f("vin"), &v.vin)?;
        if !vins.insert(v.vin.as_str()) {
            return Err(SimError::scenario(f("vin"), "duplicate vehicle"));
        }
        if let Some(brand) = &v.brand {
            check_text(&f("brand"), brand, 64)?;
        }
        for (j, d) in v.paired_devices.iter().enumerate() {
            let field = format!("vehicles[{i}].pairedDevices[{j}]");
            check_identifier(&field, d)?;
            if v.paired_devices[..j].contains(d) {
                return Err(SimError::scenario(field, "device listed twice"));
            }
        }
        for (j, svc) in v.services.iter().enumerate() {
            check_text(&format!("vehicles[{i}].services[{j}].code"), &svc.code, 64)?;
            check_text(&format!("vehicles[{i}].services[{j}].name"), &svc.name, 256)?;
            if v.services[..j].iter().any(|o| o.code == svc.code) {
                return Err(SimError::scenario(
                    format!("vehicles[{i}].services[{j}].code"),
                    "duplicate service code",
                ));
            }
        }
    }
    Ok(())
}

fn check_car_keys(s: &Scenario) -> Result<(), SimError> {
    let mut keys = HashSet::new();
    for (i, k) in s.car_keys.iter().enumerate() {
        let f = |name: &str| format!("carKeys[{i}].{name}");
        if !has_account(s, &k.account_id) {
            return Err(SimError::scenario(f("accountId"), "unknown account"));
        }
        check_vin(&f("vin"), &k.vin)?;
        if !s.vehicles.iter().any(|v| v.vin == k.vin) {
            return Err(SimError::scenario(f("vin"), "unknown vehicle"));
        }
        if let Some(date) = &k.max_reactivation_date
            && !is_rfc3339(date)
        {
            return Err(SimError::scenario(
                f("maxReactivationDate"),
                "expected an RFC 3339 date-time (2025-01-31T00:00:00Z)",
            ));
        }
        if !keys.insert((k.account_id.as_str(), k.vin.as_str())) {
            return Err(SimError::scenario(
                f("vin"),
                "duplicate CarKey for this account and vehicle",
            ));
        }
    }
    Ok(())
}

fn check_car_associations(s: &Scenario) -> Result<(), SimError> {
    let mut ids = HashSet::new();
    for (i, a) in s.car_associations.iter().enumerate() {
        let f = |name: &str| format!("carAssociations[{i}].{name}");
        check_identifier(&f("id"), &a.id)?;
        if !ids.insert(a.id.as_str()) {
            return Err(SimError::scenario(f("id"), "duplicate carAssociationID"));
        }
        if !has_account(s, &a.account_id) {
            return Err(SimError::scenario(f("accountId"), "unknown account"));
        }
        check_vin(&f("vin"), &a.vin)?;
        let Some(vehicle) = s.vehicles.iter().find(|v| v.vin == a.vin) else {
            return Err(SimError::scenario(f("vin"), "unknown vehicle"));
        };
        if !vehicle
            .services
            .iter()
            .any(|svc| svc.code == a.service_code)
        {
            return Err(SimError::scenario(
                f("serviceCode"),
                "not one of the vehicle's services",
            ));
        }
        if a.steps.is_empty() {
            return Err(SimError::scenario(
                f("steps"),
                "at least one step is needed",
            ));
        }
        // Legacy spellings count as their canonical step: the model keeps the canonical one.
        let mut canonical: Vec<String> = Vec::with_capacity(a.steps.len());
        for (j, name) in a.steps.iter().enumerate() {
            let field = format!("carAssociations[{i}].steps[{j}]");
            let parsed = StepName::parse(name);
            if let StepName::Other(_) = parsed {
                return Err(SimError::scenario(
                    field,
                    "unknown step (expected trusterPhoneNumber, deviceActivation or mediumCarKey)",
                ));
            }
            let text = parsed.as_str().to_owned();
            if canonical.contains(&text) {
                return Err(SimError::scenario(field, "step listed twice"));
            }
            canonical.push(text);
        }
    }
    Ok(())
}

fn check_step_lists(s: &Scenario) -> Result<(), SimError> {
    let mut ids = HashSet::new();
    let mut pairs = HashSet::new();
    let mut max_id = None;
    for (i, l) in s.step_lists.iter().enumerate() {
        let f = |name: &str| format!("stepLists[{i}].{name}");
        if !ids.insert(l.steps_id) {
            return Err(SimError::scenario(f("stepsId"), "duplicate stepsID"));
        }
        if !s
            .car_associations
            .iter()
            .any(|a| a.id == l.car_association_id)
        {
            return Err(SimError::scenario(
                f("carAssociationId"),
                "unknown car association",
            ));
        }
        check_identifier(&f("deviceId"), &l.device_id)?;
        if !pairs.insert((l.car_association_id.as_str(), l.device_id.as_str())) {
            return Err(SimError::scenario(
                f("deviceId"),
                "this device already has a stepsID for this car association",
            ));
        }
        max_id = max_id.max(Some(l.steps_id));
    }
    let after_max = max_id.map(|m: u64| m.saturating_add(1));
    if let Some(n) = s.next_steps_id
        && after_max.is_some_and(|a| n < a)
    {
        return Err(SimError::scenario(
            "nextStepsId",
            "must be larger than every issued stepsID",
        ));
    }
    Ok(())
}

fn check_selections(s: &Scenario) -> Result<(), SimError> {
    let mut keys = HashSet::new();
    for (i, sel) in s.vehicle_selections.iter().enumerate() {
        let f = |name: &str| format!("vehicleSelections[{i}].{name}");
        if !has_account(s, &sel.account_id) {
            return Err(SimError::scenario(f("accountId"), "unknown account"));
        }
        check_identifier(&f("deviceId"), &sel.device_id)?;
        check_vin(&f("vin"), &sel.vin)?;
        if !keys.insert((sel.account_id.as_str(), sel.device_id.as_str())) {
            return Err(SimError::scenario(
                f("deviceId"),
                "duplicate selection for this account and device",
            ));
        }
    }
    Ok(())
}

fn check_sms_outbox(s: &Scenario) -> Result<(), SimError> {
    let mut ids = HashSet::new();
    for (i, m) in s.sms_outbox.iter().enumerate() {
        let f = |name: &str| format!("smsOutbox[{i}].{name}");
        if !ids.insert(m.id) {
            return Err(SimError::scenario(f("id"), "duplicate id"));
        }
        check_phone(&f("phoneNumber"), &m.phone_number)?;
        // A code the simulator sent: an SMS code by the one rule, of the length it sends.
        let code = m.code.expose();
        if !is_sms_code(code) || code.len() != SMS_CODE_DIGITS {
            return Err(SimError::scenario(f("code"), "expected 6 digits"));
        }
        for (name, ms) in [("sentAtMs", m.sent_at_ms), ("expiresAtMs", m.expires_at_ms)] {
            if ms > MAX_RFC3339_MS {
                return Err(SimError::scenario(
                    f(name),
                    format!("expected at most {MAX_RFC3339_MS} (9999-12-31T23:59:59.999Z)"),
                ));
            }
        }
        if m.expires_at_ms < m.sent_at_ms {
            return Err(SimError::scenario(
                f("expiresAtMs"),
                "must not be before sentAtMs",
            ));
        }
        if m.state == SmsState::Pending
            && s.sms_outbox[..i].iter().any(|o| {
                o.state == SmsState::Pending
                    && o.phone_number == m.phone_number
                    && o.purpose == m.purpose
            })
        {
            return Err(SimError::scenario(
                f("state"),
                "only one pending code per phone number and purpose",
            ));
        }
    }
    Ok(())
}

/// Whether the document has an account of that id.
fn has_account(s: &Scenario, id: &str) -> bool {
    s.accounts.iter().any(|a| a.id == id)
}

fn check_text(field: &str, s: &str, max: usize) -> Result<(), SimError> {
    if s.is_empty() {
        return Err(SimError::scenario(field, "must not be empty"));
    }
    if s.len() > max {
        return Err(SimError::scenario(
            field,
            format!("longer than {max} bytes"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(SimError::scenario(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn check_vin(field: &str, s: &str) -> Result<(), SimError> {
    Vin::parse(s)
        .map(|_| ())
        .map_err(|_| SimError::scenario(field, "expected 17 characters of A-H, J-N, P, R-Z, 0-9"))
}

fn check_phone(field: &str, s: &str) -> Result<(), SimError> {
    if is_phone_number(s) {
        Ok(())
    } else {
        Err(SimError::scenario(field, PHONE_NUMBER_RULE))
    }
}

/// The phone number rule, as errors state it (pims-types' [`is_phone_number`]).
const PHONE_NUMBER_RULE: &str =
    "expected an E.164 number: +, a country code not starting with 0, 8 to 15 digits";

#[cfg(test)]
mod tests {
    use crate::pin_hash::PinHash;
    use crate::scenario::{AccountSpec, CarKeySpec, CvsStatus, DeviceSpec, StepListSpec};

    use super::*;

    #[test]
    fn validation_names_the_field() {
        type Edit = Box<dyn Fn(&mut Scenario)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|s| s.version = 2), "version"),
            (
                Box::new(|s| s.settings.sms_validity_secs = 0),
                "settings.smsValiditySecs",
            ),
            (
                Box::new(|s| s.accounts[0].id = String::new()),
                "accounts[0].id",
            ),
            (
                Box::new(|s| s.accounts.push(AccountSpec::new("x", crate::DEMO_TOKEN))),
                "accounts[1].tokens[0]",
            ),
            (
                Box::new(|s| s.accounts[0].trusted_phone_number = Some("0612".into())),
                "accounts[0].trustedPhoneNumber",
            ),
            (
                Box::new(|s| s.accounts[0].wrong_pin_count = 3),
                "accounts[0].wrongPinCount",
            ),
            (
                Box::new(|s| {
                    let pin = pims_types::Secret::new("1234");
                    s.accounts[0].pin_hash = Some(PinHash::of(&pin));
                    s.accounts[0].pin = Some(pin);
                }),
                "accounts[0].pin",
            ),
            (
                Box::new(|s| {
                    s.sms_outbox.push(crate::scenario::SmsSpec {
                        id: 1,
                        phone_number: crate::DEMO_PHONE_NUMBER.into(),
                        purpose: crate::scenario::SmsPurpose::Enrollment,
                        code: pims_types::Secret::new("123456"),
                        sent_at_ms: 0,
                        expires_at_ms: MAX_RFC3339_MS + 1,
                        state: SmsState::Pending,
                    })
                }),
                "smsOutbox[0].expiresAtMs",
            ),
            (
                Box::new(|s| {
                    s.devices.push(DeviceSpec {
                        id: "d".into(),
                        account_id: Some("demo".into()),
                        status: DeviceStatus::Enrolled,
                    })
                }),
                "devices[0].status",
            ),
            (
                Box::new(|s| s.car_associations[0].service_code = "NOPE".into()),
                "carAssociations[0].serviceCode",
            ),
            (
                Box::new(|s| s.car_associations[0].steps = vec!["faceId".into()]),
                "carAssociations[0].steps[0]",
            ),
            (
                Box::new(|s| s.car_associations[0].account_id = "ghost".into()),
                "carAssociations[0].accountId",
            ),
            (
                Box::new(|s| {
                    s.step_lists.push(StepListSpec {
                        steps_id: 132324,
                        car_association_id: "987654".into(),
                        device_id: "d".into(),
                    })
                }),
                "nextStepsId",
            ),
            (
                Box::new(|s| {
                    s.car_keys.push(CarKeySpec {
                        account_id: "demo".into(),
                        vin: crate::DEMO_VIN.into(),
                        verified: true,
                        cvs_status: CvsStatus::Suspended,
                        max_reactivation_date: Some("soon".into()),
                    })
                }),
                "carKeys[0].maxReactivationDate",
            ),
        ];
        for (edit, field) in cases {
            let mut s = Scenario::default_scenario();
            edit(&mut s);
            let e = s.validate().unwrap_err();
            assert_eq!(e.field(), Some(field), "{e}");
        }
    }

    /// The shape of a date-time is not enough: month 13 was taken for a date.
    #[test]
    fn a_reactivation_date_in_month_13_is_refused_by_name() {
        let mut s = Scenario::default_scenario();
        s.car_keys.push(CarKeySpec {
            account_id: "demo".into(),
            vin: crate::DEMO_VIN.into(),
            verified: true,
            cvs_status: CvsStatus::Suspended,
            max_reactivation_date: Some("2025-13-01T00:00:00Z".into()),
        });
        let e = s.validate().unwrap_err();
        assert_eq!(e.field(), Some("carKeys[0].maxReactivationDate"), "{e}");
        s.car_keys[0].max_reactivation_date = Some("2025-12-01T00:00:00Z".into());
        assert!(s.validate().is_ok());
    }
}
