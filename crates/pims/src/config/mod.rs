//! What a facade is built from: the builder ([`PimsBuilder`]), the mobile SDK's `initialize`
//! dictionary overlaid on it, the policies, and where calls and the cache go.

mod builder;
mod cache_choice;
#[cfg(feature = "http")]
mod http_options;
mod initialize;
mod policies;
mod transport_choice;

pub use builder::{DEFAULT_ACCOUNT, DEFAULT_CALL_TIMEOUT, PimsBuilder};
pub(crate) use cache_choice::CacheChoice;
#[cfg(feature = "http")]
pub use http_options::HttpOptions;
pub use initialize::ENVIRONMENTS;
pub use policies::{PinProvider, Policies};
pub(crate) use transport_choice::TransportChoice;
