//! Repository tidy checks (`cargo xtask tidy`, stage `tidy` of `cargo xtask ci`, and a
//! `#[test]`): rules that neither rustc nor clippy can see.
//!
//! - every crate under `crates/` has a `README.md`, crate docs (`//!`),
//!   `#![forbid(unsafe_code)]` and `#![warn(missing_docs)]` in each of its roots, and is a
//!   workspace member ([`crates`]);
//! - no leftover `todo!`/`unimplemented!`/`dbg!` and no `#[ignore]` without a reason
//!   ([`sources`]);
//! - manifests inherit the shared package fields and dependencies from the workspace, internal
//!   path dependencies carry the workspace version, publishable crates have their registry
//!   metadata ([`manifests`]);
//! - the error catalogue `crates/pims-types/errors.tsv` is well formed and, when the spec sits
//!   beside the checkout, identical to it ([`errors_file`]);
//! - the required guides and top-level files exist ([`files`]);
//! - the design's guards (docs/tidy.md): the allowed crate arrows ([`crate_arrows`]), no
//!   declared-but-unused dependency ([`unused_dependencies`]), the guides' Rust blocks compiled
//!   ([`docs_code_blocks`]), and at most [`module_circles::MAX_MODULE_CIRCLES`] module circles
//!   ([`module_circles`]).
//!
//! ```
//! let problems = xtask::tidy::check(std::path::Path::new("/nonexistent/checkout"));
//! assert!(problems.iter().any(|p| p.to_string().contains("Cargo.toml")));
//! ```

pub mod crate_arrows;
pub mod crates;
pub mod docs_code_blocks;
pub mod errors_file;
pub mod files;
pub mod manifests;
mod members;
pub mod module_circles;
mod rust_tokens;
pub mod sources;
pub mod unused_dependencies;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::failure::{self};
use anyhow::Result;

/// One broken rule: where, and what to do about it.
///
/// ```
/// let p = xtask::tidy::Problem::at("crates/x/src/lib.rs", 3, "`dbg!(` left in code");
/// assert_eq!(p.to_string(), "crates/x/src/lib.rs:3: `dbg!(` left in code");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    /// The 1-based line, when the rule is about one line.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem with a whole file.
    ///
    /// ```
    /// let p = xtask::tidy::Problem::new("docs/errors.md", "missing");
    /// assert_eq!(p.to_string(), "docs/errors.md: missing");
    /// ```
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            message: message.into(),
        }
    }

    /// A problem on line `line` (1-based) of `file`.
    pub fn at(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every tidy problem of the workspace at `root`, in a stable order (empty: all good).
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    problems.extend(manifests::check(root));
    problems.extend(crates::check(root));
    problems.extend(crate_arrows::check(root));
    problems.extend(module_circles::check(root));
    problems.extend(sources::check(root));
    problems.extend(unused_dependencies::check(root));
    problems.extend(errors_file::check(root));
    problems.extend(files::check(root));
    problems.extend(docs_code_blocks::check(root));
    problems
}

/// Runs [`check`], prints the problems, and fails when there is any.
pub fn run(root: &Path) -> Result<()> {
    let problems = check(root);
    println!("{}", module_circles::summary(root));
    if problems.is_empty() {
        println!("tidy: all checks passed");
        return Ok(());
    }
    for p in &problems {
        println!("tidy: {p}");
    }
    Err(failure::refused(format!(
        "{} tidy problem{} (listed above)",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    )))
}

/// `path` relative to `root`, for messages.
pub(crate) fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The directories directly under `root/dir` (sorted), or none when it does not exist.
pub(crate) fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_repository_is_tidy() {
        let ws = crate::Workspace::this().unwrap();
        let problems = super::check(ws.root());
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "tidy problems:\n{}", listed.join("\n"));
    }
}
