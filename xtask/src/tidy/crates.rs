//! Every crate under `crates/`: a `README.md`, and in each crate root (`src/lib.rs`,
//! `src/main.rs`, `src/bin/*.rs`) crate docs and the two mandatory attributes.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let lib = dir.path().join("crates/a/src");
//! std::fs::create_dir_all(&lib).unwrap();
//! std::fs::write(dir.path().join("crates/a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
//! std::fs::write(lib.join("lib.rs"), "pub fn f() {}\n").unwrap();
//! let problems = xtask::tidy::crates::check(dir.path());
//! assert!(problems.iter().any(|p| p.file.ends_with("README.md")));
//! assert!(problems.iter().any(|p| p.message.contains("#![forbid(unsafe_code)]")));
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use super::{Problem, relative, subdirs};

/// The attributes every crate root carries (the `missing_docs` level may be raised to deny).
pub const REQUIRED_ATTRIBUTES: [&[&str]; 2] = [
    &["#![forbid(unsafe_code)]"],
    &["#![warn(missing_docs)]", "#![deny(missing_docs)]"],
];

/// The directory holding the crates.
pub const CRATES_DIR: &str = "crates";

/// Problems of the crates under `root/crates`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for dir in subdirs(&root.join(CRATES_DIR)) {
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let rel = relative(root, &dir);
        if !dir.join("README.md").is_file() {
            problems.push(Problem::new(
                rel.join("README.md"),
                "missing: every crate has a README (it is the crates.io page)",
            ));
        }
        let roots = crate_roots(&dir);
        if roots.is_empty() {
            problems.push(Problem::new(
                rel.join("src"),
                "no crate root (src/lib.rs or src/main.rs)",
            ));
        }
        for file in roots {
            check_root(root, &file, &mut problems);
        }
    }
    problems
}

/// `src/lib.rs`, `src/main.rs` and `src/bin/*.rs` (or `src/bin/*/main.rs`) that exist.
fn crate_roots(crate_dir: &Path) -> Vec<PathBuf> {
    let src = crate_dir.join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.is_file())
        .collect();
    if let Ok(entries) = fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter_map(|p| {
                if p.extension().is_some_and(|e| e == "rs") {
                    Some(p)
                } else if p.join("main.rs").is_file() {
                    Some(p.join("main.rs"))
                } else {
                    None
                }
            })
            .collect();
        bins.sort();
        roots.extend(bins);
    }
    roots
}

fn check_root(root: &Path, file: &Path, problems: &mut Vec<Problem>) {
    let rel = relative(root, file);
    let Ok(text) = fs::read_to_string(file) else {
        problems.push(Problem::new(rel, "unreadable (not UTF-8?)"));
        return;
    };
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    if !first.is_some_and(|l| l.starts_with("//!")) {
        problems.push(Problem::new(
            rel.clone(),
            "the crate docs (`//!` lines) must open the crate root",
        ));
    }
    for accepted in REQUIRED_ATTRIBUTES {
        let present = text
            .lines()
            .map(|l| l.trim().replace(' ', ""))
            .any(|l| accepted.iter().any(|a| l == *a));
        if !present {
            problems.push(Problem::new(
                rel.clone(),
                format!("missing `{}` in the crate root", accepted[0]),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    const GOOD_ROOT: &str = "//! A crate.\n//!\n//! More.\n#![forbid(unsafe_code)]\n#![warn(missing_docs)]\n\npub fn f() {}\n";

    #[test]
    fn a_complete_crate_passes() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "crates/a/Cargo.toml", "");
        write(dir.path(), "crates/a/README.md", "# a\n");
        write(dir.path(), "crates/a/src/lib.rs", GOOD_ROOT);
        write(
            dir.path(),
            "crates/a/src/main.rs",
            &GOOD_ROOT.replace("warn", "deny"),
        );
        write(dir.path(), "crates/a/src/bin/tool.rs", GOOD_ROOT);
        write(dir.path(), "crates/a/src/module.rs", "fn g() {}\n");
        // A directory without a manifest is not a crate.
        write(dir.path(), "crates/notes/todo.txt", "");
        assert_eq!(check(dir.path()), []);
    }

    #[test]
    fn each_missing_piece_is_reported_per_root() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "crates/b/Cargo.toml", "");
        write(dir.path(), "crates/b/src/lib.rs", GOOD_ROOT);
        write(
            dir.path(),
            "crates/b/src/bin/tool.rs",
            "#![forbid(unsafe_code)]\n//! Docs after code.\nfn main() {}\n",
        );
        write(dir.path(), "crates/c/Cargo.toml", "");
        let problems: Vec<String> = check(dir.path()).iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "crates/b/README.md: missing: every crate has a README (it is the crates.io page)",
                "crates/b/src/bin/tool.rs: the crate docs (`//!` lines) must open the crate root",
                "crates/b/src/bin/tool.rs: missing `#![warn(missing_docs)]` in the crate root",
                "crates/c/README.md: missing: every crate has a README (it is the crates.io page)",
                "crates/c/src: no crate root (src/lib.rs or src/main.rs)",
            ]
        );
    }
}
