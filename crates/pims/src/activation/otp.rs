//! The PIN (reset, update) and the OTP (strong authentication on demand).

use pims_types::{ActivationResult, Operation, Otp, OtpAction, Pin, PinCodeAction, SmsCode, keys};

use super::Activation;
use crate::typed::TypedRequest;

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

typed_call!(ResetPin, Set PinCode, |this| {
    PinCodeAction::Reset
        .to_parameters()
        .with_secret(keys::PIN_CODE, this.new_pin.as_secret())
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
}, no result);

typed_call!(UpdatePin, Set PinCode, |this| {
    PinCodeAction::Update
        .to_parameters()
        .with_secret(keys::OLD_PIN, this.old_pin.as_secret())
        .with_secret(keys::NEW_PIN, this.new_pin.as_secret())
}, no result);

typed_call!(OtpWithPin, Get Otp, |this| {
    OtpAction::WithPin
        .to_parameters()
        .with_secret(keys::PIN_CODE, this.pin.as_secret())
}, Otp, |result| Otp::from_result(result));

typed_call!(OtpWithoutPin, Get Otp, |_this| OtpAction::WithoutPin.to_parameters(),
    Otp, |result| Otp::from_result(result));

impl Activation {
    /// Resets the PIN with the code of a `resetPIN` SMS.
    pub fn reset_pin(&self, new_pin: Pin, sms_code: SmsCode) -> TypedRequest<ResetPin> {
        TypedRequest::new(self.pims.clone(), ResetPin { new_pin, sms_code })
    }

    /// Changes the PIN.
    pub fn update_pin(&self, old_pin: Pin, new_pin: Pin) -> TypedRequest<UpdatePin> {
        TypedRequest::new(self.pims.clone(), UpdatePin { old_pin, new_pin })
    }

    /// An OTP with the PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let otp = pims.activation().otp_with_pin(pims::Pin::parse("1234")?).send().await?;
    /// println!("{otp:?}"); // redacted
    /// # Ok(()) }
    /// ```
    pub fn otp_with_pin(&self, pin: Pin) -> TypedRequest<OtpWithPin> {
        TypedRequest::new(self.pims.clone(), OtpWithPin { pin })
    }

    /// An OTP without the PIN.
    pub fn otp_without_pin(&self) -> TypedRequest<OtpWithoutPin> {
        TypedRequest::new(self.pims.clone(), OtpWithoutPin)
    }
}
