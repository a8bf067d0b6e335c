//! The root `Cargo.toml`: the workspace version and the versions carried by the internal path
//! dependencies in `[workspace.dependencies]`, edited in place (comments and layout kept).
//!
//! ```
//! use xtask::{manifest::RootManifest, Version};
//!
//! let text = "[workspace.package]\nversion = \"0.1.0\"\n\n[workspace.dependencies]\n\
//!             pims-types = { path = \"crates/pims-types\", version = \"0.1.0\" }\n\
//!             serde = { version = \"1\" }\n";
//! let mut manifest = RootManifest::parse(text).unwrap();
//! assert_eq!(manifest.version().unwrap(), Version::new(0, 1, 0));
//! manifest.set_version(Version::new(0, 2, 0)).unwrap();
//! assert_eq!(
//!     manifest.to_string(),
//!     "[workspace.package]\nversion = \"0.2.0\"\n\n[workspace.dependencies]\n\
//!      pims-types = { path = \"crates/pims-types\", version = \"0.2.0\" }\n\
//!      serde = { version = \"1\" }\n"
//! );
//! ```

use std::fmt;

use toml_edit::{DocumentMut, Item, Value};

use crate::failure::{self, WithSource as _};
use crate::version::Version;
use anyhow::Result;

/// The workspace's root manifest, parsed for editing.
#[derive(Debug, Clone)]
pub struct RootManifest {
    doc: DocumentMut,
}

/// An internal crate declared in `[workspace.dependencies]` with a `path`.
///
/// ```
/// use xtask::manifest::RootManifest;
///
/// let m = RootManifest::parse("[workspace.dependencies]\na = { path = \"crates/a\" }\n").unwrap();
/// let deps = m.internal_dependencies();
/// assert_eq!(deps[0].name, "a");
/// assert_eq!(deps[0].version, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalDependency {
    /// The dependency's key (the crate name).
    pub name: String,
    /// Its `path`.
    pub path: String,
    /// Its `version` requirement, when it carries one.
    pub version: Option<String>,
}

impl RootManifest {
    /// Parses the root `Cargo.toml`.
    ///
    /// ```
    /// assert!(xtask::manifest::RootManifest::parse("[workspace\n").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let doc = text.parse::<DocumentMut>().map_err(|e| {
            failure::invalid("the root Cargo.toml is not valid TOML").with_source(e)
        })?;
        Ok(Self { doc })
    }

    /// `[workspace.package] version`.
    ///
    /// ```
    /// use xtask::manifest::RootManifest;
    ///
    /// let m = RootManifest::parse("[workspace.package]\nversion = \"1.2.3\"\n").unwrap();
    /// assert_eq!(m.version().unwrap().to_string(), "1.2.3");
    /// assert!(RootManifest::parse("[workspace]\n").unwrap().version().is_err());
    /// ```
    pub fn version(&self) -> Result<Version> {
        self.doc
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
            .and_then(Item::as_str)
            .ok_or_else(|| {
                failure::invalid("the root Cargo.toml has no `version` in [workspace.package]")
            })?
            .parse()
    }

    /// The entries of `[workspace.dependencies]` that have a `path`.
    ///
    /// ```
    /// use xtask::manifest::RootManifest;
    ///
    /// let m = RootManifest::parse("[workspace.dependencies]\na = { path = \"a\", version = \"1.0.0\" }\nb = \"2\"\n").unwrap();
    /// assert_eq!(m.internal_dependencies().len(), 1);
    /// ```
    pub fn internal_dependencies(&self) -> Vec<InternalDependency> {
        let Some(deps) = self.dependencies() else {
            return Vec::new();
        };
        deps.iter()
            .filter_map(|(name, item)| {
                let table = item.as_table_like()?;
                let path = table.get("path")?.as_str()?.to_owned();
                let version = table
                    .get("version")
                    .and_then(Item::as_str)
                    .map(str::to_owned);
                Some(InternalDependency {
                    name: name.to_owned(),
                    path,
                    version,
                })
            })
            .collect()
    }

    fn dependencies(&self) -> Option<&dyn toml_edit::TableLike> {
        self.doc
            .get("workspace")?
            .get("dependencies")?
            .as_table_like()
    }

    /// Sets `[workspace.package] version` and the `version` of every internal path dependency
    /// (adding it where missing, so that every crate stays publishable). Returns the names of
    /// the internal dependencies it updated.
    ///
    /// ```
    /// use xtask::{manifest::RootManifest, Version};
    ///
    /// let mut m = RootManifest::parse("[workspace.package]\nversion = \"0.1.0\"\n").unwrap();
    /// assert!(m.set_version(Version::new(0, 1, 1)).unwrap().is_empty());
    /// assert_eq!(m.version().unwrap(), Version::new(0, 1, 1));
    /// ```
    pub fn set_version(&mut self, version: Version) -> Result<Vec<String>> {
        let text = version.to_string();
        let package = self
            .doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("package"))
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| {
                failure::invalid("the root Cargo.toml has no [workspace.package] table")
            })?;
        let slot = package.get_mut("version").ok_or_else(|| {
            failure::invalid("the root Cargo.toml has no `version` in [workspace.package]")
        })?;
        replace_keeping_decor(slot, &text);

        let mut updated = Vec::new();
        let deps = self
            .doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(Item::as_table_like_mut);
        if let Some(deps) = deps {
            for (name, item) in deps.iter_mut() {
                let Some(table) = item.as_table_like_mut() else {
                    continue;
                };
                if table.get("path").is_none() {
                    continue;
                }
                match table.get_mut("version") {
                    Some(slot) => replace_keeping_decor(slot, &text),
                    None => {
                        table.insert("version", toml_edit::value(text.as_str()));
                    }
                }
                updated.push(name.get().to_owned());
            }
        }
        Ok(updated)
    }
}

/// Replaces a string value, keeping the spaces and comments around it.
fn replace_keeping_decor(slot: &mut Item, text: &str) {
    if let Some(value) = slot.as_value_mut() {
        let decor = value.decor().clone();
        *value = Value::from(text);
        *value.decor_mut() = decor;
    } else {
        *slot = toml_edit::value(text);
    }
}

impl fmt::Display for RootManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.doc.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = r#"[workspace]
members = ["crates/a", "crates/b"]

[workspace.package]
version = "0.1.0"   # bumped by cargo xtask release
edition = "2024"

[workspace.dependencies]
# internal crates
a = { path = "crates/a", version = "0.1.0" }
b = { path = "crates/b", version = "0.1.0", default-features = false }
c = { path = "crates/c" }
serde = { version = "0.1.0", default-features = false }
tokio = "1.45"

[workspace.dependencies.d]
path = "crates/d"
version = "0.1.0"
"#;

    #[test]
    fn bumps_every_internal_version_and_nothing_else() {
        let mut m = RootManifest::parse(ROOT).unwrap();
        let updated = m.set_version(Version::new(0, 2, 0)).unwrap();
        assert_eq!(updated, ["a", "b", "c", "d"]);
        let out = m.to_string();
        assert_eq!(
            out,
            ROOT.replace("version = \"0.1.0\"   #", "version = \"0.2.0\"   #")
                .replace(
                    "a = { path = \"crates/a\", version = \"0.1.0\" }",
                    "a = { path = \"crates/a\", version = \"0.2.0\" }"
                )
                .replace(
                    "b = { path = \"crates/b\", version = \"0.1.0\",",
                    "b = { path = \"crates/b\", version = \"0.2.0\","
                )
                .replace(
                    "c = { path = \"crates/c\" }",
                    "c = { path = \"crates/c\" , version = \"0.2.0\" }"
                )
                .replace(
                    "path = \"crates/d\"\nversion = \"0.1.0\"",
                    "path = \"crates/d\"\nversion = \"0.2.0\""
                )
        );
        // The external crate that happens to use the same number is untouched.
        assert!(out.contains("serde = { version = \"0.1.0\", default-features = false }"));
        let reparsed = RootManifest::parse(&out).unwrap();
        assert_eq!(reparsed.version().unwrap(), Version::new(0, 2, 0));
        assert!(
            reparsed
                .internal_dependencies()
                .iter()
                .all(|d| d.version.as_deref() == Some("0.2.0"))
        );
    }

    #[test]
    fn missing_pieces_are_clear_errors() {
        let err = RootManifest::parse("[workspace]\n")
            .unwrap()
            .set_version(Version::new(1, 0, 0))
            .unwrap_err();
        assert!(
            err.to_string().contains("no [workspace.package] table"),
            "{err}"
        );
        let err = RootManifest::parse("[workspace.package]\nversion = \"1.0\"\n")
            .unwrap()
            .version()
            .unwrap_err();
        assert!(
            err.to_string().contains("`1.0` is not a release version"),
            "{err}"
        );
    }
}
