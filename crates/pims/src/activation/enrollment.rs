//! Device enrolment (step `deviceActivation`): the account checks, the enrolment SMS code, and
//! enrolling or removing devices.

use pims_types::{
    AccountBlocked, AccountCheck, ActivationResult, DeviceActivated, EnrollmentAction,
    EnrollmentStatus, Operation, Parameters, PhoneNumber, Pin, SmsCode, SmsCodeAction, keys,
};

use super::Activation;
use crate::typed::TypedRequest;

/// `get pims.authentication.account` isDeviceActivated: whether this device is enrolled.
#[derive(Debug, Clone)]
pub struct DeviceActivatedCheck;

/// `get pims.authentication.account` isAccountBlocked.
#[derive(Debug, Clone)]
pub struct AccountBlockedCheck;

/// `set pims.authentication.smscode` enrollment: checks an enrolment code (not consumed) and
/// says whether the account has a PIN.
#[derive(Debug, Clone)]
pub struct CheckEnrollmentSmsCode {
    sms_code: SmsCode,
}

/// `set pims.authentication.enrollment` enroll: registers the PIN when the account had none,
/// and enrols this device.
#[derive(Debug, Clone)]
pub struct Enroll {
    pin: Pin,
    sms_code: SmsCode,
}

/// `set pims.authentication.enrollment` enrollWithPhoneNumber: phone, PIN and device in one go.
#[derive(Debug, Clone)]
pub struct EnrollWithPhoneNumber {
    pin: Pin,
    sms_code: SmsCode,
    phone_number: PhoneNumber,
}

/// `set pims.authentication.enrollment` remove: every enrolment of the account removed.
#[derive(Debug, Clone)]
pub struct RemoveEnrollments;

fn account_check(check: AccountCheck) -> Parameters {
    let mut params = check.to_parameters();
    params.insert(keys::ACTION_TYPE, pims_types::ActionType::Strong.as_str());
    params
}

typed_call!(DeviceActivatedCheck, Get Account,
    |_this| account_check(AccountCheck::IsDeviceActivated),
    bool, |result| DeviceActivated::from_result(result).map(|d| d.0));

typed_call!(AccountBlockedCheck, Get Account,
    |_this| account_check(AccountCheck::IsAccountBlocked),
    AccountBlocked, |result| AccountBlocked::from_result(result));

typed_call!(CheckEnrollmentSmsCode, Set SmsCode, |this| {
    SmsCodeAction::Enrollment
        .to_parameters()
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
}, EnrollmentStatus, |result| EnrollmentStatus::from_result(result));

typed_call!(Enroll, Set Enrollment, |this| {
    EnrollmentAction::Enroll
        .to_parameters()
        .with_secret(keys::PIN_CODE, this.pin.as_secret())
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
}, no result);

typed_call!(EnrollWithPhoneNumber, Set Enrollment, |this| {
    EnrollmentAction::EnrollWithPhoneNumber
        .to_parameters()
        .with_secret(keys::PIN_CODE, this.pin.as_secret())
        .with_secret(keys::SMS_CODE, this.sms_code.as_secret())
        .with(keys::PHONE_NUMBER, this.phone_number.as_str())
}, no result);

typed_call!(RemoveEnrollments, Set Enrollment,
    |_this| EnrollmentAction::Remove.to_parameters(), no result);

impl Activation {
    /// Whether this device is enrolled for strong authentication.
    pub fn is_device_activated(&self) -> TypedRequest<DeviceActivatedCheck> {
        TypedRequest::new(self.pims.clone(), DeviceActivatedCheck)
    }

    /// Whether the account is blocked (check before spending an SMS on enrolment).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.activation().account_blocked().send().await? == pims::AccountBlocked::PinBlocked {
    ///     pims.activation().remove_enrollments().send().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn account_blocked(&self) -> TypedRequest<AccountBlockedCheck> {
        TypedRequest::new(self.pims.clone(), AccountBlockedCheck)
    }

    /// Checks an enrolment SMS code (not consumed) and says whether the account has a PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let code = pims::SmsCode::parse("123456")?;
    /// if pims.activation().check_enrollment_sms_code(code).send().await? == pims::EnrollmentStatus::NotEnrolled {
    ///     println!("choose a PIN: it will be registered");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn check_enrollment_sms_code(
        &self,
        sms_code: SmsCode,
    ) -> TypedRequest<CheckEnrollmentSmsCode> {
        TypedRequest::new(self.pims.clone(), CheckEnrollmentSmsCode { sms_code })
    }

    /// Enrols this device (registers the PIN when the account had none). On 2317 the account is
    /// blocked: [`remove_enrollments`](Self::remove_enrollments), then start again.
    pub fn enroll(&self, pin: Pin, sms_code: SmsCode) -> TypedRequest<Enroll> {
        TypedRequest::new(self.pims.clone(), Enroll { pin, sms_code })
    }

    /// Registers the phone, the PIN and this device in one go (with the code of a
    /// `phoneNumberCertification` SMS).
    pub fn enroll_with_phone_number(
        &self,
        pin: Pin,
        sms_code: SmsCode,
        phone_number: PhoneNumber,
    ) -> TypedRequest<EnrollWithPhoneNumber> {
        TypedRequest::new(
            self.pims.clone(),
            EnrollWithPhoneNumber {
                pin,
                sms_code,
                phone_number,
            },
        )
    }

    /// Removes every enrolment of the account (the way out of 2317 on enrolment).
    pub fn remove_enrollments(&self) -> TypedRequest<RemoveEnrollments> {
        TypedRequest::new(self.pims.clone(), RemoveEnrollments)
    }
}
