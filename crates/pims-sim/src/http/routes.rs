//! The route table: the one list both the router and the OpenAPI document are built from.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};

use super::{admin_handlers, call};
use crate::state::Shared;

/// Admin request bodies (scenario documents) may be this large.
pub(crate) const ADMIN_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Calls,
    Healthz,
    OpenApi,
    Sms,
    LoadScenario,
    State,
    DisableDevice,
    PairVehicle,
    SuspendCarKey,
    SetFaults,
    GetFaults,
    ClearFaults,
    GetClock,
    AdvanceClock,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Anyone.
    None,
    /// A user's bearer token (checked by the call itself: FAILED 2301 otherwise).
    User,
    /// The admin token.
    Admin,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) endpoint: Endpoint,
    pub(crate) auth: Auth,
}

const fn route(method: &'static str, path: &'static str, endpoint: Endpoint, auth: Auth) -> Route {
    Route {
        method,
        path,
        endpoint,
        auth,
    }
}

/// Every route the simulator serves.
pub(crate) const ROUTES: &[Route] = &[
    route("POST", pims_types::CALLS_PATH, Endpoint::Calls, Auth::User),
    route("GET", "/healthz", Endpoint::Healthz, Auth::None),
    route("GET", "/openapi.json", Endpoint::OpenApi, Auth::None),
    route("GET", "/admin/sms", Endpoint::Sms, Auth::Admin),
    route(
        "POST",
        "/admin/scenario",
        Endpoint::LoadScenario,
        Auth::Admin,
    ),
    route("GET", "/admin/state", Endpoint::State, Auth::Admin),
    route(
        "POST",
        "/admin/devices/{deviceId}/disable",
        Endpoint::DisableDevice,
        Auth::Admin,
    ),
    route(
        "POST",
        "/admin/vehicles/{vin}/pair",
        Endpoint::PairVehicle,
        Auth::Admin,
    ),
    route(
        "POST",
        "/admin/carkeys/{vin}/suspend",
        Endpoint::SuspendCarKey,
        Auth::Admin,
    ),
    route("POST", "/admin/faults", Endpoint::SetFaults, Auth::Admin),
    route("GET", "/admin/faults", Endpoint::GetFaults, Auth::Admin),
    route(
        "DELETE",
        "/admin/faults",
        Endpoint::ClearFaults,
        Auth::Admin,
    ),
    route("GET", "/admin/clock", Endpoint::GetClock, Auth::Admin),
    route("POST", "/admin/clock", Endpoint::AdvanceClock, Auth::Admin),
];

fn method_router(endpoint: Endpoint) -> MethodRouter<Arc<Shared>> {
    match endpoint {
        Endpoint::Calls => post(call::calls),
        Endpoint::Healthz => get(admin_handlers::healthz),
        Endpoint::OpenApi => get(admin_handlers::openapi),
        Endpoint::Sms => get(admin_handlers::sms),
        Endpoint::LoadScenario => post(admin_handlers::load_scenario),
        Endpoint::State => get(admin_handlers::state),
        Endpoint::DisableDevice => post(admin_handlers::disable_device),
        Endpoint::PairVehicle => post(admin_handlers::pair_vehicle),
        Endpoint::SuspendCarKey => post(admin_handlers::suspend_car_key),
        Endpoint::SetFaults => post(admin_handlers::set_faults),
        Endpoint::GetFaults => get(admin_handlers::get_faults),
        Endpoint::ClearFaults => delete(admin_handlers::clear_faults),
        Endpoint::GetClock => get(admin_handlers::get_clock),
        Endpoint::AdvanceClock => post(admin_handlers::advance_clock),
    }
}

async fn not_found(method: Method, uri: Uri) -> Response {
    admin_handlers::error_response(
        StatusCode::NOT_FOUND,
        &format!("no route {method} {}", uri.path()),
        None,
    )
}

/// The router serving [`ROUTES`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut paths: Vec<&'static str> = Vec::new();
    for r in ROUTES {
        if !paths.contains(&r.path) {
            paths.push(r.path);
        }
    }
    let mut router: Router<Arc<Shared>> = Router::new();
    for path in paths {
        let mut methods: MethodRouter<Arc<Shared>> = MethodRouter::new();
        for r in ROUTES.iter().filter(|r| r.path == path) {
            methods = methods.merge(method_router(r.endpoint));
        }
        router = router.route(path, methods);
    }
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[..i] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {}",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn admin_routes_need_the_admin_token() {
        for r in ROUTES {
            assert_eq!(
                r.path.starts_with("/admin/"),
                r.auth == Auth::Admin,
                "{}",
                r.path
            );
        }
    }
}
