//! `pims activate`: fetch the list, resolve each `todo` step in order, end with the final list.
//!
//! - `trusterPhoneNumber`: an SMS code to the number (`--phone`, or asked), then
//!   `addPhoneNumber`.
//! - `deviceActivation`: enrolled already? blocked? (checked before an SMS is spent), then an
//!   enrolment SMS to the trusted number, its check (does the account have a PIN?), then the
//!   enrolment with the PIN (`--pin`, or asked without echo).
//! - `mediumCarKey`: the vehicle selected, then the CarKey activated. With the embedded
//!   simulator the simulated vehicle is paired with this device first (a simulator admin
//!   action, said on screen); otherwise the requirements are told and, on a terminal,
//!   confirmed.
//!
//! SMS codes: with the embedded simulator they are read from its outbox (said on screen);
//! otherwise `--sms-code` (used for the first code needed), or asked, or, without a terminal,
//! the command stops with exit 2 once the SMS is sent, asking to run it again with
//! `--sms-code`. A re-run resumes: steps already `alreadyDone` are skipped.
//!
//! With `--json`, progress goes to stderr and stdout gets one envelope: the final list, or the
//! FAILED message of the call that failed (with that call's transaction id).
//!
//! What the user types (a PIN, a phone number, an SMS code) is parsed once, where it is read,
//! into the facade's validated types (`pims::{Pin, PhoneNumber, SmsCode}`).

use pims::types::{PIN_DIGITS, SMS_CODE_DIGITS};
use pims::{
    AccountBlocked, ApiError, CvsStatus, EnrollmentStatus, ErrorCode, PhoneNumber, Pin, Remedy,
    SmsCode, SmsPurpose, StepName, StepStatus, StepsList, StepsSelector, Vin, mask,
};

use super::answered;
use crate::cli::ActivateArgs;
use crate::failure::Failure;
use crate::progress::Progress;
use crate::prompt::Prompter;
use crate::render;
use crate::session::Session;
use crate::style::Style;

/// Where the non-interactive way to give the PIN is, for messages.
const PIN_FLAG: &str = "the PIN in PIMS_PIN or on standard input with --pin-stdin";

/// Where the non-interactive way to give an SMS code is, for messages.
const SMS_CODE_FLAG: &str = "the code in PIMS_SMS_CODE";

/// The longest line `--pin-stdin` reads (a PIN is at most 8 digits; more is not a PIN).
const PIN_LINE_CAP: u64 = 64;

/// A PIN ([`Pin::parse`]), given with `from`; never echoed in the message.
fn check_pin(pin: &str, from: &str) -> Result<Pin, Failure> {
    Pin::parse(pin).map_err(|_| {
        Failure::usage(format!(
            "the PIN must be {} to {} digits ({from})",
            PIN_DIGITS.start(),
            PIN_DIGITS.end()
        ))
    })
}

/// A phone number in E.164 ([`PhoneNumber::parse`], the simulator's rule too).
fn check_phone(phone: &str) -> Result<PhoneNumber, Failure> {
    PhoneNumber::parse(phone).map_err(|_| {
        Failure::usage(
            "the phone number must be in E.164 form: +, a country code not starting with 0, 8 to \
             15 digits in all, e.g. +33612345678 (--phone)",
        )
    })
}

/// An SMS code ([`SmsCode::parse`]); never echoed in the message.
fn check_sms_code(code: &str) -> Result<SmsCode, Failure> {
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

/// Where an SMS code is sent.
#[derive(Clone, Copy)]
enum SmsTo<'p> {
    /// The number being certified (`phoneNumberCertification`: the request names it).
    Certify(&'p PhoneNumber),
    /// The account's trusted number, for enrolment (the backend knows it).
    Trusted(&'p str),
}

impl<'p> SmsTo<'p> {
    /// The number, for the simulator's outbox and (masked) for the screen.
    fn number(self) -> &'p str {
        match self {
            SmsTo::Certify(phone) => phone.as_str(),
            SmsTo::Trusted(phone) => phone,
        }
    }

    /// Why the code is asked for.
    fn purpose(self) -> SmsPurpose {
        match self {
            SmsTo::Certify(_) => SmsPurpose::PhoneNumberCertification,
            SmsTo::Trusted(_) => SmsPurpose::Enrollment,
        }
    }
}

/// One run of `activate`.
struct Activation<'a> {
    session: &'a Session,
    style: Style,
    progress: Progress,
    prompter: Prompter,
    car_association_id: String,
    phone: Option<PhoneNumber>,
    pin: Option<Pin>,
    /// `--sms-code`, until a step uses it.
    sms_code: Option<SmsCode>,
    vin: Option<Vin>,
}

impl Activation<'_> {
    /// A facade error: the spinner stops, and with `--json` the call's FAILED envelope (its
    /// transaction id included) is printed.
    fn fail(&mut self, e: &pims::Error) -> Failure {
        self.progress.finish_spinner();
        if self.style.json {
            render::out_line(&render::json_line(&e.to_message()));
        }
        let failure = Failure::from_pims(e);
        // The facade's detail (a path, a pid, a transport cause) never holds a secret.
        match self
            .session
            .hint_for(e.code())
            .or_else(|| e.detail().map(str::to_owned))
        {
            Some(hint) => failure.with_hint(hint),
            None => failure,
        }
    }

    /// A failure of the CLI's own (usage, blocked account): the spinner stops first.
    fn stop(&mut self, failure: Failure) -> Failure {
        self.progress.finish_spinner();
        failure
    }

    /// The SMS code sent `to` a number: `--sms-code` once, else a new SMS read from the
    /// embedded simulator's outbox, or asked for.
    async fn sms_code(&mut self, to: SmsTo<'_>) -> Result<SmsCode, Failure> {
        if let Some(code) = self.sms_code.take() {
            self.progress
                .note("using the SMS code given (--sms-code or PIMS_SMS_CODE)");
            return Ok(code);
        }
        let phone = to.number();
        self.progress
            .doing(&format!("requesting an SMS code for {}", mask(phone)));
        let activation = self.session.pims.activation();
        let request = match to {
            SmsTo::Certify(number) => activation.certify_phone_number(number.clone()),
            _ => activation.request_sms_code(to.purpose()),
        };
        if let Err(e) = request.send().await {
            return Err(self.fail(&e));
        }
        if let Some(sim) = &self.session.sim {
            return match sim.latest_sms_code(phone).map(SmsCode::try_from) {
                Some(Ok(code)) => {
                    self.progress.note(&format!(
                        "read the SMS code sent to {} from the embedded simulator's outbox",
                        mask(phone)
                    ));
                    Ok(code)
                }
                // A code the SDK would refuse to send: refused as the facade refuses it (2102).
                Some(Err(e)) => Err(self.fail(&pims::Error::from(e))),
                None => Err(self.stop(Failure::code(
                    ErrorCode::UNKNOWN,
                    &[],
                    "the embedded simulator shows no SMS code for that number: run `pims sim \
                     reset` and try again",
                ))),
            };
        }
        if !self.prompter.interactive() {
            return Err(self.stop(Failure::usage(format!(
                "an SMS code was sent to {}: run the same command again with {SMS_CODE_FLAG} (or \
                 --sms-code CODE, which other local users can read)",
                mask(phone)
            ))));
        }
        let prompter = self.prompter;
        let question = format!("SMS code sent to {}", mask(phone));
        self.progress
            .suspend(|| prompter.secret(&question, SMS_CODE_FLAG, "the SMS code"))
            .and_then(|code| check_sms_code(code.expose()))
    }

    /// `trusterPhoneNumber`.
    async fn trusted_phone(&mut self) -> Result<(), Failure> {
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
    async fn device(&mut self) -> Result<(), Failure> {
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

    /// The vehicle of the car association: the embedded simulator knows it; else `--vin`.
    fn vehicle(&mut self) -> Result<Vin, Failure> {
        if let Some(sim) = &self.session.sim {
            let vin = sim
                .state()
                .car_associations
                .iter()
                .find(|c| c.id == self.car_association_id)
                .map(|c| c.vin.clone());
            return match vin.map(|v| Vin::parse(&v)) {
                Some(Ok(vin)) => Ok(vin),
                _ => Err(self.stop(Failure::usage(format!(
                    "the embedded simulator has no car association {}: pass the vehicle with --vin",
                    self.car_association_id
                )))),
            };
        }
        if let Some(vin) = self.vin.clone() {
            return Ok(vin);
        }
        let prompter = self.prompter;
        let answer = self.progress.suspend(|| {
            prompter.line(
                "The vehicle's VIN (17 characters)",
                "--vin VIN",
                "the vehicle of the CarKey step",
            )
        });
        match answer.and_then(|v| {
            Vin::parse(&v).map_err(|_| Failure::usage("a VIN is 17 characters (--vin)"))
        }) {
            Ok(vin) => Ok(vin),
            Err(f) => Err(self.stop(f)),
        }
    }

    /// `mediumCarKey`.
    async fn car_key(&mut self) -> Result<(), Failure> {
        let vin = self.vehicle()?;
        let pims = &self.session.pims;
        self.progress
            .doing(&format!("selecting the vehicle {}", vin.masked()));
        if let Err(e) = pims.activation().select_vehicle(vin.clone()).send().await {
            return Err(self.fail(&e));
        }
        self.progress.doing("checking the CarKey");
        match pims.activation().car_key_status().send().await {
            Ok(status) if status.cvs_status == CvsStatus::Suspended => {
                let until = status
                    .max_reactivation_date
                    .map(|d| format!(" (it can be reactivated until {d})"))
                    .unwrap_or_default();
                self.progress.note(&format!(
                    "the CarKey is suspended{until}: activating it again"
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(self.fail(&e)),
        }
        let device_id = match pims.cache() {
            Ok(cache) => match cache.device_id().await {
                Ok(id) => id,
                Err(e) => return Err(self.fail(&e)),
            },
            Err(e) => return Err(self.fail(&e)),
        };
        match &self.session.sim {
            Some(sim) => {
                self.progress
                    .doing("pairing the simulated vehicle with this device");
                if let Err(e) = sim.pair_vehicle(vin.as_str(), &device_id).await {
                    return Err(self.stop(Failure::code(
                        ErrorCode::NOT_PAIRED,
                        &[],
                        format!("the embedded simulator could not pair the vehicle: {e}"),
                    )));
                }
                self.progress.note(&format!(
                    "paired the simulated vehicle {} with this device: a simulator admin action \
                     standing in for Bluetooth pairing in the car",
                    vin.masked()
                ));
            }
            None => {
                self.progress.note(
                    "the CarKey proves you hold the vehicle's keys: pair this phone with the \
                     vehicle over Bluetooth, turn Bluetooth and location on, and be inside the \
                     vehicle with its key",
                );
                // The VIN is shown masked like everywhere on screen: the user gave it (--vin).
                self.progress.note(&format!(
                    "this device's id is {device_id} (a pims-sim pairs it with POST \
                     /admin/vehicles/VIN/pair, VIN being the vehicle's, {})",
                    vin.masked()
                ));
                let prompter = self.prompter;
                if !self
                    .progress
                    .suspend(|| prompter.confirm("Ready to activate the CarKey?"))
                {
                    return Err(self.stop(Failure::usage(
                        "CarKey activation stopped: run pims activate again when ready",
                    )));
                }
            }
        }
        self.progress.doing("activating the CarKey");
        match self
            .session
            .pims
            .activation()
            .activate_car_key()
            .send()
            .await
        {
            Ok(key) if key.has_car_key => {}
            Ok(_) => {
                return Err(self.stop(Failure::code(
                    ErrorCode::NOT_PAIRED,
                    &[],
                    "the backend did not grant the CarKey: check the pairing and try again",
                )));
            }
            Err(e) if e.code() == ErrorCode::NOT_PAIRED => {
                return Err(self.fail(&e).with_hint(format!(
                    "pair this device ({device_id}) with the vehicle, then run pims activate again"
                )));
            }
            Err(e) => return Err(self.fail(&e)),
        }
        self.progress
            .done(&format!("the CarKey of {} is verified", vin.masked()));
        Ok(())
    }
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
    selector: StepsSelector,
    car_association_id: String,
    phone: Option<PhoneNumber>,
    pin: Option<Pin>,
    sms_code: Option<SmsCode>,
    vin: Option<Vin>,
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

/// `pims activate`.
pub(crate) async fn activate(
    session: &Session,
    style: &Style,
    input: Input,
) -> Result<(), Failure> {
    let Input {
        selector,
        car_association_id,
        phone,
        pin,
        sms_code,
        vin,
    } = input;
    let mut run = Activation {
        session,
        style: *style,
        progress: Progress::new(*style),
        prompter: Prompter::new(style.interactive),
        car_association_id,
        phone,
        pin,
        sms_code,
        vin,
    };

    let list: StepsList = match session.pims.steps(selector.clone()).send().await {
        Ok(steps) => steps.list,
        Err(e) => return Err(run.fail(&e)),
    };
    let todo: Vec<&str> = list
        .steps()
        .iter()
        .filter(|s| s.status == StepStatus::Todo)
        .map(|s| s.name.as_str())
        .collect();
    if todo.is_empty() {
        run.progress.say(&format!(
            "list {}: nothing to do, every step is alreadyDone",
            list.steps_id()
        ));
    } else {
        run.progress.say(&format!(
            "list {}: {} to do ({})",
            list.steps_id(),
            if todo.len() == 1 {
                "1 step".into()
            } else {
                format!("{} steps", todo.len())
            },
            todo.join(", ")
        ));
    }
    let total = list.len();
    for (i, step) in list.steps().iter().enumerate() {
        if step.status == StepStatus::AlreadyDone {
            continue;
        }
        run.progress.start(i + 1, total, step.name.as_str());
        match &step.name {
            StepName::TrusterPhoneNumber => run.trusted_phone().await?,
            StepName::DeviceActivation => run.device().await?,
            StepName::MediumCarKey => run.car_key().await?,
            other => {
                run.progress.note(&format!(
                    "pims activate does not know how to resolve {other}: see the service's \
                     documentation"
                ));
                run.progress.finish_spinner();
            }
        }
    }

    // The final list (all steps, no reset): its table and its `--json` envelope from one call.
    let answer = session.pims.steps(selector).send_with_envelope().await;
    if !style.json {
        run.progress.say("");
    }
    answered(session, style, answer, |steps| {
        let mut out = render::steps_table(style, &steps.list);
        if !steps.all_done() {
            out.push_str("some steps are still todo: run pims activate again to resume\n");
        }
        out
    })
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

    #[test]
    fn a_blocked_account_says_remove_all_enrolments() {
        let f = blocked(ApiError::from_code(ErrorCode::FORBIDDEN_OPERATION));
        let text = f.render(&Style::plain());
        assert!(text.starts_with("error 2317:"), "{text}");
        assert!(text.contains("remove all enrolments"), "{text}");
        assert!(text.contains("action=remove"), "{text}");
    }
}
