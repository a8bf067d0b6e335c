//! The installed PostgreSQL: its binaries, the user its servers run as, and a cluster made by
//! `initdb` once and copied for every server (initdb takes about a second; a copy a fifth).

use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian puts each major version's binaries.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// The binaries of the newest major version under `root` that has `initdb`.
pub(crate) fn find_binaries(root: &Path) -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The binaries of the installed PostgreSQL, if any.
pub(crate) fn binaries() -> Option<PathBuf> {
    find_binaries(Path::new(INSTALL_ROOT))
}

/// The user the servers run as: `postgres` when we are root (initdb and postgres refuse
/// root), ourselves otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    root: bool,
}

impl Identity {
    pub(crate) fn find() -> Result<Identity, String> {
        let euid = nix::unistd::geteuid();
        if !euid.is_root() {
            return Ok(Identity {
                uid: euid.as_raw(),
                gid: nix::unistd::getegid().as_raw(),
                root: false,
            });
        }
        match nix::unistd::User::from_name("postgres") {
            Ok(Some(user)) => Ok(Identity {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
                root: true,
            }),
            Ok(None) => Err("running as root, and there is no `postgres` user to run PostgreSQL as (the postgresql package creates it)".to_owned()),
            Err(e) => Err(format!("cannot look the `postgres` user up: {e}")),
        }
    }

    /// A command that runs as this identity.
    pub(crate) fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        if self.root {
            cmd.uid(self.uid).gid(self.gid);
        }
        cmd.env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .stdin(Stdio::null());
        cmd
    }

    /// Gives `path` to this identity.
    pub(crate) fn own(&self, path: &Path) -> Result<(), String> {
        if self.root {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
                .map_err(|e| format!("chown {}: {e}", path.display()))?;
        }
        Ok(())
    }
}

/// Runs `cmd`, its output as the error when it fails.
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Makes a fresh cluster at `data` (which must not exist): a copy of the cached template,
/// made first if needed; a plain initdb when no template can be trusted.
pub(crate) fn new_cluster(bin: &Path, who: &Identity, data: &Path) -> Result<(), String> {
    match template(bin, who) {
        Ok(Some(template)) => {
            run(
                Command::new("cp").arg("-a").arg(&template).arg(data),
                "cp -a of the template cluster",
            )?;
            Ok(())
        }
        Ok(None) => initdb(bin, who, data),
        Err(e) => Err(e),
    }
}

fn initdb(bin: &Path, who: &Identity, data: &Path) -> Result<(), String> {
    run(
        who.command(bin.join("initdb")).arg("-D").arg(data).args([
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-U",
            "postgres",
            // The template is copied: syncing it would cost seconds for nothing.
            "--no-sync",
        ]),
        "initdb",
    )
    .map(drop)
}

/// Whether `dir` (in the shared temporary directory) is a directory of ours that no one else
/// may write.
pub(crate) fn trusted_dir(dir: &Path) -> Result<bool, String> {
    let meta = fs::symlink_metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let me = nix::unistd::geteuid().as_raw();
    Ok(meta.is_dir() && meta.uid() == me && meta.mode() & 0o022 == 0)
}

/// The template cluster of this major version and identity, made once under a lock; None
/// when the temporary directory's copy cannot be trusted (not ours, or writable by others).
fn template(bin: &Path, who: &Identity) -> Result<Option<PathBuf>, String> {
    let version = bin
        .parent()
        .and_then(Path::file_name)
        .and_then(|v| v.to_str())
        .unwrap_or("x");
    let home = std::env::temp_dir().join(format!("pims-pg-template-{version}-{}", who.uid));
    match fs::create_dir(&home) {
        Ok(()) => fs::set_permissions(&home, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", home.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", home.display())),
    }
    if !trusted_dir(&home)? {
        return Ok(None);
    }
    let lock = File::create(home.join("lock")).map_err(|e| format!("template lock: {e}"))?;
    lock.lock().map_err(|e| format!("template lock: {e}"))?;
    let data = home.join("data");
    let ready = home.join("ready");
    if !ready.is_file() {
        let _ = fs::remove_dir_all(&data);
        // initdb may use an empty directory it owns (`home` is ours alone).
        fs::create_dir(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod {}: {e}", data.display()))?;
        who.own(&data)?;
        initdb(bin, who, &data)?;
        File::create(&ready).map_err(|e| format!("template marker: {e}"))?;
    }
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_newest_version_with_initdb_is_chosen() {
        let root = tempfile::tempdir().unwrap();
        for (v, with) in [
            ("13", true),
            ("16", true),
            ("17", false),
            ("notaversion", true),
        ] {
            let bin = root.path().join(v).join("bin");
            fs::create_dir_all(&bin).unwrap();
            if with {
                fs::write(bin.join("initdb"), "").unwrap();
            }
        }
        assert_eq!(
            find_binaries(root.path()),
            Some(root.path().join("16").join("bin"))
        );
        assert_eq!(find_binaries(&root.path().join("none")), None);
    }
}
