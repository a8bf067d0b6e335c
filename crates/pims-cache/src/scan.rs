//! Whole-prefix reads over a store's paged [`scan`](crate::StepStore::scan): the cache asks
//! for a bounded page at a time, so a network store never sends a key space in one answer.

use crate::error::CacheError;
use crate::store::{Entry, StepStore};

/// Entries per page.
pub(crate) const PAGE: usize = 512;

/// Every entry under `prefix`, in key order, read page by page.
pub(crate) async fn all(store: &dyn StepStore, prefix: &[u8]) -> Result<Vec<Entry>, CacheError> {
    let mut out: Vec<Entry> = Vec::new();
    loop {
        let after = out.last().map(|(k, _)| k.clone());
        let page = store.scan(prefix, after.as_deref(), PAGE).await?;
        let done = page.len() < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

/// Whether any entry's key starts with `prefix`.
pub(crate) async fn any(store: &dyn StepStore, prefix: &[u8]) -> Result<bool, CacheError> {
    Ok(!store.scan(prefix, None, 1).await?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use futures_executor::block_on;

    #[test]
    fn every_page_is_read_once() {
        block_on(async {
            let store = MemoryStore::new();
            let n = PAGE * 2 + 3;
            for i in 0..n {
                let key = format!("p{i:05}");
                let _ = store.swap(key.as_bytes(), None, Some(b"v"));
            }
            let _ = store.swap(b"q", None, Some(b"v"));
            let all = all(&store, b"p").await.unwrap();
            assert_eq!(all.len(), n);
            assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
            assert!(any(&store, b"q").await.unwrap());
            assert!(!any(&store, b"r").await.unwrap());
        });
    }
}
