//! The result of `pims.subscription.services`.

use serde::{Deserialize, Serialize};

/// A connected service available for a vehicle.
///
/// ```
/// let s: pims_types::Service = serde_json::from_value(serde_json::json!({"code": "RC", "name": "Remote Commands"})).unwrap();
/// assert_eq!(s.code, "RC");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Service {
    /// The service code.
    #[cfg_attr(
        feature = "schema",
        schemars(
            length(min = 1, max = 64),
            regex(pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")
        )
    )]
    pub code: String,
    /// Its name.
    #[cfg_attr(
        feature = "schema",
        schemars(
            length(min = 1, max = 256),
            regex(pattern = r"^[^\x00-\x1f\x7f-\x9f]+$")
        )
    )]
    pub name: String,
}

/// The result object: `{"services": [...]}`.
///
/// ```
/// let l = pims_types::ServicesList { services: vec![] };
/// assert_eq!(serde_json::to_value(&l).unwrap(), serde_json::json!({"services": []}));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServicesList {
    /// The services.
    pub services: Vec<Service>,
}
