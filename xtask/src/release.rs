//! `cargo xtask release <major|minor|patch|X.Y.Z> [--dry-run] [--no-verify]`.
//!
//! 1. Refuses, changing nothing, a dirty tree, a version that is not greater than the
//!    workspace's (the workspace's own version is accepted, given exactly, while it has never
//!    been released: no tag, no changelog section), an existing tag, a missing or empty
//!    `## [Unreleased]` changelog section.
//! 2. Runs `cargo xtask ci` (must pass).
//! 3. In a scratch copy of the tracked files: bumps `[workspace.package] version` and the
//!    versions of the internal path dependencies, moves the unreleased notes under the new
//!    version and today's date, refreshes `Cargo.lock`, and runs `cargo package` for every
//!    publishable crate in dependency order (`cargo publish --dry-run` semantics: verified
//!    builds, nothing uploaded; the `.crate` files land in `target/package/`).
//! 4. Unless `--dry-run`: writes the bumped files into the checkout, commits them and tags
//!    `vX.Y.Z`. The checkout is only touched once everything above succeeded.

use std::fs;
use std::path::PathBuf;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::changelog;
use crate::ci;
use crate::failure::{self, ErrorKind, WithSource as _};
use crate::git;
use crate::manifest::RootManifest;
use crate::version::{Bump, Version};
use crate::workspace::Workspace;
use anyhow::{Context as _, Result};

/// The files a release rewrites (and commits).
pub const RELEASE_FILES: [&str; 3] = ["Cargo.toml", "Cargo.lock", "CHANGELOG.md"];

/// How to release.
///
/// ```
/// use xtask::{release::ReleaseOptions, Bump};
///
/// let opts = ReleaseOptions::new(Bump::Patch).dry_run(true);
/// assert!(opts.dry_run && opts.run_ci && opts.verify);
/// ```
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    /// The level or exact version.
    pub bump: Bump,
    /// Do everything but write into the checkout, commit and tag.
    pub dry_run: bool,
    /// Run `cargo xtask ci` first (tests of the release logic itself turn it off: they run
    /// inside CI).
    pub run_ci: bool,
    /// Let `cargo package` build each packaged crate (as `cargo publish` would).
    pub verify: bool,
    /// The date of the changelog heading.
    pub date: Date,
}

impl ReleaseOptions {
    /// A real release of `bump`, CI and verification on, dated today (UTC).
    pub fn new(bump: Bump) -> Self {
        Self {
            bump,
            dry_run: false,
            run_ci: true,
            verify: true,
            date: utc_date(Timestamp::now()),
        }
    }

    /// Sets [`ReleaseOptions::dry_run`].
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// What a release did.
#[derive(Debug, Clone)]
pub struct ReleaseOutcome {
    /// The version before.
    pub previous: Version,
    /// The version released.
    pub version: Version,
    /// The tag (`vX.Y.Z`), created unless dry run.
    pub tag: String,
    /// The packaged crates, in dependency order.
    pub crates: Vec<String>,
    /// The `.crate` files, in the same order.
    pub packages: Vec<PathBuf>,
    /// True when the commit and tag were made.
    pub committed: bool,
}

/// Releases the workspace `ws` as `opts` says. See the module docs for the steps.
pub fn release(ws: &Workspace, opts: &ReleaseOptions) -> Result<ReleaseOutcome> {
    // 1. Everything that can refuse, before anything slow or anything written.
    git::ensure_clean(ws)?;
    let root_path = ws.root().join("Cargo.toml");
    let root_text = fs::read_to_string(&root_path).context("reading Cargo.toml")?;
    let mut manifest = RootManifest::parse(&root_text)?;
    let previous = manifest.version()?;
    let changelog_text = fs::read_to_string(ws.root().join("CHANGELOG.md")).map_err(|e| {
        failure::refused(
            "no CHANGELOG.md at the workspace root: a release needs its changelog entry",
        )
        .with_source(e)
    })?;
    // The version in the manifests may never have been released (the first release): then
    // asking for exactly that version is allowed; otherwise the new one must be greater.
    let never_released = !git::tag_exists(ws, &format!("v{previous}"))?
        && !changelog::released_versions(&changelog_text).contains(&previous);
    let version = match opts.bump {
        Bump::Exact(v) if v == previous && never_released => v,
        bump => bump.apply(previous)?,
    };
    let tag = format!("v{version}");
    if git::tag_exists(ws, &tag)? {
        return Err(failure::refused(format!("the tag {tag} already exists")));
    }
    let new_changelog = changelog::release(&changelog_text, version, opts.date)?;
    let meta = ws.metadata()?;
    for p in &meta.packages {
        if p.version != previous.to_string() {
            return Err(failure::refused(format!(
                "crate {} is at version {}, not the workspace version {previous}: \
                 every crate takes `version.workspace = true`",
                p.name, p.version
            )));
        }
    }
    let crates: Vec<String> = meta
        .publish_order()?
        .iter()
        .map(|p| p.name.clone())
        .collect();
    manifest.set_version(version)?;
    let new_manifest = manifest.to_string();
    let mode = if opts.dry_run { " (dry run)" } else { "" };
    println!(
        "release{mode}: {previous} -> {version}; crates in publish order: {}",
        crates.join(", ")
    );

    // 2. The whole CI.
    if opts.run_ci {
        let report = ci::run(ws);
        if let Some(failed) = report.failed_stage() {
            return Err(failure::refused(format!(
                "`cargo xtask ci` failed at stage `{}`: a release needs a green CI",
                failed.name
            )));
        }
        // CI must not have rewritten tracked files (a stale Cargo.lock, say): the release is
        // made of what is committed.
        git::ensure_clean(ws).map_err(|e| {
            failure::refused(format!(
                "`cargo xtask ci` changed the working tree; commit what it changed first ({e})"
            ))
        })?;
    }

    // 3. The bumped tree, packaged, in a scratch copy.
    let scratch = tempfile::Builder::new()
        .prefix("pims-rs-release-")
        .tempdir()
        .context("creating a scratch directory")?;
    for file in git::tracked_files(ws)? {
        let to = scratch.path().join(&file);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::copy(ws.root().join(&file), &to)
            .with_context(|| format!("copying {} to the scratch tree", file.display()))?;
    }
    fs::write(scratch.path().join("Cargo.toml"), &new_manifest)
        .context("writing the scratch Cargo.toml")?;
    fs::write(scratch.path().join("CHANGELOG.md"), &new_changelog)
        .context("writing the scratch CHANGELOG.md")?;
    let staged = Workspace::at(scratch.path())?.with_target_dir(&meta.target_directory);
    // Only the workspace's own entries change in the lock file.
    staged
        .cargo()
        .args(["update", "--workspace", "--offline", "--quiet"])
        .quiet()
        .run()?;
    let no_verify = (!opts.verify).then_some("--no-verify");
    let selected = crates.iter().flat_map(|name| ["-p", name.as_str()]);
    staged
        .cargo()
        .arg("package")
        .args(no_verify)
        .args(selected)
        .run()?;
    let packages: Vec<PathBuf> = crates
        .iter()
        .map(|name| {
            meta.target_directory
                .join("package")
                .join(format!("{name}-{version}.crate"))
        })
        .collect();
    if let Some(missing) = packages.iter().find(|p| !p.is_file()) {
        return Err(failure::new(
            ErrorKind::CommandFailed,
            format!("cargo package did not produce {}", missing.display()),
        ));
    }

    // 4. Into the checkout, committed and tagged.
    let committed = !opts.dry_run;
    if committed {
        let new_lock = fs::read(scratch.path().join("Cargo.lock"))
            .context("reading the scratch Cargo.lock")?;
        fs::write(&root_path, &new_manifest).context("writing Cargo.toml")?;
        fs::write(ws.root().join("Cargo.lock"), new_lock).context("writing Cargo.lock")?;
        fs::write(ws.root().join("CHANGELOG.md"), &new_changelog)
            .context("writing CHANGELOG.md")?;
        git::commit_and_tag(ws, &RELEASE_FILES, &format!("Release {tag}"), &tag)?;
        println!("release: committed and tagged {tag}");
        println!(
            "release: publish from the tag, in this order: {}",
            crates
                .iter()
                .map(|c| format!("cargo publish -p {c}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    } else {
        println!("release (dry run): nothing committed; the checkout is unchanged");
    }
    for p in &packages {
        println!("release: packaged {}", p.display());
    }
    Ok(ReleaseOutcome {
        previous,
        version,
        tag,
        crates,
        packages,
        committed,
    })
}

/// The calendar day of `at` in UTC: a release is dated by the day it is made, wherever.
fn utc_date(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::UTC).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_of_known_days() {
        let cases = [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (31, "1970-02-01"),
            (59, "1970-03-01"),
            (10_957, "2000-01-01"),
            (11_016, "2000-02-29"),
            (11_017, "2000-03-01"),
            (20_788, "2026-12-01"),
            (20_818, "2026-12-31"),
            (20_819, "2027-01-01"),
            (47_540, "2100-02-28"),
            (47_541, "2100-03-01"), // 2100 is not a leap year
        ];
        for (days, text) in cases {
            // The last second of the day is still that day.
            for second in [0, 86_399] {
                let at = Timestamp::from_second(days * 86_400 + second).unwrap();
                assert_eq!(utc_date(at).to_string(), text, "day {days}");
            }
        }
    }

    #[test]
    fn today_is_after_2020() {
        assert!(utc_date(Timestamp::now()) > Date::constant(2020, 1, 1));
    }
}
