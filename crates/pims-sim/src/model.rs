//! The state of the simulated backend: the collections of a checked [`Scenario`], each keyed
//! the way the calls look it up (an [`IndexMap`] keeps the document's order, so that the state
//! written back reads like the document that was loaded), and the queries and changes the API
//! handlers (`calls`) and the admin actions make on it under one lock. The rules a document
//! must pass are `scenario_check`'s.

use std::collections::HashMap;

use indexmap::IndexMap;
use indexmap::map::Entry;
use pims_types::{Step, StepName, StepStatus, StepsId, StepsList};

use crate::error::SimError;
use crate::pin_hash::PinHash;
use crate::scenario::{
    AccountSpec, CarAssociationSpec, CarKeySpec, CvsStatus, DeviceSpec, DeviceStatus,
    SCENARIO_VERSION, Scenario, Settings, SmsSpec, StepListSpec, VehicleSelectionSpec, VehicleSpec,
};

/// A device is known per (device id, account id); `None`: seen without an account (disabled
/// by the admin API before any enrolment).
type DeviceKey = (String, Option<String>);

/// The state: the scenario's collections, keyed.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) settings: Settings,
    /// By account id; the handlers hold an account by its position.
    pub(crate) accounts: IndexMap<String, AccountSpec>,
    /// By (device id, account id).
    pub(crate) devices: IndexMap<DeviceKey, DeviceSpec>,
    /// By VIN.
    pub(crate) vehicles: IndexMap<String, VehicleSpec>,
    /// By (account id, VIN).
    pub(crate) car_keys: IndexMap<(String, String), CarKeySpec>,
    /// By carAssociationID.
    pub(crate) associations: IndexMap<String, CarAssociationSpec>,
    /// By stepsID.
    pub(crate) step_lists: IndexMap<u64, StepListSpec>,
    pub(crate) next_steps_id: u64,
    /// By (account id, device id).
    pub(crate) selections: IndexMap<(String, String), VehicleSelectionSpec>,
    /// The SMS outbox, oldest first (`sms` keeps it).
    pub(crate) sms: Vec<SmsSpec>,
    /// Bearer token → position of its account (an account has several tokens).
    tokens: HashMap<String, usize>,
    /// (carAssociationID, device id) → the stepsID issued for it.
    steps_by_pair: HashMap<(String, String), u64>,
}

impl Model {
    /// Checks a scenario ([`Scenario::validate`]) and keys its collections; a PIN given in clear
    /// is replaced by its hash.
    pub(crate) fn from_scenario(s: Scenario) -> Result<Model, SimError> {
        s.validate()?;
        let mut model = Model::from_checked(s);
        for account in model.accounts.values_mut() {
            if let Some(pin) = account.pin.take() {
                account.pin_hash = Some(PinHash::of(&pin));
            }
        }
        Ok(model)
    }

    /// Keys the collections of a document that passed [`Scenario::validate`] (so no key is
    /// taken twice), with legacy step names in their canonical spelling.
    fn from_checked(s: Scenario) -> Model {
        let mut tokens = HashMap::new();
        for (i, a) in s.accounts.iter().enumerate() {
            for t in &a.tokens {
                tokens.insert(t.expose().to_owned(), i);
            }
        }
        let steps_by_pair = s
            .step_lists
            .iter()
            .map(|l| {
                (
                    (l.car_association_id.clone(), l.device_id.clone()),
                    l.steps_id,
                )
            })
            .collect();
        let after_max = s
            .step_lists
            .iter()
            .map(|l| l.steps_id)
            .max()
            .map(|m| m.saturating_add(1));
        let next_steps_id = s.next_steps_id.unwrap_or_else(|| {
            after_max.map_or(crate::DEMO_FIRST_STEPS_ID, |a| {
                a.max(crate::DEMO_FIRST_STEPS_ID)
            })
        });
        Model {
            settings: s.settings,
            accounts: keyed(s.accounts, |a| a.id.clone()),
            devices: keyed(s.devices, |d| (d.id.clone(), d.account_id.clone())),
            vehicles: keyed(s.vehicles, |v| v.vin.clone()),
            car_keys: keyed(s.car_keys, |k| (k.account_id.clone(), k.vin.clone())),
            associations: keyed(s.car_associations, |a| a.id.clone())
                .into_iter()
                .map(|(id, mut a)| {
                    a.steps = a
                        .steps
                        .iter()
                        .map(|name| StepName::parse(name).as_str().to_owned())
                        .collect();
                    (id, a)
                })
                .collect(),
            step_lists: keyed(s.step_lists, |l| l.steps_id),
            next_steps_id,
            selections: keyed(s.vehicle_selections, |sel| {
                (sel.account_id.clone(), sel.device_id.clone())
            }),
            sms: s.sms_outbox,
            tokens,
            steps_by_pair,
        }
    }

    /// The state as a scenario document.
    pub(crate) fn to_scenario(&self) -> Scenario {
        Scenario {
            version: SCENARIO_VERSION,
            settings: self.settings.clone(),
            accounts: self.accounts.values().cloned().collect(),
            devices: self.devices.values().cloned().collect(),
            vehicles: self.vehicles.values().cloned().collect(),
            car_keys: self.car_keys.values().cloned().collect(),
            car_associations: self.associations.values().cloned().collect(),
            step_lists: self.step_lists.values().cloned().collect(),
            next_steps_id: Some(self.next_steps_id),
            vehicle_selections: self.selections.values().cloned().collect(),
            sms_outbox: self.sms.clone(),
        }
    }

    /// The index of the account a bearer token authenticates.
    pub(crate) fn account_for_token(&self, token: &str) -> Option<usize> {
        self.tokens.get(token).copied()
    }

    pub(crate) fn account_index(&self, id: &str) -> Option<usize> {
        self.accounts.get_index_of(id)
    }

    /// The status of a device for an account (`None`: never seen for it).
    pub(crate) fn device_status(&self, device: &str, account: &str) -> Option<DeviceStatus> {
        self.devices
            .get(&(device.to_owned(), Some(account.to_owned())))
            .map(|d| d.status)
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
        match self
            .devices
            .entry((device.to_owned(), account.map(str::to_owned)))
        {
            Entry::Occupied(mut known) => {
                let changed = known.get().status != status;
                known.get_mut().status = status;
                changed
            }
            Entry::Vacant(new) => {
                new.insert(DeviceSpec {
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
            .values()
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
        self.vehicles.get_index_of(vin)
    }

    pub(crate) fn car_key(&self, account: &str, vin: &str) -> Option<&CarKeySpec> {
        self.car_keys.get(&(account.to_owned(), vin.to_owned()))
    }

    /// The CarKey of an account for a vehicle, created (unknown, unverified) when missing.
    pub(crate) fn car_key_mut(&mut self, account: &str, vin: &str) -> &mut CarKeySpec {
        self.car_keys
            .entry((account.to_owned(), vin.to_owned()))
            .or_insert_with(|| CarKeySpec {
                account_id: account.to_owned(),
                vin: vin.to_owned(),
                verified: false,
                cvs_status: CvsStatus::Unknown,
                max_reactivation_date: None,
            })
    }

    pub(crate) fn association(&self, id: &str) -> Option<&CarAssociationSpec> {
        self.associations.get(id)
    }

    /// The first car association of an account for a vehicle (document order).
    pub(crate) fn association_for_vin(
        &self,
        account: &str,
        vin: &str,
    ) -> Option<&CarAssociationSpec> {
        self.associations
            .values()
            .find(|a| a.account_id == account && a.vin == vin)
    }

    /// The step list issued under a stepsID.
    pub(crate) fn step_list(&self, steps_id: u64) -> Option<&StepListSpec> {
        self.step_lists.get(&steps_id)
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
        while self.step_lists.contains_key(&id) {
            id = id.saturating_add(1);
        }
        self.next_steps_id = id.saturating_add(1);
        self.steps_by_pair
            .insert((association.to_owned(), device.to_owned()), id);
        self.step_lists.insert(
            id,
            StepListSpec {
                steps_id: id,
                car_association_id: association.to_owned(),
                device_id: device.to_owned(),
            },
        );
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
        self.selections
            .get(&(account.to_owned(), device.to_owned()))
            .map(|sel| sel.vin.as_str())
    }

    /// Records a vehicle selection; returns whether it changed.
    pub(crate) fn select_vehicle(&mut self, account: &str, device: &str, vin: &str) -> bool {
        match self
            .selections
            .entry((account.to_owned(), device.to_owned()))
        {
            Entry::Occupied(mut known) => {
                let changed = known.get().vin != vin;
                known.get_mut().vin = vin.to_owned();
                changed
            }
            Entry::Vacant(new) => {
                new.insert(VehicleSelectionSpec {
                    account_id: account.to_owned(),
                    device_id: device.to_owned(),
                    vin: vin.to_owned(),
                });
                true
            }
        }
    }
}

/// The items of a checked document by their key, in document order.
fn keyed<K: std::hash::Hash + Eq, V>(items: Vec<V>, key: impl Fn(&V) -> K) -> IndexMap<K, V> {
    items.into_iter().map(|v| (key(&v), v)).collect()
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
    fn a_document_that_fails_its_checks_builds_no_model() {
        let mut s = Scenario::default_scenario();
        s.car_associations[0].account_id = "ghost".into();
        let e = Model::from_scenario(s).unwrap_err();
        assert_eq!(e.field(), Some("carAssociations[0].accountId"), "{e}");
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
