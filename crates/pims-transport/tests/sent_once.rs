//! Whether a call may be sent again is a property of the call, not of its verb: counted at a
//! real server, every API of activation-apis.md (and the steps APIs) under a 500, a 429 and a
//! connection reset after the request was read. A pure read reaches the server exactly the
//! policy's number of attempts; every other call exactly once, with an `Idempotency-Key`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use pims_transport::{Call, HttpTransport, RetryPolicy, Transport};
use pims_types::{Parameters, Secret, TransactionId, Verb};
use support::{Action, FakeServer, bare, did_not_hang, http};

const MS: Duration = Duration::from_millis(1);
const ATTEMPTS: u32 = 3;
const VIN: &str = "VR1AB12C3D4567890";
const PHONE: &str = "+33612345678";

/// Every call of the two specs, with whether it is a pure read.
fn calls() -> Vec<(Verb, &'static str, Parameters, bool)> {
    use Verb::{Get, Set};
    let p = Parameters::new;
    let pin = |k: &str| Secret::new(if k == "oldPIN" { "1357" } else { "2468" });
    let code = Secret::new("123456");
    vec![
        // steps-component.md
        (
            Get,
            "pims.subscription.steps",
            p().with("carAssociationID", "987654"),
            true,
        ),
        (
            Get,
            "pims.subscription.step",
            p().with("stepsID", "132324"),
            true,
        ),
        (
            Get,
            "pims.subscription.services",
            p().with("vin", VIN),
            true,
        ),
        // trusted phone number
        (Get, "pims.authentication.trustedphonenumber", p(), true),
        (
            Get,
            "pims.authentication.smscode",
            p().with("type", "phoneNumberCertification")
                .with("phoneNumber", PHONE),
            false,
        ),
        (
            Set,
            "pims.authentication.smscode",
            p().with("action", "addPhoneNumber")
                .with_secret("smsCode", &code)
                .with("phoneNumber", PHONE),
            false,
        ),
        (
            Set,
            "pims.authentication.smscode",
            p().with("type", "modifyPhoneNumber")
                .with_secret("smsCode", &code)
                .with("phoneNumber", PHONE),
            false,
        ),
        // device enrolment
        (
            Get,
            "pims.authentication.account",
            p().with("actionType", "strong")
                .with("type", "isDeviceActivated"),
            true,
        ),
        (
            Get,
            "pims.authentication.account",
            p().with("actionType", "strong")
                .with("type", "isAccountBlocked"),
            true,
        ),
        (
            Get,
            "pims.authentication.smscode",
            p().with("type", "enrollment"),
            false,
        ),
        (
            Set,
            "pims.authentication.smscode",
            p().with("action", "enrollment")
                .with_secret("smsCode", &code),
            false,
        ),
        (
            Set,
            "pims.authentication.enrollment",
            p().with("action", "enroll")
                .with_secret("pinCode", &pin("pinCode"))
                .with_secret("smsCode", &code),
            false,
        ),
        (
            Set,
            "pims.authentication.enrollment",
            p().with("action", "enrollWithPhoneNumber")
                .with_secret("pinCode", &pin("pinCode"))
                .with_secret("smsCode", &code)
                .with("phoneNumber", PHONE),
            false,
        ),
        (
            Set,
            "pims.authentication.enrollment",
            p().with("action", "remove"),
            false,
        ),
        (
            Get,
            "pims.authentication.smscode",
            p().with("type", "resetPIN"),
            false,
        ),
        (
            Set,
            "pims.authentication.pincode",
            p().with("action", "reset")
                .with_secret("pinCode", &pin("pinCode"))
                .with_secret("smsCode", &code),
            false,
        ),
        (
            Set,
            "pims.authentication.pincode",
            p().with("action", "update")
                .with_secret("oldPIN", &pin("oldPIN"))
                .with_secret("newPIN", &pin("newPIN")),
            false,
        ),
        // OTP
        (
            Get,
            "pims.authentication.otp",
            p().with("action", "withPIN")
                .with_secret("pinCode", &pin("pinCode")),
            false,
        ),
        (
            Get,
            "pims.authentication.otp",
            p().with("action", "withoutPIN"),
            false,
        ),
        // CarKey
        (Set, "pims.vehicle.vin", p().with("vin", VIN), false),
        (Get, "pims.vehicle.carkey", p(), true),
        (Get, "pims.vehicle.carkey", p().with("vin", VIN), true),
        (Set, "pims.vehicle.carkey", p(), false),
        // Not in the table: unknown means not retried.
        (Get, "pims.vehicle.informations", p(), false),
    ]
}

/// How a faulty server answers every request.
type Fault = fn() -> Action;

/// The three faults, each answering every request the same way.
fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("500", || bare(500)),
        ("429", || {
            Action::Reply(http(429, &[("Retry-After", "0")], b"slow down"))
        }),
        ("reset after read", || Action::Reset),
    ]
}

fn transport(server: &FakeServer) -> HttpTransport {
    HttpTransport::builder(server.base_url())
        .static_token(Secret::new("test-token"))
        .connect_timeout(MS * 500)
        .attempt_timeout(MS * 2000)
        .overall_timeout(MS * 10_000)
        .retry_policy(
            RetryPolicy::new()
                .max_attempts(ATTEMPTS)
                .initial_backoff(MS)
                .max_backoff(MS * 5)
                // Enough budget that the count shows the rule, not an empty budget.
                .budget(1000, 1.0),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn only_pure_reads_are_sent_again_after_a_failure_that_may_have_reached_the_backend() {
    let mut wrong = Vec::new();
    for (fault, action) in faults() {
        for (verb, api, params, pure_read) in calls() {
            let server = FakeServer::always(move |_| action()).await;
            let t = transport(&server);
            let call = Call::new(
                verb,
                api,
                params.clone(),
                TransactionId::generate(),
                "device-1",
            );
            let result = did_not_hang(t.call(call)).await;
            assert!(result.is_err(), "{fault}: {verb} {api} succeeded");
            let seen = server.requests();
            let expected = if pure_read { ATTEMPTS as usize } else { 1 };
            if seen.len() != expected {
                wrong.push(format!(
                    "{fault}: {verb} {api} {params:?}: {} requests, expected {expected}",
                    seen.len()
                ));
            }
            for request in &seen {
                let key = request.header("idempotency-key");
                if key.is_some() == pure_read {
                    wrong.push(format!("{fault}: {verb} {api} {params:?}: key {key:?}"));
                }
            }
            // Every resend of a pure read is the same request.
            assert!(seen.iter().all(|r| r.body == seen[0].body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_refused_connection_is_known_not_to_have_sent_the_secret() {
    // Nothing listens on a port taken and released: every attempt is refused before sending.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let t = HttpTransport::builder(base)
        .connect_timeout(MS * 500)
        .overall_timeout(MS * 10_000)
        .retry_policy(
            RetryPolicy::new()
                .max_attempts(ATTEMPTS)
                .initial_backoff(MS)
                .max_backoff(MS * 5),
        )
        .build()
        .unwrap();
    let otp = Call::new(
        Verb::Get,
        "pims.authentication.otp",
        Parameters::new()
            .with("action", "withPIN")
            .with_secret("pinCode", &Secret::new("2468")),
        TransactionId::generate(),
        "device-1",
    );
    let e = did_not_hang(t.call(otp)).await.unwrap_err();
    assert!(!e.may_have_been_sent(), "{e:?}");
    assert_eq!(e.code().as_u32(), 2202);
}
