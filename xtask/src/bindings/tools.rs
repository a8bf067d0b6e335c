//! The tools the bindings need, found or installed under `target/tools/` when missing: kotlinc
//! (npm package `kotlin-compiler`, which ships kotlinx-coroutines), maturin (PyPI, in a virtual
//! environment of its own). JNA, clang and the JDK come from Debian (`.ci/run`).

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

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
pub fn kotlin_home(sh: &Shell, tools: &Path) -> Result<PathBuf> {
    let (package, version) = KOTLIN_COMPILER;
    let prefix = tools.join(format!("{package}-{version}"));
    let home = prefix.join("node_modules").join(package);
    if !home.join("bin/kotlinc").is_file() {
        println!(
            "kotlinc is not installed: installing the npm package {package}@{version} into {}",
            prefix.display()
        );
        let spec = format!("{package}@{version}");
        cmd!(
            sh,
            "npm install --no-audit --no-fund --no-save --prefix {prefix} {spec}"
        )
        .quiet()
        .run()?;
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
pub fn require(sh: &Shell, program: &str, package: &str) -> Result<()> {
    if process::succeeds(cmd!(sh, "{program} --version")) {
        Ok(())
    } else {
        Err(failure::refused(format!(
            "`{program}` cannot be run: install Debian's {package} (.ci/run does)"
        )))
    }
}

/// A virtual environment at `dir` with `packages` (`name==version`), made when missing.
pub fn venv(sh: &Shell, dir: &Path, packages: &[(&str, &str)]) -> Result<PathBuf> {
    let python = dir.join("bin/python");
    if !python.is_file() {
        cmd!(sh, "python3 -m venv {dir}").quiet().run()?;
    }
    let mut missing = Vec::new();
    for (name, version) in packages {
        let installed = process::read(cmd!(sh, "{python} -m pip show {name}"))
            .is_ok_and(|s| s.lines().any(|l| l == format!("Version: {version}")));
        if !installed {
            missing.push(format!("{name}=={version}"));
        }
    }
    if !missing.is_empty() {
        cmd!(
            sh,
            "{python} -m pip install -q --disable-pip-version-check {missing...}"
        )
        .quiet()
        .run()?;
    }
    Ok(python)
}
