//! What the user types for `pims activate` (flags, environment, standard input, prompts),
//! checked once into the facade's validated types; a message never echoes a secret.

use pims::types::{PIN_DIGITS, SMS_CODE_DIGITS};
use pims::{PhoneNumber, Pin, SmsCode, StepsSelector, Vin};

use crate::cli::ActivateArgs;
use crate::failure::Failure;

/// Where the non-interactive way to give the PIN is, for messages.
pub(super) const PIN_FLAG: &str = "the PIN in PIMS_PIN or on standard input with --pin-stdin";

/// Where the non-interactive way to give an SMS code is, for messages.
pub(super) const SMS_CODE_FLAG: &str = "the code in PIMS_SMS_CODE";

/// The longest line `--pin-stdin` reads (a PIN is at most 8 digits; more is not a PIN).
const PIN_LINE_CAP: u64 = 64;

/// A PIN ([`Pin::parse`]), given with `from`; never echoed in the message.
pub(super) fn check_pin(pin: &str, from: &str) -> Result<Pin, Failure> {
    Pin::parse(pin).map_err(|_| {
        Failure::usage(format!(
            "the PIN must be {} to {} digits ({from})",
            PIN_DIGITS.start(),
            PIN_DIGITS.end()
        ))
    })
}

/// A phone number in E.164 ([`PhoneNumber::parse`], the simulator's rule too).
pub(super) fn check_phone(phone: &str) -> Result<PhoneNumber, Failure> {
    PhoneNumber::parse(phone).map_err(|_| {
        Failure::usage(
            "the phone number must be in E.164 form: +, a country code not starting with 0, 8 to \
             15 digits in all, e.g. +33612345678 (--phone)",
        )
    })
}

/// An SMS code ([`SmsCode::parse`]); never echoed in the message.
pub(super) fn check_sms_code(code: &str) -> Result<SmsCode, Failure> {
    SmsCode::parse(code).map_err(|_| {
        Failure::usage(format!(
            "the SMS code must be {} to {} digits (--sms-code or PIMS_SMS_CODE)",
            SMS_CODE_DIGITS.start(),
            SMS_CODE_DIGITS.end()
        ))
    })
}

/// `--pin-stdin`: the first line of standard input (read without echo when it is a terminal).
fn pin_from_stdin() -> Result<Pin, Failure> {
    let line = crate::prompt::stdin_line("PIN", PIN_LINE_CAP)
        .map_err(|e| Failure::usage(format!("--pin-stdin: cannot read standard input ({e})")))?;
    if line.is_empty() {
        return Err(Failure::usage(
            "--pin-stdin: standard input holds no PIN: write it there, e.g. `pass show pims-pin \
             | pims activate ... --pin-stdin`",
        ));
    }
    check_pin(line.expose(), "--pin-stdin")
}

/// The PIN given: `--pin-stdin` (which replaces PIMS_PIN, not `--pin`), `--pin` or PIMS_PIN.
fn pin(args: &ActivateArgs) -> Result<Option<Pin>, Failure> {
    if args.pin_stdin {
        if args.pin.is_some() && !args.pin_from_env {
            return Err(Failure::usage(
                "give the PIN once: --pin-stdin or --pin, not both",
            ));
        }
        return pin_from_stdin().map(Some);
    }
    let from = if args.pin_from_env {
        "PIMS_PIN"
    } else {
        "--pin"
    };
    args.pin.as_deref().map(|p| check_pin(p, from)).transpose()
}

/// The flags of `activate`, checked before any backend is opened.
pub(crate) struct Input {
    pub(super) selector: StepsSelector,
    pub(super) car_association_id: String,
    pub(super) phone: Option<PhoneNumber>,
    pub(super) pin: Option<Pin>,
    pub(super) sms_code: Option<SmsCode>,
    pub(super) vin: Option<Vin>,
}

impl Input {
    /// Checks the flags (exit 2 naming the one at fault, never echoing a secret).
    pub(crate) fn check(args: &ActivateArgs) -> Result<Input, Failure> {
        Ok(Input {
            selector: StepsSelector::car_association_id(args.car_association_id.clone())
                .map_err(|e| Failure::usage(format!("--car-association-id: {e}")))?,
            car_association_id: args.car_association_id.clone(),
            phone: args.phone.as_deref().map(check_phone).transpose()?,
            pin: pin(args)?,
            sms_code: args.sms_code.as_deref().map(check_sms_code).transpose()?,
            vin: args
                .vin
                .as_deref()
                .map(|v| {
                    Vin::parse(v).map_err(|_| Failure::usage("a VIN is 17 characters (--vin)"))
                })
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked_without_echoing_secrets() {
        assert!(check_pin("1234", "--pin").is_ok());
        for bad in ["123", "123456789", "12a4"] {
            let Err(Failure::Usage(m)) = check_pin(bad, "PIMS_PIN") else {
                panic!("{bad} accepted")
            };
            assert!(!m.contains(bad), "{m}");
            assert!(m.contains("4 to 8 digits (PIMS_PIN)"), "{m}");
        }
        assert!(check_phone("+33612345678").is_ok());
        assert!(check_phone("0612345678").is_err());
        assert!(check_phone("+33").is_err());
        // The simulator's rule: a country code never starts with 0.
        assert!(check_phone("+033612345678").is_err());
        assert!(check_sms_code("123456").is_ok());
        let Err(Failure::Usage(m)) = check_sms_code("12x456") else {
            panic!()
        };
        assert!(!m.contains("12x456"));
    }
}
