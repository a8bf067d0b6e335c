//! `cargo xtask bindings [--test]`: the Kotlin, Swift and Python bindings of `pims-ffi`.
//!
//! One cargo invocation builds the cdylib, the workspace's generator (`pims-uniffi-bindgen`)
//! and, for the tests, `pims-sim`; the generator then writes each language's sources into
//! `target/bindings/<language>/` (a file is rewritten only when its content changed, so that
//! a warm run skips the Kotlin compile). With `--test` (the `bindings` stage of `cargo xtask ci`):
//! - Swift: the header parses with clang, and every FFI symbol the Swift file calls is exported
//!   by the library ([`swift`]); no Swift compiler runs here;
//! - Kotlin on the JVM: one kotlinc invocation compiles the generated file, the layer of
//!   `bindings/kotlin/src` and the suite of `bindings/kotlin/tests`, run against a pims-sim of
//!   its own ([`kotlin`]);
//! - Python: a wheel built with maturin, installed in a fresh virtual environment, and the
//!   pytest suite of `bindings/python/tests` against a pims-sim of its own ([`python`]).
//!
//! The tools come from the project's files: kotlinc from npm and maturin/pytest from PyPI,
//! installed under `target/tools/` when missing ([`tools`]); JNA and clang from Debian
//! (`.ci/run` installs them when missing).

pub mod kotlin;
pub mod python;
mod sim;
pub mod swift;
pub mod tools;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use xshell::cmd;

use crate::failure::{self};
use crate::process;
use crate::workspace::Workspace;
use anyhow::{Context as _, Result};

/// The languages generated, with the directory each one's sources go to.
pub const LANGUAGES: [&str; 3] = ["kotlin", "swift", "python"];

/// The crate of the bindings, and its library's file name.
pub const FFI_CRATE: &str = "pims-ffi";

/// The generator's crate and binary.
pub const GENERATOR: (&str, &str) = ("uniffi-bindgen", "pims-uniffi-bindgen");

/// What a build of the bindings produced.
#[derive(Debug, Clone)]
pub struct Built {
    /// `target/debug` (or `target/release`): the library and the binaries.
    pub profile_dir: PathBuf,
    /// The cdylib (`libpims_ffi.so`).
    pub library: PathBuf,
    /// `target/bindings`.
    pub out: PathBuf,
    /// `target/tools`.
    pub tools: PathBuf,
    /// The workspace's target directory.
    pub target: PathBuf,
}

impl Built {
    /// The generated sources of `language`.
    pub fn sources(&self, language: &str) -> PathBuf {
        self.out.join(language)
    }
}

/// The cdylib's file name on this platform.
///
/// ```
/// assert!(xtask::bindings::library_file_name().contains("pims_ffi"));
/// ```
pub fn library_file_name() -> String {
    format!(
        "{}pims_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// Builds the cdylib and the generator (and `extra` crates) in one cargo invocation, then
/// generates every language into `target/bindings/`.
pub fn generate(ws: &Workspace, release: bool, extra: &[&str]) -> Result<Built> {
    let meta = ws.metadata()?;
    let started = Instant::now();
    let extra = extra.iter().flat_map(|krate| ["-p", krate]);
    ws.cargo()
        .args(["build", "--locked", "-p", FFI_CRATE, "-p", GENERATOR.0])
        .args(extra)
        .args(release.then_some("--release"))
        .run()?;
    let profile_dir = meta
        .target_directory
        .join(if release { "release" } else { "debug" });
    let built = Built {
        library: profile_dir.join(library_file_name()),
        profile_dir,
        out: meta.target_directory.join("bindings"),
        tools: meta.target_directory.join("tools"),
        target: meta.target_directory.clone(),
    };
    let generator =
        built
            .profile_dir
            .join(format!("{}{}", GENERATOR.1, std::env::consts::EXE_SUFFIX));
    let staging = tempfile::tempdir_in(&meta.target_directory)
        .context("creating a scratch directory in target/")?;
    let (sh, library) = (ws.sh(), &built.library);
    for language in LANGUAGES {
        let dir = staging.path().join(language);
        process::read(cmd!(
            sh,
            "{generator} generate {library} --no-format -l {language} -o {dir}"
        ))?;
        sync_tree(&dir, &built.sources(language))?;
    }
    println!(
        "bindings: {} generated in {} ({:.1}s)",
        LANGUAGES.join(", "),
        built.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(built)
}

/// Makes `to` hold exactly the files of `from`, rewriting a file only when its content
/// changed (its modification time then tells whether a compile is needed).
fn sync_tree(from: &Path, to: &Path) -> Result<()> {
    let wanted = files_under(from)?;
    if to.is_dir() {
        for old in files_under(to)? {
            if !wanted.contains(&old) {
                let path = to.join(&old);
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
    }
    for rel in wanted {
        let (src, dst) = (from.join(&rel), to.join(&rel));
        let content = fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
        if fs::read(&dst).ok().as_deref() == Some(content.as_slice()) {
            continue;
        }
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&dst, content).with_context(|| format!("writing {}", dst.display()))?;
    }
    Ok(())
}

/// The files under `dir`, as paths relative to it, sorted.
pub(crate) fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let path = entry
                .with_context(|| format!("reading {}", d.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The newest modification time of `paths` (files, or every file under a directory).
pub(crate) fn newest(paths: &[PathBuf]) -> Result<std::time::SystemTime> {
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    for p in paths {
        let files = if p.is_dir() {
            files_under(p)?.into_iter().map(|r| p.join(r)).collect()
        } else {
            vec![p.clone()]
        };
        for f in files {
            let modified = fs::metadata(&f)
                .and_then(|m| m.modified())
                .with_context(|| format!("reading {}", f.display()))?;
            newest = newest.max(modified);
        }
    }
    Ok(newest)
}

/// `cargo xtask bindings --test`: generates, then runs the Swift checks and the Kotlin and
/// Python suites (each against a pims-sim of its own). The `bindings` stage of `cargo xtask ci`.
pub fn test(ws: &Workspace) -> Result<()> {
    let built = generate(ws, false, &["pims-sim"])?;
    let fixtures = ws.root().join("crates/pims/tests/fixtures");
    if !fixtures.is_dir() {
        return Err(failure::refused(format!(
            "{} is missing: the suites compare the answers with its fixtures",
            fixtures.display()
        )));
    }
    timed("swift checks", || swift::check(ws.sh(), &built))?;
    timed("kotlin suite", || kotlin::test(ws, &built, &fixtures))?;
    timed("python suite", || python::test(ws, &built, &fixtures))?;
    Ok(())
}

fn timed(what: &str, step: impl FnOnce() -> Result<()>) -> Result<()> {
    let started = Instant::now();
    println!("bindings: {what}");
    let result = step();
    println!(
        "bindings: {what}: {} in {:.1}s",
        if result.is_ok() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_rewrites_only_what_changed_and_removes_what_is_gone() {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        fs::create_dir_all(from.path().join("a")).unwrap();
        fs::write(from.path().join("a/same.kt"), "same").unwrap();
        fs::write(from.path().join("new.py"), "new").unwrap();
        fs::create_dir_all(to.path().join("a")).unwrap();
        fs::write(to.path().join("a/same.kt"), "same").unwrap();
        fs::write(to.path().join("gone.h"), "old").unwrap();
        let before = fs::metadata(to.path().join("a/same.kt"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        sync_tree(from.path(), to.path()).unwrap();
        assert_eq!(
            files_under(to.path()).unwrap(),
            [PathBuf::from("a/same.kt"), PathBuf::from("new.py")]
        );
        let after = fs::metadata(to.path().join("a/same.kt"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after, "an unchanged file is not rewritten");
    }
}
