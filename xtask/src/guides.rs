//! The guides of `docs/` whose Rust blocks are compiled as this crate's doc tests (xtask can
//! depend on every crate they show; `cargo test --doc -p xtask`, the `doctest` stage of
//! `cargo xtask ci`). The `docs_code_blocks` tidy rule checks that every Rust block of a guide
//! is compiled so, or taken from an example.

/// docs/cache.md: the store conformance kit.
#[doc = include_str!("../../docs/cache.md")]
pub struct CacheGuide;

/// docs/protocol.md: the token provider and a custom transport.
#[doc = include_str!("../../docs/protocol.md")]
pub struct ProtocolGuide;

/// docs/simulator.md: the simulator as a library.
#[doc = include_str!("../../docs/simulator.md")]
pub struct SimulatorGuide;
