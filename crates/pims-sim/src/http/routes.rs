//! The route table: the one list both the router (`router`) and the OpenAPI document
//! (`openapi`) are built from. Data only: it names what serves a route, the router maps that
//! to a handler.

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
