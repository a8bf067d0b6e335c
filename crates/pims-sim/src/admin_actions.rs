//! The admin actions (scenario, state, devices, vehicles, CarKeys, SMS outbox), shared by the
//! admin HTTP routes and the library's [`SimServer`](crate::SimServer) methods.

use serde_json::{Value, json};

use pims_types::{Secret, Vin, mask};

use crate::clock::rfc3339;
use crate::error::SimError;
use crate::identifiers::is_identifier;
use crate::model::Model;
use crate::scenario::{CvsStatus, DeviceStatus, Scenario};
use crate::state::Shared;

/// How long a suspended CarKey can be reactivated.
const REACTIVATION_WINDOW_MS: u64 = 30 * 24 * 3_600_000;

fn check_device(device: &str) -> Result<(), SimError> {
    if is_identifier(device) {
        Ok(())
    } else {
        Err(SimError::invalid(
            "deviceId",
            "expected 1 to 64 characters without whitespace",
        ))
    }
}

fn check_vin(vin: &str) -> Result<Vin, SimError> {
    Vin::parse(vin)
        .map_err(|_| SimError::invalid("vin", "expected 17 characters of A-H, J-N, P, R-Z, 0-9"))
}

impl Shared {
    /// Replaces the whole state with a scenario (validated), forgetting idempotency keys.
    pub(crate) async fn load_scenario(&self, scenario: Scenario) -> Result<(), SimError> {
        let model = Model::from_scenario(scenario)?;
        self.mutate(move |backend, _| {
            backend.model = model;
            backend.idempotency.clear();
            Ok(((), true))
        })
        .await?;
        tracing::info!("scenario loaded");
        Ok(())
    }

    /// The whole state as a scenario document.
    pub(crate) fn state(&self) -> Scenario {
        self.lock().model.to_scenario()
    }

    /// Disables a device for every account it is enrolled for (OTP then answers 2312); a
    /// device never seen is recorded as disabled. Returns the accounts concerned.
    pub(crate) async fn disable_device(&self, device: &str) -> Result<Vec<String>, SimError> {
        check_device(device)?;
        let accounts = self
            .mutate(|backend, _| {
                let model = &mut backend.model;
                let accounts: Vec<Option<String>> = model
                    .devices
                    .values()
                    .filter(|d| d.id == device)
                    .map(|d| d.account_id.clone())
                    .collect();
                let mut changed = false;
                if accounts.is_empty() {
                    changed |= model.set_device_status(device, None, DeviceStatus::Disabled);
                }
                for account in &accounts {
                    changed |=
                        model.set_device_status(device, account.as_deref(), DeviceStatus::Disabled);
                }
                Ok((accounts.into_iter().flatten().collect::<Vec<_>>(), changed))
            })
            .await?;
        tracing::info!(?accounts, "device disabled");
        Ok(accounts)
    }

    /// Pairs a vehicle with a device over Bluetooth. Returns the paired devices.
    pub(crate) async fn pair_vehicle(
        &self,
        vin: &str,
        device: &str,
    ) -> Result<Vec<String>, SimError> {
        let vin = check_vin(vin)?;
        check_device(device)?;
        let paired = self
            .mutate(|backend, _| {
                let model = &mut backend.model;
                let i = model
                    .vehicle_index(vin.as_str())
                    .ok_or_else(|| SimError::NotFound {
                        what: format!("vehicle {}", vin.masked()),
                    })?;
                let paired = &mut model.vehicles[i].paired_devices;
                let changed = !paired.iter().any(|d| d == device);
                if changed {
                    paired.push(device.to_owned());
                }
                Ok((paired.clone(), changed))
            })
            .await?;
        tracing::info!(vin = %vin.masked(), "vehicle paired");
        Ok(paired)
    }

    /// Suspends every CarKey of a vehicle (`mediumCarKey` turns back to `todo`).
    pub(crate) async fn suspend_car_key(&self, vin: &str) -> Result<Value, SimError> {
        let vin = check_vin(vin)?;
        let answer = self
            .mutate(|backend, now| {
                let model = &mut backend.model;
                if model.vehicle_index(vin.as_str()).is_none() {
                    return Err(SimError::NotFound {
                        what: format!("vehicle {}", vin.masked()),
                    });
                }
                let date = rfc3339(now.saturating_add(REACTIVATION_WINDOW_MS));
                let mut accounts = Vec::new();
                for key in model
                    .car_keys
                    .values_mut()
                    .filter(|k| k.vin == vin.as_str())
                {
                    key.cvs_status = CvsStatus::Suspended;
                    key.max_reactivation_date = Some(date.clone());
                    accounts.push(key.account_id.clone());
                }
                if accounts.is_empty() {
                    return Err(SimError::NotFound {
                        what: format!("CarKey of vehicle {}", vin.masked()),
                    });
                }
                Ok((
                    json!({"vin": vin.as_str(), "cvsStatus": "suspended",
                           "maxReactivationDate": date, "accounts": accounts}),
                    true,
                ))
            })
            .await?;
        tracing::info!(vin = %vin.masked(), "CarKey suspended");
        Ok(answer)
    }

    /// The SMS outbox, newest first (one number, or all).
    pub(crate) fn outbox(&self, phone: Option<&str>) -> Value {
        let now = self.clock.now_ms();
        self.lock().model.outbox_json(phone, now)
    }

    /// The newest code sent to a number.
    pub(crate) fn latest_sms_code(&self, phone: &str) -> Option<Secret> {
        let backend = self.lock();
        let code = backend
            .model
            .sms
            .iter()
            .filter(|m| m.phone_number == phone)
            .max_by_key(|m| m.id)
            .map(|m| m.code.clone());
        if code.is_none() {
            tracing::debug!(phone = %mask(phone), "no SMS for this number");
        }
        code
    }
}
