//! The validated, indexed state of the simulated backend, built from a [`Scenario`] and turned
//! back into one. The API handlers (`calls`) and the admin actions work on it under one lock.

use std::collections::HashMap;

use pims_types::{
    Step, StepName, StepStatus, StepsId, StepsList, Vin, is_phone_number, is_pin, is_sms_code,
};

use crate::clock::MAX_RFC3339_MS;
use crate::error::SimError;
use crate::pin_hash::PinHash;
use crate::scenario::{
    AccountBlocked, AccountSpec, CarAssociationSpec, CarKeySpec, CvsStatus, DeviceSpec,
    DeviceStatus, SCENARIO_VERSION, Scenario, Settings, SmsSpec, SmsState, StepListSpec,
    VehicleSelectionSpec, VehicleSpec,
};

/// The longest identifier (account id, device id, carAssociationID) accepted.
pub(crate) const MAX_ID_LEN: usize = 64;

/// The state: the scenario's collections plus indexes over them.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) settings: Settings,
    pub(crate) accounts: Vec<AccountSpec>,
    pub(crate) devices: Vec<DeviceSpec>,
    pub(crate) vehicles: Vec<VehicleSpec>,
    pub(crate) car_keys: Vec<CarKeySpec>,
    pub(crate) associations: Vec<CarAssociationSpec>,
    pub(crate) step_lists: Vec<StepListSpec>,
    pub(crate) next_steps_id: u64,
    pub(crate) selections: Vec<VehicleSelectionSpec>,
    pub(crate) sms: Vec<SmsSpec>,
    tokens: HashMap<String, usize>,
    account_ix: HashMap<String, usize>,
    device_ix: HashMap<(String, Option<String>), usize>,
    vehicle_ix: HashMap<String, usize>,
    car_key_ix: HashMap<(String, String), usize>,
    association_ix: HashMap<String, usize>,
    steps_ix: HashMap<u64, usize>,
    steps_by_pair: HashMap<(String, String), u64>,
    selection_ix: HashMap<(String, String), usize>,
}

/// Checks an identifier: 1-64 bytes, no whitespace or control characters.
pub(crate) fn check_identifier(field: &str, s: &str) -> Result<(), SimError> {
    if s.is_empty() {
        return Err(SimError::scenario(field, "must not be empty"));
    }
    if s.len() > MAX_ID_LEN {
        return Err(SimError::scenario(
            field,
            format!("longer than {MAX_ID_LEN} bytes"),
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SimError::scenario(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    Ok(())
}

/// Whether a token (an account's access token, the admin token) is acceptable: 1 to 256
/// printable ASCII characters without spaces.
pub(crate) fn is_valid_token(t: &str) -> bool {
    !t.is_empty() && t.len() <= 256 && t.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether a device id (the `Pims-Device-Id` header) is acceptable.
pub(crate) fn is_identifier(s: &str) -> bool {
    check_identifier("", s).is_ok()
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

impl Model {
    /// Validates a scenario and indexes it; a PIN given in clear is replaced by its hash.
    pub(crate) fn from_scenario(s: Scenario) -> Result<Model, SimError> {
        let mut model = Model::validated(s)?;
        for account in &mut model.accounts {
            if let Some(pin) = account.pin.take() {
                account.pin_hash = Some(PinHash::of(&pin));
            }
        }
        Ok(model)
    }

    /// Validates a scenario (without hashing its PINs: see [`Scenario::validate`]).
    pub(crate) fn validated(s: Scenario) -> Result<Model, SimError> {
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

        let mut tokens = HashMap::new();
        let mut account_ix = HashMap::new();
        for (i, a) in s.accounts.iter().enumerate() {
            let f = |name: &str| format!("accounts[{i}].{name}");
            check_identifier(&f("id"), &a.id)?;
            if account_ix.insert(a.id.clone(), i).is_some() {
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
                if tokens.insert(t.to_owned(), i).is_some() {
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
            if a.blocked == AccountBlocked::NotBlocked && a.wrong_pin_count >= st.max_wrong_pins {
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

        let mut device_ix = HashMap::new();
        for (i, d) in s.devices.iter().enumerate() {
            let f = |name: &str| format!("devices[{i}].{name}");
            check_identifier(&f("id"), &d.id)?;
            match &d.account_id {
                Some(acc) => {
                    let Some(&ai) = account_ix.get(acc) else {
                        return Err(SimError::scenario(f("accountId"), "unknown account"));
                    };
                    if d.status == DeviceStatus::Enrolled && !s.accounts[ai].has_pin() {
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
            if device_ix
                .insert((d.id.clone(), d.account_id.clone()), i)
                .is_some()
            {
                return Err(SimError::scenario(
                    f("id"),
                    "duplicate device for the same account",
                ));
            }
        }

        let mut vehicle_ix = HashMap::new();
        for (i, v) in s.vehicles.iter().enumerate() {
            let f = |name: &str| format!("vehicles[{i}].{name}");
            check_vin(&f("vin"), &v.vin)?;
            if vehicle_ix.insert(v.vin.clone(), i).is_some() {
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

        let mut car_key_ix = HashMap::new();
        for (i, k) in s.car_keys.iter().enumerate() {
            let f = |name: &str| format!("carKeys[{i}].{name}");
            if !account_ix.contains_key(&k.account_id) {
                return Err(SimError::scenario(f("accountId"), "unknown account"));
            }
            check_vin(&f("vin"), &k.vin)?;
            if !vehicle_ix.contains_key(&k.vin) {
                return Err(SimError::scenario(f("vin"), "unknown vehicle"));
            }
            if let Some(date) = &k.max_reactivation_date
                && !crate::clock::is_rfc3339(date)
            {
                return Err(SimError::scenario(
                    f("maxReactivationDate"),
                    "expected an RFC 3339 date-time (2025-01-31T00:00:00Z)",
                ));
            }
            if car_key_ix
                .insert((k.account_id.clone(), k.vin.clone()), i)
                .is_some()
            {
                return Err(SimError::scenario(
                    f("vin"),
                    "duplicate CarKey for this account and vehicle",
                ));
            }
        }

        let mut associations = s.car_associations;
        let mut association_ix = HashMap::new();
        for (i, a) in associations.iter_mut().enumerate() {
            let f = |name: &str| format!("carAssociations[{i}].{name}");
            check_identifier(&f("id"), &a.id)?;
            if association_ix.insert(a.id.clone(), i).is_some() {
                return Err(SimError::scenario(f("id"), "duplicate carAssociationID"));
            }
            if !account_ix.contains_key(&a.account_id) {
                return Err(SimError::scenario(f("accountId"), "unknown account"));
            }
            check_vin(&f("vin"), &a.vin)?;
            let Some(&vi) = vehicle_ix.get(&a.vin) else {
                return Err(SimError::scenario(f("vin"), "unknown vehicle"));
            };
            if !s.vehicles[vi]
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
            a.steps = canonical;
        }

        let mut steps_ix = HashMap::new();
        let mut steps_by_pair = HashMap::new();
        let mut max_id = None;
        for (i, l) in s.step_lists.iter().enumerate() {
            let f = |name: &str| format!("stepLists[{i}].{name}");
            if steps_ix.insert(l.steps_id, i).is_some() {
                return Err(SimError::scenario(f("stepsId"), "duplicate stepsID"));
            }
            if !association_ix.contains_key(&l.car_association_id) {
                return Err(SimError::scenario(
                    f("carAssociationId"),
                    "unknown car association",
                ));
            }
            check_identifier(&f("deviceId"), &l.device_id)?;
            if steps_by_pair
                .insert(
                    (l.car_association_id.clone(), l.device_id.clone()),
                    l.steps_id,
                )
                .is_some()
            {
                return Err(SimError::scenario(
                    f("deviceId"),
                    "this device already has a stepsID for this car association",
                ));
            }
            max_id = max_id.max(Some(l.steps_id));
        }
        let after_max = max_id.map(|m: u64| m.saturating_add(1));
        let next_steps_id = match s.next_steps_id {
            Some(n) if after_max.is_some_and(|a| n < a) => {
                return Err(SimError::scenario(
                    "nextStepsId",
                    "must be larger than every issued stepsID",
                ));
            }
            Some(n) => n,
            None => after_max.map_or(crate::DEMO_FIRST_STEPS_ID, |a| {
                a.max(crate::DEMO_FIRST_STEPS_ID)
            }),
        };

        let mut selection_ix = HashMap::new();
        for (i, sel) in s.vehicle_selections.iter().enumerate() {
            let f = |name: &str| format!("vehicleSelections[{i}].{name}");
            if !account_ix.contains_key(&sel.account_id) {
                return Err(SimError::scenario(f("accountId"), "unknown account"));
            }
            check_identifier(&f("deviceId"), &sel.device_id)?;
            check_vin(&f("vin"), &sel.vin)?;
            if selection_ix
                .insert((sel.account_id.clone(), sel.device_id.clone()), i)
                .is_some()
            {
                return Err(SimError::scenario(
                    f("deviceId"),
                    "duplicate selection for this account and device",
                ));
            }
        }

        let mut sms_ids = std::collections::HashSet::new();
        for (i, m) in s.sms_outbox.iter().enumerate() {
            let f = |name: &str| format!("smsOutbox[{i}].{name}");
            if !sms_ids.insert(m.id) {
                return Err(SimError::scenario(f("id"), "duplicate id"));
            }
            check_phone(&f("phoneNumber"), &m.phone_number)?;
            // A code the simulator sent: an SMS code by the one rule, of the length it sends.
            let code = m.code.expose();
            if !is_sms_code(code) || code.len() != crate::sms::CODE_DIGITS {
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

        Ok(Model {
            settings: s.settings,
            accounts: s.accounts,
            devices: s.devices,
            vehicles: s.vehicles,
            car_keys: s.car_keys,
            associations,
            step_lists: s.step_lists,
            next_steps_id,
            selections: s.vehicle_selections,
            sms: s.sms_outbox,
            tokens,
            account_ix,
            device_ix,
            vehicle_ix,
            car_key_ix,
            association_ix,
            steps_ix,
            steps_by_pair,
            selection_ix,
        })
    }

    /// The state as a scenario document.
    pub(crate) fn to_scenario(&self) -> Scenario {
        Scenario {
            version: SCENARIO_VERSION,
            settings: self.settings.clone(),
            accounts: self.accounts.clone(),
            devices: self.devices.clone(),
            vehicles: self.vehicles.clone(),
            car_keys: self.car_keys.clone(),
            car_associations: self.associations.clone(),
            step_lists: self.step_lists.clone(),
            next_steps_id: Some(self.next_steps_id),
            vehicle_selections: self.selections.clone(),
            sms_outbox: self.sms.clone(),
        }
    }

    /// The index of the account a bearer token authenticates.
    pub(crate) fn account_for_token(&self, token: &str) -> Option<usize> {
        self.tokens.get(token).copied()
    }

    pub(crate) fn account_index(&self, id: &str) -> Option<usize> {
        self.account_ix.get(id).copied()
    }

    /// The status of a device for an account (`None`: never seen for it).
    pub(crate) fn device_status(&self, device: &str, account: &str) -> Option<DeviceStatus> {
        self.device_ix
            .get(&(device.to_owned(), Some(account.to_owned())))
            .map(|&i| self.devices[i].status)
    }

    pub(crate) fn is_enrolled(&self, device: &str, account: &str) -> bool {
        self.device_status(device, account) == Some(DeviceStatus::Enrolled)
    }

    /// Sets the status of a device for an account, adding it when new. Returns whether it changed.
    pub(crate) fn set_device_status(
        &mut self,
        device: &str,
        account: Option<&str>,
        status: DeviceStatus,
    ) -> bool {
        let key = (device.to_owned(), account.map(str::to_owned));
        match self.device_ix.get(&key) {
            Some(&i) => {
                let changed = self.devices[i].status != status;
                self.devices[i].status = status;
                changed
            }
            None => {
                self.device_ix.insert(key, self.devices.len());
                self.devices.push(DeviceSpec {
                    id: device.to_owned(),
                    account_id: account.map(str::to_owned),
                    status,
                });
                true
            }
        }
    }

    /// How many devices other than `except` are enrolled for the account.
    pub(crate) fn enrolled_others(&self, account: &str, except: &str) -> usize {
        self.devices
            .iter()
            .filter(|d| {
                d.status == DeviceStatus::Enrolled
                    && d.account_id.as_deref() == Some(account)
                    && d.id != except
            })
            .count()
    }

    /// Whether enrolling `device` would exceed the account's device limit.
    pub(crate) fn device_limit_reached(&self, account_ix: usize, device: &str) -> bool {
        let acc = &self.accounts[account_ix];
        self.enrolled_others(&acc.id, device) >= acc.max_enrolled_devices as usize
    }

    pub(crate) fn vehicle_index(&self, vin: &str) -> Option<usize> {
        self.vehicle_ix.get(vin).copied()
    }

    pub(crate) fn car_key(&self, account: &str, vin: &str) -> Option<&CarKeySpec> {
        self.car_key_ix
            .get(&(account.to_owned(), vin.to_owned()))
            .map(|&i| &self.car_keys[i])
    }

    /// The CarKey of an account for a vehicle, created (unknown, unverified) when missing.
    pub(crate) fn car_key_mut(&mut self, account: &str, vin: &str) -> &mut CarKeySpec {
        let key = (account.to_owned(), vin.to_owned());
        let i = match self.car_key_ix.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.car_keys.len();
                self.car_keys.push(CarKeySpec {
                    account_id: account.to_owned(),
                    vin: vin.to_owned(),
                    verified: false,
                    cvs_status: CvsStatus::Unknown,
                    max_reactivation_date: None,
                });
                self.car_key_ix.insert(key, i);
                i
            }
        };
        &mut self.car_keys[i]
    }

    pub(crate) fn association(&self, id: &str) -> Option<&CarAssociationSpec> {
        self.association_ix.get(id).map(|&i| &self.associations[i])
    }

    /// The first car association of an account for a vehicle (document order).
    pub(crate) fn association_for_vin(
        &self,
        account: &str,
        vin: &str,
    ) -> Option<&CarAssociationSpec> {
        self.associations
            .iter()
            .find(|a| a.account_id == account && a.vin == vin)
    }

    /// The step list issued under a stepsID.
    pub(crate) fn step_list(&self, steps_id: u64) -> Option<&StepListSpec> {
        self.steps_ix.get(&steps_id).map(|&i| &self.step_lists[i])
    }

    /// The stepsID of (car association, device), if issued.
    pub(crate) fn steps_id_for(&self, association: &str, device: &str) -> Option<u64> {
        self.steps_by_pair
            .get(&(association.to_owned(), device.to_owned()))
            .copied()
    }

    /// The stepsID of (car association, device), issued from the counter when new. Returns the
    /// id and whether one was issued.
    pub(crate) fn issue_steps_id(&mut self, association: &str, device: &str) -> (u64, bool) {
        if let Some(id) = self.steps_id_for(association, device) {
            return (id, false);
        }
        // Skip ids a scenario may already use (they are unique, but the counter may be moved).
        let mut id = self.next_steps_id;
        while self.steps_ix.contains_key(&id) {
            id = id.saturating_add(1);
        }
        self.next_steps_id = id.saturating_add(1);
        self.steps_ix.insert(id, self.step_lists.len());
        self.steps_by_pair
            .insert((association.to_owned(), device.to_owned()), id);
        self.step_lists.push(StepListSpec {
            steps_id: id,
            car_association_id: association.to_owned(),
            device_id: device.to_owned(),
        });
        (id, true)
    }

    /// The steps of a car association as device `device` sees them, computed from the state.
    pub(crate) fn compute_steps(
        &self,
        association: &CarAssociationSpec,
        device: &str,
        steps_id: u64,
    ) -> StepsList {
        let account = self
            .account_index(&association.account_id)
            .map(|i| &self.accounts[i]);
        let steps = association
            .steps
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let name = StepName::parse(name);
                let done = match &name {
                    StepName::TrusterPhoneNumber => {
                        account.is_some_and(|a| a.trusted_phone_number.is_some())
                    }
                    StepName::DeviceActivation => self.is_enrolled(device, &association.account_id),
                    StepName::MediumCarKey => self
                        .car_key(&association.account_id, &association.vin)
                        .is_some_and(|k| k.verified && k.cvs_status == CvsStatus::Active),
                    StepName::Other(_) => false,
                };
                let status = if done {
                    StepStatus::AlreadyDone
                } else {
                    StepStatus::Todo
                };
                Step::new(name, status, i64::try_from(i).unwrap_or(i64::MAX) + 1)
            })
            .collect();
        StepsList::new(StepsId::number(steps_id), steps)
    }

    /// The vehicle an (account, device) selected.
    pub(crate) fn selection(&self, account: &str, device: &str) -> Option<&str> {
        self.selection_ix
            .get(&(account.to_owned(), device.to_owned()))
            .map(|&i| self.selections[i].vin.as_str())
    }

    /// Records a vehicle selection; returns whether it changed.
    pub(crate) fn select_vehicle(&mut self, account: &str, device: &str, vin: &str) -> bool {
        let key = (account.to_owned(), device.to_owned());
        match self.selection_ix.get(&key) {
            Some(&i) => {
                let changed = self.selections[i].vin != vin;
                self.selections[i].vin = vin.to_owned();
                changed
            }
            None => {
                self.selection_ix.insert(key, self.selections.len());
                self.selections.push(VehicleSelectionSpec {
                    account_id: account.to_owned(),
                    device_id: device.to_owned(),
                    vin: vin.to_owned(),
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_given_in_clear_is_kept_hashed() {
        let mut s = Scenario::default_scenario();
        s.accounts[0].pin = Some(pims_types::Secret::new("97531864"));
        let m = Model::from_scenario(s).unwrap();
        assert!(m.accounts[0].pin.is_none());
        let hash = m.accounts[0].pin_hash.as_ref().unwrap();
        assert!(hash.verify(&pims_types::Secret::new("97531864")));
        let out = m.to_scenario();
        assert!(out.accounts[0].pin.is_none());
        assert!(!out.to_json_pretty().contains("97531864"));
    }

    #[test]
    fn issued_ids_skip_taken_ones_and_are_stable() {
        let mut s = Scenario::default_scenario();
        s.step_lists.push(StepListSpec {
            steps_id: 132325,
            car_association_id: "987654".into(),
            device_id: "other".into(),
        });
        s.next_steps_id = None;
        let mut m = Model::from_scenario(s).unwrap();
        // The counter starts after the largest issued id.
        assert_eq!(m.issue_steps_id("987654", "d1"), (132326, true));
        assert_eq!(m.issue_steps_id("987654", "d1"), (132326, false));
        assert_eq!(m.issue_steps_id("987654", "other"), (132325, false));
    }

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
            let e = Model::from_scenario(s).unwrap_err();
            assert_eq!(e.field(), Some(field), "{e}");
        }
    }

    #[test]
    fn legacy_step_names_are_canonicalised() {
        let mut s = Scenario::default_scenario();
        s.car_associations[0].steps = vec!["trustedPhone".into(), "mediumCarKey".into()];
        let m = Model::from_scenario(s).unwrap();
        assert_eq!(
            m.associations[0].steps,
            ["trusterPhoneNumber", "mediumCarKey"]
        );
    }
}
