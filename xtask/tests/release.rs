//! `cargo xtask release` end to end: on a small synthetic workspace in a scratch git repository
//! (real `cargo package` with verification, real commit and tag), and as a dry run on a copy of
//! this workspace. CI itself is not run from here (these tests run inside it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::release::{ReleaseOptions, release};
use xtask::{Bump, Date, ErrorKind, KindOf as _, Version, Workspace};

const DATE: Date = Date::constant(2026, 12, 1);

const ROOT: &str = r#"[workspace]
resolver = "3"
members = ["crates/base", "crates/app", "tools/helper"]

[workspace.package]
version = "0.4.0"
edition = "2024"
rust-version = "1.85"
license = "MIT OR Apache-2.0"
repository = "https://example.com/synthetic"

[workspace.dependencies]
# internal crates carry their version
base = { path = "crates/base", version = "0.4.0" }
app = { path = "crates/app", version = "0.4.0" }
"#;

const CHANGELOG: &str = "# Changelog\n\n## [Unreleased]\n\n### Added\n- base: `answer()`.\n\n\
                         [unreleased]: https://example.com/synthetic/compare/v0.3.0...HEAD\n";

fn member(name: &str, deps: &str, publish: bool) -> String {
    format!(
        "[package]\nname = \"{name}\"\ndescription = \"The {name} crate.\"\nversion.workspace = true\n\
         edition.workspace = true\nrust-version.workspace = true\nlicense.workspace = true\n\
         repository.workspace = true\n{}\n[dependencies]\n{deps}\n",
        if publish { "" } else { "publish = false\n" }
    )
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn init_repo(dir: &Path) {
    git(dir, &["init", "--quiet"]);
    git(dir, &["config", "user.name", "xtask tests"]);
    git(dir, &["config", "user.email", "xtask-tests@localhost"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    git(dir, &["config", "tag.gpgsign", "false"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "initial"]);
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// A committed workspace: `base` <- `app`, plus an unpublished `helper`.
fn synthetic() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", ROOT);
    write(root, "CHANGELOG.md", CHANGELOG);
    write(root, ".gitignore", "/target\n");
    write(root, "crates/base/Cargo.toml", &member("base", "", true));
    write(
        root,
        "crates/base/src/lib.rs",
        "//! Base.\n\n/// The answer.\npub fn answer() -> u32 {\n    42\n}\n",
    );
    write(
        root,
        "crates/app/Cargo.toml",
        &member("app", "base.workspace = true", true),
    );
    write(
        root,
        "crates/app/src/lib.rs",
        "//! App.\n\n/// Twice the answer.\npub fn twice() -> u32 {\n    base::answer() * 2\n}\n",
    );
    write(
        root,
        "tools/helper/Cargo.toml",
        &member("helper", "app.workspace = true", false),
    );
    write(root, "tools/helper/src/lib.rs", "//! Helper.\n");
    // Generate the lock file before the first commit, as a real repository has it.
    Workspace::at(root)
        .unwrap()
        .with_target_dir(root.join("target"))
        .cargo()
        .args(["generate-lockfile", "--offline", "--quiet"])
        .quiet()
        .run()
        .unwrap();
    init_repo(root);
    dir
}

fn options(bump: Bump, dry_run: bool) -> ReleaseOptions {
    let mut opts = ReleaseOptions::new(bump).dry_run(dry_run);
    opts.run_ci = false;
    opts.date = DATE;
    opts
}

fn ws(dir: &tempfile::TempDir) -> Workspace {
    Workspace::at(dir.path())
        .unwrap()
        .with_target_dir(dir.path().join("target"))
}

fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    ["Cargo.toml", "Cargo.lock", "CHANGELOG.md"]
        .iter()
        .map(|f| ((*f).to_owned(), fs::read(root.join(f)).unwrap()))
        .collect()
}

/// The `Cargo.toml` that `cargo package` put inside a `.crate` file.
fn packaged_manifest(crate_file: &Path) -> String {
    let gz = flate2::read::GzDecoder::new(fs::File::open(crate_file).unwrap());
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path: PathBuf = entry.path().unwrap().into_owned();
        if path.ends_with("Cargo.toml") && path.components().count() == 2 {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return text;
        }
    }
    panic!("no Cargo.toml in {}", crate_file.display());
}

#[test]
fn dry_run_packages_every_crate_in_order_and_changes_nothing() {
    let dir = synthetic();
    let before = snapshot(dir.path());
    let outcome = release(&ws(&dir), &options(Bump::Patch, true)).unwrap();
    assert_eq!(outcome.previous, Version::new(0, 4, 0));
    assert_eq!(outcome.version, Version::new(0, 4, 1));
    assert_eq!(outcome.tag, "v0.4.1");
    assert_eq!(outcome.crates, ["base", "app"], "helper is publish = false");
    assert!(!outcome.committed);
    for (package, name) in outcome.packages.iter().zip(["base", "app"]) {
        assert_eq!(
            package,
            &dir.path()
                .join("target/package")
                .join(format!("{name}-0.4.1.crate"))
        );
        assert!(package.is_file());
    }
    // The packaged app depends on the bumped base, with its version (publishable).
    let manifest = packaged_manifest(&outcome.packages[1]);
    assert!(manifest.contains("version = \"0.4.1\""), "{manifest}");
    assert!(
        manifest.contains("[dependencies.base]\nversion = \"0.4.1\""),
        "{manifest}"
    );
    // Nothing in the checkout moved: same bytes, clean tree, no tag, no new commit.
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    assert_eq!(git(dir.path(), &["tag", "--list"]), "");
    assert_eq!(
        git(dir.path(), &["rev-list", "--count", "HEAD"]).trim(),
        "1"
    );
}

#[test]
fn a_release_bumps_dates_commits_and_tags_then_needs_new_notes() {
    let dir = synthetic();
    let outcome = release(&ws(&dir), &options(Bump::Minor, false)).unwrap();
    assert_eq!(outcome.version, Version::new(0, 5, 0));
    assert!(outcome.committed);

    let root = fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    assert!(
        root.contains("[workspace.package]\nversion = \"0.5.0\"\n"),
        "{root}"
    );
    assert!(root.contains("base = { path = \"crates/base\", version = \"0.5.0\" }"));
    assert!(root.contains("app = { path = \"crates/app\", version = \"0.5.0\" }"));
    assert!(
        root.contains("# internal crates carry their version"),
        "comments kept"
    );
    let lock = fs::read_to_string(dir.path().join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("name = \"base\"\nversion = \"0.5.0\""),
        "{lock}"
    );
    let changelog = fs::read_to_string(dir.path().join("CHANGELOG.md")).unwrap();
    assert_eq!(
        changelog,
        "# Changelog\n\n## [Unreleased]\n\n## [0.5.0] - 2026-12-01\n\n### Added\n- base: `answer()`.\n\n\
         [unreleased]: https://example.com/synthetic/compare/v0.5.0...HEAD\n\
         [0.5.0]: https://example.com/synthetic/releases/tag/v0.5.0\n"
    );

    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%s"]).trim(),
        "Release v0.5.0"
    );
    assert_eq!(git(dir.path(), &["tag", "--list"]).trim(), "v0.5.0");
    assert_eq!(
        git(dir.path(), &["rev-parse", "v0.5.0^{commit}"]),
        git(dir.path(), &["rev-parse", "HEAD"])
    );
    let committed = git(dir.path(), &["show", "--name-only", "--format=", "HEAD"]);
    let mut files: Vec<&str> = committed.lines().collect();
    files.sort_unstable();
    assert_eq!(files, ["CHANGELOG.md", "Cargo.lock", "Cargo.toml"]);

    // The notes were used up: the next release is refused until someone writes new ones.
    let err = release(&ws(&dir), &options(Bump::Patch, true)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.to_string().contains("lists no changes"), "{err}");
}

#[test]
fn refusals_say_why_and_change_nothing() {
    let dir = synthetic();
    let before = snapshot(dir.path());

    let err = release(
        &ws(&dir),
        &options(Bump::Exact(Version::new(0, 3, 9)), true),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert_eq!(
        err.to_string(),
        "version 0.3.9 is not greater than the current version 0.4.0"
    );

    write(dir.path(), "notes.txt", "scratch\n");
    let err = release(&ws(&dir), &options(Bump::Patch, false)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(
        err.to_string()
            .starts_with("the working tree is not clean (1 change)"),
        "{err}"
    );
    assert!(err.to_string().contains("?? notes.txt"), "{err}");
    fs::remove_file(dir.path().join("notes.txt")).unwrap();

    git(dir.path(), &["rm", "--quiet", "CHANGELOG.md"]);
    git(
        dir.path(),
        &["commit", "--quiet", "-m", "drop the changelog"],
    );
    let err = release(&ws(&dir), &options(Bump::Patch, false)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    assert!(err.to_string().starts_with("no CHANGELOG.md"), "{err}");

    write(
        dir.path(),
        "CHANGELOG.md",
        "# Changelog\n\n- not under a heading\n",
    );
    git(dir.path(), &["add", "CHANGELOG.md"]);
    git(
        dir.path(),
        &["commit", "--quiet", "-m", "a changelog without sections"],
    );
    let err = release(&ws(&dir), &options(Bump::Patch, false)).unwrap_err();
    assert!(
        err.to_string().contains("has no `## [Unreleased]` section"),
        "{err}"
    );

    assert_eq!(
        fs::read(dir.path().join("Cargo.toml")).unwrap(),
        before[0].1
    );
    assert_eq!(git(dir.path(), &["tag", "--list"]), "");
    assert!(!dir.path().join("target/package/base-0.4.1.crate").exists());
}

#[test]
fn the_first_release_may_use_the_current_version_once() {
    let dir = synthetic();
    let first = release(
        &ws(&dir),
        &options(Bump::Exact(Version::new(0, 4, 0)), false),
    )
    .unwrap();
    assert_eq!(first.version, Version::new(0, 4, 0));
    assert_eq!(git(dir.path(), &["tag", "--list"]).trim(), "v0.4.0");
    // Released now: asking for it again is refused, even with new notes.
    let changelog = fs::read_to_string(dir.path().join("CHANGELOG.md")).unwrap();
    write(
        dir.path(),
        "CHANGELOG.md",
        &changelog.replace("## [Unreleased]\n", "## [Unreleased]\n\n- app: more.\n"),
    );
    git(dir.path(), &["commit", "--quiet", "-am", "notes"]);
    let err = release(
        &ws(&dir),
        &options(Bump::Exact(Version::new(0, 4, 0)), true),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "version 0.4.0 is not greater than the current version 0.4.0"
    );
}

/// Copies this checkout's files (tracked and untracked, not ignored) into a fresh repository.
fn copy_of_this_workspace() -> tempfile::TempDir {
    let this = Workspace::this().unwrap();
    let out = Command::new("git")
        .current_dir(this.root())
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    for file in String::from_utf8(out.stdout).unwrap().split('\0') {
        let from = this.root().join(file);
        // Deleted but still tracked files are not part of the tree being tested.
        if file.is_empty() || !from.is_file() {
            continue;
        }
        let to = dir.path().join(file);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(&from, &to).unwrap();
    }
    init_repo(dir.path());
    dir
}

#[test]
fn this_workspace_release_patch_dry_run() {
    let this = Workspace::this().unwrap();
    let target = this.metadata().unwrap().target_directory;
    let copy = copy_of_this_workspace();
    let before = snapshot(copy.path());
    let mut opts = options(Bump::Patch, true);
    // The manifests and the packaging of every crate are checked; building each packaged
    // crate again is what `cargo xtask release` does by default, not needed to test it.
    opts.verify = false;
    let outcome = release(
        &Workspace::at(copy.path()).unwrap().with_target_dir(&target),
        &opts,
    )
    .unwrap();

    let current: Version = this.metadata().unwrap().packages[0]
        .version
        .parse()
        .unwrap();
    assert_eq!(outcome.previous, current);
    assert_eq!(outcome.version, Bump::Patch.apply(current).unwrap());
    let mut crates = outcome.crates.clone();
    assert_eq!(crates.first().map(String::as_str), Some("pims-types"));
    assert_eq!(crates.last().map(String::as_str), Some("pims-cli"));
    let position = |name: &str| crates.iter().position(|c| c == name).unwrap();
    assert!(position("pims-transport") < position("pims"));
    assert!(position("pims-cache") < position("pims"));
    assert!(position("pims-cache") < position("pims-cache-postgres"));
    assert!(position("pims-cache-postgres") < position("pims"));
    assert!(position("pims") < position("pims-cli"));
    assert!(position("pims-sim") < position("pims-cli"));
    crates.sort();
    assert_eq!(
        crates,
        [
            "pims",
            "pims-cache",
            "pims-cache-postgres",
            "pims-cli",
            "pims-sim",
            "pims-transport",
            "pims-types"
        ]
    );
    for package in &outcome.packages {
        assert!(package.is_file(), "{}", package.display());
    }
    let facade = outcome
        .packages
        .iter()
        .find(|p| p.ends_with(format!("pims-{}.crate", outcome.version)))
        .unwrap();
    let manifest = packaged_manifest(facade);
    assert!(
        manifest.contains(&format!(
            "[dependencies.pims-types]\nversion = \"{}\"",
            outcome.version
        )),
        "{manifest}"
    );
    assert_eq!(snapshot(copy.path()), before);
    assert_eq!(git(copy.path(), &["status", "--porcelain"]), "");
}
