//! Every public type of the activation vocabulary, built with canary secrets and identifiers:
//! its `Debug` output shows none of them (secrets hidden, identifiers masked).

use pims_types::{
    AccountBlocked, AccountCheck, ActivationResult, CarKeyActivation, CarKeyStatus, CvsStatus,
    DeviceActivated, EnrollmentAction, EnrollmentStatus, Otp, OtpAction, Parameters, PhoneNumber,
    Pin, PinCodeAction, RedactedJson, Secret, SmsCode, SmsCodeAction, SmsPurpose,
    TrustedPhoneNumber, redacted, redacted_masked,
};
use serde_json::json;

const PIN: &str = "73910284";
const SMS: &str = "5551234987";
const OTP: &str = "CANARY-OTP-1";
const SECURITY: &str = "CANARY-SECURITY-2";
const PHONE: &str = "+33699887766";
const VIN: &str = "VR1CANARY0VIN0123";

fn assert_hidden(shown: &str) {
    for canary in [PIN, SMS, OTP, SECURITY, PHONE, VIN] {
        assert!(!shown.contains(canary), "{canary} in {shown}");
    }
    // Masked identifiers keep no more than their last 3 characters.
    assert!(!shown.contains("99887"), "{shown}");
}

#[test]
fn no_debug_output_shows_a_canary() {
    let params = Parameters::new()
        .with("pinCode", PIN)
        .with("oldPIN", PIN)
        .with("newPIN", PIN)
        .with("smsCode", SMS)
        .with("phoneNumber", PHONE);
    let shown = [
        format!("{:?}", Pin::parse(PIN).unwrap()),
        format!("{:?}", Pin::parse_as("newPIN", PIN).unwrap()),
        format!("{:?}", SmsCode::parse(SMS).unwrap()),
        format!("{:?}", PhoneNumber::parse(PHONE).unwrap()),
        format!("{:?}", params.get_pin("oldPIN")),
        format!("{:?}", params.get_sms_code()),
        format!("{:?}", params.get_phone_number()),
        format!("{:?}", Otp::new(Secret::new(OTP))),
        format!(
            "{:?}",
            Otp::from_result(&json!({ "otp": OTP })).map(|o| o.into_secret())
        ),
        format!(
            "{:?}",
            TrustedPhoneNumber {
                phone_number: PHONE.into()
            }
        ),
        format!(
            "{:?}",
            CarKeyActivation::from_result(&json!({"hasCarKey": true, "vin": VIN,
                "securityCode": SECURITY, "securityExpiration": "2025-01-02T00:00:00Z"}))
        ),
        format!(
            "{:?}",
            CarKeyStatus {
                verified: true,
                cvs_status: CvsStatus::Other("x".into()),
                max_reactivation_date: None,
            }
        ),
        format!(
            "{:?}",
            (
                DeviceActivated(true),
                AccountBlocked::PinBlocked,
                EnrollmentStatus::NotEnrolled,
                SmsPurpose::Enrollment,
            )
        ),
        format!(
            "{:?}",
            (
                SmsCodeAction::Enrollment,
                EnrollmentAction::Enroll,
                PinCodeAction::Update,
                OtpAction::WithPin,
                AccountCheck::IsAccountBlocked,
            )
        ),
        format!("{:?}", RedactedJson(&params.to_value())),
        format!("{:?}", redacted_masked(&params.to_value())),
    ];
    for s in &shown {
        assert_hidden(s);
    }
    // `redacted` keeps identifiers (for an envelope a program reads) and hides the secrets.
    let kept = redacted(&json!({"otp": OTP, "pinCode": PIN, "phoneNumber": PHONE})).to_string();
    assert!(kept.contains(PHONE) && !kept.contains(OTP) && !kept.contains(PIN));
}

#[test]
fn parse_errors_never_show_the_value() {
    let errors = [
        format!("{:?}", Pin::parse("7391028")),
        format!("{:?}", Pin::parse("CANARY-PIN")),
        format!("{:?}", SmsCode::parse("CANARY-SMS")),
        format!("{:?}", PhoneNumber::parse("CANARY-PHONE")),
        format!(
            "{:?}",
            Parameters::new()
                .with("newPIN", "CANARY-NEW")
                .get_pin("newPIN")
        ),
    ];
    for e in &errors {
        assert!(!e.contains("CANARY") && !e.contains("7391028"), "{e}");
    }
}
