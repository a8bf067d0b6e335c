//! Typed helpers for the APIs that resolve the steps (activation-apis.md): trusted phone, SMS
//! codes, account checks, enrolment, PIN, OTP, vehicle selection and CarKey. Secrets are taken
//! and given as [`Secret`].

use pims_types::{
    Api, ErrorCode, Parameters, Secret, Service, ServicesList, TransactionId, Verb, Vin,
};
use serde_json::Value;

use crate::error::Error;
use crate::facade::Pims;

/// What an SMS code is requested for (`get pims.authentication.smscode`, `type`).
///
/// ```
/// assert_eq!(pims::SmsPurpose::Enrollment.as_str(), "enrollment");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SmsPurpose {
    /// Certify a phone number before registering it (`phoneNumberCertification`; needs the number).
    PhoneNumberCertification,
    /// Enrol this device (`enrollment`; sent to the trusted number).
    Enrollment,
    /// Reset the PIN (`resetPIN`).
    ResetPin,
}

impl SmsPurpose {
    /// The wire value of `type`.
    ///
    /// ```
    /// assert_eq!(pims::SmsPurpose::ResetPin.as_str(), "resetPIN");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            SmsPurpose::PhoneNumberCertification => "phoneNumberCertification",
            SmsPurpose::Enrollment => "enrollment",
            SmsPurpose::ResetPin => "resetPIN",
        }
    }
}

/// Whether the account already has a PIN (`set pims.authentication.smscode` enrollment).
///
/// ```no_run
/// # async fn demo(pims: pims::Pims, code: pims_types::Secret) -> Result<(), pims::Error> {
/// if pims.check_enrollment_sms_code(&code).await? == pims::EnrollmentStatus::NotEnrolled {
///     println!("choose a PIN: it will be registered");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollmentStatus {
    /// No PIN yet: enrolment registers the one given.
    NotEnrolled,
    /// A PIN exists: enrolment checks the one given.
    AlreadyEnrolled,
}

/// `isAccountBlocked`.
///
/// ```
/// assert_ne!(pims::AccountBlocked::PinBlocked, pims::AccountBlocked::NotBlocked);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountBlocked {
    /// Not known.
    Unknown,
    /// Too many wrong PINs, or too many enrolled devices: remove all enrolments first.
    PinBlocked,
    /// Fine.
    NotBlocked,
}

/// `cvsStatus` of a CarKey.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// if pims.car_key_status().await?.cvs_status == pims::CvsStatus::Suspended {
///     println!("the CarKey is suspended");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CvsStatus {
    /// `unknown`.
    Unknown,
    /// `active`.
    Active,
    /// `suspended` (see `max_reactivation_date`).
    Suspended,
    /// `disabled`.
    Disabled,
    /// A status this SDK does not know.
    Other(String),
}

impl CvsStatus {
    fn parse(s: &str) -> CvsStatus {
        match s {
            "unknown" => CvsStatus::Unknown,
            "active" => CvsStatus::Active,
            "suspended" => CvsStatus::Suspended,
            "disabled" => CvsStatus::Disabled,
            other => CvsStatus::Other(other.to_owned()),
        }
    }
}

/// `get pims.vehicle.carkey`.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let status: pims::CarKeyStatus = pims.car_key_status().await?;
/// println!("verified {}, {:?}", status.verified, status.cvs_status);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarKeyStatus {
    /// `isCarKeyVerified`.
    pub verified: bool,
    /// `cvsStatus`.
    pub cvs_status: CvsStatus,
    /// `maxReactivationDate`, when suspended.
    pub max_reactivation_date: Option<String>,
}

/// `set pims.vehicle.carkey`. `Debug` hides the security code.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let key: pims::CarKeyActivation = pims.activate_car_key().await?;
/// println!("{key:?}"); // securityCode shown as Secret([REDACTED])
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CarKeyActivation {
    /// `hasCarKey`.
    pub has_car_key: bool,
    /// `vin`.
    pub vin: Option<String>,
    /// `securityCode` (a secret).
    pub security_code: Option<Secret>,
    /// `securityExpiration` (date-time).
    pub security_expiration: Option<String>,
}

impl Pims {
    async fn typed<T, F>(
        &self,
        verb: Verb,
        api: Api,
        params: Parameters,
        read: F,
    ) -> Result<T, Error>
    where
        F: FnOnce(Option<Value>) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let core = self.core()?;
        let tid = TransactionId::generate();
        let span = crate::facade::call_span(verb, api.name(), &tid);
        self.run(tracing::Instrument::instrument(
            async move {
                let ctx = core.ctx(tid);
                let (core, params, ctx) = (&core, &params, &ctx);
                let reply = core
                    .guarded(ctx, api, params, || async move {
                        match api {
                            // The OTP route carries the device-error recovery.
                            Api::Otp => core.otp_route(params.clone(), ctx).await,
                            _ => core.pass(verb, api, params.clone(), ctx).await,
                        }
                    })
                    .await?;
                // A null result is "no data" for the readers that expect some.
                read((!reply.is_null()).then_some(reply))
            },
            span,
        ))
        .await
    }

    /// The connected services of a vehicle (`pims.subscription.services`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let vin = pims_types::Vin::parse("VR1AB12C3D4567890")?;
    /// for s in pims.services(&vin).await? { println!("{} {}", s.code, s.name); }
    /// # Ok(()) }
    /// ```
    pub async fn services(&self, vin: &Vin) -> Result<Vec<Service>, Error> {
        let params = Parameters::new().with("vin", vin.as_str());
        self.typed(Verb::Get, Api::SubscriptionServices, params, |v| {
            let v = v.ok_or_else(|| no_data("services"))?;
            serde_json::from_value::<ServicesList>(v)
                .map(|l| l.services)
                .map_err(|_| invalid_data("$.result.services", "expected [{code, name}]"))
        })
        .await
    }

    /// The account's trusted phone number; `None` when it has none (2307).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.trusted_phone_number().await?.is_none() { println!("register a phone first"); }
    /// # Ok(()) }
    /// ```
    pub async fn trusted_phone_number(&self) -> Result<Option<String>, Error> {
        let r = self
            .typed(Verb::Get, Api::TrustedPhoneNumber, Parameters::new(), |v| {
                string_field(v.as_ref(), "phoneNumber")
            })
            .await;
        match r {
            Err(e) if e.code() == ErrorCode::NO_PHONE_NUMBER => Ok(None),
            other => other.map(Some),
        }
    }

    /// Requests an SMS code (`get pims.authentication.smscode`); `phone_number` is needed for
    /// [`SmsPurpose::PhoneNumberCertification`].
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.request_sms_code(pims::SmsPurpose::Enrollment, None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request_sms_code(
        &self,
        purpose: SmsPurpose,
        phone_number: Option<&str>,
    ) -> Result<(), Error> {
        let mut params = Parameters::new().with("type", purpose.as_str());
        if let Some(p) = phone_number {
            params.insert("phoneNumber", p);
        }
        self.typed(Verb::Get, Api::SmsCode, params, |_| Ok(()))
            .await
    }

    /// Registers a trusted phone number with the code of a `phoneNumberCertification` SMS
    /// (`set pims.authentication.smscode`, `addPhoneNumber`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.add_phone_number("+33612345678", &pims_types::Secret::new("123456")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_phone_number(
        &self,
        phone_number: &str,
        sms_code: &Secret,
    ) -> Result<(), Error> {
        let params = Parameters::new()
            .with("action", "addPhoneNumber")
            .with("phoneNumber", phone_number)
            .with_secret("smsCode", sms_code);
        self.typed(Verb::Set, Api::SmsCode, params, |_| Ok(()))
            .await
    }

    /// Replaces the trusted phone number (`modifyPhoneNumber`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.modify_phone_number("+33698765432", &pims_types::Secret::new("123456")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn modify_phone_number(
        &self,
        phone_number: &str,
        sms_code: &Secret,
    ) -> Result<(), Error> {
        let params = Parameters::new()
            .with("type", "modifyPhoneNumber")
            .with("phoneNumber", phone_number)
            .with_secret("smsCode", sms_code);
        self.typed(Verb::Set, Api::SmsCode, params, |_| Ok(()))
            .await
    }

    /// Checks an enrolment SMS code (not consumed) and says whether the account has a PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let status = pims.check_enrollment_sms_code(&pims_types::Secret::new("123456")).await?;
    /// # let _ = status; Ok(()) }
    /// ```
    pub async fn check_enrollment_sms_code(
        &self,
        sms_code: &Secret,
    ) -> Result<EnrollmentStatus, Error> {
        let params = Parameters::new()
            .with("action", "enrollment")
            .with_secret("smsCode", sms_code);
        self.typed(Verb::Set, Api::SmsCode, params, |v| {
            match string_field(v.as_ref(), "status")?.as_str() {
                "NotEnrolled" => Ok(EnrollmentStatus::NotEnrolled),
                "AlreadyEnrolled" => Ok(EnrollmentStatus::AlreadyEnrolled),
                _ => Err(invalid_data(
                    "$.result.status",
                    "expected NotEnrolled or AlreadyEnrolled",
                )),
            }
        })
        .await
    }

    /// Whether this device is enrolled for strong authentication.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let enrolled = pims.is_device_activated().await?;
    /// # let _ = enrolled; Ok(()) }
    /// ```
    pub async fn is_device_activated(&self) -> Result<bool, Error> {
        let params = Parameters::new()
            .with("actionType", "strong")
            .with("type", "isDeviceActivated");
        self.typed(Verb::Get, Api::Account, params, |v| {
            bool_field(v.as_ref(), "isDeviceActivated")
        })
        .await
    }

    /// Whether the account is blocked (check before spending an SMS on enrolment).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// if pims.account_blocked().await? == pims::AccountBlocked::PinBlocked {
    ///     pims.remove_enrollments().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn account_blocked(&self) -> Result<AccountBlocked, Error> {
        let params = Parameters::new()
            .with("actionType", "strong")
            .with("type", "isAccountBlocked");
        self.typed(Verb::Get, Api::Account, params, |v| {
            Ok(
                match string_field(v.as_ref(), "isAccountBlocked")?.as_str() {
                    "PinBlocked" => AccountBlocked::PinBlocked,
                    "NotBlocked" => AccountBlocked::NotBlocked,
                    _ => AccountBlocked::Unknown,
                },
            )
        })
        .await
    }

    /// Enrols this device (registers the PIN when the account had none).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims_types::Secret;
    /// pims.enroll(&Secret::new("1234"), &Secret::new("123456")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enroll(&self, pin: &Secret, sms_code: &Secret) -> Result<(), Error> {
        let params = Parameters::new()
            .with("action", "enroll")
            .with_secret("pinCode", pin)
            .with_secret("smsCode", sms_code);
        self.typed(Verb::Set, Api::Enrollment, params, |_| Ok(()))
            .await
    }

    /// Registers the phone, the PIN and this device in one go (with the code of a
    /// `phoneNumberCertification` SMS).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims_types::Secret;
    /// pims.enroll_with_phone_number(&Secret::new("1234"), &Secret::new("123456"), "+33612345678").await?;
    /// # Ok(()) }
    /// ```
    pub async fn enroll_with_phone_number(
        &self,
        pin: &Secret,
        sms_code: &Secret,
        phone_number: &str,
    ) -> Result<(), Error> {
        let params = Parameters::new()
            .with("action", "enrollWithPhoneNumber")
            .with_secret("pinCode", pin)
            .with_secret("smsCode", sms_code)
            .with("phoneNumber", phone_number);
        self.typed(Verb::Set, Api::Enrollment, params, |_| Ok(()))
            .await
    }

    /// Removes every enrolment of the account (the way out of 2317 on enrolment).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.remove_enrollments().await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_enrollments(&self) -> Result<(), Error> {
        let params = Parameters::new().with("action", "remove");
        self.typed(Verb::Set, Api::Enrollment, params, |_| Ok(()))
            .await
    }

    /// Resets the PIN with the code of a `resetPIN` SMS.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims_types::Secret;
    /// pims.reset_pin(&Secret::new("4321"), &Secret::new("123456")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reset_pin(&self, new_pin: &Secret, sms_code: &Secret) -> Result<(), Error> {
        let params = Parameters::new()
            .with("action", "reset")
            .with_secret("pinCode", new_pin)
            .with_secret("smsCode", sms_code);
        self.typed(Verb::Set, Api::PinCode, params, |_| Ok(()))
            .await
    }

    /// Changes the PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// use pims_types::Secret;
    /// pims.update_pin(&Secret::new("1234"), &Secret::new("4321")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_pin(&self, old_pin: &Secret, new_pin: &Secret) -> Result<(), Error> {
        let params = Parameters::new()
            .with("action", "update")
            .with_secret("oldPIN", old_pin)
            .with_secret("newPIN", new_pin);
        self.typed(Verb::Set, Api::PinCode, params, |_| Ok(()))
            .await
    }

    /// An OTP with the PIN (2312/2317 invalidate this device's cached steps, by policy).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let otp = pims.otp_with_pin(&pims_types::Secret::new("1234")).await?;
    /// # let _ = otp; Ok(()) }
    /// ```
    pub async fn otp_with_pin(&self, pin: &Secret) -> Result<Secret, Error> {
        let core = self.core()?;
        let pin = pin.clone();
        let tid = TransactionId::generate();
        let span = crate::facade::call_span(Verb::Get, Api::Otp.name(), &tid);
        self.run(tracing::Instrument::instrument(
            async move {
                let ctx = core.ctx(tid);
                let (core, ctx, pin) = (&core, &ctx, &pin);
                core.guarded(ctx, Api::Otp, &Parameters::new(), || async move {
                    core.otp_with_pin(pin, ctx).await
                })
                .await
            },
            span,
        ))
        .await
    }

    /// An OTP without the PIN.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let otp = pims.otp_without_pin().await?;
    /// # let _ = otp; Ok(()) }
    /// ```
    pub async fn otp_without_pin(&self) -> Result<Secret, Error> {
        let params = Parameters::new().with("action", "withoutPIN");
        self.typed(Verb::Get, Api::Otp, params, |v| {
            otp_from_result(&v.unwrap_or(Value::Null))
        })
        .await
    }

    /// Selects the vehicle of the next vehicle calls (`set pims.vehicle.vin`).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// pims.select_vehicle(&pims_types::Vin::parse("VR1AB12C3D4567890")?).await?;
    /// # Ok(()) }
    /// ```
    pub async fn select_vehicle(&self, vin: &Vin) -> Result<(), Error> {
        let params = Parameters::new().with("vin", vin.as_str());
        self.typed(Verb::Set, Api::VehicleVin, params, |_| Ok(()))
            .await
    }

    /// The CarKey status of the selected vehicle.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let status = pims.car_key_status().await?;
    /// println!("verified: {}", status.verified);
    /// # Ok(()) }
    /// ```
    pub async fn car_key_status(&self) -> Result<CarKeyStatus, Error> {
        self.typed(Verb::Get, Api::CarKey, Parameters::new(), |v| {
            let v = v.ok_or_else(|| no_data("carkey"))?;
            Ok(CarKeyStatus {
                verified: bool_field(Some(&v), "isCarKeyVerified")?,
                cvs_status: CvsStatus::parse(
                    v.get("cvsStatus")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown"),
                ),
                max_reactivation_date: v
                    .get("maxReactivationDate")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
        })
        .await
    }

    /// Activates the CarKey of the selected vehicle (the phone must be paired with it: else 2342).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let key = pims.activate_car_key().await?;
    /// assert!(key.has_car_key);
    /// # Ok(()) }
    /// ```
    pub async fn activate_car_key(&self) -> Result<CarKeyActivation, Error> {
        self.typed(Verb::Set, Api::CarKey, Parameters::new(), |v| {
            let v = v.ok_or_else(|| no_data("carkey"))?;
            let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
            Ok(CarKeyActivation {
                has_car_key: bool_field(Some(&v), "hasCarKey")?,
                vin: text("vin"),
                security_code: text("securityCode").map(Secret::new),
                security_expiration: text("securityExpiration"),
            })
        })
        .await
    }
}

/// The `otp` of an OTP result, as a secret.
pub(crate) fn otp_from_result(v: &Value) -> Result<Secret, Error> {
    string_field(Some(v), "otp").map(Secret::new)
}

pub(crate) fn no_data(what: &str) -> Error {
    invalid_data("$.result", &format!("no {what} in the answer"))
}

fn invalid_data(path: &str, message: &str) -> Error {
    Error::from(pims_types::Error::decode(path, message))
}

fn string_field(v: Option<&Value>, key: &str) -> Result<String, Error> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid_data(&format!("$.result.{key}"), "expected a string"))
}

fn bool_field(v: Option<&Value>, key: &str) -> Result<bool, Error> {
    // The same leniency as parameters: a boolean, or "true"/"false".
    let fields = v
        .and_then(Value::as_object)
        .map(|m| Parameters::from(m.clone()))
        .unwrap_or_default();
    match fields.boolean(key, &[]) {
        Ok(Some(b)) => Ok(b),
        _ => Err(invalid_data(
            &format!("$.result.{key}"),
            "expected a boolean",
        )),
    }
}
