//! Asks for the steps of the documentation's example, both ways (callback and typed), against a
//! simulator started in-process (or the one at `PIMS_URL`).
//!
//! ```sh
//! cargo run -p pims --example steps
//! PIMS_URL=http://127.0.0.1:8080 cargo run -p pims --example steps   # a pims-sim started by hand
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pims::Pims;
use pims::{Parameters, Secret, StepsSelector};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A simulator of our own unless one is named.
    let (url, _sim) = match std::env::var("PIMS_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let sim = pims_sim::SimServer::start(pims_sim::SimConfig::default()).await?;
            (sim.base_url(), Some(sim))
        }
    };
    let cache = tempfile::tempdir()?;

    // The mobile SDK's way: initialize, then a callback per call.
    let pims = Pims::new();
    let init = pims.initialize(
        Parameters::new()
            .with("environnement", url.as_str())
            .with("credential", pims_sim::DEMO_TOKEN)
            .with(
                "profile",
                serde_json::json!({"account": "demo", "cacheDirectory": cache.path().to_str()}),
            ),
    );
    println!("initialize: {}", init.to_json_string());
    let (tx, rx) = tokio::sync::oneshot::channel();
    pims.get(
        "pims.subscription.steps",
        Parameters::new()
            .with("carAssociationID", "987654")
            .with("resetSteps", false)
            .with("stepsStatus", "all"),
        move |message| {
            let _ = tx.send(message);
        },
    );
    println!("callback:   {}", rx.await?.to_json_string());
    pims.release();

    // The typed way.
    let typed = Pims::builder()
        .base_url(url)
        .token(Secret::new(pims_sim::DEMO_TOKEN))
        .cache_dir(cache.path())
        .account("demo")
        .build()?;
    let steps = typed
        .steps(StepsSelector::car_association_id("987654")?)
        .send()
        .await?;
    println!("typed:      stepsID {}", steps.steps_id());
    for step in steps.steps() {
        println!(
            "  {} {:<20} {}",
            step.order,
            step.name.as_str(),
            step.status
        );
    }
    match typed.next_step(steps.steps_id().as_str()).send().await? {
        Some(next) => println!("next step:  {}", next.name),
        None => println!("next step:  none, the service can be used"),
    }
    Ok(())
}
