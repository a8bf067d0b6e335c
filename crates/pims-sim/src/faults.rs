//! Fault injection for resilience tests (`POST /admin/faults`): latency, failure rate, an HTTP
//! status, a dropped connection or a garbage body, for every API or some of them. Faults apply
//! to `POST /v1/calls` only.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use pims_types::Api;

use crate::error::SimError;

/// The longest latency a fault may add.
///
/// ```
/// let f = pims_sim::FaultSpec { latency_ms: pims_sim::MAX_LATENCY_MS + 1, ..Default::default() };
/// assert!(f.validate().is_err());
/// ```
pub const MAX_LATENCY_MS: u64 = 60_000;

/// The longest `Retry-After` a 429 fault may give.
const MAX_RETRY_AFTER_SECS: u64 = 3600;

/// An API name of `apis`: a canonical name or a documented alias (the schema of a name,
/// listing every one [`Api::parse`] reads).
struct ApiName;

impl JsonSchema for ApiName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ApiName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut names: Vec<&str> = Api::ALL.iter().map(|a| a.name()).collect();
        names.push(pims_types::names::VEHICLE_STEPS_ALIAS);
        json_schema!({"type": "string", "enum": names})
    }
}

/// At most one failure mode: what [`FaultSpec::validate`] checks beyond the fields' ranges.
fn one_failure_mode(schema: &mut Schema) {
    let modes = [
        ("status", serde_json::json!({})),
        ("dropConnection", serde_json::json!({"const": true})),
        ("garbageBody", serde_json::json!({"const": true})),
    ];
    let mut pairs = Vec::new();
    for (i, (a, sa)) in modes.iter().enumerate() {
        for (b, sb) in &modes[i + 1..] {
            pairs.push(serde_json::json!({"required": [a, b], "properties": {*a: sa, *b: sb}}));
        }
    }
    schema.insert("not".into(), serde_json::json!({"anyOf": pairs}));
}

/// A fault to inject. At most one failure mode (`status`, `dropConnection`, `garbageBody`);
/// `latencyMs` combines with any of them. An optional field may be left out, not given as
/// `null` (refused like any other bad value).
///
/// ```
/// let f: pims_sim::FaultSpec = serde_json::from_value(serde_json::json!(
///     {"status": 503, "apis": ["pims.subscription.steps"], "count": 2})).unwrap();
/// assert!(f.validate().is_ok());
/// let bad: pims_sim::FaultSpec = serde_json::from_value(serde_json::json!({"failRate": 2.0})).unwrap();
/// assert_eq!(bad.validate().unwrap_err().field(), Some("failRate"));
///
/// // `FaultSpec::validate`
/// let f = pims_sim::FaultSpec { status: Some(503), drop_connection: true, ..Default::default() };
/// assert_eq!(f.validate().unwrap_err().field(), Some("dropConnection"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(transform = one_failure_mode)]
pub struct FaultSpec {
    /// Delay before answering, in milliseconds (0..=60000; default 0), on every matching call.
    #[serde(default)]
    #[schemars(range(max = MAX_LATENCY_MS))]
    pub latency_ms: u64,
    /// Probability (0..=1) that a matching call fails with the failure mode (default 1 when a
    /// mode is given). Given without a mode, the failure is HTTP 500 with FAILED 2204.
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "f64")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub fail_rate: Option<f64>,
    /// The HTTP status to answer (400..=599): 401 carries FAILED 2301, 403 FAILED 2302, any
    /// other FAILED 2204 `Server Error`; 429 adds `Retry-After`.
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "u16")]
    #[schemars(range(min = 400, max = 599))]
    pub status: Option<u16>,
    /// The `Retry-After` seconds of a 429 (default 1; 0..=3600).
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "u64")]
    #[schemars(range(max = MAX_RETRY_AFTER_SECS))]
    pub retry_after_secs: Option<u64>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop_connection: bool,
    /// Answer HTTP 200 with a body that is not JSON.
    #[serde(default)]
    pub garbage_body: bool,
    /// The APIs the fault applies to (names or documented aliases); absent: every call, even
    /// one whose body cannot be read.
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<ApiName>")]
    #[schemars(length(min = 1))]
    pub apis: Option<Vec<String>>,
    /// Do the work first, then fail (the answer is lost, the state changed: what makes an
    /// `Idempotency-Key` necessary). Default false: fail before doing anything.
    #[serde(default)]
    pub after_processing: bool,
    /// Apply to the next `count` matching calls only, then clear itself (absent: until
    /// `DELETE /admin/faults`).
    #[serde(
        default,
        deserialize_with = "crate::non_null::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "u64")]
    #[schemars(range(min = 1))]
    pub count: Option<u64>,
}

impl FaultSpec {
    /// Checks the ranges and the single failure mode; the error names the field.
    pub fn validate(&self) -> Result<(), SimError> {
        self.compile().map(|_| ())
    }

    fn compile(&self) -> Result<Active, SimError> {
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(SimError::invalid(
                "latencyMs",
                format!("at most {MAX_LATENCY_MS}"),
            ));
        }
        if let Some(rate) = self.fail_rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(SimError::invalid("failRate", "expected 0 to 1"));
        }
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(SimError::invalid(
                "status",
                "expected an HTTP status from 400 to 599",
            ));
        }
        if let Some(secs) = self.retry_after_secs
            && secs > MAX_RETRY_AFTER_SECS
        {
            return Err(SimError::invalid("retryAfterSecs", "at most 3600"));
        }
        let modes = [
            self.status.is_some(),
            self.drop_connection,
            self.garbage_body,
        ];
        if modes.iter().filter(|m| **m).count() > 1 {
            let field = if self.status.is_some() && self.drop_connection {
                "dropConnection"
            } else {
                "garbageBody"
            };
            return Err(SimError::invalid(
                field,
                "only one of status, dropConnection, garbageBody may be given",
            ));
        }
        let apis = match &self.apis {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(SimError::invalid(
                    "apis",
                    "must not be empty (leave it out for every API)",
                ));
            }
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .map(|(i, name)| {
                        Api::parse(name)
                            .ok_or_else(|| SimError::invalid(format!("apis[{i}]"), "unknown API"))
                    })
                    .collect::<Result<Vec<Api>, SimError>>()?,
            ),
        };
        if self.count == Some(0) {
            return Err(SimError::invalid("count", "must be at least 1"));
        }
        let mode = if let Some(status) = self.status {
            Some(Mode::Status {
                status,
                retry_after: self.retry_after_secs.unwrap_or(1),
            })
        } else if self.drop_connection {
            Some(Mode::Drop)
        } else if self.garbage_body {
            Some(Mode::Garbage)
        } else if self.fail_rate.is_some() {
            Some(Mode::Status {
                status: 500,
                retry_after: 1,
            })
        } else {
            None
        };
        Ok(Active {
            spec: self.clone(),
            apis,
            mode,
            remaining: self.count,
        })
    }
}

/// How an injected failure answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Status { status: u16, retry_after: u64 },
    Drop,
    Garbage,
}

/// What the faults do to one call.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) latency: Duration,
    pub(crate) failure: Option<Mode>,
    pub(crate) after_processing: bool,
}

impl Plan {
    /// Whether the call is left alone (no latency, no failure).
    pub(crate) fn is_nothing(&self) -> bool {
        self.latency.is_zero() && self.failure.is_none()
    }
}

#[derive(Debug)]
struct Active {
    spec: FaultSpec,
    apis: Option<Vec<Api>>,
    mode: Option<Mode>,
    remaining: Option<u64>,
}

/// The active fault, if any.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: Mutex<Option<Active>>,
}

impl Faults {
    /// Replaces the active fault.
    pub(crate) fn set(&self, spec: &FaultSpec) -> Result<(), SimError> {
        let active = spec.compile()?;
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) = Some(active);
        Ok(())
    }

    /// Clears the active fault.
    pub(crate) fn clear(&self) {
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The active fault, with the calls it has left when counted.
    pub(crate) fn get(&self) -> Option<FaultSpec> {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|a| FaultSpec {
                count: a.remaining,
                ..a.spec.clone()
            })
    }

    /// Whether a fault is active (calls then take the full path, which decodes the API).
    pub(crate) fn is_active(&self) -> bool {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// What the active fault does to a call of `api` (`None`: the body named no known API).
    pub(crate) fn plan(&self, api: Option<Api>) -> Plan {
        let mut guard = self.active.lock().unwrap_or_else(|e| e.into_inner());
        let Some(active) = guard.as_mut() else {
            return Plan::default();
        };
        if let Some(apis) = &active.apis
            && !api.is_some_and(|a| apis.contains(&a))
        {
            return Plan::default();
        }
        let rate = active.spec.fail_rate.unwrap_or(1.0);
        let fails = active.mode.is_some() && rand::rng().random_bool(rate);
        let plan = Plan {
            latency: Duration::from_millis(active.spec.latency_ms),
            failure: if fails { active.mode } else { None },
            after_processing: active.spec.after_processing,
        };
        if let Some(left) = active.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                *guard = None;
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_clear_themselves() {
        let faults = Faults::default();
        faults
            .set(&FaultSpec {
                status: Some(503),
                count: Some(2),
                ..Default::default()
            })
            .unwrap();
        for _ in 0..2 {
            assert!(matches!(
                faults.plan(Some(Api::SubscriptionSteps)).failure,
                Some(Mode::Status { status: 503, .. })
            ));
        }
        assert!(faults.plan(Some(Api::SubscriptionSteps)).failure.is_none());
        assert!(faults.get().is_none());
    }

    #[test]
    fn api_filters_and_rates() {
        let faults = Faults::default();
        faults
            .set(&FaultSpec {
                garbage_body: true,
                apis: Some(vec!["pims.vehicle.steps".into()]),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            faults.plan(Some(Api::SubscriptionSteps)).failure,
            Some(Mode::Garbage)
        );
        assert!(faults.plan(Some(Api::Otp)).failure.is_none());
        assert!(faults.plan(None).failure.is_none());
        faults
            .set(&FaultSpec {
                fail_rate: Some(0.0),
                latency_ms: 5,
                ..Default::default()
            })
            .unwrap();
        let plan = faults.plan(None);
        assert!(plan.failure.is_none());
        assert_eq!(plan.latency, Duration::from_millis(5));
    }

    #[test]
    fn invalid_specs_name_the_field() {
        let cases = [
            (
                FaultSpec {
                    latency_ms: 60_001,
                    ..Default::default()
                },
                "latencyMs",
            ),
            (
                FaultSpec {
                    status: Some(200),
                    ..Default::default()
                },
                "status",
            ),
            (
                FaultSpec {
                    apis: Some(vec![]),
                    ..Default::default()
                },
                "apis",
            ),
            (
                FaultSpec {
                    apis: Some(vec!["pims.subscription.steps".into(), "x".into()]),
                    ..Default::default()
                },
                "apis[1]",
            ),
            (
                FaultSpec {
                    garbage_body: true,
                    drop_connection: true,
                    ..Default::default()
                },
                "garbageBody",
            ),
            (
                FaultSpec {
                    count: Some(0),
                    ..Default::default()
                },
                "count",
            ),
        ];
        for (spec, field) in cases {
            assert_eq!(spec.validate().unwrap_err().field(), Some(field));
        }
    }
}
