//! Parameter keys and their accepted aliases, and the keys of the activation APIs' results
//! (activation-apis.md): the one place their spellings are written. The SDK, the simulator and
//! the CLI read and write them through these constants.
//!
//! ```
//! use pims_types::{Parameters, keys};
//! // `set pims.authentication.enrollment {action: enroll, pinCode, smsCode}`
//! let p = Parameters::new()
//!     .with(keys::ACTION, "enroll")
//!     .with(keys::PIN_CODE, "1234")
//!     .with(keys::SMS_CODE, "123456");
//! assert_eq!(p.to_value(), serde_json::json!({"action": "enroll", "pinCode": "1234", "smsCode": "123456"}));
//! assert!(keys::PIN_KEYS.contains(&keys::NEW_PIN));
//! ```

/// `carAssociationID`.
pub const CAR_ASSOCIATION_ID: &str = "carAssociationID";
/// `stepsID`.
pub const STEPS_ID: &str = "stepsID";
/// Aliases of `stepsID`.
pub const STEPS_ID_ALIASES: &[&str] = &["stepsId"];
/// `vin`.
pub const VIN: &str = "vin";
/// `resetSteps`.
pub const RESET_STEPS: &str = "resetSteps";
/// Aliases of `resetSteps`.
pub const RESET_STEPS_ALIASES: &[&str] = &["resetStep"];
/// `stepsStatus`.
pub const STEPS_STATUS: &str = "stepsStatus";
/// Aliases of `stepsStatus`.
pub const STEPS_STATUS_ALIASES: &[&str] = &["stepStatus"];
// The parameters of the activation APIs.

/// `action`: the discriminator of most activation operations (`type` is accepted too).
pub const ACTION: &str = "action";
/// `type`: the discriminator of `get pims.authentication.smscode` and of the account checks.
pub const TYPE: &str = "type";
/// `actionType`: the level of `get pims.authentication.account` (always `strong`).
pub const ACTION_TYPE: &str = "actionType";
/// `pinCode`: the PIN (a secret).
pub const PIN_CODE: &str = "pinCode";
/// `oldPIN`: the current PIN of a PIN update (a secret).
pub const OLD_PIN: &str = "oldPIN";
/// `newPIN`: the new PIN of a PIN update (a secret).
pub const NEW_PIN: &str = "newPIN";
/// Every parameter key that holds a PIN.
pub const PIN_KEYS: [&str; 3] = [PIN_CODE, OLD_PIN, NEW_PIN];
/// `smsCode`: a code received by SMS (a secret).
pub const SMS_CODE: &str = "smsCode";
/// `phoneNumber`: a phone number in E.164 form (a parameter, and the result of
/// `get pims.authentication.trustedphonenumber`).
pub const PHONE_NUMBER: &str = "phoneNumber";

// The results of the activation APIs (`vin` and `phoneNumber` are above).

/// `isDeviceActivated` (bool), result of the `isDeviceActivated` account check.
pub const IS_DEVICE_ACTIVATED: &str = "isDeviceActivated";
/// `isAccountBlocked` (`Unknown` | `PinBlocked` | `NotBlocked`), result of the
/// `isAccountBlocked` account check.
pub const IS_ACCOUNT_BLOCKED: &str = "isAccountBlocked";
/// `status` (`NotEnrolled` | `AlreadyEnrolled`), result of `set pims.authentication.smscode`
/// enrollment.
pub const STATUS: &str = "status";
/// `otp` (a secret), result of `get pims.authentication.otp`.
pub const OTP: &str = "otp";
/// `isCarKeyVerified` (bool), result of `get pims.vehicle.carkey`.
pub const IS_CAR_KEY_VERIFIED: &str = "isCarKeyVerified";
/// `cvsStatus` (`unknown` | `active` | `suspended` | `disabled`), result of
/// `get pims.vehicle.carkey`.
pub const CVS_STATUS: &str = "cvsStatus";
/// `maxReactivationDate` (date-time, when suspended), result of `get pims.vehicle.carkey`.
pub const MAX_REACTIVATION_DATE: &str = "maxReactivationDate";
/// `hasCarKey` (bool), result of `set pims.vehicle.carkey`.
pub const HAS_CAR_KEY: &str = "hasCarKey";
/// `securityCode` (a secret), result of `set pims.vehicle.carkey`.
pub const SECURITY_CODE: &str = "securityCode";
/// `securityExpiration` (date-time), result of `set pims.vehicle.carkey`.
pub const SECURITY_EXPIRATION: &str = "securityExpiration";
