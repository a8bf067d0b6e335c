//! The axum router serving the route table ([`ROUTES`]): each endpoint mapped to its handler,
//! and the answer to a path it does not serve.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post};

use super::routes::{Endpoint, ROUTES};
use super::{admin_handlers, call};
use crate::state::Shared;

/// Admin request bodies (scenario documents) may be this large.
pub(crate) const ADMIN_BODY_LIMIT: usize = 8 * 1024 * 1024;

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
