//! `trusterPhoneNumber`: an SMS code to the number (`--phone`, or asked), then
//! `addPhoneNumber`.

use pims::mask;

use super::input::check_phone;
use super::{Activation, SmsTo};
use crate::failure::Failure;

impl Activation<'_> {
    /// `trusterPhoneNumber`.
    pub(super) async fn trusted_phone(&mut self) -> Result<(), Failure> {
        self.progress
            .doing("looking for the account's trusted phone number");
        let current = match self
            .session
            .pims
            .activation()
            .trusted_phone_number()
            .send()
            .await
        {
            Ok(n) => n,
            Err(e) => return Err(self.fail(&e)),
        };
        if let Some(number) = current {
            self.progress
                .done(&format!("the account already trusts {}", mask(&number)));
            return Ok(());
        }
        let phone = match self.phone.clone() {
            Some(p) => p,
            None => {
                let prompter = self.prompter;
                let answer = self.progress.suspend(|| {
                    prompter.line(
                        "Phone number to trust (E.164, e.g. +33612345678)",
                        "--phone NUMBER",
                        "the phone number to trust",
                    )
                });
                match answer.and_then(|a| check_phone(&a)) {
                    Ok(p) => p,
                    Err(f) => return Err(self.stop(f)),
                }
            }
        };
        let code = self.sms_code(SmsTo::Certify(&phone)).await?;
        self.progress.doing("registering the phone number");
        let masked = phone.masked();
        if let Err(e) = self
            .session
            .pims
            .activation()
            .add_phone_number(phone, code)
            .send()
            .await
        {
            return Err(self.fail(&e));
        }
        self.progress.done(&format!(
            "{masked} is now the account's trusted phone number"
        ));
        Ok(())
    }
}
