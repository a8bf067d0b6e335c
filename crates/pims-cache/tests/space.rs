//! Merges that change nothing write nothing: the directory does not grow.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use pims_cache::{ListKeys, SledStore, StepCache};
use support::*;

#[tokio::test]
async fn a_hundred_thousand_merges_that_change_nothing_do_not_grow_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let keys = ListKeys::new()
        .with_car_association_id("987654")
        .with_vin(vin());
    {
        let cache = sled_cache(&dir);
        let ns = cache.namespace("acct").await.unwrap();
        let m = cache
            .merge(&ns, &keys, &three(132324, true, true, false))
            .await
            .unwrap();
        assert!(m.changed && m.durable);
    }
    // sled reaches its steady size (one log segment) at the first reopen.
    let store = SledStore::open(&dir, Default::default()).unwrap();
    let cache = StepCache::new(Arc::new(store.clone()));
    let ns = cache.namespace("acct").await.unwrap();
    let bytes = tree_bytes(&dir);
    let stats = store.stats();

    // The backend keeps saying todo for steps the cache holds as alreadyDone: no change.
    let answers = [
        three(132324, false, false, false),
        three(132324, true, false, false),
        three(132324, false, true, false),
    ];
    for i in 0..100_000 {
        let m = cache.merge(&ns, &keys, &answers[i % 3]).await.unwrap();
        assert!(!m.changed);
    }
    assert_eq!(store.stats(), stats, "nothing written, nothing flushed");
    assert_eq!(tree_bytes(&dir), bytes, "the directory grew while open");
    drop((cache, store));
    // (Closing empties the lock file: the pid goes.)
    assert!(tree_bytes(&dir) <= bytes, "the directory grew at close");
    let cache = sled_cache(&dir);
    let ns = cache.namespace("acct").await.unwrap();
    for i in 0..1000 {
        assert!(
            !cache
                .merge(&ns, &keys, &answers[i % 3])
                .await
                .unwrap()
                .changed
        );
    }
    drop(cache);
    assert!(
        tree_bytes(&dir) <= bytes,
        "the directory grew across a restart"
    );
}
