//! The device id: created once (random, durable before anyone sees it), the same forever
//! after for every cache over the store.

use tracing::{info, warn};

use super::layout::Use;
use super::{MAX_ATTEMPTS, StepCache};
use crate::device::DeviceId;
use crate::error::CacheError;
use crate::keys;
use crate::store::Swap;

impl StepCache {
    /// This device's id: created (random, flushed) the first time, the same forever after,
    /// across restarts, for every cache over the same store. A store that keeps the id apart
    /// from its entries ([`StepStore::keep_device_id`](crate::StepStore::keep_device_id): the
    /// sled store's own file) holds the reference copy, so that a recovery of the entries
    /// cannot lose it; the entry follows.
    /// A new id is created (with a warning when one was unreadable) only when no readable id
    /// exists anywhere.
    ///
    /// ```
    /// # futures_executor::block_on(async {
    /// let cache = pims_cache::StepCache::in_memory();
    /// let id = cache.device_id().await.unwrap();
    /// assert_eq!(cache.clone().device_id().await.unwrap(), id);
    /// let other = pims_cache::StepCache::new(cache.store().clone());
    /// assert_eq!(other.device_id().await.unwrap(), id);
    /// # });
    /// ```
    pub async fn device_id(&self) -> Result<DeviceId, CacheError> {
        if let Some(id) = self.device.get() {
            return Ok(id.clone());
        }
        self.layout(Use::Read).await?;
        if let Some(id) = self.store.kept_device_id().await? {
            return Ok(self.device.get_or_init(|| id).clone());
        }
        let mut current = self.store.get(keys::DEVICE).await?;
        for _ in 0..MAX_ATTEMPTS {
            let (id, created) = match current.as_deref().map(DeviceId::from_record) {
                Some(Ok(id)) => (id, false),
                unreadable => {
                    if let Some(Err(why)) = unreadable {
                        warn!(reason = %why, "pims-cache: the device id record is unreadable; creating a new device id");
                    }
                    (DeviceId::generate(), true)
                }
            };
            // Kept apart first: from then on no recovery of the entries can lose it. The
            // store answers with the id it kept, if another caller kept one first.
            let kept = self.store.keep_device_id(&id).await?;
            let created = created && kept.as_ref().is_none_or(|k| *k == id);
            let id = kept.clone().unwrap_or(id);
            let bytes = id.to_record()?;
            if current.as_deref() == Some(bytes.as_slice()) {
                // Another thread may have just created it: use it only once durable.
                self.settle().await;
                return Ok(self.device.get_or_init(|| id).clone());
            }
            self.layout(Use::Write).await?;
            match self
                .store
                .compare_and_swap(keys::DEVICE, current.as_deref(), Some(&bytes))
                .await?
            {
                Swap::Swapped => {
                    let durable = self.settle().await || kept.is_some();
                    if created && durable {
                        info!("pims-cache: created this device's id");
                    } else if created {
                        warn!(
                            "pims-cache: created this device's id, but the store is not durable: it will change after a restart"
                        );
                    }
                    return Ok(self.device.get_or_init(|| id).clone());
                }
                Swap::Conflict { current: now } => current = now,
            }
        }
        Err(CacheError::Contention {
            attempts: MAX_ATTEMPTS,
        })
    }
}
