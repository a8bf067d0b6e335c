//! A secret or a side effect is sent once: through the facade, against the real simulator with a
//! fault that does the work and then loses the answer (a 500, a 429, a dropped connection), one
//! wrong PIN counts once and one SMS request sends one SMS. A malformed PIN is refused before
//! sending and never counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims_sim::{DEMO_PHONE_NUMBER, FaultSpec, SimServer};
use pims_types::{ErrorCode, Parameters};
use support::{enroll, facade, sim};

/// The three ways an answer is lost after the work was done.
fn faults_after_processing(api: &str) -> Vec<(&'static str, FaultSpec)> {
    let base = FaultSpec {
        apis: Some(vec![api.to_owned()]),
        after_processing: true,
        count: Some(2),
        ..Default::default()
    };
    vec![
        (
            "500",
            FaultSpec {
                status: Some(500),
                ..base.clone()
            },
        ),
        (
            "429",
            FaultSpec {
                status: Some(429),
                retry_after_secs: Some(0),
                ..base.clone()
            },
        ),
        (
            "dropped connection",
            FaultSpec {
                drop_connection: true,
                ..base
            },
        ),
    ]
}

fn wrong_pin_count(sim: &SimServer) -> u64 {
    let state = serde_json::to_value(sim.state()).unwrap();
    state["accounts"][0]["wrongPinCount"].as_u64().unwrap_or(0)
}

fn enrollment_sms_sent(sim: &SimServer) -> usize {
    sim.sms_outbox(Some(DEMO_PHONE_NUMBER))["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["purpose"] == "enrollment")
        .count()
}

fn otp_with_pin(pin: &str) -> Parameters {
    Parameters::new()
        .with("action", "withPIN")
        .with("pinCode", pin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_wrong_pin_counts_once_when_its_answer_is_lost() {
    for (fault, spec) in faults_after_processing("pims.authentication.otp") {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let pims = facade(&sim, dir.path());
        enroll(&pims, &sim).await;
        assert_eq!(wrong_pin_count(&sim), 0);

        sim.set_faults(&spec).unwrap();
        let m = pims
            .get_async("pims.authentication.otp", otp_with_pin("9999"))
            .await;
        assert!(!m.is_success(), "{fault}");
        assert_eq!(
            wrong_pin_count(&sim),
            1,
            "{fault}: one wrong PIN, one attempt"
        );
        // The fault had two answers to spoil: only one call reached the backend.
        assert_eq!(sim.faults().and_then(|f| f.count), Some(1), "{fault}");
        sim.clear_faults();

        // The account is not blocked: the right PIN still gets an OTP.
        let otp = pims
            .activation()
            .otp_with_pin(pims::Pin::parse(support::PIN).unwrap())
            .send()
            .await;
        assert!(otp.is_ok(), "{fault}: {otp:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sms_request_sends_one_sms_when_its_answer_is_lost() {
    for (fault, spec) in faults_after_processing("pims.authentication.smscode") {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let pims = facade(&sim, dir.path());
        sim.set_faults(&spec).unwrap();
        let m = pims
            .get_async(
                "pims.authentication.smscode",
                Parameters::new().with("type", "enrollment"),
            )
            .await;
        assert!(!m.is_success(), "{fault}");
        assert_eq!(enrollment_sms_sent(&sim), 1, "{fault}");

        // The typed call too.
        let e = pims
            .activation()
            .request_sms_code(pims::SmsPurpose::Enrollment)
            .send()
            .await;
        assert!(e.is_err(), "{fault}");
        assert_eq!(enrollment_sms_sent(&sim), 2, "{fault}");
        assert_eq!(
            sim.faults(),
            None,
            "{fault}: both spoiled answers used, no more"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_pin_is_refused_before_sending_and_never_counts() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let pims = facade(&sim, dir.path());
    enroll(&pims, &sim).await;
    // Any call that reaches the backend would use this fault up.
    let spec = FaultSpec {
        status: Some(500),
        count: Some(1),
        ..Default::default()
    };
    sim.set_faults(&spec).unwrap();
    for pin in ["123", "123456789", "12a4", ""] {
        let m = pims
            .get_async("pims.authentication.otp", otp_with_pin(pin))
            .await;
        let error = m.error().unwrap();
        assert_eq!(error.code, ErrorCode::INVALID_PARAMETER, "{pin:?}");
        assert_eq!(error.label, "Invalid pinCode parameter");
        // The typed form cannot even be built with it: the PIN is refused where it is read.
        let e = pims::Error::from(pims::Pin::parse(pin).unwrap_err());
        assert_eq!(e.code(), ErrorCode::INVALID_PARAMETER, "{pin:?}");
        assert_eq!(e.label(), "Invalid pinCode parameter");
    }
    for (api, params) in [
        (
            "pims.authentication.pincode",
            Parameters::new()
                .with("action", "update")
                .with("oldPIN", "1234")
                .with("newPIN", "12"),
        ),
        (
            "pims.authentication.enrollment",
            Parameters::new()
                .with("action", "enroll")
                .with("pinCode", "123456789")
                .with("smsCode", "123456"),
        ),
    ] {
        let m = pims.set_async(api, params).await;
        assert_eq!(
            m.error().unwrap().code,
            ErrorCode::INVALID_PARAMETER,
            "{api}"
        );
    }
    assert_eq!(
        sim.faults().and_then(|f| f.count),
        Some(1),
        "nothing was sent"
    );
    assert_eq!(wrong_pin_count(&sim), 0);
}
