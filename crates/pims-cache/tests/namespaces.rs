//! Namespace ids under adverse conditions: a lost next-id hint with many namespaces, and a
//! record under a key that is not its stepsID.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;

use pims_cache::{ListKeys, MemoryStore, StepCache, StepStore};
use pims_types::StepsSelector;
use support::*;

fn by_sid(s: &str) -> StepsSelector {
    StepsSelector::steps_id(s).unwrap()
}

#[tokio::test]
async fn a_lost_hint_with_many_namespaces_still_gives_new_ids() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    for i in 0..1001 {
        let ns = cache.namespace(format!("acct-{i}")).await.unwrap();
        cache
            .merge(&ns, &ListKeys::new(), &three(1, true, false, false))
            .await
            .unwrap();
    }
    store.remove(b"N").await.unwrap(); // the next-id hint, lost
    let fresh = StepCache::new(store.clone());
    let ns = fresh.namespace("new").await.unwrap();
    fresh
        .merge(&ns, &ListKeys::new(), &three(1, false, false, true))
        .await
        .unwrap();
    assert_eq!(
        done(&fresh.get(&ns, &by_sid("1")).await.unwrap().unwrap()),
        ["mediumCarKey"]
    );
    // Nobody else's list moved.
    let old = fresh.namespace("acct-0").await.unwrap();
    assert_eq!(
        done(&fresh.get(&old, &by_sid("1")).await.unwrap().unwrap()),
        ["trusterPhoneNumber"]
    );
}

#[tokio::test]
async fn a_record_under_a_non_canonical_number_is_not_another_list() {
    let store = Arc::new(MemoryStore::new());
    let cache = StepCache::new(store.clone());
    let ns = cache.namespace("acct").await.unwrap();
    cache
        .merge(&ns, &ListKeys::new(), &three(5, true, false, false))
        .await
        .unwrap();
    let found = store.scan(b"L", None, usize::MAX).await.unwrap();
    let (key, value) = &found[0];
    // Damage: list 5's record copied under the stepsID "+5" (and "05").
    for other in ["+5", "05"] {
        let mut bad = key[..key.len() - 1].to_vec();
        bad.extend_from_slice(other.as_bytes());
        let _ = store
            .compare_and_swap(&bad, None, Some(value))
            .await
            .unwrap();
        assert_eq!(
            cache.get(&ns, &by_sid(other)).await.unwrap(),
            None,
            "{other}"
        );
    }
    let report = cache.check().await.unwrap();
    assert_eq!(report.lists, 1);
    assert!(cache.get(&ns, &by_sid("5")).await.unwrap().is_some());
}
