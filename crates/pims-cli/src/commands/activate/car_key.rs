//! `mediumCarKey`: the vehicle selected, then the CarKey activated. With the embedded
//! simulator the simulated vehicle is paired with this device first (a simulator admin action,
//! said on screen); otherwise the requirements are told and, on a terminal, confirmed.

use pims::{CvsStatus, ErrorCode, Vin};

use super::Activation;
use crate::failure::Failure;

impl Activation<'_> {
    /// The vehicle of the car association: the embedded simulator knows it; else `--vin`.
    fn vehicle(&mut self) -> Result<Vin, Failure> {
        if let Some(sim) = &self.session.sim {
            let vin = sim
                .state()
                .car_associations
                .iter()
                .find(|c| c.id == self.car_association_id)
                .map(|c| c.vin.clone());
            return match vin.map(|v| Vin::parse(&v)) {
                Some(Ok(vin)) => Ok(vin),
                _ => Err(self.stop(Failure::usage(format!(
                    "the embedded simulator has no car association {}: pass the vehicle with --vin",
                    self.car_association_id
                )))),
            };
        }
        if let Some(vin) = self.vin.clone() {
            return Ok(vin);
        }
        let prompter = self.prompter;
        let answer = self.progress.suspend(|| {
            prompter.line(
                "The vehicle's VIN (17 characters)",
                "--vin VIN",
                "the vehicle of the CarKey step",
            )
        });
        match answer.and_then(|v| {
            Vin::parse(&v).map_err(|_| Failure::usage("a VIN is 17 characters (--vin)"))
        }) {
            Ok(vin) => Ok(vin),
            Err(f) => Err(self.stop(f)),
        }
    }

    /// `mediumCarKey`.
    pub(super) async fn car_key(&mut self) -> Result<(), Failure> {
        let vin = self.vehicle()?;
        let pims = &self.session.pims;
        self.progress
            .doing(&format!("selecting the vehicle {}", vin.masked()));
        if let Err(e) = pims.activation().select_vehicle(vin.clone()).send().await {
            return Err(self.fail(&e));
        }
        self.progress.doing("checking the CarKey");
        match pims.activation().car_key_status().send().await {
            Ok(status) if status.cvs_status == CvsStatus::Suspended => {
                let until = status
                    .max_reactivation_date
                    .map(|d| format!(" (it can be reactivated until {d})"))
                    .unwrap_or_default();
                self.progress.note(&format!(
                    "the CarKey is suspended{until}: activating it again"
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(self.fail(&e)),
        }
        let device_id = match pims.cache() {
            Ok(cache) => match cache.device_id().await {
                Ok(id) => id,
                Err(e) => return Err(self.fail(&e)),
            },
            Err(e) => return Err(self.fail(&e)),
        };
        match &self.session.sim {
            Some(sim) => {
                self.progress
                    .doing("pairing the simulated vehicle with this device");
                if let Err(e) = sim.pair_vehicle(vin.as_str(), &device_id).await {
                    return Err(self.stop(Failure::code(
                        ErrorCode::NOT_PAIRED,
                        &[],
                        format!("the embedded simulator could not pair the vehicle: {e}"),
                    )));
                }
                self.progress.note(&format!(
                    "paired the simulated vehicle {} with this device: a simulator admin action \
                     standing in for Bluetooth pairing in the car",
                    vin.masked()
                ));
            }
            None => {
                self.progress.note(
                    "the CarKey proves you hold the vehicle's keys: pair this phone with the \
                     vehicle over Bluetooth, turn Bluetooth and location on, and be inside the \
                     vehicle with its key",
                );
                // The VIN is shown masked like everywhere on screen: the user gave it (--vin).
                self.progress.note(&format!(
                    "this device's id is {device_id} (a pims-sim pairs it with POST \
                     /admin/vehicles/VIN/pair, VIN being the vehicle's, {})",
                    vin.masked()
                ));
                let prompter = self.prompter;
                if !self
                    .progress
                    .suspend(|| prompter.confirm("Ready to activate the CarKey?"))
                {
                    return Err(self.stop(Failure::usage(
                        "CarKey activation stopped: run pims activate again when ready",
                    )));
                }
            }
        }
        self.progress.doing("activating the CarKey");
        match self
            .session
            .pims
            .activation()
            .activate_car_key()
            .send()
            .await
        {
            Ok(key) if key.has_car_key => {}
            Ok(_) => {
                return Err(self.stop(Failure::code(
                    ErrorCode::NOT_PAIRED,
                    &[],
                    "the backend did not grant the CarKey: check the pairing and try again",
                )));
            }
            Err(e) if e.code() == ErrorCode::NOT_PAIRED => {
                return Err(self.fail(&e).with_hint(format!(
                    "pair this device ({device_id}) with the vehicle, then run pims activate again"
                )));
            }
            Err(e) => return Err(self.fail(&e)),
        }
        self.progress
            .done(&format!("the CarKey of {} is verified", vin.masked()));
        Ok(())
    }
}
