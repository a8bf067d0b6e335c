//! The Kotlin suite on the JVM: one kotlinc invocation (the generated file, the layer of
//! `bindings/kotlin/src`, the suite of `bindings/kotlin/tests`), then the suite's `main` against
//! a pims-sim of its own. kotlinc is skipped when the jar is newer than every source.

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};

use super::sim::Sim;
use super::{Built, newest, tools};
use crate::failure::{self, WithSource as _};
use crate::workspace::Workspace;
use anyhow::{Context as _, Result};

/// The suite's main class.
pub const MAIN_CLASS: &str = "pims.tests.BindingsTestKt";

/// Compiles `sources` into `jar` with kotlinc unless the jar is newer than all of them.
pub fn compile(
    sh: &Shell,
    kotlin_home: &Path,
    jna: &Path,
    sources: &[PathBuf],
    jar: &Path,
) -> Result<()> {
    let fresh = jar.is_file()
        && std::fs::metadata(jar)
            .and_then(|m| m.modified())
            .is_ok_and(|built| newest(sources).is_ok_and(|n| n <= built));
    if fresh {
        println!("kotlin: {} is up to date", jar.display());
        return Ok(());
    }
    if let Some(parent) = jar.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let classpath = std::env::join_paths([
        kotlin_home.join("lib/kotlinx-coroutines-core-jvm.jar"),
        jna.to_path_buf(),
    ])
    .map_err(|e| failure::invalid("a classpath entry holds a separator").with_source(e))?;
    let kotlinc = kotlin_home.join("bin/kotlinc");
    cmd!(
        sh,
        "{kotlinc} -nowarn -cp {classpath} {sources...} -d {jar}"
    )
    .run()?;
    Ok(())
}

/// Builds and runs the Kotlin suite.
pub fn test(ws: &Workspace, built: &Built, fixtures: &Path) -> Result<()> {
    let sh = ws.sh();
    tools::require(sh, "java", "openjdk-17-jdk-headless")?;
    let jna = tools::jna_jar()?;
    let home = tools::kotlin_home(sh, &built.tools)?;
    let jar = built.target.join("bindings-test/kotlin/tests.jar");
    compile(
        sh,
        &home,
        &jna,
        &[
            built.sources("kotlin"),
            ws.root().join("bindings/kotlin/src"),
            ws.root().join("bindings/kotlin/tests"),
        ],
        &jar,
    )?;
    let sim = Sim::start(&built.profile_dir)?;
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let classpath = std::env::join_paths([
        jar,
        home.join("lib/kotlin-stdlib.jar"),
        home.join("lib/kotlinx-coroutines-core-jvm.jar"),
        jna,
    ])
    .map_err(|e| failure::invalid("a classpath entry holds a separator").with_source(e))?;
    let library_path = format!("-Djna.library.path={}", built.profile_dir.display());
    cmd!(sh, "java {library_path} -cp {classpath} {MAIN_CLASS}")
        .env("PIMS_SIM_URL", &sim.url)
        .env("PIMS_SIM_ADMIN_TOKEN", &sim.admin_token)
        .env("PIMS_FIXTURES", fixtures)
        .env("PIMS_TMP", scratch.path())
        .run()?;
    Ok(())
}
