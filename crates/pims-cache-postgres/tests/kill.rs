//! A replica SIGKILLed mid-merge, a few hundred times: this test binary runs itself again as a
//! child that merges and resets four lists (and now and then invalidates the device's lists)
//! through `StepCache` over the PostgreSQL store, printing each operation before it starts and
//! once it has returned (acknowledged); the parent kills it at a random moment (now and then
//! while it connects) and reads the lists back: the store holds exactly every acknowledged
//! change, plus or minus the one in flight (acknowledged ⊆ stored ⊆ acknowledged ∪ in flight),
//! never half of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pims_cache::{ListKeys, Namespace, StepCache};
use pims_cache_postgres::PostgresStore;
use pims_types::{StepsId, StepsSelector};
use support::*;

const TEST: &str = "killed_mid_merge_the_store_keeps_exactly_the_acknowledged_changes";
const URL_ENV: &str = "PIMS_PG_TEST_URL";
const SEED_ENV: &str = "PIMS_PG_TEST_SEED";
const LISTS: u64 = 4;
const STEPS: usize = 8;
const MAX_CYCLES: usize = 300;
const MIN_CYCLES: usize = 100;
const TIME_BUDGET: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Merge { list: u64, step: usize },
    Reset { list: u64, by_car: bool },
    Invalidate,
}

impl Op {
    fn encode(self) -> String {
        match self {
            Op::Merge { list, step } => format!("M {list} {step}"),
            Op::Reset { list, by_car } => format!("R {list} {}", u8::from(by_car)),
            Op::Invalidate => "I".to_owned(),
        }
    }

    fn decode(s: &str) -> Op {
        let f: Vec<&str> = s.split(' ').collect();
        match f.as_slice() {
            ["M", l, j] => Op::Merge {
                list: l.parse().unwrap(),
                step: j.parse().unwrap(),
            },
            ["R", l, c] => Op::Reset {
                list: l.parse().unwrap(),
                by_car: *c == "1",
            },
            ["I"] => Op::Invalidate,
            _ => panic!("unreadable operation {s:?}"),
        }
    }

    fn random(rng: &mut Rng) -> Op {
        let list = rng.below(LISTS);
        match rng.below(100) {
            0..80 => Op::Merge {
                list,
                step: rng.below(STEPS as u64) as usize,
            },
            80..97 => Op::Reset {
                list,
                by_car: rng.below(2) == 0,
            },
            _ => Op::Invalidate,
        }
    }
}

fn steps_id(list: u64) -> u64 {
    500 + list
}

fn car(list: u64) -> String {
    format!("car-{list}")
}

async fn apply(cache: &StepCache, ns: &Namespace, op: Op) {
    match op {
        Op::Merge { list: l, step } => {
            let keys = ListKeys::new()
                .with_car_association_id(car(l))
                .with_steps_id(StepsId::number(steps_id(l)));
            let merged = cache
                .merge(ns, &keys, &list(steps_id(l), STEPS, &[step]))
                .await
                .unwrap();
            assert!(merged.durable);
        }
        Op::Reset { list, by_car } => {
            let selector = if by_car {
                StepsSelector::car_association_id(car(list)).unwrap()
            } else {
                StepsSelector::steps_id(steps_id(list).to_string()).unwrap()
            };
            assert!(cache.reset(ns, &selector).await.unwrap().durable);
        }
        Op::Invalidate => {
            assert!(cache.invalidate_device(ns).await.unwrap().durable);
        }
    }
}

/// What the lists hold: their alreadyDone steps (absent: no list).
type Model = BTreeMap<u64, BTreeSet<usize>>;

fn model_apply(model: &mut Model, op: Op) {
    match op {
        Op::Merge { list, step } => {
            model.entry(list).or_default().insert(step);
        }
        Op::Reset { list, .. } => {
            model.remove(&list);
        }
        Op::Invalidate => model.clear(),
    }
}

async fn observe(cache: &StepCache, ns: &Namespace) -> Model {
    let mut seen = Model::new();
    for l in 0..LISTS {
        let by_id = StepsSelector::steps_id(steps_id(l).to_string()).unwrap();
        let by_car = StepsSelector::car_association_id(car(l)).unwrap();
        let a = cache.get(ns, &by_id).await.unwrap();
        let b = cache.get(ns, &by_car).await.unwrap();
        assert_eq!(a, b, "list {l}: its two names disagree");
        if let Some(found) = a {
            seen.insert(l, done_of(&found));
        }
    }
    seen
}

fn child_main() {
    let url = std::env::var(URL_ENV).unwrap();
    let seed: u64 = std::env::var(SEED_ENV).unwrap().parse().unwrap();
    let mut out = std::io::stdout();
    let mut say = |line: String| {
        if writeln!(out, "{line} .")
            .and_then(|()| out.flush())
            .is_err()
        {
            std::process::exit(0);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = PostgresStore::connect(options(&url)).await.unwrap();
        let cache = StepCache::new(Arc::new(store));
        let ns = cache.namespace("acct").await.unwrap();
        say("READY".to_owned());
        let mut rng = Rng(seed);
        for _ in 0..100_000 {
            let op = Op::random(&mut rng);
            say(format!("B {}", op.encode()));
            apply(&cache, &ns, op).await;
            say(format!("A {}", op.encode()));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_merge_the_store_keeps_exactly_the_acknowledged_changes() {
    if child_mode().is_some() {
        // (Not inside this runtime: the child builds its own, on this thread's stack.)
        return tokio::task::block_in_place(child_main);
    }
    let Some((server, url)) = fresh_database() else {
        return;
    };
    let cache = StepCache::new(Arc::new(store(&url).await));
    let ns = cache.namespace("acct").await.unwrap();
    let seed = seed();
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let mut model = Model::new();
    let mut kills = 0;
    let mut while_connecting = 0;
    let mut in_flight_done = 0;
    let mut acknowledged = 0;
    let start = Instant::now();
    for cycle in 0..MAX_CYCLES {
        if cycle >= MIN_CYCLES && start.elapsed() > TIME_BUDGET {
            break;
        }
        let mut child = Reaped(
            child(TEST, "run")
                .env(URL_ENV, format!("{url}&application_name=killed-{cycle}"))
                .env(SEED_ENV, rng.next().to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let early = rng.below(10) == 0;
        let delay = Duration::from_micros(rng.below(25_000));
        // Read the child's lines on a thread; kill it at the chosen moment.
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        if !early {
            loop {
                let line = rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the child never got ready");
                let ready = line.contains("READY");
                lines.push(line);
                if ready {
                    break;
                }
            }
        } else {
            while_connecting += 1;
        }
        tokio::time::sleep(delay).await;
        child.0.kill().unwrap();
        let status = child.0.wait().unwrap();
        assert!(
            !status.success(),
            "cycle {cycle}: the child ended by itself: {status}"
        );
        kills += 1;
        reader.join().unwrap();
        // The server finishes what the dead child sent (a commit may land after its death):
        // observe once its sessions are gone.
        let quiet = Instant::now();
        while server.psql(
            "postgres",
            &format!(
                "select count(*) from pg_stat_activity where application_name = 'killed-{cycle}'"
            ),
        ) != "0"
        {
            assert!(
                quiet.elapsed() < Duration::from_secs(30),
                "cycle {cycle}: its sessions live on"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lines.extend(rx.try_iter());
        // The operations acknowledged, and the one in flight.
        let mut in_flight = None;
        for line in &lines {
            if let Some(op) = after_marker(line, "B ") {
                in_flight = Some(Op::decode(op.trim_end_matches(" .").trim()));
            } else if let Some(op) = after_marker(line, "A ") {
                let op = Op::decode(op.trim_end_matches(" .").trim());
                assert_eq!(in_flight, Some(op), "cycle {cycle}: out of order");
                model_apply(&mut model, op);
                acknowledged += 1;
                in_flight = None;
            }
        }
        let seen = observe(&cache, &ns).await;
        if seen != model {
            let Some(op) = in_flight else {
                panic!("cycle {cycle}: stored {seen:?}, acknowledged {model:?}, nothing in flight")
            };
            let mut with = model.clone();
            model_apply(&mut with, op);
            // Each list is as acknowledged or as the operation in flight leaves it (an
            // invalidation removes the lists one by one, each atomically).
            for l in 0..LISTS {
                let (now, before, after) = (seen.get(&l), model.get(&l), with.get(&l));
                assert!(
                    now == before || now == after,
                    "cycle {cycle}: list {l} is {now:?}, neither the acknowledged {before:?} nor \
                     {after:?} after {op:?} in flight"
                );
            }
            in_flight_done += 1;
            model = seen;
        }
    }
    println!(
        "{kills} kills ({while_connecting} while connecting), {acknowledged} operations acknowledged, \
         {in_flight_done} in-flight operations found done, in {:?}",
        start.elapsed()
    );
    assert!(kills >= MIN_CYCLES);
    assert!(acknowledged > 0);
}
