//! The manifests: shared package fields and dependencies come from the workspace, internal
//! path dependencies carry the workspace version, publishable crates carry their registry
//! metadata, and every crate under `crates/` is a workspace member.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
//! let problems = xtask::tidy::manifests::check(dir.path());
//! assert!(problems.iter().any(|p| p.message.contains("[workspace.package]")));
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, TableLike};

use super::{Problem, relative, subdirs};
use crate::tidy::crates::CRATES_DIR;

/// `[package]` fields every member inherits with `field.workspace = true`.
pub const INHERITED_FIELDS: [&str; 5] = [
    "version",
    "edition",
    "rust-version",
    "license",
    "repository",
];

/// `[package]` fields a publishable crate must have (besides the inherited ones).
pub const PUBLISH_FIELDS: [&str; 4] = ["description", "readme", "keywords", "categories"];

/// The dependency tables of a manifest.
pub(crate) const DEPENDENCY_TABLES: [&str; 3] =
    ["dependencies", "dev-dependencies", "build-dependencies"];

/// Keys that say where a dependency comes from: they belong in the root only.
const SOURCE_KEYS: [&str; 7] = ["version", "path", "git", "branch", "tag", "rev", "registry"];

/// Problems of the root manifest and of every member's manifest.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let root_manifest = root.join("Cargo.toml");
    let Some(doc) = read(root, &root_manifest, &mut problems) else {
        return problems;
    };
    check_workspace(root, &doc, &mut problems);
    for member in members(root, &doc) {
        let manifest = member.join("Cargo.toml");
        if let Some(member_doc) = read(root, &manifest, &mut problems) {
            check_member(&relative(root, &manifest), &member_doc, &mut problems);
        }
    }
    problems
}

pub(crate) fn read(root: &Path, path: &Path, problems: &mut Vec<Problem>) -> Option<DocumentMut> {
    let rel = relative(root, path);
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Problem::new(rel, format!("cannot be read: {e}")));
            return None;
        }
    };
    match text.parse::<DocumentMut>() {
        Ok(doc) => Some(doc),
        Err(e) => {
            problems.push(Problem::new(rel, format!("is not valid TOML: {e}")));
            None
        }
    }
}

fn table(item: Option<&Item>) -> Option<&dyn TableLike> {
    item.and_then(Item::as_table_like)
}

fn check_workspace(root: &Path, doc: &DocumentMut, problems: &mut Vec<Problem>) {
    let file = PathBuf::from("Cargo.toml");
    let workspace = table(doc.get("workspace"));
    let package = workspace.and_then(|w| table(w.get("package")));
    let Some(package) = package else {
        problems.push(Problem::new(
            file,
            "no [workspace.package] table: the shared package fields live there",
        ));
        return;
    };
    for field in INHERITED_FIELDS {
        if package.get(field).is_none() {
            problems.push(Problem::new(
                file.clone(),
                format!("[workspace.package] has no `{field}`"),
            ));
        }
    }
    let version = package.get("version").and_then(Item::as_str);
    let deps = workspace.and_then(|w| table(w.get("dependencies")));
    for (name, item) in deps.into_iter().flat_map(|d| d.iter()) {
        let Some(dep) = item.as_table_like() else {
            continue;
        };
        if dep.get("path").is_none() {
            continue;
        }
        let carried = dep.get("version").and_then(Item::as_str);
        if let Some(version) = version
            && carried != Some(version)
        {
            problems.push(Problem::new(
                file.clone(),
                format!(
                    "[workspace.dependencies] {name} must carry `version = \"{version}\"` (the \
                     workspace version) so that the crates depending on it can be published"
                ),
            ));
        }
    }
    // A crate directory that is not a member is silently never built nor tested.
    let listed: Vec<PathBuf> = members(root, doc);
    for dir in subdirs(&root.join(CRATES_DIR)) {
        if dir.join("Cargo.toml").is_file() && !listed.contains(&dir) {
            problems.push(Problem::new(
                file.clone(),
                format!(
                    "{} is not in [workspace] members",
                    relative(root, &dir).display()
                ),
            ));
        }
    }
}

/// The member directories listed in `[workspace] members` (`dir/*` globs expanded).
pub(crate) fn members(root: &Path, doc: &DocumentMut) -> Vec<PathBuf> {
    let list = doc
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Item::as_array);
    let mut dirs = Vec::new();
    for member in list
        .into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|v| v.as_str())
    {
        if let Some(parent) = member.strip_suffix("/*") {
            dirs.extend(
                subdirs(&root.join(parent))
                    .into_iter()
                    .filter(|d| d.join("Cargo.toml").is_file()),
            );
        } else {
            dirs.push(root.join(member));
        }
    }
    dirs
}

fn inherits(item: Option<&Item>) -> bool {
    table(item)
        .and_then(|t| t.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true)
}

fn check_member(file: &Path, doc: &DocumentMut, problems: &mut Vec<Problem>) {
    let Some(package) = table(doc.get("package")) else {
        problems.push(Problem::new(file, "no [package] table"));
        return;
    };
    for field in INHERITED_FIELDS {
        if !inherits(package.get(field)) {
            problems.push(Problem::new(
                file,
                format!("`{field}` must come from the workspace: `{field}.workspace = true`"),
            ));
        }
    }
    let publish = package.get("publish").and_then(Item::as_bool) != Some(false);
    if publish {
        for field in PUBLISH_FIELDS {
            if package.get(field).is_none() {
                problems.push(Problem::new(
                    file,
                    format!("publishable crate without `{field}` in [package]"),
                ));
            }
        }
        let docs_rs = table(package.get("metadata"))
            .and_then(|m| table(m.get("docs")))
            .and_then(|d| table(d.get("rs")));
        if docs_rs.is_none() {
            problems.push(Problem::new(
                file,
                "publishable crate without [package.metadata.docs.rs]",
            ));
        }
    }
    let mut tables: Vec<(String, &dyn TableLike)> = DEPENDENCY_TABLES
        .iter()
        .filter_map(|t| table(doc.get(t)).map(|d| ((*t).to_owned(), d)))
        .collect();
    if let Some(targets) = table(doc.get("target")) {
        for (cfg, target) in targets.iter() {
            for t in DEPENDENCY_TABLES {
                if let Some(d) = target.get(t).and_then(Item::as_table_like) {
                    tables.push((format!("target.{cfg}.{t}"), d));
                }
            }
        }
    }
    let own_name = package
        .get("name")
        .and_then(Item::as_str)
        .unwrap_or_default();
    for (section, deps) in tables {
        for (name, item) in deps.iter() {
            if name == own_name {
                check_self_dependency(file, &section, name, item, problems);
                continue;
            }
            let from_workspace = inherits(Some(item));
            let source_key = item
                .as_table_like()
                .and_then(|t| SOURCE_KEYS.iter().find(|k| t.get(k).is_some()));
            if !from_workspace || source_key.is_some() {
                problems.push(Problem::new(
                    file,
                    format!(
                        "[{section}] {name}: declare it once in the root [workspace.dependencies] \
                         and use `{name} = {{ workspace = true }}` here (features may be added)"
                    ),
                ));
            }
        }
    }
}

/// A crate may dev-depend on itself to turn its test features on, as `{ path = "." }` only:
/// cargo drops such a dev-dependency when packaging, while one with a version (the workspace
/// entry's) is looked up on the registry, where the crate is not yet, and packaging fails.
fn check_self_dependency(
    file: &Path,
    section: &str,
    name: &str,
    item: &Item,
    problems: &mut Vec<Problem>,
) {
    let table = item.as_table_like();
    let path_only = table.is_some_and(|t| {
        t.get("path").and_then(Item::as_str) == Some(".")
            && SOURCE_KEYS
                .iter()
                .all(|k| *k == "path" || t.get(k).is_none())
            && t.get("workspace").is_none()
    });
    if section != "dev-dependencies" || !path_only {
        problems.push(Problem::new(
            file,
            format!(
                "[{section}] {name}: a crate's dependency on itself must be a dev-dependency \
                 `{name} = {{ path = \".\", features = [...] }}` without a version (with one, \
                 `cargo package` looks for {name} on crates.io and fails)"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = r#"[workspace]
members = ["crates/a", "crates/b", "xtask"]

[workspace.package]
version = "0.3.0"
edition = "2024"
rust-version = "1.95"
license = "MIT OR Apache-2.0"
repository = "https://example.com/r"

[workspace.dependencies]
a = { path = "crates/a", version = "0.3.0" }
serde = { version = "1", default-features = false }
"#;

    const GOOD_MEMBER: &str = r#"[package]
name = "a"
description = "A."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
readme = "README.md"
keywords = ["a"]
categories = ["api-bindings"]

[package.metadata.docs.rs]
all-features = true

[dependencies]
serde = { workspace = true, features = ["derive"] }

[dev-dependencies]
other.workspace = true

[target.'cfg(unix)'.dependencies]
serde = { workspace = true }
"#;

    const PRIVATE_MEMBER: &str = r#"[package]
name = "xtask"
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
publish = false
"#;

    fn workspace(root: &str, members: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("Cargo.toml"), root).unwrap();
        for (path, text) in members {
            let p = dir.path().join(path).join("Cargo.toml");
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    fn problems(dir: &tempfile::TempDir) -> Vec<String> {
        check(dir.path()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_well_formed_workspace_passes() {
        let dir = workspace(
            ROOT,
            &[
                ("crates/a", GOOD_MEMBER),
                ("crates/b", &GOOD_MEMBER.replace("\"a\"", "\"b\"")),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(problems(&dir), Vec::<String>::new());
    }

    #[test]
    fn literal_versions_and_missing_inheritance_are_reported() {
        let bad = GOOD_MEMBER
            .replace("\nversion.workspace = true", "\nversion = \"0.3.0\"")
            .replace(
                "serde = { workspace = true, features = [\"derive\"] }",
                "serde = \"1\"\ntokio = { workspace = true, version = \"1\" }",
            )
            .replace(
                "[dev-dependencies]\nother.workspace = true",
                "[dev-dependencies]\nother = { path = \"../other\" }",
            );
        let dir = workspace(
            ROOT,
            &[
                ("crates/a", &bad),
                ("crates/b", GOOD_MEMBER),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(
            problems(&dir),
            [
                "crates/a/Cargo.toml: `version` must come from the workspace: `version.workspace = true`",
                "crates/a/Cargo.toml: [dependencies] serde: declare it once in the root [workspace.dependencies] and use `serde = { workspace = true }` here (features may be added)",
                "crates/a/Cargo.toml: [dependencies] tokio: declare it once in the root [workspace.dependencies] and use `tokio = { workspace = true }` here (features may be added)",
                "crates/a/Cargo.toml: [dev-dependencies] other: declare it once in the root [workspace.dependencies] and use `other = { workspace = true }` here (features may be added)",
            ]
        );
    }

    #[test]
    fn a_self_dev_dependency_is_path_only() {
        let good = GOOD_MEMBER.replace(
            "[dev-dependencies]\nother.workspace = true",
            "[dev-dependencies]\na = { path = \".\", features = [\"test-util\"] }",
        );
        let dir = workspace(
            ROOT,
            &[
                ("crates/a", &good),
                ("crates/b", GOOD_MEMBER),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(problems(&dir), Vec::<String>::new());
        let versioned = GOOD_MEMBER.replace(
            "[dev-dependencies]\nother.workspace = true",
            "[dev-dependencies]\na = { workspace = true, features = [\"test-util\"] }",
        );
        let dir = workspace(
            ROOT,
            &[
                ("crates/a", &versioned),
                ("crates/b", GOOD_MEMBER),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(
            problems(&dir),
            [
                "crates/a/Cargo.toml: [dev-dependencies] a: a crate's dependency on itself must be a \
              dev-dependency `a = { path = \".\", features = [...] }` without a version (with one, \
              `cargo package` looks for a on crates.io and fails)"
            ]
        );
    }

    #[test]
    fn publish_metadata_is_required_unless_publish_is_false() {
        let bare = "[package]\nname = \"b\"\nversion.workspace = true\nedition.workspace = true\n\
                    rust-version.workspace = true\nlicense.workspace = true\nrepository.workspace = true\n";
        let dir = workspace(
            ROOT,
            &[
                ("crates/a", GOOD_MEMBER),
                ("crates/b", bare),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(
            problems(&dir),
            [
                "crates/b/Cargo.toml: publishable crate without `description` in [package]",
                "crates/b/Cargo.toml: publishable crate without `readme` in [package]",
                "crates/b/Cargo.toml: publishable crate without `keywords` in [package]",
                "crates/b/Cargo.toml: publishable crate without `categories` in [package]",
                "crates/b/Cargo.toml: publishable crate without [package.metadata.docs.rs]",
            ]
        );
    }

    #[test]
    fn internal_versions_must_match_and_crates_must_be_members() {
        let root = ROOT
            .replace("version = \"0.3.0\" }", "version = \"0.2.0\" }")
            .replace(", \"crates/b\"", "");
        let dir = workspace(
            &root,
            &[
                ("crates/a", GOOD_MEMBER),
                ("crates/b", GOOD_MEMBER),
                ("xtask", PRIVATE_MEMBER),
            ],
        );
        assert_eq!(
            problems(&dir),
            [
                "Cargo.toml: [workspace.dependencies] a must carry `version = \"0.3.0\"` (the workspace version) so that the crates depending on it can be published",
                "Cargo.toml: crates/b is not in [workspace] members",
            ]
        );
    }

    #[test]
    fn globs_and_broken_files() {
        let root = ROOT.replace("[\"crates/a\", \"crates/b\", \"xtask\"]", "[\"crates/*\"]");
        let dir = workspace(
            &root,
            &[("crates/a", GOOD_MEMBER), ("crates/b", "[package\n")],
        );
        let found = problems(&dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("crates/b/Cargo.toml: is not valid TOML"),
            "{found:?}"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(problems(&empty)[0].starts_with("Cargo.toml: cannot be read"));
    }
}
