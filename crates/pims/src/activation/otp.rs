//! The PIN (reset, update) and the OTP (strong authentication on demand).

use pims_types::{
    ActivationResult, Api, Operation, Otp, OtpAction, Parameters, Pin, PinCodeAction, SmsCode,
    Verb, keys,
};
use serde_json::Value;

use super::{Activation, ActivationRequest, TypedCall, sealed::Sealed};

/// `set pims.authentication.pincode` reset: a new PIN with the code of a `resetPIN` SMS.
#[derive(Debug, Clone)]
pub struct ResetPin {
    new_pin: Pin,
    sms_code: SmsCode,
}

/// `set pims.authentication.pincode` update: changes the PIN.
#[derive(Debug, Clone)]
pub struct UpdatePin {
    old_pin: Pin,
    new_pin: Pin,
}

/// `get pims.authentication.otp` withPIN (2312/2317 make this device's cached steps stale: the
/// facade drops their `alreadyDone`, by policy).
#[derive(Debug, Clone)]
pub struct OtpWithPin {
    pin: Pin,
}

/// `get pims.authentication.otp` withoutPIN.
#[derive(Debug, Clone)]
pub struct OtpWithoutPin;

impl Sealed for ResetPin {}
impl TypedCall for ResetPin {
    type Output = ();
    const VERB: Verb = Verb::Set;
    const API: Api = Api::PinCode;
    fn parameters(&self) -> Parameters {
        PinCodeAction::Reset
            .to_parameters()
            .with_secret(keys::PIN_CODE, self.new_pin.as_secret())
            .with_secret(keys::SMS_CODE, self.sms_code.as_secret())
    }
    fn read(_: &Value) -> Result<(), pims_types::Error> {
        Ok(())
    }
}

impl Sealed for UpdatePin {}
impl TypedCall for UpdatePin {
    type Output = ();
    const VERB: Verb = Verb::Set;
    const API: Api = Api::PinCode;
    fn parameters(&self) -> Parameters {
        PinCodeAction::Update
            .to_parameters()
            .with_secret(keys::OLD_PIN, self.old_pin.as_secret())
            .with_secret(keys::NEW_PIN, self.new_pin.as_secret())
    }
    fn read(_: &Value) -> Result<(), pims_types::Error> {
        Ok(())
    }
}

impl Sealed for OtpWithPin {}
impl TypedCall for OtpWithPin {
    type Output = Otp;
    const VERB: Verb = Verb::Get;
    const API: Api = Api::Otp;
    fn parameters(&self) -> Parameters {
        OtpAction::WithPin
            .to_parameters()
            .with_secret(keys::PIN_CODE, self.pin.as_secret())
    }
    fn read(result: &Value) -> Result<Otp, pims_types::Error> {
        Otp::from_result(result)
    }
}

impl Sealed for OtpWithoutPin {}
impl TypedCall for OtpWithoutPin {
    type Output = Otp;
    const VERB: Verb = Verb::Get;
    const API: Api = Api::Otp;
    fn parameters(&self) -> Parameters {
        OtpAction::WithoutPin.to_parameters()
    }
    fn read(result: &Value) -> Result<Otp, pims_types::Error> {
        Otp::from_result(result)
    }
}

impl<'a> Activation<'a> {
    /// Resets the PIN with the code of a `resetPIN` SMS.
    pub fn reset_pin(self, new_pin: Pin, sms_code: SmsCode) -> ActivationRequest<'a, ResetPin> {
        ActivationRequest::new(self.pims, ResetPin { new_pin, sms_code })
    }

    /// Changes the PIN.
    pub fn update_pin(self, old_pin: Pin, new_pin: Pin) -> ActivationRequest<'a, UpdatePin> {
        ActivationRequest::new(self.pims, UpdatePin { old_pin, new_pin })
    }

    /// An OTP with the PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let otp = pims.activation().otp_with_pin(pims::Pin::parse("1234")?).send().await?;
    /// println!("{otp:?}"); // redacted
    /// # Ok(()) }
    /// ```
    pub fn otp_with_pin(self, pin: Pin) -> ActivationRequest<'a, OtpWithPin> {
        ActivationRequest::new(self.pims, OtpWithPin { pin })
    }

    /// An OTP without the PIN.
    pub fn otp_without_pin(self) -> ActivationRequest<'a, OtpWithoutPin> {
        ActivationRequest::new(self.pims, OtpWithoutPin)
    }
}
