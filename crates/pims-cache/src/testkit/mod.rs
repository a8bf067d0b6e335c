//! The store conformance kit: the suites every [`StepStore`](crate::StepStore) must pass, as
//! functions over a store factory (feature `testkit`).

mod forwarding;

pub use forwarding::{Forwarding, Hook, When};
