//! The crash loop: this test binary runs itself again as a child that merges, resets and
//! invalidates lists in a known pattern, printing each operation before it starts and once it
//! has returned (acknowledged); the parent kills it with SIGKILL at a random moment, reopens
//! the cache and checks: nothing unreadable, every acknowledged alreadyDone still there, every
//! acknowledged reset still reset, nothing visible under another account, one device id.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pims_cache::{ListKeys, Namespace, StepCache};
use pims_types::{StepName, StepsId, StepsList, StepsSelector, Vin};
use support::*;

const TEST: &str = "killed_at_random_moments_the_cache_keeps_every_acknowledged_change";
const DIR_ENV: &str = "PIMS_CACHE_TEST_DIR";
const SEED_ENV: &str = "PIMS_CACHE_TEST_SEED";
const ACCOUNTS: [&str; 2] = ["acct-a", "acct-b"];
const LISTS: usize = 4;
const POOL: usize = 5;
/// Lists reachable by VIN too.
const VINS: [&str; 2] = ["VR1AB12C3D4567890", "ZFA31200000123456"];
/// A step only account b's lists have: seeing it under account a is a leak.
const ONLY_B: &str = "onlyAccountB";
const MAX_CYCLES: usize = 300;
const TIME_BUDGET: Duration = Duration::from_secs(35);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn pool(j: usize) -> StepName {
    match j {
        0 => StepName::TrusterPhoneNumber,
        1 => StepName::DeviceActivation,
        2 => StepName::MediumCarKey,
        _ => StepName::Other(format!("extra{j}")),
    }
}

fn steps_id(list: usize) -> u64 {
    1000 + list as u64
}

fn car_of(list: usize) -> String {
    format!("car-{list}")
}

fn vin_of(list: usize) -> Option<Vin> {
    VINS.get(list).map(|v| Vin::parse(v).unwrap())
}

/// The backend's answer: every step todo except `j`.
fn answer(account: usize, list: usize, j: usize) -> StepsList {
    let mut steps: Vec<_> = (0..POOL).map(|k| step(pool(k), k == j, k as i64)).collect();
    if account == 1 {
        steps.push(step(StepName::Other(ONLY_B.into()), false, 99));
    }
    StepsList::new(StepsId::number(steps_id(list)), steps)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Car,
    Steps,
    Vin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Merge `answer(account, list, step)`, linking the carAssociationID (and VIN) unless
    /// `by_steps_id`.
    Merge {
        account: usize,
        list: usize,
        step: usize,
        by_steps_id: bool,
    },
    Reset {
        account: usize,
        list: usize,
        via: Via,
    },
    Invalidate {
        account: usize,
    },
}

impl Op {
    fn encode(&self) -> String {
        match self {
            Op::Merge {
                account,
                list,
                step,
                by_steps_id,
            } => format!("M {account} {list} {step} {}", u8::from(*by_steps_id)),
            Op::Reset { account, list, via } => {
                let v = match via {
                    Via::Car => 0,
                    Via::Steps => 1,
                    Via::Vin => 2,
                };
                format!("R {account} {list} {v}")
            }
            Op::Invalidate { account } => format!("I {account}"),
        }
    }

    fn decode(s: &str) -> Option<Op> {
        let f: Vec<usize> = s
            .split(' ')
            .skip(1)
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        match (s.split(' ').next()?, f.as_slice()) {
            ("M", [a, l, j, b]) => Some(Op::Merge {
                account: *a,
                list: *l,
                step: *j,
                by_steps_id: *b == 1,
            }),
            ("R", [a, l, v]) => Some(Op::Reset {
                account: *a,
                list: *l,
                via: [Via::Car, Via::Steps, Via::Vin][*v],
            }),
            ("I", [a]) => Some(Op::Invalidate { account: *a }),
            _ => None,
        }
    }

    fn random(rng: &mut Rng) -> Op {
        let account = rng.below(2) as usize;
        let list = rng.below(LISTS as u64) as usize;
        match rng.below(100) {
            0..75 => Op::Merge {
                account,
                list,
                step: rng.below(POOL as u64) as usize,
                by_steps_id: rng.below(5) == 0,
            },
            75..95 => Op::Reset {
                account,
                list,
                via: [Via::Car, Via::Steps, Via::Vin][rng.below(3) as usize],
            },
            _ => Op::Invalidate { account },
        }
    }
}

fn selector(list: usize, via: Via) -> Option<StepsSelector> {
    match via {
        Via::Car => Some(StepsSelector::car_association_id(car_of(list)).unwrap()),
        Via::Steps => Some(StepsSelector::steps_id(steps_id(list).to_string()).unwrap()),
        Via::Vin => vin_of(list).map(StepsSelector::Vin),
    }
}

/// Runs `op`; whether the cache said it is durable.
async fn apply(cache: &StepCache, namespaces: &[Namespace], op: &Op) -> bool {
    match *op {
        Op::Merge {
            account,
            list,
            step,
            by_steps_id,
        } => {
            let keys = if by_steps_id {
                ListKeys::new().with_steps_id(StepsId::number(steps_id(list)))
            } else {
                let keys = ListKeys::new().with_car_association_id(car_of(list));
                match vin_of(list) {
                    Some(v) => keys.with_vin(v),
                    None => keys,
                }
            };
            cache
                .merge(&namespaces[account], &keys, &answer(account, list, step))
                .await
                .unwrap()
                .durable
        }
        Op::Reset { account, list, via } => match selector(list, via) {
            Some(s) => cache.reset(&namespaces[account], &s).await.unwrap().durable,
            None => true,
        },
        Op::Invalidate { account } => {
            cache
                .invalidate_device(&namespaces[account])
                .await
                .unwrap()
                .durable
        }
    }
}

/// The child: runs operations until killed, printing `B <op> .` before and `A <op> .` after.
async fn child_main() {
    let dir = std::env::var(DIR_ENV).unwrap();
    let seed: u64 = std::env::var(SEED_ENV).unwrap().parse().unwrap();
    let mut out = std::io::stdout();
    let mut say = |line: String| {
        if writeln!(out, "{line} .")
            .and_then(|()| out.flush())
            .is_err()
        {
            std::process::exit(0); // the parent is gone
        }
    };
    say(String::new());
    let cache = sled_cache(Path::new(&dir));
    let id = cache.device_id().await.unwrap();
    say(format!("DEV {id}"));
    let mut namespaces = Vec::new();
    for a in ACCOUNTS {
        namespaces.push(cache.namespace(a).await.unwrap());
    }
    let mut rng = Rng(seed);
    for _ in 0..20_000 {
        let op = Op::random(&mut rng);
        say(format!("B {}", op.encode()));
        if !apply(&cache, &namespaces, &op).await {
            say("NOT-DURABLE".into());
        }
        say(format!("A {}", op.encode()));
    }
}

/// What the parent knows about one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Known {
    /// Steps alreadyDone (None: no list).
    done: Option<BTreeSet<String>>,
    car_linked: bool,
    vin_linked: bool,
}

impl Known {
    fn view(&self, via: Via) -> Option<BTreeSet<String>> {
        let linked = match via {
            Via::Car => self.car_linked,
            Via::Steps => true,
            Via::Vin => self.vin_linked,
        };
        if linked { self.done.clone() } else { None }
    }
}

type Model = BTreeMap<(usize, usize), Known>;

fn model_apply(model: &mut Model, op: &Op) {
    match *op {
        Op::Merge {
            account,
            list,
            step,
            by_steps_id,
        } => {
            let k = model.entry((account, list)).or_default();
            let done = k.done.get_or_insert_with(BTreeSet::new);
            done.insert(pool(step).as_str().to_owned());
            if !by_steps_id {
                k.car_linked = true;
                k.vin_linked = vin_of(list).is_some();
            }
        }
        Op::Reset { account, list, via } => {
            let k = model.entry((account, list)).or_default();
            if k.view(via).is_some() {
                *k = Known::default();
            }
        }
        Op::Invalidate { account } => {
            for ((a, _), k) in model.iter_mut() {
                if *a == account {
                    *k = Known::default();
                }
            }
        }
    }
}

/// Reopens the cache and checks it against the model; returns the model as observed.
async fn verify(dir: &Path, model: &Model, in_flight: Option<&Op>, cycle: usize) -> Model {
    let cache = sled_cache(dir);
    let report = cache.check().await.unwrap();
    assert_eq!(
        report.unreadable_removed, 0,
        "cycle {cycle}: a torn record: {report:?}"
    );
    let mut namespaces = Vec::new();
    for a in ACCOUNTS {
        namespaces.push(cache.namespace(a).await.unwrap());
    }
    let mut after = model.clone();
    if let Some(op) = in_flight {
        model_apply(&mut after, op);
    }
    let mut observed = Model::new();
    for (account, space) in namespaces.iter().enumerate() {
        for list in 0..LISTS {
            let before = model.get(&(account, list)).cloned().unwrap_or_default();
            let later = after.get(&(account, list)).cloned().unwrap_or_default();
            let mut seen = Known::default();
            for via in [Via::Steps, Via::Car, Via::Vin] {
                let Some(s) = selector(list, via) else {
                    continue;
                };
                let got = cache.get(space, &s).await.unwrap();
                if let Some(l) = &got {
                    let leak = l.steps().iter().any(|s| s.name.as_str() == ONLY_B);
                    assert_eq!(leak, account == 1, "cycle {cycle}: a list crossed accounts");
                    assert_eq!(l.steps_id().as_str(), steps_id(list).to_string());
                }
                let view: Option<BTreeSet<String>> = got.map(|l| done(&l).into_iter().collect());
                assert!(
                    view == before.view(via) || view == later.view(via),
                    "cycle {cycle}: account {account} list {list} by {via:?}: {view:?}, expected {:?} or {:?} (in flight: {in_flight:?})",
                    before.view(via),
                    later.view(via)
                );
                match via {
                    Via::Steps => seen.done = view,
                    Via::Car => seen.car_linked = view.is_some(),
                    Via::Vin => seen.vin_linked = view.is_some(),
                }
            }
            observed.insert((account, list), seen);
        }
    }
    observed
}

#[tokio::test]
async fn killed_at_random_moments_the_cache_keeps_every_acknowledged_change() {
    if child_mode().as_deref() == Some("crash") {
        child_main().await;
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let started = Instant::now();
    let mut rng = Rng(0x5eed_cafe ^ u64::from(std::process::id()));
    let mut model = Model::new();
    let mut device: Option<String> = None;
    let (mut cycles, mut acked, mut killed_mid_op) = (0, 0, 0);

    while cycles < MAX_CYCLES && started.elapsed() < TIME_BUDGET {
        cycles += 1;
        let seed = rng.next() | 1;
        let mut child = Reaped(
            child(TEST, "crash")
                .env(DIR_ENV, &dir)
                .env(SEED_ENV, seed.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Kill during the open now and then; otherwise once it works, at a random moment.
        let mut lines = Vec::new();
        if rng.below(4) != 0 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                let ready = line.contains("DEV ");
                lines.push(line);
                if ready {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        drop(child);
        reader.join().unwrap();
        lines.extend(rx.try_iter());

        // What the child acknowledged, and what it had started.
        let mut in_flight = None;
        for line in &lines {
            let Some(body) = line.strip_suffix(" .") else {
                continue; // cut short by the kill: not acknowledged
            };
            if let Some(id) = body.strip_prefix("DEV ") {
                match &device {
                    None => device = Some(id.to_owned()),
                    Some(known) => assert_eq!(known, id, "cycle {cycles}: the device id changed"),
                }
            } else if let Some(op) = body.strip_prefix("B ") {
                in_flight = Some(Op::decode(op).unwrap());
            } else if let Some(op) = body.strip_prefix("A ") {
                let op = Op::decode(op).unwrap();
                assert_eq!(in_flight.as_ref(), Some(&op));
                model_apply(&mut model, &op);
                in_flight = None;
                acked += 1;
            } else if body == "NOT-DURABLE" {
                panic!("cycle {cycles}: the cache was not durable");
            }
        }
        killed_mid_op += usize::from(in_flight.is_some());
        model = verify(&dir, &model, in_flight.as_ref(), cycles).await;
    }
    eprintln!(
        "crash loop: {cycles} cycles in {:?}, {acked} acknowledged operations, {killed_mid_op} kills in the middle of one",
        started.elapsed()
    );
    assert!(
        acked > 0 && killed_mid_op > 0,
        "the loop never exercised the cache"
    );
    // The final state reads back whole once more, and the device id is the one the child had.
    let cache = sled_cache(&dir);
    if let Some(id) = device {
        assert_eq!(cache.device_id().await.unwrap().as_str(), id);
    }
}
