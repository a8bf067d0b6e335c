//! The allowed arrows between the workspace's crates: each crate has a place in the layer order
//! ([`PLACES`]), and a crate depends only on crates below it (the simulator beside, on
//! `pims-types` alone; tools on what they like, and nothing on a tool). A new crate must be
//! given a place here before it can depend on anything of ours.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let root = dir.path();
//! std::fs::write(
//!     root.join("Cargo.toml"),
//!     "[workspace]\nmembers = [\"crates/pims\", \"crates/pims-sim\"]\n",
//! )
//! .unwrap();
//! for (name, deps) in [("pims", ""), ("pims-sim", "pims.workspace = true\n")] {
//!     let dir = root.join("crates").join(name);
//!     std::fs::create_dir_all(&dir).unwrap();
//!     let manifest = format!("[package]\nname = \"{name}\"\n[dependencies]\n{deps}");
//!     std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
//! }
//! let problems = xtask::tidy::crate_arrows::check(root);
//! assert_eq!(problems.len(), 1, "{problems:?}");
//! assert!(problems[0].message.contains("pims-sim may depend only on pims-types"));
//! ```

use std::path::Path;

use super::Problem;
use super::members::{Member, load};

/// Where a crate sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A layer: the crate depends only on crates of lower layers and on [`Place::Beside`]
    /// crates whose own dependencies are all below it.
    Layer(u8),
    /// Beside the layers: the crate depends on the listed crates only.
    Beside(&'static [&'static str]),
    /// A tool of the repository: it may depend on any library crate, nothing depends on it.
    Tool,
}

/// Every workspace crate's place, and why it is there (docs/architecture.md has the picture).
pub const PLACES: &[(&str, Place, &str)] = &[
    (
        "pims-types",
        Place::Layer(0),
        "the wire model everything speaks: it depends on no crate of ours",
    ),
    (
        "pims-transport",
        Place::Layer(1),
        "moves envelopes: knows the wire model, not the cache nor the facade",
    ),
    (
        "pims-cache",
        Place::Layer(1),
        "stores steps: knows the wire model, not the transport nor the facade",
    ),
    (
        "pims-cache-postgres",
        Place::Layer(2),
        "a StepStore of pims-cache on PostgreSQL",
    ),
    (
        "pims",
        Place::Layer(3),
        "the facade: the only crate that composes transport and cache",
    ),
    ("pims-cli", Place::Layer(4), "an application of the facade"),
    (
        "pims-ffi",
        Place::Layer(4),
        "the facade for Kotlin, Swift and Python",
    ),
    (
        "pims-bench",
        Place::Layer(4),
        "measures the facade, the cache and the simulator",
    ),
    (
        "pims-sim",
        Place::Beside(&["pims-types"]),
        "the backend simulator speaks the wire model and never depends on the SDK it tests",
    ),
    (
        "uniffi-bindgen",
        Place::Tool,
        "the bindings generator (a binary)",
    ),
    ("xtask", Place::Tool, "the repository's automation"),
];

/// The place of `name`, if it has one.
pub fn place(name: &str) -> Option<Place> {
    PLACES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, place, _)| *place)
}

/// The forbidden arrows between the members of the workspace at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let members = load(root);
    let mut problems = Vec::new();
    for member in &members {
        let Some(from) = place(&member.name) else {
            problems.push(Problem::new(
                &member.manifest,
                format!(
                    "{} has no place in the layer order: add it to PLACES in \
                     xtask/src/tidy/crate_arrows.rs",
                    member.name
                ),
            ));
            continue;
        };
        check_member(member, from, &members, &mut problems);
    }
    problems
}

fn check_member(member: &Member, from: Place, members: &[Member], problems: &mut Vec<Problem>) {
    for dep in &member.dependencies {
        // A crate may dev-depend on itself (its test features).
        if dep.package == member.name || !members.iter().any(|m| m.name == dep.package) {
            continue;
        }
        let to = place(&dep.package);
        if let Some(why) = forbidden(&member.name, from, &dep.package, to) {
            problems.push(Problem::new(
                &member.manifest,
                format!("[{}] {} -> {}: {why}", dep.table, member.name, dep.package),
            ));
        }
    }
}

/// Why the arrow `from_name -> to_name` is forbidden, or `None` when it is allowed.
fn forbidden(from_name: &str, from: Place, to_name: &str, to: Option<Place>) -> Option<String> {
    let Some(to) = to else {
        return Some(format!("{to_name} has no place in the layer order"));
    };
    match (from, to) {
        (_, Place::Tool) => Some(format!("{to_name} is a tool: no crate depends on it")),
        (Place::Tool, _) => None,
        (Place::Beside(allowed), _) => (!allowed.contains(&to_name))
            .then(|| format!("{from_name} may depend only on {}", allowed.join(", "))),
        (Place::Layer(0), _) => Some(format!("{from_name} depends on no workspace crate")),
        (Place::Layer(a), Place::Layer(b)) => {
            (b >= a).then(|| format!("{to_name} (layer {b}) is not below {from_name} (layer {a})"))
        }
        (Place::Layer(a), Place::Beside(needs)) => {
            let above = needs
                .iter()
                .find(|n| !matches!(place(n), Some(Place::Layer(b)) if b < a));
            above.map(|n| format!("{to_name} stands on {n}, which is not below {from_name}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// A workspace of `crates`: (name, its `[dependencies]`, its `[dev-dependencies]`).
    fn workspace(crates: &[(&str, &str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let members: Vec<String> = crates
            .iter()
            .map(|(n, _, _)| format!("\"crates/{n}\""))
            .collect();
        fs::write(
            dir.path().join("Cargo.toml"),
            format!("[workspace]\nmembers = [{}]\n", members.join(", ")),
        )
        .unwrap();
        for (name, deps, dev) in crates {
            let crate_dir = dir.path().join("crates").join(name);
            fs::create_dir_all(&crate_dir).unwrap();
            let line = |d: &str| format!("{d}.workspace = true\n");
            let deps: String = deps.split_whitespace().map(line).collect();
            let dev: String = dev.split_whitespace().map(line).collect();
            fs::write(
                crate_dir.join("Cargo.toml"),
                format!(
                    "[package]\nname = \"{name}\"\n[dependencies]\n{deps}[dev-dependencies]\n{dev}"
                ),
            )
            .unwrap();
        }
        dir
    }

    fn messages(dir: &tempfile::TempDir) -> Vec<String> {
        check(dir.path()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_documented_arrows_are_allowed() {
        let dir = workspace(&[
            ("pims-types", "serde", ""),
            ("pims-transport", "pims-types", "pims-sim"),
            ("pims-cache", "pims-types", "pims-cache"),
            ("pims-cache-postgres", "pims-cache pims-types", ""),
            ("pims", "pims-types pims-transport pims-cache", "pims-sim"),
            ("pims-sim", "pims-types", ""),
            ("pims-cli", "pims pims-sim", "pims-cache-postgres"),
            ("xtask", "pims-types", ""),
        ]);
        assert_eq!(messages(&dir), Vec::<String>::new());
    }

    #[test]
    fn forbidden_arrows_are_reported() {
        let dir = workspace(&[
            ("pims-types", "", "pims-cache"),
            ("pims-cache", "pims-types pims", ""),
            ("pims-transport", "pims-cache", ""),
            ("pims", "pims-types xtask", ""),
            ("pims-sim", "pims-types", "pims"),
            ("pims-new", "pims-types", ""),
            ("xtask", "", ""),
        ]);
        let found = messages(&dir);
        for expected in [
            "crates/pims-types/Cargo.toml: [dev-dependencies] pims-types -> pims-cache: \
             pims-types depends on no workspace crate",
            "crates/pims-cache/Cargo.toml: [dependencies] pims-cache -> pims: pims (layer 3) \
             is not below pims-cache (layer 1)",
            "crates/pims-transport/Cargo.toml: [dependencies] pims-transport -> pims-cache: \
             pims-cache (layer 1) is not below pims-transport (layer 1)",
            "crates/pims/Cargo.toml: [dependencies] pims -> xtask: xtask is a tool",
            "crates/pims-sim/Cargo.toml: [dev-dependencies] pims-sim -> pims: pims-sim may \
             depend only on pims-types",
            "crates/pims-new/Cargo.toml: pims-new has no place in the layer order",
        ] {
            assert!(
                found.iter().any(|f| f.starts_with(expected)),
                "{expected}\nnot in:\n{}",
                found.join("\n")
            );
        }
        assert_eq!(found.len(), 6, "{}", found.join("\n"));
    }

    #[test]
    fn the_simulator_is_below_what_stands_above_its_dependencies_only() {
        // pims-types may not use the simulator: the simulator stands on pims-types.
        let why = forbidden("pims-types", Place::Layer(0), "pims-sim", place("pims-sim"));
        assert!(why.is_some());
        let why = forbidden("pims-cache", Place::Layer(1), "pims-sim", place("pims-sim"));
        assert_eq!(why, None);
    }
}
