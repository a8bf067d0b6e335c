//! The vehicle: its services, selecting it, and its CarKey (step `mediumCarKey`).

use pims_types::{
    ActivationResult, CarKeyActivation, CarKeyStatus, Parameters, Service, ServicesList, Vin, keys,
};

use super::Activation;
use crate::typed::TypedRequest;

/// `get pims.subscription.services`: the connected services of a vehicle.
#[derive(Debug, Clone)]
pub struct Services {
    pub(super) vin: Vin,
}

/// `set pims.vehicle.vin`: selects the vehicle of the next vehicle calls.
#[derive(Debug, Clone)]
pub struct SelectVehicle {
    vin: Vin,
}

/// `get pims.vehicle.carkey`: the CarKey status of the selected vehicle.
#[derive(Debug, Clone)]
pub struct CarKeyStatusCheck;

/// `set pims.vehicle.carkey`: activates the CarKey of the selected vehicle (the phone must be
/// paired with it: else 2342).
#[derive(Debug, Clone)]
pub struct ActivateCarKey;

typed_call!(Services, Get SubscriptionServices,
|this| Parameters::new().with(keys::VIN, this.vin.as_str()),
Vec<Service>, |result| {
    if result.is_null() {
        return Err(pims_types::Error::decode("$.result", "no services in the answer"));
    }
    serde_json::from_value::<ServicesList>(result.clone())
        .map(|l| l.services)
        .map_err(|_| pims_types::Error::decode("$.result.services", "expected [{code, name}]"))
});

typed_call!(SelectVehicle, Set VehicleVin,
    |this| Parameters::new().with(keys::VIN, this.vin.as_str()), no result);

typed_call!(CarKeyStatusCheck, Get CarKey, |_this| Parameters::new(),
    CarKeyStatus, |result| CarKeyStatus::from_result(result));

typed_call!(ActivateCarKey, Set CarKey, |_this| Parameters::new(),
    CarKeyActivation, |result| CarKeyActivation::from_result(result));

impl Activation {
    /// Selects the vehicle of the next vehicle calls.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let vin = pims::Vin::parse("VR1AB12C3D4567890")?;
    /// pims.activation().select_vehicle(vin).send().await?;
    /// let key = pims.activation().activate_car_key().send().await?;
    /// assert!(key.has_car_key);
    /// # Ok(()) }
    /// ```
    pub fn select_vehicle(&self, vin: Vin) -> TypedRequest<SelectVehicle> {
        TypedRequest::new(self.pims.clone(), SelectVehicle { vin })
    }

    /// The CarKey status of the selected vehicle.
    pub fn car_key_status(&self) -> TypedRequest<CarKeyStatusCheck> {
        TypedRequest::new(self.pims.clone(), CarKeyStatusCheck)
    }

    /// Activates the CarKey of the selected vehicle.
    pub fn activate_car_key(&self) -> TypedRequest<ActivateCarKey> {
        TypedRequest::new(self.pims.clone(), ActivateCarKey)
    }
}
