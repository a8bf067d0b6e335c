//! `cargo xtask dist` end to end: a real release build of `pims` and `pims-sim` (sharing the
//! caller's target directory, so a later `cargo xtask dist` reuses it), unpacked with the
//! system's `tar`, checked with `sha256sum -c`, and `pims --version` run from the archive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Instant;

use xtask::Workspace;
use xtask::dist::{self, COMPLETIONS, Completions};

#[test]
fn the_archive_unpacks_and_its_pims_runs() {
    let ws = Workspace::this().unwrap();
    let started = Instant::now();
    let outcome = dist::dist(&ws, Completions::IfSupported).unwrap();
    eprintln!(
        "dist (release build included) took {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let stem = dist::archive_stem(&outcome.version, &outcome.target);
    assert_eq!(
        outcome.archive.file_name().unwrap().to_string_lossy(),
        format!("{stem}.tar.gz")
    );
    assert!(outcome.archive.parent().unwrap().ends_with("dist"));

    // The checksum file verifies with the standard tool.
    let sums = fs::read_to_string(&outcome.checksums).unwrap();
    assert_eq!(sums, format!("{}  {stem}.tar.gz\n", outcome.sha256));
    assert_eq!(dist::sha256_file(&outcome.archive).unwrap(), outcome.sha256);
    let check = Command::new("sha256sum")
        .current_dir(outcome.archive.parent().unwrap())
        .args(["--check", "--strict", dist::CHECKSUMS])
        .output();
    if let Ok(check) = check {
        assert!(
            check.status.success(),
            "sha256sum -c: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }

    // Unpacked by the system's tar: everything under one directory.
    let unpacked = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .args(["-xzf"])
        .arg(&outcome.archive)
        .arg("-C")
        .arg(unpacked.path())
        .status()
        .unwrap();
    assert!(status.success());
    let top = unpacked.path().join(&stem);
    for file in [
        "pims",
        "pims-sim",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "CHANGELOG.md",
    ] {
        assert!(top.join(file).is_file(), "{file} is in the archive");
    }
    for bin in ["pims", "pims-sim"] {
        let mode = fs::metadata(top.join(bin)).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{bin} is executable");
    }
    assert_eq!(
        fs::read(top.join("README.md")).unwrap(),
        fs::read(ws.root().join("README.md")).unwrap()
    );

    // The shipped binary runs and says its version.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(top.join("pims"))
        .arg("--version")
        .env("PIMS_HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "pims --version: {out:?}");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&outcome.version), "{printed}");

    // Completions: checked when the CLI can print them.
    let probe = Command::new(top.join("pims"))
        .args(["completions", "bash"])
        .env("PIMS_HOME", home.path())
        .output()
        .unwrap();
    if probe.status.success() && dist::is_completion_script("bash", &probe.stdout) {
        assert!(outcome.completions);
        assert_eq!(
            fs::read(top.join("completions/pims.bash")).unwrap(),
            probe.stdout
        );
        for (shell, file) in COMPLETIONS {
            let script = fs::read(top.join("completions").join(file)).unwrap();
            assert!(dist::is_completion_script(shell, &script), "{file}");
        }
    } else {
        eprintln!(
            "note: `pims completions bash` gives no completion script yet ({}): completions not checked",
            probe.status
        );
        assert!(!outcome.completions);
        assert!(!top.join("completions").exists());
    }
}
