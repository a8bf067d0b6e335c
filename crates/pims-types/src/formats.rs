//! One format rule each for the values a user types (activation-apis.md, "Formats"): a PIN, an
//! SMS code, a phone number; a VIN is [`Vin`](crate::Vin). The SDK checks them before sending,
//! the simulator on receipt and the CLI on input, so a typo is 2102 `Invalid <param> parameter`
//! everywhere and never reaches the backend, where a malformed PIN would count as a wrong one.
//! The types built by these rules are `user_values`'; the [`Parameters`](crate::Parameters)
//! getters that apply them are `param_formats`'.

use std::ops::RangeInclusive;

use crate::keys;

/// How many digits a PIN has.
pub const PIN_DIGITS: RangeInclusive<usize> = 4..=8;

/// How many digits the SDK accepts in an SMS code (the backend decides; the simulator issues 6).
pub const SMS_CODE_DIGITS: RangeInclusive<usize> = 4..=10;

/// The parameter keys that hold a PIN ([`keys::PIN_KEYS`]).
pub const PIN_KEYS: [&str; 3] = keys::PIN_KEYS;

/// The parameter key of an SMS code ([`keys::SMS_CODE`]).
pub const SMS_CODE_KEY: &str = keys::SMS_CODE;

/// The parameter key of a phone number ([`keys::PHONE_NUMBER`]).
pub const PHONE_NUMBER_KEY: &str = keys::PHONE_NUMBER;

/// Whether `s` is a PIN: 4 to 8 ASCII digits (leading zeros are digits like the others).
///
/// ```
/// assert!(pims_types::is_pin("0123"));
/// assert!(!pims_types::is_pin("123") && !pims_types::is_pin("123456789") && !pims_types::is_pin("12a4"));
/// ```
pub fn is_pin(s: &str) -> bool {
    digits_in(s, &PIN_DIGITS)
}

/// Whether `s` is an SMS code the SDK sends on: 4 to 10 ASCII digits.
///
/// ```
/// assert!(pims_types::is_sms_code("123456"));
/// assert!(!pims_types::is_sms_code("12 34"));
/// ```
pub fn is_sms_code(s: &str) -> bool {
    digits_in(s, &SMS_CODE_DIGITS)
}

/// Whether `s` is a phone number in E.164 form: `+`, a country code not starting with 0, 8 to
/// 15 digits in all, no spaces.
///
/// ```
/// assert!(pims_types::is_phone_number("+33612345678"));
/// assert!(!pims_types::is_phone_number("+033612345678")); // a country code never starts with 0
/// assert!(!pims_types::is_phone_number("0612345678"));
/// ```
pub fn is_phone_number(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Why a phone number was refused (logs and developers; the label only names the parameter).
pub(crate) const PHONE_NUMBER_REASON: &str =
    "expected an E.164 number: +, a country code not starting with 0, 8 to 15 digits";

/// Why a string of digits was refused.
pub(crate) fn digits_reason(range: &std::ops::RangeInclusive<usize>) -> String {
    format!("expected {} to {} digits", range.start(), range.end())
}

fn digits_in(s: &str, range: &RangeInclusive<usize>) -> bool {
    range.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers() {
        assert!(is_phone_number("+12345678"));
        assert!(is_phone_number("+123456789012345"));
        assert!(!is_phone_number("+1234567"));
        assert!(!is_phone_number("+1234567890123456"));
        assert!(!is_phone_number("+33 612345678"));
        assert!(!is_phone_number("33612345678"));
    }
}
