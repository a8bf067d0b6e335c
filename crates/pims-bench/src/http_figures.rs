//! B1, B2 and B6: the HTTP figures. The servers (pims-sim and the constant-envelope baseline)
//! run on one runtime, the clients on another (two worker threads each), in this process, on
//! 127.0.0.1 only.

use std::time::Duration;

use pims::Pims;
use pims_sim::{DEMO_CAR_ASSOCIATION_ID, DEMO_TOKEN, SimConfig, SimServer};
use pims_types::{Api, CallBody, Secret, StepsQuery, StepsSelector, TransactionId, Verb};
use tokio::runtime::Runtime;

use crate::callers::{CallTemplate, FacadeCaller, HyperCaller, ReqwestCaller};
use crate::constant::ConstantServer;
use crate::loadgen::{Caller, Load, LoadOutcome, drive};
use crate::plan::Plan;
use crate::report::{Goal, Measure, Row};
use crate::stats::median;

/// Everything the HTTP figures share.
struct Rig {
    servers: Runtime,
    clients: Runtime,
    sim: SimServer,
    constant: ConstantServer,
    pims: Pims,
    selector: StepsSelector,
    call: CallTemplate,
    _cache: tempfile::TempDir,
}

fn runtime(name: &str) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("{name} runtime: {e}"))
}

impl Rig {
    fn start() -> Result<Rig, String> {
        let servers = runtime("bench-servers")?;
        let clients = runtime("bench-clients")?;
        let sim = servers
            .block_on(SimServer::start(SimConfig::default()))
            .map_err(|e| format!("pims-sim: {e}"))?;
        let cache = tempfile::tempdir().map_err(|e| format!("cache dir: {e}"))?;
        let selector = StepsSelector::car_association_id(DEMO_CAR_ASSOCIATION_ID)
            .map_err(|e| e.to_string())?;
        let pims = {
            // Built inside the clients' runtime: the facade runs its calls there.
            let _inside = clients.enter();
            Pims::builder()
                .base_url(sim.base_url())
                .token(Secret::new(DEMO_TOKEN))
                .cache_dir(cache.path())
                .account("bench")
                .build()
                .map_err(|e| format!("facade: {e}: {}", e.detail().unwrap_or("no detail")))?
        };
        let admin = pims.cache().map_err(|e| format!("device id: {e}"))?;
        let device_id = clients
            .block_on(admin.device_id())
            .map_err(|e| format!("device id: {e}"))?;
        // Exactly what the facade sends for this request (it always asks for `all`).
        let body = CallBody::new(
            TransactionId::generate(),
            Verb::Get,
            Api::SubscriptionSteps.name(),
            StepsQuery::new(selector.clone()).to_parameters(),
        )
        .to_json_string();
        let call = CallTemplate::new(
            &format!("{}{}", sim.base_url(), pims_types::CALLS_PATH),
            body,
            &device_id,
            DEMO_TOKEN,
        )?;
        // Warm the cache and capture the simulator's real answer: the constant envelope.
        let answer = clients.block_on(async {
            FacadeCaller {
                pims: pims.clone(),
                selector: selector.clone(),
            }
            .call()
            .await?;
            let response = reqwest::Client::new()
                .post(call.url.clone())
                .header(pims_types::DEVICE_ID_HEADER, call.device_id.clone())
                .header(reqwest::header::AUTHORIZATION, call.authorization.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(call.body.clone())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            response.bytes().await.map_err(|e| e.to_string())
        })?;
        if !answer
            .windows(b"SUCCEEDED".len())
            .any(|w| w == b"SUCCEEDED")
        {
            return Err(format!(
                "the simulator did not answer the steps call: {}",
                String::from_utf8_lossy(&answer)
            ));
        }
        let constant = servers
            .block_on(ConstantServer::start(answer))
            .map_err(|e| format!("constant server: {e}"))?;
        Ok(Rig {
            servers,
            clients,
            sim,
            constant,
            pims,
            selector,
            call,
            _cache: cache,
        })
    }

    fn facade_callers(&self, n: usize) -> Vec<FacadeCaller> {
        (0..n)
            .map(|_| FacadeCaller {
                pims: self.pims.clone(),
                selector: self.selector.clone(),
            })
            .collect()
    }

    fn reqwest_callers(&self, n: usize) -> Result<Vec<ReqwestCaller>, String> {
        // Configured like the facade's transport where it matters on loopback: no proxy.
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok((0..n)
            .map(|_| ReqwestCaller {
                client: client.clone(),
                call: self.call.clone(),
            })
            .collect())
    }

    fn hyper_callers(
        &self,
        n: usize,
        addr: std::net::SocketAddr,
    ) -> Result<Vec<HyperCaller>, String> {
        self.clients.block_on(async {
            let mut callers = Vec::with_capacity(n);
            for _ in 0..n {
                callers.push(HyperCaller::connect(addr, self.call.clone()).await?);
            }
            Ok(callers)
        })
    }

    fn drive<C: Caller>(&self, load: Load, callers: Vec<C>) -> Result<LoadOutcome, String> {
        let outcome = self.clients.block_on(drive(load, callers));
        outcome.check()?;
        Ok(outcome)
    }

    fn shutdown(self) {
        let Rig {
            servers,
            clients,
            sim,
            constant,
            pims,
            ..
        } = self;
        drop(pims);
        servers.block_on(async {
            constant.shutdown().await;
            sim.shutdown().await;
        });
        clients.shutdown_timeout(Duration::from_secs(2));
        servers.shutdown_timeout(Duration::from_secs(2));
    }
}

/// Runs B1, B2 and B6.
/// Runs the HTTP figures `wanted` says yes to (by name: "B1", "B2", "B6").
pub(crate) fn run(plan: &Plan, wanted: &dyn Fn(&str) -> bool) -> Vec<Row> {
    let rig = match Rig::start() {
        Ok(rig) => rig,
        Err(e) => {
            return vec![
                Row::failed("B1", "steps throughput", &e),
                Row::failed("B2", "steps latency", &e),
                Row::failed("B6", "simulator throughput", &e),
            ];
        }
    };
    let mut rows = Vec::new();
    if wanted("B1") {
        rows.push(b1(&rig, plan).unwrap_or_else(|e| Row::failed("B1", B1_WHAT, e)));
    }
    if wanted("B2") {
        match b2(&rig, plan) {
            Ok(mut two) => rows.append(&mut two),
            Err(e) => rows.push(Row::failed("B2", "steps latency, 1 caller", e)),
        }
    }
    if wanted("B6") {
        rows.push(b6(&rig, plan).unwrap_or_else(|e| Row::failed("B6", B6_WHAT, e)));
    }
    rig.shutdown();
    rows
}

const B1_WHAT: &str = "steps via facade, 64 callers, warm cache: throughput";
const B6_WHAT: &str = "pims-sim steps call vs constant axum handler: throughput";

fn throughput_load(plan: &Plan) -> Load {
    Load {
        concurrency: plan.concurrency,
        requests: plan.throughput_requests,
        warmup: plan.throughput_warmup,
    }
}

fn rounds_note(plan: &Plan, load: Load) -> String {
    format!(
        "median of {} rounds, {} requests each after {} of warm-up, {} concurrent",
        plan.http_rounds, load.requests, load.warmup, load.concurrency
    )
}

fn b1(rig: &Rig, plan: &Plan) -> Result<Row, String> {
    let load = throughput_load(plan);
    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..plan.http_rounds {
        raw.push(
            rig.drive(load, rig.reqwest_callers(load.concurrency)?)?
                .throughput(),
        );
        ours.push(
            rig.drive(load, rig.facade_callers(load.concurrency))?
                .throughput(),
        );
    }
    Ok(Row::ratio(
        "B1",
        B1_WHAT,
        Measure::new(median(&ours), "req/s"),
        Measure::new(median(&raw), "req/s"),
        Goal::RatioAtLeast(0.9),
    )
    .with_note(format!(
        "{}; baseline: raw reqwest POST of the same call body",
        rounds_note(plan, load)
    )))
}

fn b2(rig: &Rig, plan: &Plan) -> Result<Vec<Row>, String> {
    let load = Load {
        concurrency: 1,
        requests: plan.latency_requests,
        warmup: plan.latency_warmup,
    };
    let (mut ours50, mut ours99, mut raw50, mut raw99) = (vec![], vec![], vec![], vec![]);
    for _ in 0..plan.http_rounds {
        let raw = rig.drive(load, rig.reqwest_callers(1)?)?;
        raw50.push(micros(raw.latencies.p50()));
        raw99.push(micros(raw.latencies.p99()));
        let ours = rig.drive(load, rig.facade_callers(1))?;
        ours50.push(micros(ours.latencies.p50()));
        ours99.push(micros(ours.latencies.p99()));
    }
    let note = rounds_note(plan, load);
    Ok(vec![
        Row::ratio(
            "B2",
            "steps via facade, 1 caller: p50 latency",
            Measure::new(median(&ours50), "µs"),
            Measure::new(median(&raw50), "µs"),
            Goal::RatioAtMost(1.15),
        )
        .with_note(note.clone()),
        Row::ratio(
            "B2",
            "steps via facade, 1 caller: p99 latency",
            Measure::new(median(&ours99), "µs"),
            Measure::new(median(&raw99), "µs"),
            Goal::RatioAtMost(1.15),
        )
        .with_note(note),
    ])
}

fn b6(rig: &Rig, plan: &Plan) -> Result<Row, String> {
    let load = throughput_load(plan);
    let (mut ours, mut constant) = (Vec::new(), Vec::new());
    for _ in 0..plan.http_rounds {
        // The same request (path, headers, body) to both servers.
        let callers = rig.hyper_callers(load.concurrency, rig.constant.addr())?;
        constant.push(rig.drive(load, callers)?.throughput());
        let callers = rig.hyper_callers(load.concurrency, rig.sim.addr())?;
        ours.push(rig.drive(load, callers)?.throughput());
    }
    Ok(Row::ratio(
        "B6",
        B6_WHAT,
        Measure::new(median(&ours), "req/s"),
        Measure::new(median(&constant), "req/s"),
        Goal::RatioAtLeast(0.9),
    )
    .with_note(format!(
        "{}; clients: bare hyper HTTP/1.1 connections",
        rounds_note(plan, load)
    )))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rig really talks to the simulator and the baseline server: a tiny plan gives every
    /// row a measured value (not a failure row). Speeds are not asserted.
    #[test]
    fn tiny_plan_measures_every_http_row() {
        let plan = Plan {
            concurrency: 4,
            throughput_requests: 40,
            throughput_warmup: 4,
            latency_requests: 20,
            latency_warmup: 2,
            http_rounds: 1,
            ..Plan::quick()
        };
        let rows = run(&plan, &|_| true);
        assert_eq!(rows.len(), 4, "{rows:?}");
        for row in rows {
            assert!(
                row.ours.value.is_finite() && row.ours.value > 0.0,
                "{row:?}"
            );
            assert!(row.baseline.is_some_and(|b| b.value > 0.0), "{row:?}");
        }
    }

    #[test]
    fn constant_answer_is_the_simulators() {
        let rig = Rig::start().unwrap();
        let answer = rig.clients.block_on(async {
            let c = reqwest::Client::new();
            let base = rig.constant.base_url();
            let call = rig.call.with_base(&base).unwrap();
            c.post(call.url)
                .body(call.body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        assert!(answer.contains("SUCCEEDED"), "{answer}");
        assert!(answer.contains("stepsID"), "{answer}");
        rig.shutdown();
    }
}
