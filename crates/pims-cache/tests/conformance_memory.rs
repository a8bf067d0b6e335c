//! The conformance kit against the memory store: as it is, and with its generation hidden (a
//! store shared between processes has none), which proves the cache's answers never depend on
//! its memo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pims_cache::testkit::{MemoryFactory, WithoutGeneration};

mod memory {
    use super::*;
    pims_cache::store_conformance_tests!(MemoryFactory);
}

mod shared {
    use super::*;
    pims_cache::store_conformance_tests!(WithoutGeneration(MemoryFactory));
}

/// What the kit leaves to each store: a memory store says nothing is durable.
#[tokio::test]
async fn memory_stores_say_nothing_is_durable() {
    use pims_cache::{ListKeys, StepCache};
    use pims_types::{Step, StepName, StepStatus, StepsId, StepsList};
    let cache = StepCache::in_memory();
    let ns = cache.namespace("acct").await.unwrap();
    let list = StepsList::new(
        StepsId::number(1),
        vec![Step::new(
            StepName::TrusterPhoneNumber,
            StepStatus::AlreadyDone,
            1,
        )],
    );
    let m = cache.merge(&ns, &ListKeys::new(), &list).await.unwrap();
    assert!(m.changed && !m.durable);
}
