//! Optional fields of the admin bodies that may be left out but not given as `null`: serde
//! reads a `null` as `None` for an `Option`, which would accept what the OpenAPI document
//! declares not nullable. With `#[serde(default, deserialize_with = ...)]`, an absent field
//! is `None` and a present one must be a `T` (a `null` is refused like any other bad value).

use serde::{Deserialize, Deserializer};

/// Reads a present field as `Some(T)`: `null` is an error ("invalid type: null, expected ...").
pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
