//! What a developer reads in the logs of a failed call: one `call failed` line with the code and
//! the cause, inside the call's span (API, verb, transaction id), whichever API the call came
//! through.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use pims::transport::RetryPolicy;
use pims::{Parameters, Pims, Secret};
use support::by_car;

#[test]
fn a_failed_call_is_logged_in_its_span_with_its_cause() {
    let (capture, _guard) = support::capture_logs();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        // A port nobody listens on: every call fails in the transport, before anything is sent.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let pims = Pims::builder()
            .base_url(url)
            .token(Secret::new("t"))
            .cache_dir(dir.path())
            .http(pims::HttpOptions::default().retry_policy(RetryPolicy::none()))
            .build()
            .unwrap();
        let typed = pims.steps(by_car()).send().await.unwrap_err();
        let verb = pims
            .get_async(
                "pims.subscription.services",
                Parameters::new().with("vin", pims_sim::DEMO_VIN),
            )
            .await;
        let logs = capture.text();
        for (api, tid) in [
            ("pims.subscription.steps", typed.transaction_id().unwrap()),
            ("pims.subscription.services", verb.transaction_id()),
        ] {
            let line = logs
                .lines()
                .find(|l| l.contains("call failed") && l.contains(api))
                .unwrap_or_else(|| panic!("no `call failed` line for {api} in:\n{logs}"));
            assert!(line.contains(&format!("transaction_id={tid}")), "{line}");
            assert!(line.contains("code=2202"), "{line}");
            assert!(line.contains("detail="), "{line}");
        }
    });
}
