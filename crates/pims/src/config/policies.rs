//! The recovery policies a facade applies on its own ([`Policies`]), and the PIN source of the
//! 2302 recovery ([`PinProvider`]).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use pims_types::Pin;

/// Gives the user's PIN when the facade needs an OTP on its own (opt-in: see
/// [`Policies::pin_provider`]). Return `None` to let the 2302 failure through.
///
/// ```
/// use async_trait::async_trait;
/// use pims::{Pin, PinProvider};
///
/// #[derive(Debug)]
/// struct AskTheUser;
///
/// #[async_trait]
/// impl PinProvider for AskTheUser {
///     async fn pin(&self) -> Option<Pin> {
///         Pin::parse("1234").ok() // an app would prompt here, and ask again on a typo
///     }
/// }
/// ```
#[async_trait]
pub trait PinProvider: Send + Sync + fmt::Debug {
    /// The PIN, or `None` when the user declines.
    async fn pin(&self) -> Option<Pin>;
}

/// The recovery policies. Built from [`Policies::default`] and its setters (the struct may
/// gain fields).
///
/// ```
/// let p = pims::Policies::default().offline_fallback(true);
/// assert!(p.invalidate_on_device_error);
/// assert!(p.offline_fallback);
/// assert!(p.pin_provider.is_none());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Policies {
    /// When `pims.authentication.otp` (withPIN) answers 2312 or 2317, drop the cached
    /// `alreadyDone` of this device's lists (the documented cure), and trace a warning.
    /// On by default.
    pub invalidate_on_device_error: bool,
    /// On 2201/2202, a steps call answers from the cache (the typed result says it is stale).
    /// Off by default.
    pub offline_fallback: bool,
    /// When set, a call answering 2302 makes the facade get an OTP with this PIN and retry the
    /// call once. Off by default.
    pub pin_provider: Option<Arc<dyn PinProvider>>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            invalidate_on_device_error: true,
            offline_fallback: false,
            pin_provider: None,
        }
    }
}

impl Policies {
    /// Sets [`invalidate_on_device_error`](Self::invalidate_on_device_error).
    pub fn invalidate_on_device_error(mut self, on: bool) -> Self {
        self.invalidate_on_device_error = on;
        self
    }

    /// Sets [`offline_fallback`](Self::offline_fallback).
    pub fn offline_fallback(mut self, on: bool) -> Self {
        self.offline_fallback = on;
        self
    }

    /// Sets [`pin_provider`](Self::pin_provider): the 2302 recovery is on.
    pub fn pin_provider(self, provider: Arc<dyn PinProvider>) -> Self {
        self.set_pin_provider(Some(provider))
    }

    /// Sets or clears [`pin_provider`](Self::pin_provider) (`None` turns the 2302 recovery off).
    pub fn set_pin_provider(mut self, provider: Option<Arc<dyn PinProvider>>) -> Self {
        self.pin_provider = provider;
        self
    }
}
