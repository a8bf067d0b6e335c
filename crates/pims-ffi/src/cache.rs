//! The device id and the step cache's administration.

use crate::error::PimsError;
use crate::facade::PimsCore;
use crate::typed::StepsAnswer;

/// Which lists a cache administration call covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CacheScope {
    /// The lists of the facade's account.
    Account,
    /// Every list in the store, whichever account cached it.
    AllAccounts,
}

/// Whether the step cache's writes survive the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CacheState {
    /// On disk once flushed.
    Durable,
    /// In memory by design.
    Volatile,
    /// The disk store cannot be written: it works from memory and `detail` says why.
    Degraded,
}

/// The step cache's health.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CacheHealth {
    /// The state.
    pub state: CacheState,
    /// Why it is degraded.
    pub detail: Option<String>,
}

/// One list held by the cache (identifiers as they are: mask them before showing them).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CachedListInfo {
    /// The account namespace that cached it.
    pub account: String,
    /// The list, as cached (never stale: it is the cache's own).
    pub list: StepsAnswer,
    /// The car association it was asked by, when known.
    pub car_association_id: Option<String>,
    /// The vehicle, when known.
    pub vin: Option<String>,
}

/// What a wipe removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CacheWipe {
    /// Lists removed.
    pub lists: u64,
    /// Removals that reached the disk (fewer than `lists` when a flush failed).
    pub durable_lists: u64,
}

fn scope(s: CacheScope) -> pims::CacheScope {
    match s {
        CacheScope::Account => pims::CacheScope::Account,
        CacheScope::AllAccounts => pims::CacheScope::AllAccounts,
    }
}

#[uniffi::export]
impl PimsCore {
    /// This installation's device id (the `Pims-Device-Id` the calls carry), kept by the cache.
    pub async fn device_id(&self) -> Result<String, PimsError> {
        Ok(self.inner.cache()?.device_id().await?)
    }

    /// Whether the step cache works.
    pub fn cache_health(&self) -> Result<CacheHealth, PimsError> {
        let health = self.inner.cache()?.health();
        let state = if health.is_durable() {
            CacheState::Durable
        } else if health.is_degraded() {
            CacheState::Degraded
        } else {
            CacheState::Volatile
        };
        Ok(CacheHealth {
            state,
            detail: health.degradation().map(|d| d.detail.clone()),
        })
    }

    /// The lists cached in `scope`.
    pub async fn cached_lists(&self, scope: CacheScope) -> Result<Vec<CachedListInfo>, PimsError> {
        let lists = self.inner.cache()?.lists(self::scope(scope)).await?;
        Ok(lists
            .into_iter()
            .map(|c| CachedListInfo {
                account: c.account,
                list: StepsAnswer {
                    steps_id: c.list.steps_id().as_str().to_owned(),
                    steps: c.list.steps().iter().map(crate::typed::step).collect(),
                    stale: false,
                },
                car_association_id: c.car_association_id,
                vin: c.vin.map(|v| v.as_str().to_owned()),
            })
            .collect())
    }

    /// Removes every list cached in `scope`, durably (the device id stays).
    pub async fn wipe_cache(&self, scope: CacheScope) -> Result<CacheWipe, PimsError> {
        let removed = self.inner.cache()?.wipe(self::scope(scope)).await?;
        Ok(CacheWipe {
            lists: removed.lists as u64,
            durable_lists: removed.durable_lists as u64,
        })
    }
}
