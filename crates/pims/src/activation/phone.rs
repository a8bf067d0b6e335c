//! The trusted phone number (step `trusterPhoneNumber`) and SMS codes.

use pims_types::{
    ActivationResult, Api, ErrorCode, Operation, Parameters, PhoneNumber, SmsCode, SmsCodeAction,
    SmsPurpose, TrustedPhoneNumber, Verb, keys,
};
use serde_json::Value;

use super::Activation;
use crate::error::Error;
use crate::typed::{TypedCall, TypedRequest, sealed::Sealed};

/// `get pims.authentication.trustedphonenumber`: the account's trusted number, `None` when it
/// has none (2307).
#[derive(Debug, Clone)]
pub struct TrustedPhoneNumberCheck;

/// `get pims.authentication.smscode`: an SMS code is sent (to the trusted number, or to the
/// number being certified: [`Activation::certify_phone_number`]).
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

impl Activation {
    /// The account's trusted phone number; `None` when it has none (2307).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.activation().trusted_phone_number().send().await?.is_none() {
    ///     println!("register a phone first");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn trusted_phone_number(&self) -> TypedRequest<TrustedPhoneNumberCheck> {
        TypedRequest::new(self.pims.clone(), TrustedPhoneNumberCheck)
    }

    /// Requests an SMS code sent to the trusted number: [`SmsPurpose::Enrollment`] or
    /// [`SmsPurpose::ResetPin`] (to certify a new number, use
    /// [`certify_phone_number`](Self::certify_phone_number): asked here, the backend answers
    /// 2101, no number).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.activation().request_sms_code(pims::SmsPurpose::Enrollment).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn request_sms_code(&self, purpose: SmsPurpose) -> TypedRequest<RequestSmsCode> {
        TypedRequest::new(
            self.pims.clone(),
            RequestSmsCode {
                purpose,
                phone_number: None,
            },
        )
    }

    /// Requests a `phoneNumberCertification` SMS code, sent to `phone_number` (then
    /// [`add_phone_number`](Self::add_phone_number) with it).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let phone = pims::PhoneNumber::parse("+33612345678")?;
    /// pims.activation().certify_phone_number(phone).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn certify_phone_number(&self, phone_number: PhoneNumber) -> TypedRequest<RequestSmsCode> {
        TypedRequest::new(
            self.pims.clone(),
            RequestSmsCode {
                purpose: SmsPurpose::PhoneNumberCertification,
                phone_number: Some(phone_number),
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
        &self,
        phone_number: PhoneNumber,
        sms_code: SmsCode,
    ) -> TypedRequest<AddPhoneNumber> {
        TypedRequest::new(
            self.pims.clone(),
            AddPhoneNumber {
                phone_number,
                sms_code,
            },
        )
    }

    /// Replaces the trusted phone number.
    pub fn modify_phone_number(
        &self,
        phone_number: PhoneNumber,
        sms_code: SmsCode,
    ) -> TypedRequest<ModifyPhoneNumber> {
        TypedRequest::new(
            self.pims.clone(),
            ModifyPhoneNumber {
                phone_number,
                sms_code,
            },
        )
    }
}
