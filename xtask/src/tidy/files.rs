//! The top-level files and guides the project promises: the README, both licence texts, the
//! changelog with its `## [Unreleased]` section, the nextest profile, the supply-chain policy,
//! and the `docs/` guides required so far.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let problems = xtask::tidy::files::check(dir.path());
//! assert!(problems.iter().any(|p| p.to_string() == "docs/releasing.md: missing"));
//! ```

use std::fs;
use std::path::Path;

use super::Problem;
use crate::changelog;

/// The guides under `docs/` that must exist. Extend it as issues require new guides
/// (protocol, cache, simulator, facade, benchmarks, ...).
pub const REQUIRED_DOCS: &[&str] = &["architecture.md", "errors.md", "releasing.md"];

/// Files that must exist at the workspace root.
pub const REQUIRED_FILES: &[&str] = &[
    "README.md",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    "CHANGELOG.md",
    "deny.toml",
    ".config/nextest.toml",
    ".ci/run",
];

/// Problems with the required files of the workspace at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let docs = REQUIRED_DOCS.iter().map(|d| format!("docs/{d}"));
    for path in REQUIRED_FILES.iter().map(|f| (*f).to_owned()).chain(docs) {
        match fs::read_to_string(root.join(&path)) {
            Err(_) => problems.push(Problem::new(path, "missing")),
            Ok(text) if text.trim().is_empty() => problems.push(Problem::new(path, "empty")),
            Ok(text) if path == "CHANGELOG.md" => {
                let has_section = text.lines().any(|l| {
                    l.trim_end()
                        .eq_ignore_ascii_case(changelog::UNRELEASED_HEADING)
                });
                if !has_section {
                    problems.push(Problem::new(
                        path,
                        format!(
                            "no `{}` section (Keep a Changelog format)",
                            changelog::UNRELEASED_HEADING
                        ),
                    ));
                }
            }
            Ok(_) => {}
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_missing_or_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        for f in REQUIRED_FILES {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "content\n").unwrap();
        }
        fs::write(dir.path().join("LICENSE-MIT"), "  \n").unwrap();
        fs::create_dir_all(dir.path().join("docs")).unwrap();
        fs::write(dir.path().join("docs/architecture.md"), "# Architecture\n").unwrap();
        let found: Vec<String> = check(dir.path()).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "LICENSE-MIT: empty",
                "CHANGELOG.md: no `## [Unreleased]` section (Keep a Changelog format)",
                "docs/errors.md: missing",
                "docs/releasing.md: missing",
            ]
        );
        fs::write(
            dir.path().join("CHANGELOG.md"),
            "# Changelog\n\n## [Unreleased]\n",
        )
        .unwrap();
        let found: Vec<String> = check(dir.path()).iter().map(ToString::to_string).collect();
        assert!(
            !found.iter().any(|p| p.starts_with("CHANGELOG.md")),
            "{found:?}"
        );
    }
}
