//! `deviceActivation`: enrolled already? blocked? (checked before an SMS is spent), then an
//! enrolment SMS to the trusted number, its check (does the account have a PIN?), then the
//! enrolment with the PIN (`--pin`, or asked without echo).

use pims::{AccountBlocked, ApiError, EnrollmentStatus, ErrorCode, Pin, Remedy};

use super::input::{PIN_FLAG, check_pin};
use super::{Activation, SmsTo};
use crate::failure::Failure;
use crate::prompt::Prompter;

/// The way out of a blocked account, in words.
fn blocked(error: ApiError) -> Failure {
    Failure::failed(error)
        .with_advice(Remedy::RemoveEnrollments.advice())
        .with_hint(
            "the account is blocked (too many enrolled devices, or too many wrong PINs): remove \
             all enrolments with `pims call set pims.authentication.enrollment action=remove`, \
             then start again with `pims activate`",
        )
}

impl Activation<'_> {
    /// The PIN, asked when `--pin` was not given (twice when it becomes the account's).
    fn ask_pin(&mut self, status: EnrollmentStatus) -> Result<Pin, Failure> {
        let prompter = self.prompter;
        let asked = self.progress.suspend(|| {
            let flag = PIN_FLAG;
            match status {
                EnrollmentStatus::AlreadyEnrolled => {
                    prompter.secret("The account's PIN", flag, "the PIN")
                }
                EnrollmentStatus::NotEnrolled => {
                    let first = prompter.secret(
                        "Choose the account's PIN (4 to 8 digits)",
                        flag,
                        "a PIN",
                    )?;
                    check_pin(first.expose(), "the PIN typed")?;
                    let again = prompter.secret("The same PIN again", flag, "the PIN")?;
                    if again != first {
                        return Err(Failure::usage(
                            "the two PINs differ: run pims activate again",
                        ));
                    }
                    Ok(first)
                }
            }
        });
        match asked.and_then(|p| check_pin(p.expose(), "the PIN typed")) {
            Ok(pin) => Ok(pin),
            Err(f) => Err(self.stop(f)),
        }
    }

    /// `deviceActivation`.
    pub(super) async fn device(&mut self) -> Result<(), Failure> {
        let pims = &self.session.pims;
        self.progress
            .doing("checking whether this device is enrolled");
        match pims.activation().is_device_activated().send().await {
            Ok(true) => {
                self.progress.done("this device is already enrolled");
                return Ok(());
            }
            Ok(false) => {}
            Err(e) => return Err(self.fail(&e)),
        }
        self.progress
            .doing("checking that the account is not blocked");
        match pims.activation().account_blocked().send().await {
            Ok(AccountBlocked::PinBlocked) => {
                return Err(self.stop(blocked(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION))));
            }
            Ok(_) => {}
            Err(e) => return Err(self.fail(&e)),
        }
        // Without a terminal a missing PIN stops the run here, before an SMS is spent.
        if self.pin.is_none() && !self.prompter.interactive() {
            return Err(self.stop(Prompter::missing(PIN_FLAG, "the PIN (4 to 8 digits)")));
        }
        let phone = match pims.activation().trusted_phone_number().send().await {
            Ok(Some(p)) => p,
            Ok(None) => {
                return Err(self.stop(Failure::code(
                    ErrorCode::NO_PHONE_NUMBER,
                    &[],
                    "the enrolment SMS goes to the account's trusted phone number: run pims \
                     activate again with --phone NUMBER to register one first",
                )));
            }
            Err(e) => return Err(self.fail(&e)),
        };
        let code = self.sms_code(SmsTo::Trusted(&phone)).await?;
        self.progress.doing("checking the SMS code");
        let status = match self
            .session
            .pims
            .activation()
            .check_enrollment_sms_code(code.clone())
            .send()
            .await
        {
            Ok(s) => s,
            Err(e) => return Err(self.fail(&e)),
        };
        let pin = match self.pin.clone() {
            Some(p) => p,
            None => self.ask_pin(status)?,
        };
        self.progress.note(match status {
            EnrollmentStatus::NotEnrolled => {
                "the account has no PIN yet: this PIN becomes the account's PIN"
            }
            EnrollmentStatus::AlreadyEnrolled => "the account has a PIN: checking the one given",
        });
        self.progress.doing("enrolling this device");
        match self
            .session
            .pims
            .activation()
            .enroll(pin, code)
            .send()
            .await
        {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::FORBIDDEN_OPERATION => {
                let failure = self.fail(&e);
                let Failure::Failed { error, .. } = failure else {
                    return Err(failure);
                };
                return Err(blocked(error));
            }
            Err(e) if e.code() == ErrorCode::ACCESS_REFUSED => {
                return Err(self.fail(&e).with_hint(
                    "wrong PIN for this account: after a few wrong PINs in a row the account is \
                     blocked",
                ));
            }
            Err(e) => return Err(self.fail(&e)),
        }
        self.progress
            .done("this device is enrolled for strong authentication");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::style::Style;

    #[test]
    fn a_blocked_account_says_remove_all_enrolments() {
        let f = blocked(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION));
        let text = f.render(&Style::plain());
        assert!(text.starts_with("error 2317:"), "{text}");
        assert!(text.contains("remove all enrolments"), "{text}");
        assert!(text.contains("action=remove"), "{text}");
    }
}
