//! The identifier and token rules shared by the scenario document, its checks, the admin
//! actions and the `Pims-Device-Id` header: one place, so that the schema, the checks and the
//! HTTP side say the same thing.

use crate::error::SimError;

/// The longest identifier (account id, device id, carAssociationID) accepted.
pub(crate) const MAX_ID_LEN: usize = 64;

/// The rule of [`is_identifier`] as the schemas state it, beside `1..=MAX_ID_LEN` (JSON Schema
/// counts characters where the simulator counts UTF-8 bytes: they agree on ASCII).
pub(crate) const DEVICE_ID_PATTERN: &str = "^[^\\s\\x00-\\x1f\\x7f-\\x9f]+$";

/// Checks an identifier: 1-64 bytes, no whitespace or control characters.
pub(crate) fn check_identifier(field: &str, s: &str) -> Result<(), SimError> {
    if s.is_empty() {
        return Err(SimError::scenario(field, "must not be empty"));
    }
    if s.len() > MAX_ID_LEN {
        return Err(SimError::scenario(
            field,
            format!("longer than {MAX_ID_LEN} bytes"),
        ));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SimError::scenario(
            field,
            "must not contain whitespace or control characters",
        ));
    }
    Ok(())
}

/// Whether a device id (the `Pims-Device-Id` header) is acceptable.
pub(crate) fn is_identifier(s: &str) -> bool {
    check_identifier("", s).is_ok()
}

/// Whether a token (an account's access token, the admin token) is acceptable: 1 to 256
/// printable ASCII characters without spaces.
pub(crate) fn is_valid_token(t: &str) -> bool {
    !t.is_empty() && t.len() <= 256 && t.bytes().all(|b| b.is_ascii_graphic())
}
