//! The routing table: (verb, canonical API) -> the handler that serves it. Aliases are resolved
//! first (`pims.vehicle.steps` -> `pims.subscription.steps`); anything not in the table is 2002.

use pims_types::{Api, Verb};

/// What serves a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `get pims.subscription.steps`: backend (always `all`) + sticky merge + filter.
    Steps,
    /// `get pims.subscription.step`: the list by stepsID, merged, then its next step.
    NextStep,
    /// `get pims.subscription.services`: validated, then passed through.
    Services,
    /// `get pims.authentication.otp`: passed through; 2312/2317 invalidate the device's cache.
    Otp,
    /// Every other activation API: passed through to the backend.
    PassThrough,
}

/// The table, one row per (verb, API) the component serves.
const TABLE: &[(Verb, Api, Route)] = &[
    (Verb::Get, Api::SubscriptionSteps, Route::Steps),
    (Verb::Get, Api::SubscriptionStep, Route::NextStep),
    (Verb::Get, Api::SubscriptionServices, Route::Services),
    (Verb::Get, Api::Otp, Route::Otp),
    (Verb::Get, Api::TrustedPhoneNumber, Route::PassThrough),
    (Verb::Get, Api::SmsCode, Route::PassThrough),
    (Verb::Set, Api::SmsCode, Route::PassThrough),
    (Verb::Get, Api::Account, Route::PassThrough),
    (Verb::Set, Api::Enrollment, Route::PassThrough),
    (Verb::Set, Api::PinCode, Route::PassThrough),
    (Verb::Set, Api::VehicleVin, Route::PassThrough),
    (Verb::Get, Api::CarKey, Route::PassThrough),
    (Verb::Set, Api::CarKey, Route::PassThrough),
];

/// The route of a call, `None` for an API or verb the component does not serve (2002).
pub(crate) fn route(verb: Verb, api: &str) -> Option<(Api, Route)> {
    let api = Api::parse(api)?;
    TABLE
        .iter()
        .find(|(v, a, _)| *v == verb && *a == api)
        .map(|(_, a, r)| (*a, *r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_api_verbs() {
        for api in Api::ALL {
            for verb in [Verb::Get, Verb::Set, Verb::Subscribe, Verb::Unsubscribe] {
                assert_eq!(
                    route(verb, api.name()).is_some(),
                    api.supports(verb),
                    "{verb} {api}"
                );
            }
        }
    }

    #[test]
    fn aliases_and_unknowns() {
        assert_eq!(
            route(Verb::Get, "pims.vehicle.steps"),
            Some((Api::SubscriptionSteps, Route::Steps))
        );
        assert_eq!(route(Verb::Get, "pims.nothing"), None);
        assert_eq!(route(Verb::Subscribe, "pims.subscription.steps"), None);
    }
}
