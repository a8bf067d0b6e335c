//! The pure functions of the Steps component: the status filter, the next step, and the sticky
//! merge of a cached list with a fresh backend list.

use crate::steps::{Step, StepStatus, StepsList, StepsStatusFilter};

/// The list with only the steps the filter admits; the stepsID is kept.
///
/// ```
/// use pims_types::*;
/// let l = StepsList::new(StepsId::number(1), vec![
///     Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
///     Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
/// assert_eq!(filter(&l, StepsStatusFilter::Todo).len(), 1);
/// assert_eq!(filter(&l, StepsStatusFilter::All), l);
/// ```
pub fn filter(list: &StepsList, status: StepsStatusFilter) -> StepsList {
    let steps = list
        .steps()
        .iter()
        .filter(|s| status.admits(s.status))
        .cloned()
        .collect();
    StepsList::new(list.steps_id().clone(), steps)
}

/// The next step to do: the `todo` step with the lowest order (the first in list order among
/// equal orders), with the order it has in the list; `None` when nothing is left.
///
/// ```
/// use pims_types::*;
/// let l = StepsList::new(StepsId::number(1), vec![
///     Step::new(StepName::TrusterPhoneNumber, StepStatus::AlreadyDone, 1),
///     Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
/// assert_eq!(next_step(&l).unwrap().name, StepName::DeviceActivation);
/// ```
pub fn next_step(list: &StepsList) -> Option<&Step> {
    // Steps are kept sorted by order (stable), so the first todo is the lowest-order one.
    list.steps().iter().find(|s| s.status == StepStatus::Todo)
}

/// Merges a fresh backend list into the cached one with the sticky rule: a step `alreadyDone`
/// in either is `alreadyDone` in the result. The result has the backend's stepsID, every step
/// the backend sent (with the backend's order), and the cached `alreadyDone` steps the backend
/// no longer sends (a cached `todo` the backend dropped is no longer required, so it goes).
///
/// ```
/// use pims_types::*;
/// let cached = StepsList::new(StepsId::number(1), vec![Step::new(StepName::DeviceActivation, StepStatus::AlreadyDone, 2)]);
/// let fresh = StepsList::new(StepsId::number(1), vec![Step::new(StepName::DeviceActivation, StepStatus::Todo, 2)]);
/// assert_eq!(merge(&cached, &fresh).steps()[0].status, StepStatus::AlreadyDone);
/// ```
pub fn merge(cached: &StepsList, fresh: &StepsList) -> StepsList {
    let mut steps: Vec<Step> = fresh
        .steps()
        .iter()
        .map(|f| {
            let sticky = cached
                .step(&f.name)
                .is_some_and(|c| c.status == StepStatus::AlreadyDone);
            let mut s = f.clone();
            if sticky {
                s.status = StepStatus::AlreadyDone;
            }
            s
        })
        .collect();
    for c in cached.steps() {
        if c.status == StepStatus::AlreadyDone && fresh.step(&c.name).is_none() {
            steps.push(c.clone());
        }
    }
    StepsList::new(fresh.steps_id().clone(), steps)
}
