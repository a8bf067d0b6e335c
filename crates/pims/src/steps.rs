//! The typed steps API: `pims.steps(selector).status(filter).reset(true).send().await`.

use pims_types::{NextStepQuery, Step, StepsQuery, StepsSelector, StepsStatusFilter};

use crate::error::Error;
use crate::facade::Pims;
use crate::reply::{Answered, Reply, Steps};
use crate::request::Request;

/// A `pims.subscription.steps` request being built.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// use pims::{StepsSelector, StepsStatusFilter};
/// let todo = pims.steps(StepsSelector::car_association_id("987654")?)
///     .status(StepsStatusFilter::Todo)
///     .reset(false)
///     .send()
///     .await?;
/// for step in todo.steps() {
///     println!("{} (order {})", step.name, step.order);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct StepsRequest {
    pims: Pims,
    query: StepsQuery,
}

impl StepsRequest {
    /// Only the steps with this status (default: all). Applied after the merge with the cache.
    pub fn status(mut self, status: StepsStatusFilter) -> Self {
        self.query.status = status;
        self
    }

    /// Wipe the cached state of this list first (whatever identifier selected it).
    pub fn reset(mut self, reset: bool) -> Self {
        self.query.reset = reset;
        self
    }

    /// Sends the request.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let steps = pims.steps(pims::StepsSelector::car_association_id("987654")?).send().await?;
    /// assert!(!steps.stale);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Steps, Error> {
        self.pims
            .send_typed(Ok(Request::steps(self.query)), Reply::into_steps)
            .await
    }

    /// Sends the request, and hands back the envelope too (as `get` would answer it, with the
    /// call's transaction id).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let sel = pims::StepsSelector::car_association_id("987654")?;
    /// let answered = pims.steps(sel).send_with_envelope().await?;
    /// assert_eq!(answered.message.result().unwrap()["stepsID"], answered.value.steps_id().to_value());
    /// # Ok(()) }
    /// ```
    pub async fn send_with_envelope(self) -> Result<Answered<Steps>, Error> {
        self.pims
            .send_answered(Ok(Request::steps(self.query)), Reply::into_steps)
            .await
    }
}

impl Pims {
    /// Starts a typed `pims.subscription.steps` request.
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// let all = pims.steps(pims::StepsSelector::car_association_id("987654")?).send().await?;
    /// println!("stepsID {}", all.steps_id());
    /// # Ok(()) }
    /// ```
    pub fn steps(&self, selector: StepsSelector) -> StepsRequest {
        StepsRequest {
            pims: self.clone(),
            query: StepsQuery::new(selector),
        }
    }

    /// Starts a typed `pims.subscription.step` request: the next step to do for a list,
    /// computed on the merged list (`None` when nothing is left).
    ///
    /// ```no_run
    /// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
    /// match pims.next_step("132324").send().await? {
    ///     Some(step) => println!("next: {}", step.name),
    ///     None => println!("nothing to do"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn next_step(&self, steps_id: impl Into<String>) -> NextStepRequest {
        NextStepRequest {
            pims: self.clone(),
            steps_id: steps_id.into(),
        }
    }
}

/// A `pims.subscription.step` request being built.
///
/// ```no_run
/// # async fn demo(pims: pims::Pims) -> Result<(), pims::Error> {
/// let answered = pims.next_step("132324").send_with_envelope().await?;
/// println!("{}", answered.message.to_json_string()); // {"result": null} when nothing is left
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct NextStepRequest {
    pims: Pims,
    steps_id: String,
}

impl NextStepRequest {
    fn request(&self) -> Result<Request, Error> {
        NextStepQuery::from_parameters(
            &pims_types::Parameters::new().with(pims_types::keys::STEPS_ID, self.steps_id.as_str()),
        )
        .map(Request::next_step)
        .map_err(Error::from)
    }

    /// Sends the request (a malformed stepsID is 2102, not sent).
    pub async fn send(self) -> Result<Option<Step>, Error> {
        self.pims
            .send_typed(self.request(), Reply::into_next_step)
            .await
    }

    /// Sends the request, and hands back the envelope too.
    pub async fn send_with_envelope(self) -> Result<Answered<Option<Step>>, Error> {
        self.pims
            .send_answered(self.request(), Reply::into_next_step)
            .await
    }
}
