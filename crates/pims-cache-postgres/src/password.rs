//! The password when the URL has none, found as libpq finds it: `PGPASSWORD`, else the
//! password file (`PGPASSFILE`, default `~/.pgpass`), whose lines read
//! `hostname:port:database:username:password` (`*` matches anything, `\:` and `\\` escape).
//! A file that others than its owner may read is ignored (with a warning naming the file),
//! as libpq does; so is one that is not a regular file or is oversized.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use tokio_postgres::config::Host;
use tracing::warn;

/// The largest password file read.
const MAX_PASSFILE_BYTES: u64 = 1 << 20;

/// The password for `pg`'s first host, port, database and user, from the environment.
pub(crate) fn from_environment(
    pg: &tokio_postgres::Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    if let Some(pw) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
        return Some(pw);
    }
    let file = match env("PGPASSFILE") {
        Some(f) if !f.is_empty() => PathBuf::from(f),
        _ => Path::new(&env("HOME")?).join(".pgpass"),
    };
    let text = read_passfile(&file)?;
    let user = pg.get_user()?;
    let (host, socket) = match pg.get_hosts().first()? {
        Host::Tcp(name) => (name.clone(), false),
        Host::Unix(path) => (path.to_string_lossy().into_owned(), true),
    };
    let port = pg.get_ports().first().copied().unwrap_or(5432).to_string();
    let db = pg.get_dbname().unwrap_or(user);
    lookup(&text, &host, socket, &port, db, user)
}

/// The file's text, if it may be used.
fn read_passfile(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() {
        warn!(file = %path.display(), "pims-cache-postgres: the password file is not a regular file: ignored");
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            warn!(file = %path.display(), "pims-cache-postgres: the password file may be read by others than its owner (chmod 0600 it): ignored");
            return None;
        }
    }
    let mut text = String::new();
    let read =
        fs::File::open(path).and_then(|f| f.take(MAX_PASSFILE_BYTES + 1).read_to_string(&mut text));
    match read {
        Ok(n) if n as u64 <= MAX_PASSFILE_BYTES => Some(text),
        Ok(_) => {
            warn!(file = %path.display(), "pims-cache-postgres: the password file is over 1 MiB: ignored");
            None
        }
        Err(e) => {
            warn!(file = %path.display(), error = %e, "pims-cache-postgres: the password file cannot be read: ignored");
            None
        }
    }
}

/// The password of the first line matching. A socket directory also matches `localhost`.
fn lookup(
    text: &str,
    host: &str,
    socket: bool,
    port: &str,
    db: &str,
    user: &str,
) -> Option<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split(line);
            let [h, p, d, u, pw, ..] = fields.as_slice() else {
                return None;
            };
            let host_ok = h == "*" || h == host || (socket && h == "localhost");
            let ok = |f: &str, v: &str| f == "*" || f == v;
            (host_ok && ok(p, port) && ok(d, db) && ok(u, user)).then(|| pw.clone())
        })
}

/// A line's fields: split at unescaped `:`, with `\x` read as `x`.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(f) = fields.last_mut()
                {
                    f.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;
    use std::str::FromStr;

    use super::*;

    const FILE: &str = "# comment\n\
        other:5432:*:*:nope\n\
        db.internal:5433:steps:svc:first\\:pass\\\\word\n\
        *:*:*:svc:fallback\n\
        localhost:5432:*:local:viasocket\n";

    #[test]
    fn the_first_matching_line_wins_with_escapes_and_wildcards() {
        assert_eq!(
            lookup(FILE, "db.internal", false, "5433", "steps", "svc").as_deref(),
            Some("first:pass\\word")
        );
        assert_eq!(
            lookup(FILE, "db.internal", false, "5432", "steps", "svc").as_deref(),
            Some("fallback")
        );
        assert_eq!(lookup(FILE, "x", false, "5432", "steps", "nobody"), None);
        assert_eq!(
            lookup(FILE, "/var/run/postgresql", true, "5432", "d", "local").as_deref(),
            Some("viasocket")
        );
        assert_eq!(lookup("a:b:c:d\n", "a", false, "b", "c", "d"), None);
    }

    fn config(url: &str) -> tokio_postgres::Config {
        tokio_postgres::Config::from_str(url).unwrap()
    }

    #[test]
    fn pgpassword_comes_first_then_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        fs::write(&file, "h:5432:d:u:fromfile\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        let pg = config("postgres://u@h/d");
        let path = file.to_string_lossy().into_owned();
        let env = |n: &str| (n == "PGPASSFILE").then(|| path.clone());
        assert_eq!(from_environment(&pg, &env).as_deref(), Some("fromfile"));
        let env = |n: &str| match n {
            "PGPASSFILE" => Some(path.clone()),
            "PGPASSWORD" => Some("fromenv".to_owned()),
            _ => None,
        };
        assert_eq!(from_environment(&pg, &env).as_deref(), Some("fromenv"));
        // ~/.pgpass by default
        fs::rename(&file, dir.path().join(".pgpass")).unwrap();
        let home = dir.path().to_string_lossy().into_owned();
        let env = |n: &str| (n == "HOME").then(|| home.clone());
        assert_eq!(from_environment(&pg, &env).as_deref(), Some("fromfile"));
    }

    #[test]
    fn a_file_others_may_read_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pass");
        fs::write(&file, "*:*:*:*:secret\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_passfile(&file), None);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_passfile(&file).is_some());
        assert_eq!(read_passfile(dir.path()), None, "a directory");
        let big = dir.path().join("big");
        fs::write(&big, vec![b'#'; (MAX_PASSFILE_BYTES + 1) as usize]).unwrap();
        fs::set_permissions(&big, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_passfile(&big), None);
    }
}
