//! [`AccountCache`]: the step cache of one account on this device, as the facade uses it.
//!
//! The cache is async and runs where it is awaited, on the runtime's workers: it never blocks
//! one for long (the sled store moves its `fsync` to tokio's blocking pool). Nothing here reads
//! the store before the first call that needs it: the device id, and with it the account's
//! namespace, is resolved on first use and kept, so that the synchronous `build()` and
//! `initialize()` only open (and lock) a local store. Once the device id is known, a cache that
//! cannot be used, degraded or failing, never fails a call: the answer comes from the backend
//! and a warning is traced. Before it is known, a call fails with the cache's error rather
//! than carry an id of no store's.

use std::sync::Arc;

use pims_cache::{CacheError, ListKeys, Namespace, StepCache, StepStore};
use pims_types::{ErrorCode, StepsList, StepsSelector};
use tokio::sync::OnceCell;

use crate::config::CacheChoice;
use crate::error::{Error, ErrorKind};

/// The cache of one facade (and of the [`CacheAdmin`](crate::CacheAdmin) handles it gives):
/// clones share the namespace once it is resolved.
#[derive(Clone)]
pub(crate) struct AccountCache {
    inner: Arc<Inner>,
}

struct Inner {
    cache: StepCache,
    /// Checked when the facade was built ([`Namespace::check_account`]).
    account: String,
    /// The account on this device: resolved by the first call that needs it (reading, or
    /// creating, the device id), then kept. A failure is not kept: the next call tries again.
    ns: OnceCell<Namespace>,
}

impl AccountCache {
    /// Opens the cache the configuration names, for one account namespace. Reads nothing from
    /// the store.
    pub(crate) fn open(choice: &CacheChoice, account: String) -> Result<Self, Error> {
        let cache = AccountCache::new(choice.open_store()?, account)?;
        #[cfg(feature = "postgres")]
        let connected = !matches!(choice, CacheChoice::Postgres(_));
        #[cfg(not(feature = "postgres"))]
        let connected = true;
        // (A shared store not connected yet knows nothing of its durability.)
        if connected && cache.degraded() {
            tracing::warn!("the step cache is degraded: steps are answered from the backend only");
        }
        Ok(cache)
    }

    /// The cache of `store` for `account` (2102 naming `account` when the cache refuses it).
    /// Reads nothing from the store.
    pub(crate) fn new(store: Arc<dyn StepStore>, account: String) -> Result<Self, Error> {
        Namespace::check_account(&account).map_err(|e| match e {
            CacheError::InvalidInput { .. } => {
                Error::from_code(ErrorKind::Input, ErrorCode::INVALID_PARAMETER, &["account"])
                    .with_detail(e.to_string())
            }
            other => Error::cache(other),
        })?;
        Ok(AccountCache {
            inner: Arc::new(Inner {
                cache: StepCache::new(store),
                account,
                ns: OnceCell::new(),
            }),
        })
    }

    pub(crate) fn account(&self) -> &str {
        &self.inner.account
    }

    pub(crate) fn step_cache(&self) -> &StepCache {
        &self.inner.cache
    }

    /// The account's namespace on this device: the device id read (or created) the first time.
    pub(crate) async fn namespace(&self) -> Result<&Namespace, CacheError> {
        let inner = &*self.inner;
        inner
            .ns
            .get_or_try_init(|| inner.cache.namespace(inner.account.as_str()))
            .await
    }

    /// The device id a call carries (`Pims-Device-Id`): the cache's, read (or created) by the
    /// first call and kept. While the store cannot give it (a shared store that is down when
    /// the facade starts), the call fails with the cache's error: an id invented here would
    /// make this facade another device to the backend (its steps, an enrolment of a device
    /// nobody keeps), which a store that fails must never cause. Once known, a failing store
    /// no longer stops a call.
    pub(crate) async fn call_device_id(&self) -> Result<&str, Error> {
        match self.namespace().await {
            Ok(ns) => Ok(ns.device().as_str()),
            Err(e) => {
                tracing::warn!(error = %e, "step cache unusable before this device's id was read: the call is not sent");
                Err(Error::cache(e).with_detail(
                    "the step cache cannot give this device's id yet; no call is sent with another one",
                ))
            }
        }
    }

    pub(crate) fn degraded(&self) -> bool {
        self.inner.cache.health().is_degraded()
    }

    /// The sticky merge, stored durably; on a cache failure, the fresh list as it is. The one
    /// way a steps answer goes through the cache: a merge that changes nothing is answered from
    /// the cache's memo without reading or writing the store.
    pub(crate) async fn merge(&self, selector: &StepsSelector, fresh: StepsList) -> StepsList {
        let keys = ListKeys::from_selector(selector).with_steps_id(fresh.steps_id().clone());
        let merged = match self.namespace().await {
            Ok(ns) => self.inner.cache.merge(ns, &keys, &fresh).await,
            Err(e) => Err(e),
        };
        match merged {
            Ok(merged) => {
                if merged.changed && !merged.durable && !self.degraded() {
                    tracing::warn!("a cached step change could not be made durable");
                }
                merged.list
            }
            Err(e) => {
                tracing::warn!(error = %e, "step cache unusable for this call: answering from the backend");
                fresh
            }
        }
    }

    pub(crate) async fn get(&self, selector: &StepsSelector) -> Option<StepsList> {
        let found = match self.namespace().await {
            Ok(ns) => self.inner.cache.get(ns, selector).await,
            Err(e) => Err(e),
        };
        found.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "step cache read failed");
            None
        })
    }

    pub(crate) async fn reset(&self, selector: &StepsSelector) -> Result<(), CacheError> {
        let ns = self.namespace().await?;
        self.inner.cache.reset(ns, selector).await.map(|_| ())
    }

    pub(crate) async fn invalidate_device(&self) -> Result<usize, CacheError> {
        let ns = self.namespace().await?;
        self.inner
            .cache
            .invalidate_device(ns)
            .await
            .map(|r| r.lists)
    }
}
