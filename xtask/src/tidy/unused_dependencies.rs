//! No declared-but-unused dependency: every name in a member's dependency tables (`-` as `_`)
//! appears as a path (`name::`, `use name`, `extern crate name`) in the code that may use it:
//! `[dependencies]` in `src/`, `[build-dependencies]` in `build.rs`, `[dev-dependencies]` in
//! any of `src/`, `tests/`, `benches/`, `examples/`, `build.rs`, the crate's Markdown (its
//! README is its crate docs, whose examples are doc tests) and the Markdown its sources include. A hand check that works on stable;
//! crates used only through features or by the linker are listed in [`ALLOWED`] with why.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let root = dir.path();
//! std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"a\"]\n").unwrap();
//! std::fs::create_dir_all(root.join("a/src")).unwrap();
//! std::fs::write(
//!     root.join("a/Cargo.toml"),
//!     "[package]\nname = \"a\"\n[dependencies]\nserde-json.workspace = true\nhex.workspace = true\n",
//! )
//! .unwrap();
//! std::fs::write(root.join("a/src/lib.rs"), "pub fn f() { let _ = serde_json::Value::Null; }\n")
//!     .unwrap();
//! let problems = xtask::tidy::unused_dependencies::check(root);
//! assert_eq!(problems.len(), 1);
//! assert!(problems[0].message.contains("hex"));
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use super::Problem;
use super::members::{Dependency, Member, load};

/// Dependencies no source names, on purpose: (crate, dependency, why).
pub const ALLOWED: &[(&str, &str, &str)] = &[];

/// The unused dependencies of the workspace at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    check_allowing(root, ALLOWED)
}

/// [`check`], with `allowed` as the allow-list.
fn check_allowing(root: &Path, allowed: &[(&str, &str, &str)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for member in load(root) {
        let sources = Sources::read(&member);
        let listed = allowed.iter().filter(|(c, _, _)| *c == member.name);
        for (_, dep, _) in listed {
            if !member.dependencies.iter().any(|d| d.key == *dep) {
                problems.push(Problem::new(
                    &member.manifest,
                    format!(
                        "{dep} is listed in xtask/src/tidy/unused_dependencies.rs but not \
                         declared: remove the stale entry"
                    ),
                ));
            }
        }
        for dep in &member.dependencies {
            let listed = allowed
                .iter()
                .any(|(c, d, _)| *c == member.name && *d == dep.key);
            if dep.package == member.name || listed {
                continue;
            }
            if !sources.uses(dep) {
                problems.push(Problem::new(
                    &member.manifest,
                    format!(
                        "[{}] {}: declared but no {} names it as a path (remove it, or list it \
                         in ALLOWED of xtask/src/tidy/unused_dependencies.rs with why)",
                        dep.table,
                        dep.key,
                        sources.described(dep)
                    ),
                ));
            }
        }
    }
    problems
}

/// The texts of one crate, by where they may use which kind of dependency.
struct Sources {
    /// `src/` (the library and binaries, with their unit tests and doc tests).
    src: String,
    /// `build.rs`.
    build: String,
    /// `tests/`, `benches/`, `examples/` and the crate's Markdown files.
    tests: String,
}

impl Sources {
    fn read(member: &Member) -> Self {
        let text = |dirs: &[&str]| {
            let mut files = Vec::new();
            for d in dirs {
                collect(&member.dir.join(d), &mut files);
            }
            files.sort();
            files
                .iter()
                .filter_map(|f| fs::read_to_string(f).ok())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let mut tests = text(&["tests", "benches", "examples"]);
        if let Ok(entries) = fs::read_dir(&member.dir) {
            for entry in entries.filter_map(|e| e.ok()) {
                if entry.path().extension().is_some_and(|e| e == "md")
                    && let Ok(md) = fs::read_to_string(entry.path())
                {
                    tests.push('\n');
                    tests.push_str(&md);
                }
            }
        }
        // Markdown the sources include as doc tests (`include_str!("../../docs/x.md")`).
        let mut src_files = Vec::new();
        collect(&member.dir.join("src"), &mut src_files);
        src_files.sort();
        for file in &src_files {
            let Ok(code) = fs::read_to_string(file) else {
                continue;
            };
            for piece in code.split("include_str!(\"").skip(1) {
                let Some(path) = piece.split('"').next().filter(|p| p.ends_with(".md")) else {
                    continue;
                };
                let included = file.parent().map(|d| d.join(path)).unwrap_or_default();
                if let Ok(md) = fs::read_to_string(included) {
                    tests.push('\n');
                    tests.push_str(&md);
                }
            }
        }
        Self {
            src: text(&["src"]),
            build: fs::read_to_string(member.dir.join("build.rs")).unwrap_or_default(),
            tests,
        }
    }

    fn uses(&self, dep: &Dependency) -> bool {
        let name = dep.crate_name();
        match dep.kind() {
            "build-dependencies" => names(&self.build, &name),
            "dev-dependencies" => [&self.src, &self.build, &self.tests]
                .iter()
                .any(|t| names(t, &name)),
            _ => names(&self.src, &name),
        }
    }

    fn described(&self, dep: &Dependency) -> &'static str {
        match dep.kind() {
            "build-dependencies" => "build.rs",
            "dev-dependencies" => "source, test, bench, example or README",
            _ => "file under src/",
        }
    }
}

/// True when `text` has `name` as a path: `name::`, `use name` or `extern crate name`, not as
/// the tail of a longer name (`my_name::`) nor as a field (`x.name::`).
pub fn names(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find(name) {
        let start = from + found;
        let end = start + name.len();
        from = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            continue;
        }
        let rest = &text[end..];
        if rest.starts_with("::") {
            return true;
        }
        let head = text[..start].trim_end();
        let after_ok = rest
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if after_ok && (head.ends_with("use") || head.ends_with("extern crate")) {
            return true;
        }
    }
    false
}

/// The `.rs` files under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_count_and_lookalikes_do_not() {
        assert!(names("use serde_json::Value;", "serde_json"));
        assert!(names("let v = serde_json::json!({});", "serde_json"));
        assert!(names("use tempfile;", "tempfile"));
        assert!(names("extern crate alloc;", "alloc"));
        assert!(names("#[tokio::main]", "tokio"));
        assert!(!names("use my_serde_json::Value;", "serde_json"));
        assert!(!names("self.tar::x", "tar"));
        assert!(!names("let tarball = 1;", "tar"));
        assert!(!names("the tar crate", "tar"));
        assert!(!names("use tarpaulin;", "tar"));
    }

    fn crate_with(manifest_deps: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"a\"]\n").unwrap();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(
            root.join("a/Cargo.toml"),
            format!("[package]\nname = \"a\"\n{manifest_deps}"),
        )
        .unwrap();
        for (path, text) in files {
            let file = root.join("a").join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        dir
    }

    #[test]
    fn each_table_is_looked_for_where_it_may_be_used() {
        let dir = crate_with(
            "[dependencies]\nhex.workspace = true\nflate2.workspace = true\n\
             [dev-dependencies]\nproptest.workspace = true\ncriterion.workspace = true\n\
             tempfile.workspace = true\ndivan.workspace = true\n\
             [build-dependencies]\ncc.workspace = true\n\
             [target.'cfg(unix)'.dependencies]\nnix.workspace = true\n",
            &[
                ("src/lib.rs", "pub fn f() { hex::encode([1]); }\n"),
                ("src/unix.rs", "use nix::unistd;\n"),
                (
                    "tests/t.rs",
                    "use proptest::prelude::*;\nfn f() { flate2::x(); }\n",
                ),
                ("README.md", "```\nlet dir = tempfile::tempdir();\n```\n"),
                (
                    "src/guides.rs",
                    "#[doc = include_str!(\"../../docs/g.md\")]\nstruct G;\n",
                ),
                (
                    "../docs/g.md",
                    "```\nlet x = criterion::black_box(1);\n```\n",
                ),
                ("build.rs", "fn main() {}\n"),
            ],
        );
        let found: Vec<String> = check(dir.path()).iter().map(ToString::to_string).collect();
        // flate2 is only in a test: a [dependencies] entry must be used by src/.
        for expected in [
            "a/Cargo.toml: [dependencies] flate2: declared but no file under src/",
            "a/Cargo.toml: [dev-dependencies] divan: declared but no source",
            "a/Cargo.toml: [build-dependencies] cc: declared but no build.rs",
        ] {
            assert!(
                found.iter().any(|f| f.starts_with(expected)),
                "{expected}\nnot in:\n{}",
                found.join("\n")
            );
        }
        assert_eq!(found.len(), 3, "{}", found.join("\n"));
    }

    #[test]
    fn renamed_and_allowed_dependencies() {
        let dir = crate_with(
            "[dependencies]\nmy-json = { workspace = true, package = \"serde_json\" }\n",
            &[("src/lib.rs", "use my_json::Value;\n")],
        );
        assert_eq!(check(dir.path()), Vec::new());
        for (krate, dep, why) in ALLOWED {
            assert!(!krate.is_empty() && !dep.is_empty() && why.len() > 10);
        }
    }

    #[test]
    fn a_listed_dependency_that_is_gone_is_a_stale_entry() {
        let (krate, dep) = ("c", "gone");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"c\"]\n").unwrap();
        fs::create_dir_all(root.join("c/src")).unwrap();
        fs::write(
            root.join("c/Cargo.toml"),
            format!("[package]\nname = \"{krate}\"\n"),
        )
        .unwrap();
        let allowed = [(krate, dep, "used by the linker only")];
        let found: Vec<String> = check_allowing(root, &allowed)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            [format!(
                "c/Cargo.toml: {dep} is listed in xtask/src/tidy/unused_dependencies.rs but not \
                 declared: remove the stale entry"
            )]
        );
    }
}
