//! The APIs that resolve the steps (activation-apis.md), typed: one small request type per
//! operation (octocrab's shape), grouped under [`Pims::activation`], each sent with
//! `.send().await` (or `.send_with_envelope()` for the envelope too). Every one goes through the
//! same pipeline as the verb API: parsed and checked at the edge (a malformed PIN is 2102 and
//! never sent), then run under the call's deadline and guards.
//!
//! ```no_run
//! # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
//! use pims::{Pin, SmsCode, SmsPurpose};
//! let activation = pims.activation();
//! if !activation.is_device_activated().send().await? {
//!     activation.request_sms_code(SmsPurpose::Enrollment).send().await?;
//!     let code = SmsCode::parse("123456")?; // what the user typed
//!     activation.enroll(Pin::parse("1234")?, code).send().await?;
//! }
//! # Ok(()) }
//! ```

/// Implements [`TypedCall`] for a request type: the verb and API it is sent as, its parameters
/// (from `this`, the request), and how its result is read (`no result` for operations that
/// answer none).
macro_rules! typed_call {
    ($ty:ty, $verb:ident $api:ident, |$this:ident| $params:expr, no result) => {
        typed_call!($ty, $verb $api, |$this| $params, (), |_result| Ok(()));
    };
    ($ty:ty, $verb:ident $api:ident, |$this:ident| $params:expr, $out:ty, |$result:ident| $read:expr) => {
        impl $crate::typed::sealed::Sealed for $ty {}
        impl $crate::typed::TypedCall for $ty {
            type Output = $out;
            const VERB: pims_types::Verb = pims_types::Verb::$verb;
            const API: pims_types::Api = pims_types::Api::$api;
            fn parameters(&self) -> pims_types::Parameters {
                let $this = self;
                $params
            }
            fn read($result: &serde_json::Value) -> Result<$out, pims_types::Error> {
                $read
            }
        }
    };
}

mod car_key;
mod enrollment;
mod otp;
mod phone;

use crate::facade::Pims;
use crate::typed::TypedRequest;

pub use car_key::{ActivateCarKey, CarKeyStatusCheck, SelectVehicle, Services};
pub use enrollment::{
    AccountBlockedCheck, CheckEnrollmentSmsCode, DeviceActivatedCheck, Enroll,
    EnrollWithPhoneNumber, RemoveEnrollments,
};
pub use otp::{OtpWithPin, OtpWithoutPin, ResetPin, UpdatePin};
pub use phone::{AddPhoneNumber, ModifyPhoneNumber, RequestSmsCode, TrustedPhoneNumberCheck};

/// The activation APIs of a facade: [`Pims::activation`] (a cheap handle: it holds a clone of
/// the facade).
#[derive(Debug, Clone)]
pub struct Activation {
    pims: Pims,
}

impl Pims {
    /// The APIs that resolve the steps: trusted phone, SMS codes, account checks, enrolment,
    /// PIN, OTP, vehicle selection and CarKey.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.activation().trusted_phone_number().send().await?.is_none() {
    ///     println!("register a phone first");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn activation(&self) -> Activation {
        Activation { pims: self.clone() }
    }

    /// The connected services of a vehicle (`pims.subscription.services`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let vin = pims::Vin::parse("VR1AB12C3D4567890")?;
    /// for s in pims.services(vin).send().await? { println!("{} {}", s.code, s.name); }
    /// # Ok(()) }
    /// ```
    pub fn services(&self, vin: pims_types::Vin) -> TypedRequest<Services> {
        TypedRequest::new(self.clone(), Services { vin })
    }
}
