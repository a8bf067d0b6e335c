//! `cargo xtask dist`: release builds of `pims` (crate pims-cli) and `pims-sim`, packed as
//! `target/dist/pims-<version>-<target>.tar.gz` with the README, the licences, the changelog
//! and shell completions, plus `target/dist/SHA256SUMS`; then ([`bindings`]) the bindings'
//! artefacts: the Python wheel, the Kotlin/JVM jar and the Swift sources, their checksums added.
//!
//! The archive is reproducible: entries sorted, owner 0, fixed modes, and every time set to
//! `SOURCE_DATE_EPOCH` (else the time of the `HEAD` commit).

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

use crate::failure;
use crate::git;
use crate::process;
use crate::workspace::Workspace;
use anyhow::{Context as _, Result};

/// The binaries shipped: (crate, binary).
pub const BINARIES: [(&str, &str); 2] = [("pims-cli", "pims"), ("pims-sim", "pims-sim")];

/// The root files shipped beside them.
pub const FILES: [&str; 4] = ["README.md", "LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"];

/// The completion scripts: (shell, file under `completions/`), made by `pims completions <shell>`.
pub const COMPLETIONS: [(&str, &str); 3] = [
    ("bash", "pims.bash"),
    ("zsh", "_pims"),
    ("fish", "pims.fish"),
];

/// Whether `script` looks like a completion script for `shell`: bash and fish scripts
/// register with `complete`, zsh ones start with `#compdef`. Guards against a CLI that
/// ignores the `completions` argument and prints something else with success.
///
/// ```
/// use xtask::dist::is_completion_script;
///
/// assert!(is_completion_script("zsh", b"#compdef pims\n_pims() {}\n"));
/// assert!(is_completion_script("bash", b"_pims() { ... }\ncomplete -F _pims pims\n"));
/// assert!(!is_completion_script("bash", b"pims 0.1.0\n"));
/// ```
pub fn is_completion_script(shell: &str, script: &[u8]) -> bool {
    let text = String::from_utf8_lossy(script);
    match shell {
        "zsh" => text.trim_start().starts_with("#compdef"),
        _ => text
            .lines()
            .any(|l| l.trim_start().starts_with("complete ")),
    }
}

/// The checksum file beside the archives.
pub const CHECKSUMS: &str = "SHA256SUMS";

/// What to do when the built `pims` cannot print completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completions {
    /// Fail: a distribution ships completions (`cargo xtask dist`).
    Required,
    /// Print a note and ship without them (the dist test, while the CLI grows the command).
    IfSupported,
}

/// What `cargo xtask dist` made.
#[derive(Debug, Clone)]
pub struct DistOutcome {
    /// The workspace version in the archive name.
    pub version: String,
    /// The target triple in the archive name (the host's).
    pub target: String,
    /// `target/dist/pims-<version>-<target>.tar.gz`.
    pub archive: PathBuf,
    /// `target/dist/SHA256SUMS`.
    pub checksums: PathBuf,
    /// The archive's SHA-256, lowercase hex.
    pub sha256: String,
    /// The archive's entries, in order (`pims-<version>-<target>/pims`, ...).
    pub entries: Vec<String>,
    /// Whether completion scripts are in it.
    pub completions: bool,
}

/// The archive's base name, `pims-<version>-<target>`.
///
/// ```
/// assert_eq!(
///     xtask::dist::archive_stem("0.1.0", "x86_64-unknown-linux-gnu"),
///     "pims-0.1.0-x86_64-unknown-linux-gnu"
/// );
/// ```
pub fn archive_stem(version: &str, target: &str) -> String {
    format!("pims-{version}-{target}")
}

/// The host target triple, from `rustc -vV`.
pub fn host_target(sh: &Shell) -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = process::read(cmd!(sh, "{rustc} -vV"))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| failure::invalid("`rustc -vV` printed no `host:` line"))
}

/// Builds the distribution of `ws`. See the module docs.
pub fn dist(ws: &Workspace, completions: Completions) -> Result<DistOutcome> {
    let meta = ws.metadata()?;
    let mut version = None;
    for (krate, bin) in BINARIES {
        let package = meta.package(krate).ok_or_else(|| {
            failure::refused(format!(
                "the workspace has no crate {krate} (it builds `{bin}`)"
            ))
        })?;
        if !package.binaries.iter().any(|b| b == bin) {
            return Err(failure::refused(format!(
                "crate {krate} has no binary named `{bin}` (add `[[bin]] name = \"{bin}\"`)"
            )));
        }
        version.get_or_insert_with(|| package.version.clone());
    }
    let version = version.unwrap_or_default();
    for file in FILES {
        if !ws.root().join(file).is_file() {
            return Err(failure::refused(format!(
                "{file} is missing at the workspace root: it ships in the archive"
            )));
        }
    }
    let target = host_target(ws.sh())?;

    let crates = BINARIES.iter().flat_map(|(krate, _)| ["-p", krate]);
    ws.cargo()
        .args(["build", "--release", "--locked", "--bins"])
        .args(crates)
        .run()?;

    let dist_dir = meta.target_directory.join("dist");
    fs::create_dir_all(&dist_dir).with_context(|| format!("creating {}", dist_dir.display()))?;
    let stem = archive_stem(&version, &target);

    // The archive's content, as (path inside the archive, source, executable).
    let mut members: Vec<(String, PathBuf, bool)> = Vec::new();
    for (_, bin) in BINARIES {
        let built = meta
            .target_directory
            .join("release")
            .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
        members.push((
            format!("{bin}{}", std::env::consts::EXE_SUFFIX),
            built,
            true,
        ));
    }
    for file in FILES {
        members.push((file.to_owned(), ws.root().join(file), false));
    }
    let scripts = tempfile::tempdir_in(&dist_dir)
        .with_context(|| format!("creating a scratch directory in {}", dist_dir.display()))?;
    let pims = meta
        .target_directory
        .join("release")
        .join(format!("pims{}", std::env::consts::EXE_SUFFIX));
    let with_completions = write_completions(ws.sh(), &pims, scripts.path(), completions)?;
    if with_completions {
        for (_, file) in COMPLETIONS {
            members.push((
                format!("completions/{file}"),
                scripts.path().join(file),
                false,
            ));
        }
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));

    let mtime = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .or_else(|| git::head_time(ws))
        .unwrap_or(0);
    let archive = dist_dir.join(format!("{stem}.tar.gz"));
    let partial = dist_dir.join(format!(".{stem}.tar.gz.{}.partial", std::process::id()));
    let entries = write_archive(&partial, &stem, &members, mtime).inspect_err(|_| {
        let _ = fs::remove_file(&partial);
    })?;
    fs::rename(&partial, &archive).with_context(|| format!("writing {}", archive.display()))?;

    let sha256 = sha256_file(&archive)?;
    let checksums = dist_dir.join(CHECKSUMS);
    let line = format!("{sha256}  {stem}.tar.gz\n");
    let partial_sums = dist_dir.join(format!(".{CHECKSUMS}.{}.partial", std::process::id()));
    fs::write(&partial_sums, line).with_context(|| format!("writing {CHECKSUMS}"))?;
    fs::rename(&partial_sums, &checksums).with_context(|| format!("writing {CHECKSUMS}"))?;

    println!("dist: {} ({} entries)", archive.display(), entries.len());
    println!("dist: {}  {sha256}", checksums.display());
    Ok(DistOutcome {
        version,
        target,
        archive,
        checksums,
        sha256,
        entries,
        completions: with_completions,
    })
}

/// What the bindings add to a distribution: the Python wheel, the Kotlin/JVM jar (its native
/// library inside) and the Swift sources.
#[derive(Debug, Clone)]
pub struct BindingsOutcome {
    /// `target/dist/pims_rs-<version>-py3-none-<platform>.whl` (maturin, release).
    pub wheel: PathBuf,
    /// `target/dist/pims-kotlin-<version>.jar`.
    pub jar: PathBuf,
    /// `target/dist/pims-swift-<version>.tar.gz`.
    pub swift: PathBuf,
}

/// The directory JNA looks for a native library under in a jar, for this platform.
///
/// ```
/// let prefix = xtask::dist::jna_resource_prefix();
/// assert!(prefix.contains('-'));
/// ```
pub fn jna_resource_prefix() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x86-64",
        "x86" => "x86",
        other => other,
    };
    format!("{os}-{arch}")
}

/// Adds the bindings' artefacts to `target/dist/` (after [`dist`]: their checksums join
/// `SHA256SUMS`). A release build of the cdylib and the generator, then the wheel (maturin),
/// the jar (kotlinc, with `libpims_ffi.so` under JNA's resource prefix) and the Swift archive.
pub fn bindings(ws: &Workspace) -> Result<BindingsOutcome> {
    let meta = ws.metadata()?;
    let version = meta
        .package(crate::bindings::FFI_CRATE)
        .map(|p| p.version.clone())
        .ok_or_else(|| failure::refused("the workspace has no crate pims-ffi"))?;
    let dist_dir = meta.target_directory.join("dist");
    fs::create_dir_all(&dist_dir).with_context(|| format!("creating {}", dist_dir.display()))?;
    let built = crate::bindings::generate(ws, true, &[])?;
    let scratch = tempfile::tempdir_in(&dist_dir)
        .with_context(|| format!("creating a scratch directory in {}", dist_dir.display()))?;

    let wheel = crate::bindings::python::wheel(ws, &built, true, &scratch.path().join("wheel"))?;
    let wheel_name = wheel
        .file_name()
        .ok_or_else(|| failure::invalid("maturin made a wheel without a name"))?;
    let wheel_out = dist_dir.join(wheel_name);
    fs::copy(&wheel, &wheel_out).with_context(|| format!("writing {}", wheel_out.display()))?;

    let sh = ws.sh();
    let home = crate::bindings::tools::kotlin_home(sh, &built.tools)?;
    let jna = crate::bindings::tools::jna_jar()?;
    let jar = dist_dir.join(format!("pims-kotlin-{version}.jar"));
    let _ = fs::remove_file(&jar);
    crate::bindings::kotlin::compile(
        sh,
        &home,
        &jna,
        &[
            built.sources("kotlin"),
            ws.root().join("bindings/kotlin/src"),
        ],
        &jar,
    )?;
    let native = scratch.path().join("native");
    let prefix = jna_resource_prefix();
    fs::create_dir_all(native.join(&prefix)).context("creating a scratch directory")?;
    let library = crate::bindings::library_file_name();
    fs::copy(&built.library, native.join(&prefix).join(&library))
        .with_context(|| format!("reading {}", built.library.display()))?;
    let member = format!("{prefix}/{library}");
    cmd!(sh, "jar uf {jar} -C {native} {member}")
        .quiet()
        .run()?;

    let stem = format!("pims-swift-{version}");
    let swift = dist_dir.join(format!("{stem}.tar.gz"));
    let mut members: Vec<(String, PathBuf, bool)> = crate::bindings::swift::FILES
        .iter()
        .map(|f| ((*f).to_owned(), built.sources("swift").join(f), false))
        .collect();
    members.push((
        "Pims.swift".to_owned(),
        ws.root().join("bindings/swift/Sources/Pims/Pims.swift"),
        false,
    ));
    members.push((
        "README.md".to_owned(),
        ws.root().join("bindings/swift/README.md"),
        false,
    ));
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mtime = git::head_time(ws).unwrap_or(0);
    write_archive(&swift, &stem, &members, mtime)?;

    // Every artefact's checksum, after the lines already there (the archive's), replacing a
    // line of an earlier run for the same file.
    let checksums = dist_dir.join(CHECKSUMS);
    let artefacts = [&wheel_out, &jar, &swift];
    let names: Vec<String> = artefacts
        .iter()
        .map(|a| {
            a.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    let mut sums: String = fs::read_to_string(&checksums)
        .unwrap_or_default()
        .lines()
        .filter(|l| !names.iter().any(|n| l.ends_with(&format!("  {n}"))))
        .map(|l| format!("{l}\n"))
        .collect();
    for (artefact, name) in artefacts.iter().zip(&names) {
        sums.push_str(&format!("{}  {name}\n", sha256_file(artefact)?));
    }
    fs::write(&checksums, sums).with_context(|| format!("writing {CHECKSUMS}"))?;
    for artefact in [&wheel_out, &jar, &swift] {
        println!("dist: {}", artefact.display());
    }
    Ok(BindingsOutcome {
        wheel: wheel_out,
        jar,
        swift,
    })
}

/// Writes the completion scripts of the built `pims` into `dir`; false when the CLI cannot
/// print them and `policy` allows shipping without.
fn write_completions(sh: &Shell, pims: &Path, dir: &Path, policy: Completions) -> Result<bool> {
    // A scratch home, so that the CLI cannot touch the user's data while printing scripts.
    let home = tempfile::tempdir().context("creating a scratch PIMS_HOME")?;
    for (shell, file) in COMPLETIONS {
        let out = cmd!(sh, "{pims} completions {shell}")
            .env("PIMS_HOME", home.path())
            .quiet()
            .ignore_status()
            .output()
            .with_context(|| format!("could not run {}", pims.display()))?;
        if !out.status.success() || !is_completion_script(shell, &out.stdout) {
            let result = if out.status.success() {
                "printed no completion script".to_owned()
            } else {
                format!("failed ({})", out.status)
            };
            let why = format!(
                "`pims completions {shell}` {result}: the `pims` command must provide \
                 `pims completions bash|zsh|fish` for the archive's shell completions"
            );
            return match policy {
                Completions::Required => Err(failure::refused(why)),
                Completions::IfSupported => {
                    println!("dist: note: {why}; shipping without completions");
                    Ok(false)
                }
            };
        }
        fs::write(dir.join(file), &out.stdout).with_context(|| format!("writing {file}"))?;
    }
    Ok(true)
}

/// Writes a reproducible `.tar.gz` of `members` under the directory `stem/`.
fn write_archive(
    path: &Path,
    stem: &str,
    members: &[(String, PathBuf, bool)],
    mtime: u64,
) -> Result<Vec<String>> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    let mut entries = Vec::new();
    let mut dirs = vec![format!("{stem}/")];
    if members
        .iter()
        .any(|(name, ..)| name.starts_with("completions/"))
    {
        dirs.push(format!("{stem}/completions/"));
    }
    for dir in dirs {
        let mut header = header(tar::EntryType::Directory, 0, 0o755, mtime);
        tar.append_data(&mut header, &dir, io::empty())
            .with_context(|| format!("adding {dir} to the archive"))?;
        entries.push(dir);
    }
    for (name, source, executable) in members {
        let data = File::open(source).with_context(|| format!("reading {}", source.display()))?;
        let size = data
            .metadata()
            .with_context(|| format!("reading {}", source.display()))?
            .len();
        let mode = if *executable { 0o755 } else { 0o644 };
        let mut header = header(tar::EntryType::Regular, size, mode, mtime);
        let entry = format!("{stem}/{name}");
        tar.append_data(&mut header, &entry, BufReader::new(data))
            .with_context(|| format!("adding {entry} to the archive"))?;
        entries.push(entry);
    }
    let gz = tar
        .into_inner()
        .with_context(|| format!("writing {}", path.display()))?;
    let mut file = gz
        .finish()
        .with_context(|| format!("writing {}", path.display()))?;
    file.flush()
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(entries)
}

fn header(kind: tar::EntryType, size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// The SHA-256 of a file, lowercase hex.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("abc");
/// std::fs::write(&file, "abc").unwrap();
/// assert_eq!(
///     xtask::dist::sha256_file(&file).unwrap(),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_reproducible_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("pims");
        let readme = dir.path().join("README.md");
        fs::write(&bin, "#!/bin/sh\necho pims 9.9.9\n").unwrap();
        fs::write(&readme, "# pims\n").unwrap();
        let members = vec![
            ("README.md".to_owned(), readme, false),
            ("completions/pims.bash".to_owned(), bin.clone(), false),
            ("pims".to_owned(), bin, true),
        ];
        let a = dir.path().join("a.tar.gz");
        let b = dir.path().join("b.tar.gz");
        let entries = write_archive(&a, "pims-9.9.9-x", &members, 1_700_000_000).unwrap();
        write_archive(&b, "pims-9.9.9-x", &members, 1_700_000_000).unwrap();
        assert_eq!(
            fs::read(&a).unwrap(),
            fs::read(&b).unwrap(),
            "byte-identical"
        );
        assert_eq!(sha256_file(&a).unwrap(), sha256_file(&b).unwrap());
        assert_eq!(
            entries,
            [
                "pims-9.9.9-x/",
                "pims-9.9.9-x/completions/",
                "pims-9.9.9-x/README.md",
                "pims-9.9.9-x/completions/pims.bash",
                "pims-9.9.9-x/pims"
            ]
        );
        // Read it back with the tar crate: names, modes and times as written.
        let gz = flate2::read::GzDecoder::new(File::open(&a).unwrap());
        let mut archive = tar::Archive::new(gz);
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            seen.push((
                entry.path().unwrap().display().to_string(),
                h.mode().unwrap(),
                h.mtime().unwrap(),
            ));
        }
        assert_eq!(
            seen[4],
            ("pims-9.9.9-x/pims".to_owned(), 0o755, 1_700_000_000)
        );
        assert_eq!(seen[2].1, 0o644);
    }

    #[test]
    fn stems_name_version_and_target() {
        assert_eq!(
            archive_stem("1.2.3", "aarch64-apple-darwin"),
            "pims-1.2.3-aarch64-apple-darwin"
        );
        let sh = Shell::new().unwrap();
        assert!(host_target(&sh).unwrap().contains('-'));
    }
}
