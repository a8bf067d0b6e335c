//! The SMS outbox: sending codes (with the hourly quota), checking them without consuming,
//! consuming them, and listing them for the admin API.

use rand::Rng;
use serde_json::{Value, json};

use pims_types::{ApiError, ErrorCode, Secret, mask};

use crate::clock::rfc3339;
use crate::failure::Failure;
use crate::model::Model;
use crate::scenario::{SMS_CODE_DIGITS, SmsPurpose, SmsSpec, SmsState};

/// The quota window: one sliding hour.
const QUOTA_WINDOW_MS: u64 = 3_600_000;

/// Codes older than this are dropped from the outbox (longer than any validity and the window).
const OUTBOX_RETENTION_MS: u64 = 24 * 3_600_000;

/// The `subCode` entry of the quota answer.
pub(crate) const QUOTA_SUB_CODE: &str = "SMS_QUOTA_EXCEEDED";

impl Failure {
    /// The answer to an SMS over the hourly quota: 2204 `Server Error` with a `subCode`
    /// explaining the quota, sent as HTTP 429 with `Retry-After`.
    pub(crate) fn quota(quota: u32, retry_after: u64) -> Failure {
        let error = ApiError::from_code(ErrorCode::SERVER_ERROR).with_sub_code(vec![json!({
            "code": QUOTA_SUB_CODE,
            "label": format!(
                "SMS quota exceeded: at most {quota} codes per phone number per hour; retry in {retry_after} s"
            ),
            "retryAfterSecs": retry_after,
        })]);
        Failure {
            error,
            retry_after: Some(retry_after),
        }
    }
}

impl Model {
    /// "Sends" a new code to `phone`: checks the quota, voids the pending code of the same
    /// purpose, and adds the new one to the outbox.
    pub(crate) fn send_sms(
        &mut self,
        phone: &str,
        purpose: SmsPurpose,
        now: u64,
    ) -> Result<(), Failure> {
        self.sms
            .retain(|m| m.sent_at_ms.saturating_add(OUTBOX_RETENTION_MS) > now);
        let window_start = now.saturating_sub(QUOTA_WINDOW_MS);
        let in_window: Vec<u64> = self
            .sms
            .iter()
            .filter(|m| m.phone_number == phone && m.sent_at_ms > window_start)
            .map(|m| m.sent_at_ms)
            .collect();
        let quota = self.settings.sms_hourly_quota;
        if in_window.len() >= quota as usize {
            let oldest = in_window.iter().copied().min().unwrap_or(now);
            let wait_ms = oldest.saturating_add(QUOTA_WINDOW_MS).saturating_sub(now);
            let retry_after = wait_ms.div_ceil(1000).max(1);
            tracing::warn!(phone = %mask(phone), quota, retry_after, "SMS quota exceeded");
            return Err(Failure::quota(quota, retry_after));
        }
        for m in &mut self.sms {
            if m.phone_number == phone && m.purpose == purpose && m.state == SmsState::Pending {
                m.state = SmsState::Voided;
            }
        }
        let id = self.sms.iter().map(|m| m.id).max().unwrap_or(0) + 1;
        let code: String = (0..SMS_CODE_DIGITS)
            .map(|_| char::from(b'0' + rand::rng().random_range(0..10u8)))
            .collect();
        let validity_ms = self.settings.sms_validity_secs.saturating_mul(1000);
        self.sms.push(SmsSpec {
            id,
            phone_number: phone.to_owned(),
            purpose,
            code: Secret::new(code),
            sent_at_ms: now,
            expires_at_ms: now.saturating_add(validity_ms),
            state: SmsState::Pending,
        });
        tracing::info!(phone = %mask(phone), purpose = purpose.as_str(), "SMS code sent");
        Ok(())
    }

    /// Checks a code against the pending one of (phone, purpose) without consuming it: the
    /// index of the outbox entry, or 2305 (invalid: wrong, used or replaced) / 2306 (expired).
    pub(crate) fn check_sms(
        &self,
        phone: &str,
        purpose: SmsPurpose,
        code: &Secret,
        now: u64,
    ) -> Result<usize, ApiError> {
        let pending = self.sms.iter().position(|m| {
            m.phone_number == phone && m.purpose == purpose && m.state == SmsState::Pending
        });
        match pending {
            Some(i) if self.sms[i].code == *code => {
                if now >= self.sms[i].expires_at_ms {
                    Err(ApiError::from_code(ErrorCode::SMS_CODE_EXPIRED))
                } else {
                    Ok(i)
                }
            }
            _ => Err(ApiError::from_code(ErrorCode::SMS_CODE_INVALID)),
        }
    }

    /// Marks a checked code as used.
    pub(crate) fn consume_sms(&mut self, index: usize) {
        if let Some(m) = self.sms.get_mut(index) {
            m.state = SmsState::Consumed;
        }
    }

    /// The outbox (for one number, or all), newest first, as the admin API shows it.
    pub(crate) fn outbox_json(&self, phone: Option<&str>, now: u64) -> Value {
        let mut items: Vec<&SmsSpec> = self
            .sms
            .iter()
            .filter(|m| phone.is_none_or(|p| m.phone_number == p))
            .collect();
        items.sort_by_key(|m| std::cmp::Reverse(m.id));
        let messages: Vec<Value> = items
            .into_iter()
            .map(|m| {
                let state = if m.state == SmsState::Pending && now >= m.expires_at_ms {
                    "expired"
                } else {
                    m.state.as_str()
                };
                json!({
                    "id": m.id,
                    "phoneNumber": m.phone_number,
                    "purpose": m.purpose.as_str(),
                    "code": m.code.expose(),
                    "state": state,
                    "sentAt": rfc3339(m.sent_at_ms),
                    "expiresAt": rfc3339(m.expires_at_ms),
                    "expiresInSecs": m.expires_at_ms.saturating_sub(now) / 1000,
                    "text": format!("Your PIMS {} code is {}. It expires at {}.",
                        m.purpose.as_str(), m.code.expose(), rfc3339(m.expires_at_ms)),
                })
            })
            .collect();
        json!({"phoneNumber": phone, "messages": messages})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn model() -> Model {
        Model::from_scenario(Scenario::default_scenario()).unwrap()
    }

    const PHONE: &str = crate::DEMO_PHONE_NUMBER;

    fn latest(m: &Model) -> Secret {
        m.sms.last().unwrap().code.clone()
    }

    #[test]
    fn check_does_not_consume_and_consume_does() {
        let mut m = model();
        m.send_sms(PHONE, SmsPurpose::Enrollment, 1_000).unwrap();
        let code = latest(&m);
        let i = m
            .check_sms(PHONE, SmsPurpose::Enrollment, &code, 2_000)
            .unwrap();
        assert!(
            m.check_sms(PHONE, SmsPurpose::Enrollment, &code, 2_000)
                .is_ok()
        );
        m.consume_sms(i);
        let e = m
            .check_sms(PHONE, SmsPurpose::Enrollment, &code, 2_000)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SMS_CODE_INVALID);
    }

    #[test]
    fn codes_expire_and_purposes_do_not_mix() {
        let mut m = model();
        m.send_sms(PHONE, SmsPurpose::Enrollment, 0).unwrap();
        let code = latest(&m);
        let e = m
            .check_sms(PHONE, SmsPurpose::ResetPin, &code, 1)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SMS_CODE_INVALID);
        let e = m
            .check_sms(PHONE, SmsPurpose::Enrollment, &code, 300_000)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::SMS_CODE_EXPIRED);
        assert!(
            m.check_sms(PHONE, SmsPurpose::Enrollment, &code, 299_999)
                .is_ok()
        );
    }

    #[test]
    fn a_new_code_voids_the_previous_one() {
        let mut m = model();
        m.send_sms(PHONE, SmsPurpose::Enrollment, 0).unwrap();
        let first = latest(&m);
        m.send_sms(PHONE, SmsPurpose::Enrollment, 10).unwrap();
        let second = latest(&m);
        if first != second {
            assert!(
                m.check_sms(PHONE, SmsPurpose::Enrollment, &first, 20)
                    .is_err()
            );
        }
        assert!(
            m.check_sms(PHONE, SmsPurpose::Enrollment, &second, 20)
                .is_ok()
        );
        assert_eq!(m.sms[0].state, SmsState::Voided);
    }

    #[test]
    fn the_quota_is_a_sliding_hour() {
        let mut m = model();
        for i in 0..10 {
            m.send_sms(PHONE, SmsPurpose::Enrollment, 1_000 + i * 1_000)
                .unwrap();
        }
        let e = m.send_sms(PHONE, SmsPurpose::ResetPin, 20_000).unwrap_err();
        assert_eq!(e.error.code, ErrorCode::SERVER_ERROR);
        // The first code leaves the window one hour after it was sent.
        assert_eq!(e.retry_after, Some(3_600 - 19));
        assert!(m.send_sms(PHONE, SmsPurpose::Enrollment, 3_601_001).is_ok());
        // Another number has its own quota.
        assert!(
            m.send_sms("+33600000000", SmsPurpose::Enrollment, 20_000)
                .is_ok()
        );
    }
}
