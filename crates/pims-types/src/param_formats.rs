//! The typed getters of [`Parameters`] for the values a user types ([`Pin`], [`SmsCode`],
//! [`PhoneNumber`]) and [`Parameters::check_formats`], each by its rule in `formats`: a bad
//! value is 2102 naming the parameter and never quoting it.

use std::ops::RangeInclusive;

use serde_json::Value;

use crate::error::Error;
use crate::formats::{
    PHONE_NUMBER_KEY, PHONE_NUMBER_REASON, PIN_DIGITS, PIN_KEYS, SMS_CODE_DIGITS, SMS_CODE_KEY,
    digits_reason,
};
use crate::keys;
use crate::params::Parameters;
use crate::query::Vin;
use crate::redact::Secret;
use crate::user_values::{PhoneNumber, Pin, SmsCode};

impl Parameters {
    /// A PIN parameter (`pinCode`, `oldPIN`, `newPIN`): a string of 4 to 8 digits, or an integer
    /// whose decimal digits are 4 to 8. Anything else is 2102 naming the parameter; the value
    /// never appears in the error. ([`Parameters::get_pin`] gives it as a [`Pin`].)
    ///
    /// ```
    /// use pims_types::Parameters;
    /// assert_eq!(Parameters::new().with("pinCode", 1234).pin("pinCode").unwrap().unwrap().expose(), "1234");
    /// let e = Parameters::new().with("pinCode", "123").pin("pinCode").unwrap_err();
    /// assert_eq!(e.to_string(), "Invalid pinCode parameter");
    /// ```
    pub fn pin(&self, name: &str) -> Result<Option<Secret>, Error> {
        Ok(self.get_pin(name)?.map(Pin::into_secret))
    }

    /// A PIN parameter as a [`Pin`] (the rule of [`Parameters::pin`]).
    ///
    /// ```
    /// use pims_types::Parameters;
    /// let p = Parameters::new().with("oldPIN", "0042");
    /// assert_eq!(p.get_pin("oldPIN").unwrap().unwrap().expose(), "0042");
    /// assert!(p.get_pin("newPIN").unwrap().is_none());
    /// ```
    pub fn get_pin(&self, name: &str) -> Result<Option<Pin>, Error> {
        self.digits_param(name, &PIN_DIGITS, |s| Pin::parse_as(name, s))
    }

    /// The `smsCode` parameter: a string of 4 to 10 digits (or an integer giving as many).
    ///
    /// ```
    /// use pims_types::Parameters;
    /// assert!(Parameters::new().with("smsCode", "123456").sms_code().unwrap().is_some());
    /// assert!(Parameters::new().with("smsCode", "12").sms_code().is_err());
    /// ```
    pub fn sms_code(&self) -> Result<Option<Secret>, Error> {
        Ok(self.get_sms_code()?.map(SmsCode::into_secret))
    }

    /// The `smsCode` parameter as an [`SmsCode`] (the rule of [`Parameters::sms_code`]).
    ///
    /// ```
    /// let p = pims_types::Parameters::new().with("smsCode", 1234567890u64);
    /// assert_eq!(p.get_sms_code().unwrap().unwrap().expose(), "1234567890");
    /// ```
    pub fn get_sms_code(&self) -> Result<Option<SmsCode>, Error> {
        self.digits_param(SMS_CODE_KEY, &SMS_CODE_DIGITS, SmsCode::parse)
    }

    /// The `phoneNumber` parameter, in E.164 form ([`is_phone_number`](crate::is_phone_number)).
    ///
    /// ```
    /// use pims_types::Parameters;
    /// let p = Parameters::new().with("phoneNumber", "+33612345678");
    /// assert_eq!(p.phone_number().unwrap().as_deref(), Some("+33612345678"));
    /// assert!(Parameters::new().with("phoneNumber", "0612345678").phone_number().is_err());
    /// ```
    pub fn phone_number(&self) -> Result<Option<String>, Error> {
        Ok(self.get_phone_number()?.map(String::from))
    }

    /// The `phoneNumber` parameter as a [`PhoneNumber`] (the rule of
    /// [`Parameters::phone_number`]; a number that is not a string is refused too).
    ///
    /// ```
    /// let p = pims_types::Parameters::new().with("phoneNumber", 33612345678u64);
    /// assert_eq!(p.get_phone_number().unwrap_err().to_string(), "Invalid phoneNumber parameter");
    /// ```
    pub fn get_phone_number(&self) -> Result<Option<PhoneNumber>, Error> {
        match self.get(PHONE_NUMBER_KEY) {
            None => Ok(None),
            Some(Value::String(s)) => PhoneNumber::parse(s).map(Some),
            Some(_) => Err(Error::invalid(PHONE_NUMBER_KEY, PHONE_NUMBER_REASON)),
        }
    }

    /// Checks every formatted parameter present (the PINs, `smsCode`, `phoneNumber`, `vin`):
    /// the first one that breaks its rule is the error. The SDK runs this before sending any
    /// call, so a typo is never sent (and never counted as a wrong PIN).
    ///
    /// ```
    /// use pims_types::Parameters;
    /// let p = Parameters::new().with("action", "withPIN").with("pinCode", "123456789");
    /// assert_eq!(p.check_formats().unwrap_err().to_string(), "Invalid pinCode parameter");
    /// assert!(Parameters::new().with("action", "withoutPIN").check_formats().is_ok());
    /// ```
    pub fn check_formats(&self) -> Result<(), Error> {
        for key in PIN_KEYS {
            self.pin(key)?;
        }
        self.sms_code()?;
        self.phone_number()?;
        match self.get(keys::VIN) {
            None => Ok(()),
            Some(Value::String(s)) => Vin::parse(s).map(|_| ()),
            Some(_) => Err(Error::invalid(keys::VIN, "expected a string")),
        }
    }

    /// A parameter of digits: a string, or a non-negative integer read as its decimal digits,
    /// judged by `parse` (the newtype's rule); any other JSON type is 2102 too.
    fn digits_param<T>(
        &self,
        name: &str,
        range: &RangeInclusive<usize>,
        parse: impl FnOnce(&str) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => parse(s).map(Some),
            Some(Value::Number(n)) if n.is_u64() => parse(&n.to_string()).map(Some),
            Some(_) => Err(Error::invalid(name, digits_reason(range))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_pins_keep_their_digits_only_when_4_to_8() {
        let p = |v: Value| Parameters::new().with("pinCode", v).pin("pinCode");
        assert_eq!(
            p(Value::from(12345678u64)).unwrap().unwrap().expose(),
            "12345678"
        );
        assert!(p(Value::from(123u64)).is_err());
        assert!(p(Value::from(123456789u64)).is_err());
        assert!(p(Value::from(-1234i64)).is_err());
        assert!(p(Value::from(12.5f64)).is_err());
        // Leading zeros survive in strings.
        assert_eq!(p(Value::from("0007")).unwrap().unwrap().expose(), "0007");
    }

    #[test]
    fn errors_never_show_the_value() {
        for key in PIN_KEYS.into_iter().chain([SMS_CODE_KEY]) {
            let e = Parameters::new()
                .with(key, "98765432109")
                .check_formats()
                .unwrap_err();
            assert_eq!(e.to_string(), format!("Invalid {key} parameter"));
            assert!(!format!("{e:?}").contains("98765432109"), "{e:?}");
        }
    }

    #[test]
    fn integer_phone_numbers_are_refused() {
        assert!(
            Parameters::new()
                .with("phoneNumber", 33612345678u64)
                .phone_number()
                .is_err()
        );
    }

    #[test]
    fn check_formats_names_the_first_bad_parameter() {
        let p = Parameters::new()
            .with("newPIN", "1")
            .with("smsCode", "x")
            .with("vin", "short");
        assert_eq!(
            p.check_formats().unwrap_err().to_string(),
            "Invalid newPIN parameter"
        );
        let vin = Parameters::new().with("vin", "VR1AB12C3D456789O");
        assert_eq!(
            vin.check_formats().unwrap_err().to_string(),
            "Invalid vin parameter"
        );
        assert!(
            Parameters::new()
                .with("vin", "VR1AB12C3D4567890")
                .with("pinCode", "1234")
                .with("smsCode", "123456")
                .with("phoneNumber", "+33612345678")
                .check_formats()
                .is_ok()
        );
    }
}
