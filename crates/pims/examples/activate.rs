//! Walks the documentation's example from `todo` to `alreadyDone` against a simulator started
//! in-process: SMS code + PIN enrolment, then CarKey (the simulated vehicle is paired with this
//! device by the simulator's admin API, standing in for Bluetooth).
//!
//! ```sh
//! cargo run -p pims --example activate
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pims::{
    EnrollmentStatus, PhoneNumber, Pims, Pin, Secret, SmsCode, SmsPurpose, StepName, StepsSelector,
    Vin,
};
use pims_sim::{DEMO_PHONE_NUMBER, DEMO_PIN, DEMO_TOKEN, DEMO_VIN, SimConfig, SimServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = SimServer::start(SimConfig::default()).await?;
    let cache = tempfile::tempdir()?;
    let pims = Pims::builder()
        .base_url(sim.base_url())
        .token(Secret::new(DEMO_TOKEN))
        .cache_dir(cache.path())
        .account("demo")
        .build()?;
    let list = StepsSelector::car_association_id("987654")?;

    loop {
        let steps = pims.steps(list.clone()).send().await?;
        let Some(next) = pims.next_step(steps.steps_id().as_str()).send().await? else {
            println!("all steps alreadyDone: the service can be used");
            break;
        };
        println!("doing {} (order {})", next.name, next.order);
        let activation = pims.activation();
        match next.name {
            StepName::TrusterPhoneNumber => {
                let phone = PhoneNumber::parse(DEMO_PHONE_NUMBER)?;
                activation
                    .certify_phone_number(phone.clone())
                    .send()
                    .await?;
                let code = sim
                    .latest_sms_code(DEMO_PHONE_NUMBER)
                    .expect("an SMS was sent");
                let code = SmsCode::parse(code.expose())?; // as the user would type it
                activation.add_phone_number(phone, code).send().await?;
            }
            StepName::DeviceActivation => {
                // Check before spending an SMS: a blocked account needs its enrolments removed.
                if activation.account_blocked().send().await? == pims::AccountBlocked::PinBlocked {
                    activation.remove_enrollments().send().await?;
                }
                activation
                    .request_sms_code(SmsPurpose::Enrollment)
                    .send()
                    .await?;
                let code = sim
                    .latest_sms_code(DEMO_PHONE_NUMBER)
                    .expect("an SMS was sent");
                let code = SmsCode::parse(code.expose())?;
                let status = activation
                    .check_enrollment_sms_code(code.clone())
                    .send()
                    .await?;
                println!(
                    "  account PIN: {}",
                    match status {
                        EnrollmentStatus::NotEnrolled => "none yet, registering it",
                        EnrollmentStatus::AlreadyEnrolled => "exists, checking it",
                    }
                );
                activation
                    .enroll(Pin::parse(DEMO_PIN)?, code)
                    .send()
                    .await?;
            }
            StepName::MediumCarKey => {
                sim.pair_vehicle(DEMO_VIN, &pims.cache()?.device_id().await?)
                    .await?;
                activation
                    .select_vehicle(Vin::parse(DEMO_VIN)?)
                    .send()
                    .await?;
                let key = activation.activate_car_key().send().await?;
                println!("  CarKey active: {}", key.has_car_key);
            }
            StepName::Other(ref name) => return Err(format!("unknown step {name}").into()),
        }
    }
    for step in pims.steps(list).send().await?.steps() {
        println!(
            "  {} {:<20} {}",
            step.order,
            step.name.as_str(),
            step.status
        );
    }
    sim.shutdown().await;
    Ok(())
}
