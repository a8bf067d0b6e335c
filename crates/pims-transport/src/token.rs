//! Access tokens: the [`TokenProvider`] trait and [`StaticToken`].

use std::fmt;

use async_trait::async_trait;
use pims_types::Secret;

use crate::error::TransportError;

/// Gives the access token sent as `Authorization: Bearer <token>`.
///
/// [`token`](TokenProvider::token) is called before every attempt, so a provider that renews
/// tokens in the background is picked up at once. When the backend answers 401 to a call that
/// may be repeated ([`Call::may_repeat`](crate::Call::may_repeat)), the transport calls
/// [`invalidate`](TokenProvider::invalidate) with the rejected token; if it returns `true`, the
/// call is sent once more with a fresh [`token`](TokenProvider::token). A `set` without an
/// idempotency key is never re-sent: its 401 is handed on (after `invalidate`, so the next call
/// gets a fresh token).
///
/// Implementations must keep the token out of logs and errors (hold it in a [`Secret`]).
///
/// ```
/// use std::sync::Mutex;
/// use async_trait::async_trait;
/// use pims_transport::{TokenProvider, TransportError};
/// use pims_types::Secret;
///
/// /// Renews its token when the backend refuses it.
/// #[derive(Debug)]
/// struct Renewing { current: Mutex<Secret>, renewals: Mutex<u32> }
///
/// #[async_trait]
/// impl TokenProvider for Renewing {
///     async fn token(&self) -> Result<Secret, TransportError> {
///         self.current.lock().map(|t| t.clone()).map_err(|_| TransportError::no_token("poisoned"))
///     }
///     async fn invalidate(&self, rejected: &Secret) -> bool {
///         let (Ok(mut current), Ok(mut n)) = (self.current.lock(), self.renewals.lock()) else { return false };
///         if *current == *rejected {
///             *n += 1;
///             *current = Secret::new(format!("renewed-{n}"));
///         }
///         true
///     }
/// }
/// # let _ = Renewing { current: Mutex::new(Secret::new("t")), renewals: Mutex::new(0) };
/// ```
#[async_trait]
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// The token to send now. An error ([`TransportError::no_token`]) stops the call before
    /// anything is sent (2301).
    async fn token(&self) -> Result<Secret, TransportError>;

    /// The backend refused `rejected` (401). Return `true` when a fresh token can be had, so
    /// the call is sent once more; the default keeps the token and returns `false`.
    async fn invalidate(&self, rejected: &Secret) -> bool {
        let _ = rejected;
        false
    }
}

/// A token that never changes. `Debug` hides it.
///
/// ```
/// use pims_transport::{StaticToken, TokenProvider};
/// let t = StaticToken::new(pims_types::Secret::new("demo-token"));
/// assert_eq!(format!("{t:?}"), "StaticToken([REDACTED])");
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(t.token().await.unwrap().expose(), "demo-token");
/// # });
/// ```
#[derive(Clone)]
pub struct StaticToken(Secret);

impl StaticToken {
    /// A provider always giving `token`.
    pub fn new(token: Secret) -> Self {
        StaticToken(token)
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StaticToken({})", pims_types::REDACTED)
    }
}

#[async_trait]
impl TokenProvider for StaticToken {
    async fn token(&self) -> Result<Secret, TransportError> {
        Ok(self.0.clone())
    }
}
