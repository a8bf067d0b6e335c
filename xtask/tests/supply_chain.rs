//! The supply-chain policy `deny.toml`: its settings, and cargo-deny applying its licence
//! allow-list to small local workspaces (no network: they have no dependencies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use toml_edit::{DocumentMut, Item};
use xtask::Workspace;
use xtask::ci::DENY_CHECKS;

fn policy() -> DocumentMut {
    let text = fs::read_to_string(Workspace::this().unwrap().root().join("deny.toml")).unwrap();
    text.parse().unwrap()
}

fn strings(item: &Item) -> Vec<String> {
    item.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_policy_says_what_docs_releasing_md_says() {
    let deny = policy();
    assert_eq!(
        strings(&deny["sources"]["allow-registry"]),
        ["https://github.com/rust-lang/crates.io-index"]
    );
    assert_eq!(deny["sources"]["unknown-registry"].as_str(), Some("deny"));
    assert_eq!(deny["sources"]["unknown-git"].as_str(), Some("deny"));
    assert!(strings(&deny["sources"]["allow-git"]).is_empty());
    assert_eq!(deny["bans"]["multiple-versions"].as_str(), Some("warn"));
    assert_eq!(deny["graph"]["all-features"].as_bool(), Some(true));
    let allowed = strings(&deny["licenses"]["allow"]);
    // The licences of the dependency tree: reqwest + rustls + aws-lc-rs (ISC, OpenSSL, BSD,
    // MIT-0), tokio/axum/hyper (MIT), unicode-ident and icu (Unicode-3.0), webpki roots (CDLA),
    // dirs' option-ext (MPL-2.0), ryu (BSL-1.0), foldhash/miniz (Zlib), ...
    for licence in [
        "MIT",
        "Apache-2.0",
        "Apache-2.0 WITH LLVM-exception",
        "ISC",
        "BSD-3-Clause",
        "OpenSSL",
        "Unicode-3.0",
        "CDLA-Permissive-2.0",
        "MPL-2.0",
        "BSL-1.0",
        "Zlib",
    ] {
        assert!(allowed.iter().any(|a| a == licence), "{licence} is allowed");
    }
    for copyleft in ["GPL-2.0", "GPL-3.0", "AGPL-3.0", "LGPL-2.1", "LGPL-3.0"] {
        assert!(
            !allowed.iter().any(|a| a.starts_with(copyleft)),
            "{copyleft} is not allowed"
        );
    }
    // CI cannot reach the advisory database: the stage leaves that check out.
    assert_eq!(DENY_CHECKS, ["bans", "licenses", "sources"]);
}

/// `cargo deny check licenses` with this repository's deny.toml on a one-crate workspace
/// licensed `licence`; None when cargo-deny is not installed (the `deny` stage of
/// `cargo xtask ci` installs it, after the tests on a new machine).
fn deny_licenses(dir: &Path, licence: &str) -> Option<Output> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        return None;
    }
    fs::create_dir_all(dir.join("src")).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"licensed\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             license = \"{licence}\"\ndescription = \"x\"\n\n[workspace]\n"
        ),
    )
    .unwrap();
    fs::write(dir.join("src/lib.rs"), "//! x\n").unwrap();
    let config = Workspace::this().unwrap().root().join("deny.toml");
    let out = Command::new(&cargo)
        .current_dir(dir)
        .args(["deny", "--offline", "--config"])
        .arg(&config)
        .args(["check", "--hide-inclusion-graph", "licenses"])
        .output()
        .unwrap();
    Some(out)
}

#[test]
fn cargo_deny_applies_the_licence_allow_list() {
    let permissive = tempfile::tempdir().unwrap();
    let Some(ok) = deny_licenses(permissive.path(), "MIT OR Apache-2.0") else {
        eprintln!("note: cargo-deny is not installed; the policy's verdicts are not checked here");
        return;
    };
    assert!(
        ok.status.success(),
        "MIT OR Apache-2.0 passes: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let copyleft = tempfile::tempdir().unwrap();
    let refused = deny_licenses(copyleft.path(), "GPL-3.0-only").unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "GPL-3.0-only fails: {stderr}");
    assert!(stderr.contains("GPL-3.0"), "{stderr}");
}
