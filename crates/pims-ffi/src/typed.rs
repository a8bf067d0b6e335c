//! The typed steps calls: `steps`, `next_step`, `services` (async, throwing [`PimsError`]).

use crate::error::PimsError;
use crate::facade::PimsCore;

/// Which list a `steps` call asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum StepsSelector {
    /// By car association (the first request of a device).
    CarAssociationId {
        /// The carAssociationID.
        value: String,
    },
    /// By the stepsID a first request answered.
    StepsId {
        /// The stepsID.
        value: String,
    },
    /// By vehicle (once this device has a stepsID for it).
    Vin {
        /// The VIN (17 characters).
        value: String,
    },
}

/// The `stepsStatus` filter, applied after the merge with the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepsFilter {
    /// Every step.
    All,
    /// The steps still to do.
    Todo,
    /// The steps already done.
    AlreadyDone,
}

/// Whether a step is still required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StepStatus {
    /// Still required.
    Todo,
    /// Checked; need not be done again (sticky until a reset).
    AlreadyDone,
}

/// One step of a list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Step {
    /// Its name as on the wire (`trusterPhoneNumber`, `deviceActivation`, `mediumCarKey`, ...).
    pub name: String,
    /// Whether it is still required.
    pub status: StepStatus,
    /// Its position: steps are done in ascending order.
    pub order: i64,
}

/// A step list as the facade answers it: merged with the cache, then filtered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StepsAnswer {
    /// The list's stepsID.
    pub steps_id: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// `true` when the backend could not be reached and the list comes from the cache alone.
    pub stale: bool,
}

/// A connected service of a vehicle.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Service {
    /// The service code.
    pub code: String,
    /// Its name.
    pub name: String,
}

pub(crate) fn step(s: &pims::Step) -> Step {
    Step {
        name: s.name.as_str().to_owned(),
        status: match s.status {
            pims::StepStatus::Todo => StepStatus::Todo,
            pims::StepStatus::AlreadyDone => StepStatus::AlreadyDone,
        },
        order: s.order,
    }
}

impl StepsSelector {
    fn to_pims(&self) -> Result<pims::StepsSelector, pims::Error> {
        Ok(match self {
            StepsSelector::CarAssociationId { value } => {
                pims::StepsSelector::car_association_id(value.as_str())?
            }
            StepsSelector::StepsId { value } => pims::StepsSelector::steps_id(value.as_str())?,
            StepsSelector::Vin { value } => pims::StepsSelector::vin(value)?,
        })
    }
}

#[uniffi::export]
impl PimsCore {
    /// `pims.subscription.steps`, typed: the merged list, filtered by `status`; `reset` wipes
    /// the cached state of the list first.
    pub async fn steps(
        &self,
        selector: StepsSelector,
        status: StepsFilter,
        reset: bool,
    ) -> Result<StepsAnswer, PimsError> {
        let selector = selector.to_pims()?;
        let filter = match status {
            StepsFilter::All => pims::StepsStatusFilter::All,
            StepsFilter::Todo => pims::StepsStatusFilter::Todo,
            StepsFilter::AlreadyDone => pims::StepsStatusFilter::AlreadyDone,
        };
        let answer = self
            .inner
            .steps(selector)
            .status(filter)
            .reset(reset)
            .send()
            .await?;
        Ok(StepsAnswer {
            steps_id: answer.steps_id().as_str().to_owned(),
            steps: answer.steps().iter().map(step).collect(),
            stale: answer.stale,
        })
    }

    /// `pims.subscription.step`, typed: the next step to do, `null`/`None`/`nil` when done.
    pub async fn next_step(&self, steps_id: String) -> Result<Option<Step>, PimsError> {
        let next = self.inner.next_step(steps_id).send().await?;
        Ok(next.as_ref().map(step))
    }

    /// `pims.subscription.services`, typed: the connected services of a vehicle.
    pub async fn services(&self, vin: String) -> Result<Vec<Service>, PimsError> {
        let vin = pims::Vin::parse(&vin).map_err(pims::Error::from)?;
        let services = self.inner.services(vin).send().await?;
        Ok(services
            .into_iter()
            .map(|s| Service {
                code: s.code,
                name: s.name,
            })
            .collect())
    }
}
