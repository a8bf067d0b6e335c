//! The simulator-only routes: `/healthz`, `/openapi.json` and the admin API (behind the admin
//! bearer token). Answers are JSON; errors are `{"error": "...", "field": "..."}`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use pims_types::is_phone_number;

use super::admin_bodies::{ClockBody, MAX_ADVANCE_SECS, PairBody};
use crate::clock::rfc3339;
use crate::error::SimError;
use crate::faults::FaultSpec;
use crate::scenario::Scenario;
use crate::state::Shared;

/// An admin error answer.
pub(crate) fn error_response(status: StatusCode, message: &str, field: Option<&str>) -> Response {
    let mut body = json!({ "error": message });
    if let Some(field) = field {
        body["field"] = Value::String(field.to_owned());
    }
    (status, Json(body)).into_response()
}

fn sim_error(e: &SimError) -> Response {
    let status = match e {
        SimError::Scenario { .. } | SimError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
        SimError::NotFound { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, source = ?std::error::Error::source(e), "admin action failed");
    }
    error_response(status, &e.to_string(), e.field())
}

/// Proof that a request carries the admin token.
pub(crate) struct AdminAuth;

impl FromRequestParts<Arc<Shared>> for AdminAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let given = super::call::bearer(&parts.headers);
        match given {
            Some(token)
                if constant_time_eq(token.as_bytes(), state.admin_token.expose().as_bytes()) =>
            {
                Ok(AdminAuth)
            }
            _ => Err(error_response(
                StatusCode::UNAUTHORIZED,
                "admin token required (Authorization: Bearer <admin token>)",
                None,
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON request body, with errors naming the field.
fn body_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SimError> {
    crate::whole_numbers::deserialize(bytes).map_err(|e| SimError::invalid(e.field, e.message))
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    Json(super::openapi::document()).into_response()
}

/// The query of `GET /admin/sms`.
#[derive(Debug, Deserialize)]
pub(crate) struct SmsQuery {
    #[serde(rename = "phoneNumber")]
    phone_number: Option<String>,
}

/// `GET /admin/sms?phoneNumber=...`.
pub(crate) async fn sms(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    query: Result<Query<SmsQuery>, QueryRejection>,
) -> Response {
    // A query axum cannot read (a repeated phoneNumber) gets the admin error envelope too,
    // not axum's plain-text rejection.
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &format!("invalid request: {}", e.body_text()),
                Some("phoneNumber"),
            );
        }
    };
    // An unencoded `+` arrives as a space (form encoding): take it back.
    let phone = query.phone_number.map(|p| match p.strip_prefix(' ') {
        Some(rest) => format!("+{rest}"),
        None => p,
    });
    if let Some(p) = &phone
        && !is_phone_number(p)
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid request: phoneNumber: expected an E.164 number (encode + as %2B)",
            Some("phoneNumber"),
        );
    }
    Json(shared.outbox(phone.as_deref())).into_response()
}

/// `POST /admin/scenario`.
pub(crate) async fn load_scenario(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Response {
    let scenario = match Scenario::from_json(&body) {
        Ok(s) => s,
        Err(e) => return sim_error(&e),
    };
    match shared.load_scenario(scenario).await {
        Ok(()) => Json(json!({"status": "loaded"})).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `GET /admin/state`.
pub(crate) async fn state(_: AdminAuth, State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.state()).into_response()
}

/// `POST /admin/devices/{deviceId}/disable`.
pub(crate) async fn disable_device(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    Path(device): Path<String>,
) -> Response {
    match shared.disable_device(&device).await {
        Ok(accounts) => {
            Json(json!({"deviceId": device, "status": "disabled", "accounts": accounts}))
                .into_response()
        }
        Err(e) => sim_error(&e),
    }
}

/// `POST /admin/vehicles/{vin}/pair`.
pub(crate) async fn pair_vehicle(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    Path(vin): Path<String>,
    body: Bytes,
) -> Response {
    let body: PairBody = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return sim_error(&e),
    };
    match shared.pair_vehicle(&vin, &body.device_id).await {
        Ok(paired) => Json(json!({"vin": vin, "pairedDevices": paired})).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `POST /admin/carkeys/{vin}/suspend`.
pub(crate) async fn suspend_car_key(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    Path(vin): Path<String>,
) -> Response {
    match shared.suspend_car_key(&vin).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => sim_error(&e),
    }
}

/// `POST /admin/faults`.
pub(crate) async fn set_faults(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Response {
    let spec: FaultSpec = match body_json(&body) {
        Ok(s) => s,
        Err(e) => return sim_error(&e),
    };
    match shared.faults.set(&spec) {
        Ok(()) => {
            tracing::info!(?spec, "faults set");
            Json(json!({"faults": shared.faults.get()})).into_response()
        }
        Err(e) => sim_error(&e),
    }
}

/// `GET /admin/faults`.
pub(crate) async fn get_faults(_: AdminAuth, State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({"faults": shared.faults.get()})).into_response()
}

/// `DELETE /admin/faults`.
pub(crate) async fn clear_faults(_: AdminAuth, State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    tracing::info!("faults cleared");
    Json(json!({"faults": null})).into_response()
}

fn clock_json(shared: &Shared) -> Value {
    let now = shared.clock.now_ms();
    json!({"now": rfc3339(now), "nowMs": now, "offsetSecs": shared.clock.offset().as_secs()})
}

/// `GET /admin/clock`.
pub(crate) async fn get_clock(_: AdminAuth, State(shared): State<Arc<Shared>>) -> Response {
    Json(clock_json(&shared)).into_response()
}

/// `POST /admin/clock {"advanceSecs": n}`.
pub(crate) async fn advance_clock(
    _: AdminAuth,
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Response {
    let body: ClockBody = match body_json(&body) {
        Ok(b) => b,
        Err(e) => return sim_error(&e),
    };
    if body.advance_secs > MAX_ADVANCE_SECS {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid request: advanceSecs: at most ten years",
            Some("advanceSecs"),
        );
    }
    // Dates must stay RFC 3339 (four-digit years): the clock stops at 9999-01-01T00:00:00Z.
    let headroom = shared.clock.headroom().as_secs();
    if body.advance_secs > headroom {
        return error_response(
            StatusCode::BAD_REQUEST,
            &format!(
                "invalid request: advanceSecs: the clock does not go past \
                 9999-01-01T00:00:00Z: at most {headroom} more seconds"
            ),
            Some("advanceSecs"),
        );
    }
    shared.clock.advance(Duration::from_secs(body.advance_secs));
    tracing::info!(advance_secs = body.advance_secs, "clock advanced");
    Json(clock_json(&shared)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
