//! What the suites cache: the documentation's three steps, identifiers, namespaces, and the
//! store and cache of a case.

use std::sync::Arc;

use pims_types::{Step, StepName, StepStatus, StepsId, StepsList, StepsSelector, Vin};

use super::StoreFactory;
use crate::cache::StepCache;
use crate::device::DeviceId;
use crate::namespace::Namespace;
use crate::store::StepStore;

/// A VIN the suites link lists to.
pub(crate) const VIN: &str = "VR1AB12C3D4567890";

pub(crate) fn vin() -> Vin {
    Vin::parse(VIN).expect("a valid VIN")
}

pub(crate) fn step(name: StepName, done: bool, order: i64) -> Step {
    let status = if done {
        StepStatus::AlreadyDone
    } else {
        StepStatus::Todo
    };
    Step::new(name, status, order)
}

/// The documentation's three steps with the given statuses, as list `id`.
pub(crate) fn three(id: u64, phone: bool, device: bool, key: bool) -> StepsList {
    StepsList::new(
        StepsId::number(id),
        vec![
            step(StepName::TrusterPhoneNumber, phone, 1),
            step(StepName::DeviceActivation, device, 2),
            step(StepName::MediumCarKey, key, 3),
        ],
    )
}

/// Which steps are alreadyDone, by name.
pub(crate) fn done(list: &StepsList) -> Vec<String> {
    list.steps()
        .iter()
        .filter(|s| s.status == StepStatus::AlreadyDone)
        .map(|s| s.name.as_str().to_owned())
        .collect()
}

/// The namespace of `account` on device `device`.
pub(crate) fn ns(account: &str, device: &str) -> Namespace {
    let device = DeviceId::parse(device).expect("a valid device id");
    Namespace::new(account, device).expect("a valid account")
}

pub(crate) fn car(c: &str) -> StepsSelector {
    StepsSelector::car_association_id(c).expect("a valid carAssociationID")
}

pub(crate) fn sid(s: &str) -> StepsSelector {
    StepsSelector::steps_id(s).expect("a valid stepsID")
}

pub(crate) fn by_vin() -> StepsSelector {
    StepsSelector::Vin(vin())
}

/// A new place of `factory` and its store.
pub(crate) async fn fresh<F: StoreFactory>(factory: &F) -> (F::Place, Arc<dyn StepStore>) {
    let place = factory
        .create()
        .await
        .unwrap_or_else(|e| panic!("the factory could not create a place: {e}"));
    let store = reopen(factory, &place).await;
    (place, store)
}

/// The store at `place`, opened (again).
pub(crate) async fn reopen<F: StoreFactory>(factory: &F, place: &F::Place) -> Arc<dyn StepStore> {
    factory
        .open(place)
        .await
        .unwrap_or_else(|e| panic!("the factory could not open a store: {e}"))
}

/// A new place of `factory` and a cache over its store.
pub(crate) async fn fresh_cache<F: StoreFactory>(factory: &F) -> (F::Place, StepCache) {
    let (place, store) = fresh(factory).await;
    (place, StepCache::new(store))
}
