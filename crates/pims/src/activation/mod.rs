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
        impl $crate::activation::sealed::Sealed for $ty {}
        impl $crate::activation::TypedCall for $ty {
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

use pims_types::{Api, Parameters, Verb};
use serde_json::Value;

use crate::error::Error;
use crate::facade::Pims;
use crate::reply::Answered;
use crate::request::Request;

pub use car_key::{ActivateCarKey, CarKeyStatusCheck, SelectVehicle, Services};
pub use enrollment::{
    AccountBlockedCheck, CheckEnrollmentSmsCode, DeviceActivatedCheck, Enroll,
    EnrollWithPhoneNumber, RemoveEnrollments,
};
pub use otp::{OtpWithPin, OtpWithoutPin, ResetPin, UpdatePin};
pub use phone::{AddPhoneNumber, ModifyPhoneNumber, RequestSmsCode, TrustedPhoneNumberCheck};

mod sealed {
    pub trait Sealed {}
}

/// One typed operation of the backend: the verb and API it is sent as, its parameters, and how
/// its `result` is read. Implemented by this crate's request types only.
pub trait TypedCall: sealed::Sealed + Send + 'static {
    /// What the operation answers.
    type Output: Send + 'static;
    /// The verb it is sent with.
    const VERB: Verb;
    /// The API it is sent to.
    const API: Api;
    /// Its parameters, as sent.
    fn parameters(&self) -> Parameters;
    /// Reads the `result` of its success (`Value::Null` when there was none).
    fn read(result: &Value) -> Result<Self::Output, pims_types::Error>;
    /// A failure that is an answer (2307, no phone number, is `None`).
    fn recover(_error: &Error) -> Option<Self::Output> {
        None
    }
}

/// A typed operation ready to be sent.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let status = pims.activation().car_key_status().send().await?;
/// println!("verified: {}", status.verified);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct ActivationRequest<'a, C> {
    pims: &'a Pims,
    call: C,
}

impl<'a, C: TypedCall> ActivationRequest<'a, C> {
    pub(crate) fn new(pims: &'a Pims, call: C) -> Self {
        ActivationRequest { pims, call }
    }

    fn request(&self) -> Result<Request, Error> {
        Request::parse(C::VERB, C::API.name(), self.call.parameters())
    }

    /// Sends it.
    pub async fn send(self) -> Result<C::Output, Error> {
        let result = self
            .pims
            .execute_typed(self.request(), |reply| {
                C::read(&reply.into_value()?).map_err(Error::from)
            })
            .await;
        match result {
            Err(e) => C::recover(&e).ok_or(e),
            ok => ok,
        }
    }

    /// Sends it, and hands back the envelope too (as the verb API answers the same call).
    pub async fn send_with_envelope(self) -> Result<Answered<C::Output>, Error> {
        self.pims
            .execute_answered(self.request(), |reply| {
                C::read(&reply.clone().into_value()?).map_err(Error::from)
            })
            .await
    }
}

/// The activation APIs of a facade: [`Pims::activation`].
#[derive(Debug, Clone, Copy)]
pub struct Activation<'a> {
    pims: &'a Pims,
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
    pub fn activation(&self) -> Activation<'_> {
        Activation { pims: self }
    }

    /// The connected services of a vehicle (`pims.subscription.services`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let vin = pims::Vin::parse("VR1AB12C3D4567890")?;
    /// for s in pims.services(vin).send().await? { println!("{} {}", s.code, s.name); }
    /// # Ok(()) }
    /// ```
    pub fn services(&self, vin: pims_types::Vin) -> ActivationRequest<'_, Services> {
        ActivationRequest::new(self, Services { vin })
    }
}
