//! The workspace's members as the dependency rules see them: each crate's name, directory and
//! the workspace crates and other packages it declares, table by table.

use std::path::{Path, PathBuf};

use toml_edit::Item;

use super::Problem;
use super::manifests::{DEPENDENCY_TABLES, members, read};

/// One member crate.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// `[package] name`.
    pub(crate) name: String,
    /// Its directory (absolute).
    pub(crate) dir: PathBuf,
    /// Its manifest, relative to the root (for messages).
    pub(crate) manifest: PathBuf,
    /// Every declared dependency.
    pub(crate) dependencies: Vec<Dependency>,
}

/// One declared dependency.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    /// The table it is declared in: `dependencies`, `dev-dependencies`, `build-dependencies`,
    /// or `target.<cfg>.<one of those>`.
    pub(crate) table: String,
    /// The name the code uses (the key).
    pub(crate) key: String,
    /// The package it names (`package = "..."` when renamed, else the key).
    pub(crate) package: String,
}

impl Dependency {
    /// The table without its `target.<cfg>.` prefix.
    pub(crate) fn kind(&self) -> &str {
        self.table.rsplit('.').next().unwrap_or(&self.table)
    }

    /// The crate name the sources use: the key, `-` as `_`.
    pub(crate) fn crate_name(&self) -> String {
        self.key.replace('-', "_")
    }
}

/// The members of the workspace at `root`, in manifest order; unreadable manifests are
/// problems of their own (the manifests rule reports them too).
pub(crate) fn load(root: &Path) -> Vec<Member> {
    let mut ignored: Vec<Problem> = Vec::new();
    let Some(doc) = read(root, &root.join("Cargo.toml"), &mut ignored) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in members(root, &doc) {
        let manifest = dir.join("Cargo.toml");
        let Some(member) = read(root, &manifest, &mut ignored) else {
            continue;
        };
        let Some(name) = member
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Item::as_str)
        else {
            continue;
        };
        let mut dependencies = Vec::new();
        let mut tables: Vec<(String, &Item)> = DEPENDENCY_TABLES
            .iter()
            .filter_map(|t| member.get(t).map(|d| ((*t).to_owned(), d)))
            .collect();
        if let Some(targets) = member.get("target").and_then(Item::as_table_like) {
            for (cfg, target) in targets.iter() {
                for t in DEPENDENCY_TABLES {
                    if let Some(d) = target.get(t) {
                        tables.push((format!("target.{cfg}.{t}"), d));
                    }
                }
            }
        }
        for (table, deps) in tables {
            let Some(deps) = deps.as_table_like() else {
                continue;
            };
            for (key, item) in deps.iter() {
                let package = item
                    .as_table_like()
                    .and_then(|t| t.get("package"))
                    .and_then(Item::as_str)
                    .unwrap_or(key);
                dependencies.push(Dependency {
                    table: table.clone(),
                    key: key.to_owned(),
                    package: package.to_owned(),
                });
            }
        }
        out.push(Member {
            name: name.to_owned(),
            manifest: super::relative(root, &manifest),
            dir,
            dependencies,
        });
    }
    out
}
