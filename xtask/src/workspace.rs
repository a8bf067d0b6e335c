//! The workspace xtask works on: its root, the cargo it runs, and what `cargo metadata` says
//! about its packages (versions, internal dependencies, binaries, target directory).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use xshell::{Cmd, Shell};

use crate::failure::{self, WithSource as _};
use crate::process;
use anyhow::Result;

/// A Cargo workspace on disk, with the shell (xshell) that runs programs in its root.
///
/// ```
/// let ws = xtask::Workspace::this().unwrap();
/// assert!(ws.root().join("Cargo.toml").is_file());
/// ```
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    target_dir: Option<PathBuf>,
    sh: Shell,
}

impl Workspace {
    /// The pims-rs workspace this xtask was built from.
    ///
    /// ```
    /// assert!(xtask::Workspace::this().unwrap().root().join("xtask").is_dir());
    /// ```
    ///
    /// # Errors
    /// When the process has no usable current directory (see [`Workspace::at`]).
    pub fn this() -> Result<Self> {
        // `cargo run` sets CARGO_MANIFEST_DIR at run time too; prefer it over the path baked in
        // at build time, which is wrong when a build was shared with another checkout.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .filter(|d| d.join("Cargo.toml").is_file())
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .map_or_else(|| manifest_dir.clone(), Path::to_path_buf);
        Self::at(root)
    }

    /// The workspace whose root `Cargo.toml` is in `root`.
    ///
    /// ```
    /// let ws = xtask::Workspace::at("/tmp/some-workspace").unwrap();
    /// assert_eq!(ws.root(), std::path::Path::new("/tmp/some-workspace"));
    /// ```
    ///
    /// # Errors
    /// When the process has no usable current directory (xshell's [`Shell::new`] reads it).
    pub fn at(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let sh = Shell::new()?;
        sh.change_dir(&root);
        Ok(Self {
            root,
            target_dir: None,
            sh,
        })
    }

    /// The same workspace, with every cargo command it runs using `dir` as its target
    /// directory (to share a build cache with another checkout). Without it, cargo's own
    /// rules apply: `CARGO_TARGET_DIR` when set, else `target/` in the workspace.
    ///
    /// ```
    /// let ws = xtask::Workspace::at("/tmp/ws").unwrap().with_target_dir("/tmp/shared-target");
    /// assert!(format!("{ws:?}").contains("shared-target"));
    /// ```
    #[must_use]
    pub fn with_target_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target_dir = Some(dir.into());
        self
    }

    /// The workspace's root directory.
    ///
    /// ```
    /// assert!(xtask::Workspace::this().unwrap().root().is_absolute());
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shell whose commands run in the root (one per workspace, made with it).
    pub(crate) fn sh(&self) -> &Shell {
        &self.sh
    }

    /// A `cargo` command run in the root: the cargo that runs xtask (`$CARGO`), else `cargo`.
    ///
    /// ```
    /// let ws = xtask::Workspace::this().unwrap();
    /// let version = ws.cargo().arg("--version").quiet().read().unwrap();
    /// assert!(version.starts_with("cargo "));
    /// ```
    pub fn cargo(&self) -> Cmd<'_> {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let cmd = self.sh.cmd(program);
        match &self.target_dir {
            Some(dir) => cmd.env("CARGO_TARGET_DIR", dir),
            None => cmd,
        }
    }

    /// What `cargo metadata --no-deps` says about the workspace.
    ///
    /// ```
    /// let meta = xtask::Workspace::this().unwrap().metadata().unwrap();
    /// assert!(meta.package("pims-types").is_some());
    /// ```
    pub fn metadata(&self) -> Result<Metadata> {
        let text =
            process::read(
                self.cargo()
                    .args(["metadata", "--format-version", "1", "--no-deps"]),
            )?;
        Metadata::from_json(&text)
    }
}

/// A workspace package, as `cargo metadata` describes it.
///
/// ```
/// let meta = xtask::Workspace::this().unwrap().metadata().unwrap();
/// let types = meta.package("pims-types").unwrap();
/// assert!(types.publish);
/// assert!(types.internal_dependencies.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// False for `publish = false`.
    pub publish: bool,
    /// Names of the workspace packages it depends on (normal and build dependencies).
    pub internal_dependencies: Vec<String>,
    /// Names of the workspace packages it dev-depends on (itself excluded). crates.io needs
    /// the published ones published first too.
    pub internal_dev_dependencies: Vec<String>,
    /// Names of its binary targets.
    pub binaries: Vec<String>,
}

/// The parts of `cargo metadata` xtask uses.
///
/// ```
/// let json = r#"{"packages": [{"name": "a", "version": "0.1.0", "manifest_path": "/w/a/Cargo.toml",
///     "publish": null, "dependencies": [], "targets": [{"name": "a", "kind": ["bin"]}]}],
///     "target_directory": "/w/target", "workspace_root": "/w"}"#;
/// let meta = xtask::Metadata::from_json(json).unwrap();
/// assert_eq!(meta.package("a").unwrap().binaries, ["a"]);
/// assert_eq!(meta.target_directory, std::path::Path::new("/w/target"));
/// ```
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The workspace's packages, in cargo's order.
    pub packages: Vec<Package>,
    /// The target directory in force (`CARGO_TARGET_DIR` or `target/`).
    pub target_directory: PathBuf,
    /// The workspace root.
    pub workspace_root: PathBuf,
}

impl Metadata {
    /// Reads the JSON printed by `cargo metadata --format-version 1 --no-deps`.
    pub fn from_json(text: &str) -> Result<Self> {
        let bad = |what: &str| failure::invalid(format!("cargo metadata: {what}"));
        let json: Value =
            serde_json::from_str(text).map_err(|e| bad("the output is not JSON").with_source(e))?;
        let str_field = |v: &Value, key: &str| -> Result<String> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("missing `{key}`")))
        };
        let raw = json
            .get("packages")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("missing `packages`"))?;
        let names: BTreeSet<String> = raw
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut packages = Vec::with_capacity(raw.len());
        for p in raw {
            let name = str_field(p, "name")?;
            // `publish`: null = anywhere, [] = nowhere (`publish = false`), [..] = those.
            let publish = match p.get("publish") {
                Some(Value::Array(regs)) => !regs.is_empty(),
                _ => true,
            };
            let mut internal_dependencies = Vec::new();
            let mut internal_dev_dependencies = Vec::new();
            for dep in p
                .get("dependencies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let local = dep.get("path").is_some();
                let dep_name = str_field(dep, "name")?;
                // A crate may dev-depend on itself (to turn test features on): not an edge.
                if !local || dep_name == name || !names.contains(&dep_name) {
                    continue;
                }
                let list = if dep.get("kind").and_then(Value::as_str) == Some("dev") {
                    &mut internal_dev_dependencies
                } else {
                    &mut internal_dependencies
                };
                if !list.contains(&dep_name) {
                    list.push(dep_name);
                }
            }
            let binaries = p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|t| {
                    t.get("kind")
                        .and_then(Value::as_array)
                        .is_some_and(|k| k.iter().any(|k| k == "bin"))
                })
                .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect();
            packages.push(Package {
                version: str_field(p, "version")?,
                manifest_path: PathBuf::from(str_field(p, "manifest_path")?),
                name,
                publish,
                internal_dependencies,
                internal_dev_dependencies,
                binaries,
            });
        }
        Ok(Self {
            packages,
            target_directory: PathBuf::from(str_field(&json, "target_directory")?),
            workspace_root: PathBuf::from(str_field(&json, "workspace_root")?),
        })
    }

    /// The package called `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The publishable packages, every one after the packages it depends on, dev-dependencies
    /// included (ties keep cargo's order). Errors on a dependency cycle, and on a publishable
    /// package depending on an unpublishable one.
    ///
    /// ```
    /// let meta = xtask::Workspace::this().unwrap().metadata().unwrap();
    /// let order: Vec<_> = meta.publish_order().unwrap().iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(order.first(), Some(&"pims-types"));
    /// assert!(!order.contains(&"xtask"));
    /// ```
    pub fn publish_order(&self) -> Result<Vec<&Package>> {
        let publishable: BTreeMap<&str, &Package> = self
            .packages
            .iter()
            .filter(|p| p.publish)
            .map(|p| (p.name.as_str(), p))
            .collect();
        for p in publishable.values() {
            if let Some(dep) = p
                .internal_dependencies
                .iter()
                .find(|d| !publishable.contains_key(d.as_str()))
            {
                return Err(failure::refused(format!(
                    "{} depends on {dep}, which is `publish = false`: it could not be published",
                    p.name
                )));
            }
        }
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut order = Vec::with_capacity(publishable.len());
        while order.len() < publishable.len() {
            // Unpublished dev-dependencies are dropped from the published manifest (path only)
            // or fail cargo package on their own: they do not order anything.
            let ready = |p: &Package| {
                p.internal_dependencies
                    .iter()
                    .chain(
                        p.internal_dev_dependencies
                            .iter()
                            .filter(|d| publishable.contains_key(d.as_str())),
                    )
                    .all(|d| done.contains(d.as_str()))
            };
            let next = self
                .packages
                .iter()
                .find(|p| p.publish && !done.contains(p.name.as_str()) && ready(p));
            let Some(next) = next else {
                let stuck: Vec<&str> = publishable
                    .keys()
                    .filter(|n| !done.contains(*n))
                    .copied()
                    .collect();
                return Err(failure::invalid(format!(
                    "the internal dependencies of {} form a cycle",
                    stuck.join(", ")
                )));
            };
            done.insert(&next.name);
            order.push(next);
        }
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, deps: &[&str], publish: bool) -> Package {
        let (dev, normal): (Vec<&str>, Vec<&str>) =
            deps.iter().partition(|d| d.starts_with("dev:"));
        Package {
            name: name.to_owned(),
            version: "0.1.0".to_owned(),
            manifest_path: PathBuf::from(format!("/w/{name}/Cargo.toml")),
            publish,
            internal_dependencies: normal.iter().map(|d| (*d).to_owned()).collect(),
            internal_dev_dependencies: dev.iter().map(|d| d["dev:".len()..].to_owned()).collect(),
            binaries: Vec::new(),
        }
    }

    fn meta(packages: Vec<Package>) -> Metadata {
        Metadata {
            packages,
            target_directory: PathBuf::from("/w/target"),
            workspace_root: PathBuf::from("/w"),
        }
    }

    fn names<'a>(order: &[&'a Package]) -> Vec<&'a str> {
        order.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn dependencies_come_first_whatever_the_member_order() {
        let m = meta(vec![
            pkg("cli", &["facade", "sim"], true),
            pkg("sim", &["types", "dev:bench"], true),
            pkg("facade", &["transport", "cache", "dev:sim"], true),
            pkg("cache", &["types"], true),
            pkg("transport", &["types", "dev:sim"], true),
            pkg("bench", &["facade"], false),
            pkg("types", &[], true),
            pkg("xtask", &[], false),
        ]);
        assert_eq!(
            names(&m.publish_order().unwrap()),
            ["types", "sim", "cache", "transport", "facade", "cli"],
            "dev-dependencies order too; the unpublished bench does not"
        );
    }

    #[test]
    fn cycles_and_unpublishable_dependencies_are_errors() {
        let cyclic = meta(vec![pkg("a", &["b"], true), pkg("b", &["a"], true)]);
        let err = cyclic.publish_order().unwrap_err();
        assert!(err.to_string().contains("a, b form a cycle"), "{err}");
        let private = meta(vec![pkg("a", &["p"], true), pkg("p", &[], false)]);
        let err = private.publish_order().unwrap_err();
        assert!(err.to_string().contains("a depends on p"), "{err}");
    }

    #[test]
    fn reads_cargo_metadata() {
        let json = r#"{"packages": [
            {"name": "lib", "version": "0.3.0", "manifest_path": "/w/lib/Cargo.toml", "publish": null,
             "dependencies": [{"name": "serde", "kind": null}], "targets": [{"name": "lib", "kind": ["lib"]}]},
            {"name": "app", "version": "0.3.0", "manifest_path": "/w/app/Cargo.toml", "publish": [],
             "dependencies": [{"name": "lib", "kind": null, "path": "/w/lib"},
                              {"name": "helper", "kind": "dev", "path": "/w/helper"},
                              {"name": "app", "kind": "dev", "path": "/w/app"}],
             "targets": [{"name": "app", "kind": ["bin"]}, {"name": "tool", "kind": ["bin"]}]}],
            "target_directory": "/w/target", "workspace_root": "/w"}"#;
        let m = Metadata::from_json(json).unwrap();
        let app = m.package("app").unwrap();
        assert!(!app.publish);
        assert_eq!(
            app.internal_dependencies,
            ["lib"],
            "helper is not a workspace package"
        );
        assert_eq!(app.binaries, ["app", "tool"]);
        assert!(m.package("lib").unwrap().publish);
        assert!(Metadata::from_json("{}").is_err());
        assert!(Metadata::from_json("not json").is_err());
    }
}
