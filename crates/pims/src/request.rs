//! A call parsed once, at the edge: the routing table picks the handler, the parameters become
//! a typed query (or are checked against the format rules when they pass through), and from
//! there on the call handler works on the typed [`Request`]. A bad call is refused here, before any
//! cache or backend work: 2002 for an API or verb the component does not serve, 2101/2102
//! naming the parameter.

use pims_types::{
    Api, NextStepQuery, Operation, OtpAction, Parameters, ServicesQuery, StepsQuery, Verb, keys,
};

use crate::error::Error;
use crate::routing::{Route, route};

/// One call, typed.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) verb: Verb,
    pub(crate) api: Api,
    pub(crate) body: Body,
}

/// What the call asks, by handler.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// `get pims.subscription.steps`: backend (always `all`) + sticky merge + filter.
    Steps(StepsQuery),
    /// `get pims.subscription.step`: the list by stepsID, merged, then its next step.
    NextStep(NextStepQuery),
    /// `get pims.authentication.otp`: passed through; 2312/2317 on withPIN make the device's
    /// cached steps stale.
    Otp { params: Parameters, with_pin: bool },
    /// Sent as it is (formats checked; `services` reduced to its canonical `vin`).
    Pass(Parameters),
}

impl Request {
    /// Parses a call of the mobile SDK's shape.
    pub(crate) fn parse(verb: Verb, api: &str, params: Parameters) -> Result<Request, Error> {
        let (api, route) = route(verb, api).ok_or_else(Error::not_supported)?;
        let body = match route {
            Route::Steps => Body::Steps(StepsQuery::from_parameters(&params)?),
            Route::NextStep => Body::NextStep(NextStepQuery::from_parameters(&params)?),
            Route::Services => {
                let query = ServicesQuery::from_parameters(&params)?;
                Body::Pass(Parameters::new().with(keys::VIN, query.vin.as_str()))
            }
            Route::Otp => {
                // What the user typed is checked before anything is sent: a malformed PIN is
                // 2102 here, never a wrong-PIN attempt at the backend.
                params.check_formats()?;
                // Under `action` or its alias `type`, as the backend reads it.
                let with_pin = OtpAction::from_parameters(&params).ok() == Some(OtpAction::WithPin);
                Body::Otp { params, with_pin }
            }
            Route::PassThrough => {
                params.check_formats()?;
                Body::Pass(params)
            }
        };
        Ok(Request { verb, api, body })
    }

    /// A typed steps request.
    pub(crate) fn steps(query: StepsQuery) -> Request {
        Request {
            verb: Verb::Get,
            api: Api::SubscriptionSteps,
            body: Body::Steps(query),
        }
    }

    /// A typed next-step request.
    pub(crate) fn next_step(query: NextStepQuery) -> Request {
        Request {
            verb: Verb::Get,
            api: Api::SubscriptionStep,
            body: Body::NextStep(query),
        }
    }

    /// Whether the call carries a PIN, an OTP or an SMS code (such a call is never sent twice
    /// for one user action, so the 2302 recovery leaves it alone).
    pub(crate) fn carries_secret(&self) -> bool {
        match &self.body {
            Body::Otp { params, .. } | Body::Pass(params) => pims_types::carries_secret(params),
            Body::Steps(_) | Body::NextStep(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pims_types::ErrorCode;

    #[test]
    fn bad_calls_are_refused_at_the_edge_naming_the_parameter() {
        let e = Request::parse(Verb::Get, "pims.nothing", Parameters::new()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::API_NOT_SUPPORTED);
        let e = Request::parse(Verb::Get, "pims.subscription.step", Parameters::new()).unwrap_err();
        assert_eq!(e.label(), "Missing stepsID parameter");
        let e = Request::parse(
            Verb::Get,
            "pims.authentication.otp",
            Parameters::new()
                .with("action", "withPIN")
                .with("pinCode", "12"),
        )
        .unwrap_err();
        assert_eq!(e.label(), "Invalid pinCode parameter");
    }

    #[test]
    fn services_are_sent_with_their_canonical_vin_only() {
        let r = Request::parse(
            Verb::Get,
            "pims.subscription.services",
            Parameters::new()
                .with("vin", "VR1AB12C3D4567890")
                .with("extra", 1),
        )
        .unwrap();
        let Body::Pass(p) = r.body else {
            panic!("not passed through")
        };
        assert_eq!(p.as_map().len(), 1);
    }

    #[test]
    fn an_otp_with_pin_is_known_under_either_key() {
        for key in ["action", "type"] {
            let r = Request::parse(
                Verb::Get,
                "pims.authentication.otp",
                Parameters::new()
                    .with(key, "withPIN")
                    .with("pinCode", "1234"),
            )
            .unwrap();
            assert!(matches!(r.body, Body::Otp { with_pin: true, .. }), "{key}");
        }
        let r = Request::parse(
            Verb::Get,
            "pims.authentication.otp",
            Parameters::new().with("action", "withoutPIN"),
        )
        .unwrap();
        assert!(matches!(
            r.body,
            Body::Otp {
                with_pin: false,
                ..
            }
        ));
    }

    #[test]
    fn only_calls_with_a_pin_otp_or_sms_code_carry_a_secret() {
        let otp = Request::parse(
            Verb::Get,
            "pims.authentication.otp",
            Parameters::new()
                .with("action", "withPIN")
                .with("pinCode", "1234"),
        )
        .unwrap();
        assert!(otp.carries_secret());
        let steps = Request::parse(
            Verb::Get,
            "pims.subscription.steps",
            Parameters::new().with("stepsID", "1"),
        )
        .unwrap();
        assert!(!steps.carries_secret());
    }
}
