//! The tools the bindings need, found or installed under `target/tools/` when missing: kotlinc
//! (npm package `kotlin-compiler`, which ships kotlinx-coroutines), maturin (PyPI, in a virtual
//! environment of its own). JNA, clang and the JDK come from Debian (`.ci/run`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::failure::{self};
use crate::process;
use anyhow::Result;

/// The npm package and version of the Kotlin compiler.
pub const KOTLIN_COMPILER: (&str, &str) = ("kotlin-compiler", "2.4.20");

/// maturin, from PyPI.
pub const MATURIN: (&str, &str) = ("maturin", "1.16.0");

/// pytest, from PyPI (into each fresh test environment).
pub const PYTEST: (&str, &str) = ("pytest", "9.2.0");

/// Debian's JNA (package `libjna-java`).
pub const JNA_JAR: &str = "/usr/share/java/jna.jar";

/// The Kotlin compiler's directory (`bin/kotlinc`, `lib/*.jar`), installed with npm into
/// `tools/` when missing.
pub fn kotlin_home(tools: &Path) -> Result<PathBuf> {
    let (package, version) = KOTLIN_COMPILER;
    let prefix = tools.join(format!("{package}-{version}"));
    let home = prefix.join("node_modules").join(package);
    if !home.join("bin/kotlinc").is_file() {
        println!(
            "kotlinc is not installed: installing the npm package {package}@{version} into {}",
            prefix.display()
        );
        process::run(
            Command::new("npm")
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    "--prefix",
                ])
                .arg(&prefix)
                .arg(format!("{package}@{version}")),
        )?;
    }
    for needed in [
        "bin/kotlinc",
        "lib/kotlin-stdlib.jar",
        "lib/kotlinx-coroutines-core-jvm.jar",
    ] {
        if !home.join(needed).is_file() {
            return Err(failure::refused(format!(
                "{} is missing from the npm package {package}@{version}",
                home.join(needed).display()
            )));
        }
    }
    Ok(home)
}

/// JNA's jar, or why not.
pub fn jna_jar() -> Result<PathBuf> {
    let jar = PathBuf::from(JNA_JAR);
    if jar.is_file() {
        Ok(jar)
    } else {
        Err(failure::refused(format!(
            "{JNA_JAR} is missing: install Debian's libjna-java (.ci/run does)"
        )))
    }
}

/// `program --version` runs, or why it must be installed.
pub fn require(program: &str, package: &str) -> Result<()> {
    if process::succeeds(Command::new(program).arg("--version")) {
        Ok(())
    } else {
        Err(failure::refused(format!(
            "`{program}` cannot be run: install Debian's {package} (.ci/run does)"
        )))
    }
}

/// A virtual environment at `dir` with `packages` (`name==version`), made when missing.
pub fn venv(dir: &Path, packages: &[(&str, &str)]) -> Result<PathBuf> {
    let python = dir.join("bin/python");
    if !python.is_file() {
        process::run(Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    }
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "-q", "--disable-pip-version-check"]);
    let mut missing = false;
    for (name, version) in packages {
        let installed = process::stdout(Command::new(&python).args(["-m", "pip", "show", name]))
            .is_ok_and(|s| s.lines().any(|l| l == format!("Version: {version}")));
        if !installed {
            pip.arg(format!("{name}=={version}"));
            missing = true;
        }
    }
    if missing {
        process::run(&mut pip)?;
    }
    Ok(python)
}
