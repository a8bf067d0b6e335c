//! Certificates for a TLS test server, made with the `openssl` command (the postgresql
//! package depends on it, through ssl-cert): a CA, a server certificate it signs for
//! `localhost` and `127.0.0.1`, and whatever other CA or name a test needs to be refused.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::install::run;

/// A certificate authority made for a test.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// Its certificate (PEM), for `sslrootcert`.
    pub cert: PathBuf,
    key: PathBuf,
}

/// A server certificate and its key, signed by a [`TestCa`].
#[derive(Debug, Clone)]
pub struct ServerCertificate {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA in `dir`, named `name` (its files are `<name>.crt` and `<name>.key`).
    pub fn new(dir: &Path, name: &str) -> Result<TestCa, String> {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        run(
            Command::new("openssl")
                .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
                .arg("ec_paramgen_curve:P-256")
                .args(["-nodes", "-days", "3", "-subj"])
                .arg(format!("/CN=pims test {name}"))
                .args(["-addext", "basicConstraints=critical,CA:TRUE"])
                .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert),
            "openssl req (a test CA)",
        )?;
        Ok(TestCa { cert, key })
    }

    /// A server certificate for `names` (DNS names and IP addresses), in `dir` as
    /// `<file>.crt` and `<file>.key`.
    pub fn issue(
        &self,
        dir: &Path,
        file: &str,
        names: &[&str],
    ) -> Result<ServerCertificate, String> {
        let cert = dir.join(format!("{file}.crt"));
        let key = dir.join(format!("{file}.key"));
        let csr = dir.join(format!("{file}.csr"));
        let ext = dir.join(format!("{file}.ext"));
        let san: Vec<String> = names
            .iter()
            .map(|n| {
                if n.parse::<std::net::IpAddr>().is_ok() {
                    format!("IP:{n}")
                } else {
                    format!("DNS:{n}")
                }
            })
            .collect();
        fs::write(
            &ext,
            format!(
                "subjectAltName={}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
                san.join(",")
            ),
        )
        .map_err(|e| format!("{}: {e}", ext.display()))?;
        run(
            Command::new("openssl")
                .args(["req", "-newkey", "ec", "-pkeyopt"])
                .arg("ec_paramgen_curve:P-256")
                .args(["-nodes", "-subj"])
                .arg(format!(
                    "/CN={}",
                    names.first().copied().unwrap_or("server")
                ))
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&csr),
            "openssl req (a server key)",
        )?;
        run(
            Command::new("openssl")
                .args(["x509", "-req", "-days", "3", "-in"])
                .arg(&csr)
                .arg("-CA")
                .arg(&self.cert)
                .arg("-CAkey")
                .arg(&self.key)
                .arg("-set_serial")
                .arg(format!("{}", std::process::id()))
                .arg("-extfile")
                .arg(&ext)
                .arg("-out")
                .arg(&cert),
            "openssl x509 (signing a server certificate)",
        )?;
        Ok(ServerCertificate { cert, key })
    }
}
