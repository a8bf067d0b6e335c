//! The request bodies of the admin routes: what their handlers decode, and what the OpenAPI
//! document's schemas are derived from (`admin_schema`), so that neither reaches into the other.

use schemars::JsonSchema;
use serde::Deserialize;

/// The longest clock jump one request may ask for (ten years).
pub(crate) const MAX_ADVANCE_SECS: u64 = 10 * 366 * 86_400;

/// The body of `POST /admin/vehicles/{vin}/pair`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct PairBody {
    /// The device to pair (1-64 characters, no whitespace nor control character).
    #[schemars(length(min = 1, max = crate::identifiers::MAX_ID_LEN))]
    #[schemars(regex(pattern = crate::identifiers::DEVICE_ID_PATTERN), example = "phone-1")]
    pub(crate) device_id: String,
}

/// The body of `POST /admin/clock`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ClockBody {
    /// Seconds to move forward (at most ten years; the clock stops at 9999-01-01T00:00:00Z).
    #[schemars(range(max = MAX_ADVANCE_SECS))]
    pub(crate) advance_secs: u64,
}
