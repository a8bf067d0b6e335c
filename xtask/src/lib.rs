//! Build, test, release and distribution automation for pims-rs, run as `cargo xtask <command>`
//! (the alias lives in `.cargo/config.toml`).
//!
//! ```text
//! cargo xtask ci                                  # fmt, clippy, tests, bindings, doc tests, docs, tidy, deny
//! cargo xtask tidy                                # the repository rules alone
//! cargo xtask release patch --dry-run             # everything a release does, nothing committed
//! cargo xtask release 0.2.0                       # bump, date the changelog, package, commit, tag
//! cargo xtask dist                                # target/dist/pims-<version>-<target>.tar.gz
//! cargo xtask bindings [--test]                   # Kotlin, Swift, Python into target/bindings/
//! cargo xtask bench [--quick]                     # the benchmarks (docs/benchmarks.md)
//! cargo xtask bench --record-baseline             # re-record the regression gate's baseline
//! ```
//!
//! The same operations are library functions, so that tests drive them directly:
//!
//! ```
//! use xtask::{Bump, Version};
//!
//! // The version logic of `cargo xtask release`.
//! let next = "minor".parse::<Bump>().unwrap().apply(Version::new(0, 1, 3)).unwrap();
//! assert_eq!(next.to_string(), "0.2.0");
//!
//! // The repository rules of the `tidy` stage, as a list of problems.
//! let problems = xtask::tidy::check(xtask::Workspace::this().unwrap().root());
//! for problem in &problems {
//!     println!("{problem}");
//! }
//! ```
//!
//! See `docs/releasing.md` for the release process and the supply-chain checks.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod bindings;
pub mod changelog;
pub mod ci;
pub mod cli;
pub mod contract;
pub mod dist;
mod failure;
mod git;
#[cfg(doctest)]
mod guides;
pub mod manifest;
mod process;
pub mod release;
mod test_summary;
pub mod tidy;
mod version;
mod workspace;

pub use anyhow::{Error, Result};
pub use failure::{ErrorKind, KindOf};
/// A calendar day (the changelog headings' dates): jiff's civil date, printed `YYYY-MM-DD`.
pub use jiff::civil::Date;
pub use test_summary::TestCounts;
pub use version::{Bump, Version};
pub use workspace::{Metadata, Package, Workspace};
