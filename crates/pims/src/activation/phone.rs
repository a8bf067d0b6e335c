//! The trusted phone number (step `trusterPhoneNumber`) and SMS codes.

use pims_types::{
    ActivationResult, Api, ErrorCode, Operation, Parameters, PhoneNumber, SmsCode, SmsCodeAction,
    SmsPurpose, TrustedPhoneNumber, Verb, keys,
};
use serde_json::Value;

use super::{Activation, ActivationRequest, TypedCall, sealed::Sealed};
use crate::error::Error;

/// `get pims.authentication.trustedphonenumber`: the account's trusted number, `None` when it
/// has none (2307).
#[derive(Debug, Clone)]
pub struct TrustedPhoneNumberCheck;

/// `get pims.authentication.smscode`: an SMS code is sent (to the trusted number, or to the
/// number being certified).
#[derive(Debug, Clone)]
pub struct RequestSmsCode {
    purpose: SmsPurpose,
    phone_number: Option<PhoneNumber>,
}

/// `set pims.authentication.smscode` addPhoneNumber: registers a trusted number with the code
/// of a `phoneNumberCertification` SMS.
#[derive(Debug, Clone)]
pub struct AddPhoneNumber {
    phone_number: PhoneNumber,
    sms_code: SmsCode,
}

/// `set pims.authentication.smscode` modifyPhoneNumber: replaces the trusted number.
#[derive(Debug, Clone)]
pub struct ModifyPhoneNumber {
    phone_number: PhoneNumber,
    sms_code: SmsCode,
}

impl Sealed for TrustedPhoneNumberCheck {}
impl TypedCall for TrustedPhoneNumberCheck {
    type Output = Option<String>;
    const VERB: Verb = Verb::Get;
    const API: Api = Api::TrustedPhoneNumber;
    fn parameters(&self) -> Parameters {
        Parameters::new()
    }
    fn read(result: &Value) -> Result<Self::Output, pims_types::Error> {
        TrustedPhoneNumber::from_result(result).map(|r| Some(r.phone_number))
    }
    fn recover(error: &Error) -> Option<Self::Output> {
        (error.code() == ErrorCode::NO_PHONE_NUMBER).then_some(None)
    }
}

typed_call!(RequestSmsCode, Get SmsCode, |this| {
    let mut params = this.purpose.to_parameters();
    if let Some(p) = &this.phone_number {
        params.insert(keys::PHONE_NUMBER, p.as_str());
    }
    params
}, no result);

impl ActivationRequest<'_, RequestSmsCode> {
    /// The number to certify (needed for [`SmsPurpose::PhoneNumberCertification`]).
    pub fn phone_number(mut self, phone_number: PhoneNumber) -> Self {
        self.call.phone_number = Some(phone_number);
        self
    }
}

typed_call!(AddPhoneNumber, Set SmsCode, |this| {
    SmsCodeAction::AddPhoneNumber
        .to_parameters()
        .with(keys::PHONE_NUMBER, this.phone_number.as_str())
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
}, no result);

typed_call!(ModifyPhoneNumber, Set SmsCode, |this| {
    SmsCodeAction::ModifyPhoneNumber
        .to_parameters()
        .with(keys::PHONE_NUMBER, this.phone_number.as_str())
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
}, no result);

impl<'a> Activation<'a> {
    /// The account's trusted phone number; `None` when it has none (2307).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.activation().trusted_phone_number().send().await?.is_none() {
    ///     println!("register a phone first");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn trusted_phone_number(self) -> ActivationRequest<'a, TrustedPhoneNumberCheck> {
        ActivationRequest::new(self.pims, TrustedPhoneNumberCheck)
    }

    /// Requests an SMS code; give the number with
    /// [`phone_number`](ActivationRequest::phone_number) for
    /// [`SmsPurpose::PhoneNumberCertification`].
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims::{PhoneNumber, SmsPurpose};
    /// pims.activation()
    ///     .request_sms_code(SmsPurpose::PhoneNumberCertification)
    ///     .phone_number(PhoneNumber::parse("+33612345678")?)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn request_sms_code(self, purpose: SmsPurpose) -> ActivationRequest<'a, RequestSmsCode> {
        ActivationRequest::new(
            self.pims,
            RequestSmsCode {
                purpose,
                phone_number: None,
            },
        )
    }

    /// Registers a trusted phone number with the code of a `phoneNumberCertification` SMS.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims::{PhoneNumber, SmsCode};
    /// let phone = PhoneNumber::parse("+33612345678")?;
    /// pims.activation().add_phone_number(phone, SmsCode::parse("123456")?).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn add_phone_number(
        self,
        phone_number: PhoneNumber,
        sms_code: SmsCode,
    ) -> ActivationRequest<'a, AddPhoneNumber> {
        ActivationRequest::new(
            self.pims,
            AddPhoneNumber {
                phone_number,
                sms_code,
            },
        )
    }

    /// Replaces the trusted phone number.
    pub fn modify_phone_number(
        self,
        phone_number: PhoneNumber,
        sms_code: SmsCode,
    ) -> ActivationRequest<'a, ModifyPhoneNumber> {
        ActivationRequest::new(
            self.pims,
            ModifyPhoneNumber {
                phone_number,
                sms_code,
            },
        )
    }
}
