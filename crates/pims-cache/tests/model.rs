//! A state machine test: random sequences of merge / reset / invalidate / lookup / reopen
//! against a `BTreeMap` model of the cache, on both stores. (Crashes are the crash loop's
//! job: a process cannot be killed in the middle of a proptest case.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use pims_cache::{ListKeys, MemoryStore, Namespace, StepCache};
use pims_types::{StepName, StepsId, StepsList, StepsSelector, Vin};
use proptest::prelude::*;
use support::*;

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
    match via {
        Via::Car => StepsSelector::car_association_id(format!("car-{list}")).unwrap(),
        Via::Steps => StepsSelector::steps_id(steps_id(list).as_str()).unwrap(),
        Via::Vin => StepsSelector::Vin(Vin::parse(VINS[list]).unwrap()),
    }
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

/// The system under test: a cache and how to reopen it.
struct Subject {
    cache: Option<StepCache>,
    reopen: Box<dyn Fn() -> StepCache>,
}

impl Subject {
    fn memory() -> Subject {
        let store = MemoryStore::new();
        let open = move || StepCache::new(Arc::new(store.clone()));
        Subject {
            cache: Some(open()),
            reopen: Box::new(open),
        }
    }

    fn sled(dir: PathBuf) -> Subject {
        let open = move || sled_cache(&dir);
        Subject {
            cache: Some(open()),
            reopen: Box::new(open),
        }
    }

    fn cache(&self) -> &StepCache {
        self.cache.as_ref().unwrap()
    }

    fn reopen(&mut self) {
        // The old one closes before the new one opens.
        drop(self.cache.take());
        self.cache = Some((self.reopen)());
    }
}

fn run(mut subject: Subject, actions: &[Action]) -> Result<(), TestCaseError> {
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
                let got = subject.cache().merge(&spaces[*ns], &keys, &fresh).unwrap();
                let k = model.entry((*ns, *list)).or_default();
                let merged = match &k.list {
                    Some(cached) => pims_types::merge(cached, &fresh),
                    None => fresh,
                };
                prop_assert_eq!(&got.list, &merged, "{:?}", action);
                k.list = Some(merged);
                match via {
                    Via::Car => k.car = true,
                    Via::Vin => k.vin = true,
                    Via::Steps => {}
                }
            }
            Action::Reset { ns, list, via } => {
                let removed = subject
                    .cache()
                    .reset(&spaces[*ns], &selector(*list, *via))
                    .unwrap();
                let k = model.entry((*ns, *list)).or_default();
                let found = k.view(*via).is_some();
                prop_assert_eq!(removed.lists, usize::from(found), "{:?}", action);
                if found {
                    *k = Known::default();
                }
            }
            Action::Invalidate { ns } => {
                let removed = subject.cache().invalidate_device(&spaces[*ns]).unwrap();
                let mut expected = 0;
                for ((n, _), k) in model.iter_mut() {
                    if n == ns {
                        expected += usize::from(k.list.is_some());
                        *k = Known::default();
                    }
                }
                prop_assert_eq!(removed.lists, expected);
            }
            Action::Get { ns, list, via } => {
                let got = subject
                    .cache()
                    .get(&spaces[*ns], &selector(*list, *via))
                    .unwrap();
                let expected = model.get(&(*ns, *list)).and_then(|k| k.view(*via));
                prop_assert_eq!(got, expected, "{:?}", action);
            }
            Action::Reopen => subject.reopen(),
        }
    }
    // Everything, through every name, at the end.
    for (n, space) in spaces.iter().enumerate() {
        for list in 0..LISTS {
            for via in [Via::Car, Via::Steps, Via::Vin] {
                let got = subject.cache().get(space, &selector(list, via)).unwrap();
                let expected = model.get(&(n, list)).and_then(|k| k.view(via));
                prop_assert_eq!(got, expected, "final: ns {} list {} {:?}", n, list, via);
            }
        }
    }
    let report = subject.cache().check().unwrap();
    prop_assert_eq!(report.unreadable_removed, 0);
    let lists = model.values().filter(|k| k.list.is_some()).count();
    prop_assert_eq!(report.lists, lists);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_memory_cache_behaves_like_the_model(actions in prop::collection::vec(action(), 1..60)) {
        run(Subject::memory(), &actions)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_sled_cache_behaves_like_the_model_across_reopens(actions in prop::collection::vec(action(), 1..50)) {
        let tmp = tempfile::tempdir().unwrap();
        run(Subject::sled(tmp.path().join("cache")), &actions)?;
    }
}
