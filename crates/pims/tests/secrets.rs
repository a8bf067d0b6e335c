//! Canary secrets (token, PIN, SMS code, OTP) never reach logs at any level, Debug/Display
//! output, errors, or the cache directory — raw, base64 or hex encoded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine;
use pims::Pims;
use pims_sim::{DEMO_PHONE_NUMBER, DEMO_VIN, Scenario, SimConfig, SimServer};
use pims_types::{Parameters, Secret};
use support::{by_car, device_id};

const TOKEN: &str = "CANARYTOKEN7f3a9c";
// Eight digits: a shorter canary turns up by chance in the numbers a log is full of.
const PIN: &str = "73914628";
const WRONG_PIN: &str = "55520913";

fn encodings(secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret),
        hex::encode(secret),
    ]
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        for e in encodings(s) {
            assert!(!text.contains(&e), "{what} contains a secret ({e})");
        }
    }
}

fn files_text(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    out
}

#[test]
fn no_secret_in_logs_debug_errors_or_the_cache() {
    let (capture, _guard) = support::capture_logs();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut secrets: Vec<String> = vec![TOKEN.into(), PIN.into(), WRONG_PIN.into()];
    let mut shown = String::new();

    rt.block_on(async {
        let mut scenario = Scenario::default_scenario();
        scenario.accounts[0].tokens = vec![Secret::new(TOKEN)];
        let sim = SimServer::start(SimConfig::default().scenario(scenario))
            .await
            .unwrap();
        let pims = Pims::builder()
            .base_url(sim.base_url())
            .token(Secret::new(TOKEN))
            .cache_dir(cache.path())
            .account("canary")
            .build()
            .unwrap();
        shown.push_str(&format!("{pims:?}"));

        // Every flow: steps, enrolment with SMS + PIN, OTP, wrong PIN, CarKey, the verbs.
        let steps = pims.steps(by_car()).send().await.unwrap();
        shown.push_str(&format!("{steps:?}"));
        pims.activation()
            .request_sms_code(pims::SmsPurpose::Enrollment)
            .send()
            .await
            .unwrap();
        let sms = sim.latest_sms_code(DEMO_PHONE_NUMBER).unwrap();
        secrets.push(sms.expose().to_owned());
        shown.push_str(&format!("{sms:?}"));
        // The typed requests hold the PIN and the code until sent: their Debug hides them.
        let pin = pims::Pin::parse(PIN).unwrap();
        let code = pims::SmsCode::try_from(sms.clone()).unwrap();
        shown.push_str(&format!(
            "{:?} {:?} {pin:?} {code:?}",
            pims.activation().enroll(pin.clone(), code.clone()),
            pims.activation().enroll_with_phone_number(
                pin.clone(),
                code.clone(),
                pims::PhoneNumber::parse(DEMO_PHONE_NUMBER).unwrap()
            ),
        ));
        pims.activation()
            .check_enrollment_sms_code(pims::SmsCode::try_from(sms.clone()).unwrap())
            .send()
            .await
            .unwrap();
        pims.activation()
            .enroll(
                pims::Pin::parse(PIN).unwrap(),
                pims::SmsCode::try_from(sms.clone()).unwrap(),
            )
            .send()
            .await
            .unwrap();
        let otp = pims
            .activation()
            .otp_with_pin(pims::Pin::parse(PIN).unwrap())
            .send()
            .await
            .unwrap();
        secrets.push(otp.expose().to_owned());
        shown.push_str(&format!("{otp:?}"));
        let m = pims
            .get_async(
                "pims.authentication.otp",
                Parameters::new()
                    .with("action", "withPIN")
                    .with("pinCode", PIN),
            )
            .await;
        if let Some(v) = m
            .result()
            .and_then(|r| r.get("otp"))
            .and_then(|v| v.as_str())
        {
            secrets.push(v.to_owned());
        }
        shown.push_str(&format!("{m:?}"));
        let wrong = pims
            .activation()
            .otp_with_pin(pims::Pin::parse(WRONG_PIN).unwrap())
            .send()
            .await
            .unwrap_err();
        shown.push_str(&format!("{wrong:?} {wrong} {:?}", wrong.api_error()));
        let params = Parameters::new()
            .with("action", "enroll")
            .with("pinCode", PIN)
            .with("smsCode", sms.expose());
        shown.push_str(&format!("{params:?}"));
        let failed = pims
            .set_async("pims.authentication.enrollment", params)
            .await;
        shown.push_str(&format!("{failed:?} {}", failed.to_json_string()));
        sim.pair_vehicle(DEMO_VIN, &device_id(&pims).await)
            .await
            .unwrap();
        pims.activation()
            .select_vehicle(pims::Vin::parse(DEMO_VIN).unwrap())
            .send()
            .await
            .unwrap();
        let key = pims.activation().activate_car_key().send().await.unwrap();
        if let Some(code) = &key.security_code {
            secrets.push(code.expose().to_owned());
        }
        shown.push_str(&format!("{key:?}"));
        let last = pims.steps(by_car()).reset(true).send().await.unwrap();
        shown.push_str(&format!("{last:?}"));
        pims.release();
        sim.shutdown().await;
    });
    drop(rt);

    let logs = capture.text();
    assert!(
        logs.contains("pims.call"),
        "the TRACE capture saw the calls"
    );
    assert_clean("the TRACE logs", &logs, &secrets);
    assert_clean("Debug/Display output", &shown, &secrets);
    // The phone number appears only masked.
    assert!(
        !logs.contains(DEMO_PHONE_NUMBER),
        "the phone number is logged unmasked"
    );
    let files = files_text(cache.path());
    assert!(!files.is_empty(), "the cache directory has files");
    for (name, bytes) in files {
        assert_clean(&name, &String::from_utf8_lossy(&bytes), &secrets);
    }
}
