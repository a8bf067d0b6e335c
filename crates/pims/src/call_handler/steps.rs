//! The steps semantics: reset first when asked; always ask the backend for `all`; merge with
//! the cache (a step once `alreadyDone` stays so); store; then filter. The offline fallback
//! answers from the cache when the backend cannot be reached; the next step is computed on the
//! merged list.

use pims_types::{
    Api, ErrorCode, NextStepQuery, Step, StepsQuery, StepsSelector, StepsStatusFilter, Verb,
    filter, next_step,
};

use super::{CallHandler, InFlightCall};
use crate::error::Error;
use crate::reply::Steps;

impl CallHandler {
    /// The steps semantics: reset first when asked; always ask the backend for `all`; merge
    /// with the cache (sticky); store; then filter.
    pub(super) async fn steps(
        &self,
        query: &StepsQuery,
        call: &InFlightCall,
    ) -> Result<Steps, Error> {
        if query.reset
            && let Err(e) = self.cache.reset(&query.selector).await
        {
            tracing::warn!(error = %e, "could not wipe the cached list");
        }
        let backend = StepsQuery {
            selector: query.selector.clone(),
            reset: query.reset,
            status: StepsStatusFilter::All,
        };
        let answer = self
            .send(
                Verb::Get,
                Api::SubscriptionSteps,
                backend.to_parameters(),
                call,
            )
            .await;
        let message = match answer {
            Ok(m) => m,
            Err(e)
                if self.policies.offline_fallback
                    && matches!(e.code(), ErrorCode::TIMEOUT | ErrorCode::NETWORK) =>
            {
                return match self.cache.get(&query.selector).await {
                    Some(cached) => {
                        tracing::warn!(code = %e.code(), "backend unreachable: answering from the cache (stale)");
                        Ok(Steps {
                            list: filter(&cached, query.status),
                            stale: true,
                        })
                    }
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        // The list the transport decoded from the answer, or read from its result (a FAILED
        // answer never gets here: `send` made it an error).
        let fresh = message.into_steps_list().map_err(|e| {
            // Say where it broke, relative to the envelope.
            match e {
                pims_types::Error::Decode { path, message } => Error::from(
                    pims_types::Error::decode(path.replacen('$', "$.result", 1), message),
                ),
                other => Error::from(other),
            }
        })?;
        if let StepsSelector::StepsId(asked) = &query.selector
            && fresh.steps_id() != asked
        {
            return Err(Error::from(pims_types::Error::decode(
                "$.result.stepsID",
                "does not match the stepsID asked for",
            )));
        }
        if query.reset {
            // The identifier asked may not have been linked to the cached list yet (a first
            // request by VIN): the list the backend names is wiped too, so nothing stale
            // survives the reset.
            let by_id = StepsSelector::StepsId(fresh.steps_id().clone());
            if let Err(e) = self.cache.reset(&by_id).await {
                tracing::warn!(error = %e, "could not wipe the cached list");
            }
        }
        let merged = self.cache.merge(&query.selector, fresh).await;
        Ok(Steps {
            list: filter(&merged, query.status),
            stale: false,
        })
    }

    /// The next step, computed on the merged list.
    pub(super) async fn next_step(
        &self,
        query: &NextStepQuery,
        call: &InFlightCall,
    ) -> Result<Option<Step>, Error> {
        let steps = self
            .steps(
                &StepsQuery::new(StepsSelector::StepsId(query.steps_id.clone())),
                call,
            )
            .await?;
        Ok(next_step(&steps.list).cloned())
    }
}
