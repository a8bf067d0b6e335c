//! A state machine test: random sequences of merge / reset / invalidate / lookup / reopen
//! against a `BTreeMap` model of the cache, over four namespaces and three lists reachable by
//! three names each, shrunk to a minimal failing sequence. A reopen drops the cache and its
//! store and opens the place again (a restart). (Crashes are the sled store's crash loop's job:
//! a process cannot be killed in the middle of a case.)

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use pims_types::{StepName, StepsId, StepsList, StepsSelector, Vin};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use super::StoreFactory;
use super::samples::{ns, reopen, step};
use crate::cache::StepCache;
use crate::error::CacheError;
use crate::namespace::{ListKeys, Namespace};
use crate::store::StepStore;

/// Random sequences tried.
const CASES: u32 = 128;

/// The longest sequence tried, plus one.
const MAX_ACTIONS: usize = 60;

/// How many smaller sequences are tried once one fails.
const MAX_SHRINK_STEPS: u32 = 2048;

const LISTS: usize = 3;
const VINS: [&str; LISTS] = [
    "VR1AB12C3D4567890",
    "ZFA31200000123456",
    "WVWZZZ1JZXW000001",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Car,
    Steps,
    Vin,
}

#[derive(Debug, Clone)]
enum Action {
    /// Merge a fresh list: for each of 4 steps, (present, alreadyDone).
    Merge {
        ns: usize,
        list: usize,
        via: Via,
        steps: Vec<(bool, bool)>,
    },
    Reset {
        ns: usize,
        list: usize,
        via: Via,
    },
    Invalidate {
        ns: usize,
    },
    Get {
        ns: usize,
        list: usize,
        via: Via,
    },
    Reopen,
}

fn via() -> impl Strategy<Value = Via> {
    prop_oneof![Just(Via::Car), Just(Via::Steps), Just(Via::Vin)]
}

fn action() -> impl Strategy<Value = Action> {
    let ns = 0..4usize;
    let list = 0..LISTS;
    prop_oneof![
        5 => (ns.clone(), list.clone(), via(), prop::collection::vec(any::<(bool, bool)>(), 4))
            .prop_map(|(ns, list, via, steps)| Action::Merge { ns, list, via, steps }),
        2 => (ns.clone(), list.clone(), via()).prop_map(|(ns, list, via)| Action::Reset { ns, list, via }),
        1 => ns.clone().prop_map(|ns| Action::Invalidate { ns }),
        3 => (ns, list, via()).prop_map(|(ns, list, via)| Action::Get { ns, list, via }),
        1 => Just(Action::Reopen),
    ]
}

fn namespaces() -> Vec<Namespace> {
    let mut out = Vec::new();
    for account in ["alice", "bob"] {
        for device in ["dev-1", "dev-2"] {
            out.push(ns(account, device));
        }
    }
    out
}

fn steps_id(list: usize) -> StepsId {
    if list.is_multiple_of(2) {
        StepsId::number(500 + list as u64)
    } else {
        StepsId::text(format!("s-{list}"))
    }
}

fn selector(list: usize, via: Via) -> StepsSelector {
    let selector = match via {
        Via::Car => StepsSelector::car_association_id(format!("car-{list}")),
        Via::Steps => StepsSelector::steps_id(steps_id(list).as_str()),
        Via::Vin => Vin::parse(VINS[list]).map(StepsSelector::Vin),
    };
    selector.expect("a valid selector")
}

fn fresh(list: usize, steps: &[(bool, bool)]) -> StepsList {
    let names = [
        StepName::TrusterPhoneNumber,
        StepName::DeviceActivation,
        StepName::MediumCarKey,
        StepName::Other("faceId".into()),
    ];
    let steps = steps
        .iter()
        .zip(names)
        .enumerate()
        .filter(|(_, ((present, _), _))| *present)
        .map(|(k, ((_, d), n))| step(n, *d, k as i64 + 1))
        .collect();
    StepsList::new(steps_id(list), steps)
}

/// The model of one list.
#[derive(Debug, Clone, Default)]
struct Known {
    list: Option<StepsList>,
    car: bool,
    vin: bool,
}

impl Known {
    fn view(&self, via: Via) -> Option<StepsList> {
        let linked = match via {
            Via::Car => self.car,
            Via::Steps => true,
            Via::Vin => self.vin,
        };
        if linked { self.list.clone() } else { None }
    }
}

/// Fails a run with `what` unless `expected == got`.
fn same<T: PartialEq + Debug>(got: T, expected: T, what: impl Debug) -> Result<(), String> {
    if got == expected {
        Ok(())
    } else {
        Err(format!("{what:?}: got {got:?}, expected {expected:?}"))
    }
}

fn failed(what: &Action) -> impl FnOnce(CacheError) -> String + '_ {
    move |e| format!("{what:?}: {e}")
}

/// Runs `actions` on a cache over a new place of `factory`, checking every answer against the
/// model, then everything through every name, then the store (nothing unreadable).
async fn run<F: StoreFactory>(factory: &F, actions: &[Action]) -> Result<(), String> {
    let place = factory
        .create()
        .await
        .map_err(|e| format!("the factory could not create a place: {e}"))?;
    let open = |store: Arc<dyn StepStore>| StepCache::new(store);
    let mut cache = open(reopen(factory, &place).await);
    let spaces = namespaces();
    let mut model: BTreeMap<(usize, usize), Known> = BTreeMap::new();
    for action in actions {
        match action {
            Action::Merge {
                ns,
                list,
                via,
                steps,
            } => {
                let fresh = fresh(*list, steps);
                let keys = ListKeys::from(&selector(*list, *via));
                let got = cache
                    .merge(&spaces[*ns], &keys, &fresh)
                    .await
                    .map_err(failed(action))?;
                let k = model.entry((*ns, *list)).or_default();
                let merged = match &k.list {
                    Some(cached) => pims_types::merge(cached, &fresh),
                    None => fresh,
                };
                same(&got.list, &merged, action)?;
                k.list = Some(merged);
                match via {
                    Via::Car => k.car = true,
                    Via::Vin => k.vin = true,
                    Via::Steps => {}
                }
            }
            Action::Reset { ns, list, via } => {
                let removed = cache
                    .reset(&spaces[*ns], &selector(*list, *via))
                    .await
                    .map_err(failed(action))?;
                let k = model.entry((*ns, *list)).or_default();
                let found = k.view(*via).is_some();
                same(removed.lists, usize::from(found), action)?;
                if found {
                    *k = Known::default();
                }
            }
            Action::Invalidate { ns } => {
                let removed = cache
                    .invalidate_device(&spaces[*ns])
                    .await
                    .map_err(failed(action))?;
                let mut expected = 0;
                for ((n, _), k) in model.iter_mut() {
                    if n == ns {
                        expected += usize::from(k.list.is_some());
                        *k = Known::default();
                    }
                }
                same(removed.lists, expected, action)?;
            }
            Action::Get { ns, list, via } => {
                let got = cache
                    .get(&spaces[*ns], &selector(*list, *via))
                    .await
                    .map_err(failed(action))?;
                let expected = model.get(&(*ns, *list)).and_then(|k| k.view(*via));
                same(got, expected, action)?;
            }
            Action::Reopen => {
                // The old one closes before the new one opens.
                drop(cache);
                cache = open(reopen(factory, &place).await);
            }
        }
    }
    // Everything, through every name, at the end.
    for (n, space) in spaces.iter().enumerate() {
        for list in 0..LISTS {
            for via in [Via::Car, Via::Steps, Via::Vin] {
                let got = cache
                    .get(space, &selector(list, via))
                    .await
                    .map_err(|e| format!("final get: {e}"))?;
                let expected = model.get(&(n, list)).and_then(|k| k.view(via));
                same(got, expected, ("final", n, list, via))?;
            }
        }
    }
    let report = cache
        .check()
        .await
        .map_err(|e| format!("final check: {e}"))?;
    same(report.unreadable_removed, 0, "unreadable records")?;
    let lists = model.values().filter(|k| k.list.is_some()).count();
    same(report.lists, lists, "lists in the store")?;
    Ok(())
}

/// 128 random sequences of 1 to 59 merges, resets, invalidations, lookups and reopens
/// answer as the model does; a failing one is shrunk to a minimal sequence, which the panic
/// shows.
pub async fn the_cache_behaves_like_the_model<F: StoreFactory>(factory: &F) {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(action(), 1..MAX_ACTIONS);
    for _ in 0..CASES {
        let mut tree = strategy
            .new_tree(&mut runner)
            .expect("proptest generates a sequence");
        let Err(why) = run(factory, &tree.current()).await else {
            continue;
        };
        // Shrink: simplify while it still fails, step back when it passes.
        let mut failure = (tree.current(), why);
        let mut steps = 0;
        if tree.simplify() {
            while steps < MAX_SHRINK_STEPS {
                steps += 1;
                match run(factory, &tree.current()).await {
                    Err(why) => {
                        failure = (tree.current(), why);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    Ok(()) => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        let (actions, why) = failure;
        panic!(
            "the cache differs from the model: {why}\nminimal failing sequence ({} actions, after {steps} shrink steps):\n{actions:#?}",
            actions.len()
        );
    }
}
