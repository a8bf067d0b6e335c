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
//!
//! The files: `input` (what the user types, checked once), one per step (`phone`, `device`,
//! `car_key`); this one runs them in order and asks for SMS codes.

mod car_key;
mod device;
mod input;
mod phone;

use pims::{
    ErrorCode, PhoneNumber, Pin, SmsCode, SmsPurpose, StepName, StepStatus, StepsList, Vin, mask,
};

use super::answered;
use crate::failure::Failure;
use crate::progress::Progress;
use crate::prompt::Prompter;
use crate::render;
use crate::session::Session;
use crate::style::Style;

pub(crate) use input::Input;
use input::{SMS_CODE_FLAG, check_sms_code};

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
