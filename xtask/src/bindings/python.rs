//! The Python suite: a wheel built with maturin (uniffi mode, the workspace's generator),
//! installed with pip in a fresh virtual environment, then pytest against a pims-sim of its own.

use std::path::{Path, PathBuf};

use xshell::cmd;

use super::sim::Sim;
use super::{Built, GENERATOR, tools};
use crate::failure::{self, WithSource as _};
use crate::workspace::Workspace;
use anyhow::{Context as _, Result};

/// Builds the wheel of `bindings/python` into `out` (emptied first); returns its path.
///
/// maturin runs a generator named `uniffi-bindgen`: the workspace's, linked under that name
/// in `target/tools/bin` and put first on its PATH.
pub fn wheel(ws: &Workspace, built: &Built, release: bool, out: &Path) -> Result<PathBuf> {
    let sh = ws.sh();
    let (name, version) = tools::MATURIN;
    let python = tools::venv(
        sh,
        &built.tools.join(format!("{name}-{version}")),
        &[tools::MATURIN],
    )?;
    let bin = built.tools.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    let link = bin.join("uniffi-bindgen");
    let _ = std::fs::remove_file(&link);
    let generator =
        built
            .profile_dir
            .join(format!("{}{}", GENERATOR.1, std::env::consts::EXE_SUFFIX));
    std::os::unix::fs::symlink(&generator, &link)
        .with_context(|| format!("linking {}", link.display()))?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&path)))
            .map_err(|e| failure::invalid("PATH holds an entry with a separator").with_source(e))?;
    if out.is_dir() {
        std::fs::remove_dir_all(out).with_context(|| format!("emptying {}", out.display()))?;
    }
    // Not `--strip`: stripping removes the UniFFI metadata the generator reads from the library
    // (it then finds none, and maturin fails).
    let release = release.then_some("--release");
    {
        let _dir = sh.push_dir(ws.root().join("bindings/python"));
        cmd!(
            sh,
            "{python} -m maturin build --locked --quiet -o {out} {release...}"
        )
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", &built.target)
        .run()?;
    }
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    match wheels.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(failure::refused(format!(
            "maturin left {} wheels in {} (expected one)",
            wheels.len(),
            out.display()
        ))),
    }
}

/// Builds the wheel, installs it in a fresh virtual environment, and runs pytest.
pub fn test(ws: &Workspace, built: &Built, fixtures: &Path) -> Result<()> {
    let wheel = wheel(ws, built, false, &built.target.join("bindings-test/wheels"))?;
    let env = built.target.join("bindings-test/python-venv");
    if env.exists() {
        std::fs::remove_dir_all(&env).with_context(|| format!("removing {}", env.display()))?;
    }
    let sh = ws.sh();
    let python = tools::venv(sh, &env, &[tools::PYTEST])?;
    cmd!(
        sh,
        "{python} -m pip install -q --disable-pip-version-check --no-deps {wheel}"
    )
    .quiet()
    .run()?;
    let sim = Sim::start(&built.profile_dir)?;
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let tests = ws.root().join("bindings/python/tests");
    // Run from the scratch directory: `import pims` must find the installed wheel, not the
    // sources.
    let _dir = sh.push_dir(scratch.path());
    cmd!(sh, "{python} -m pytest -q -p no:cacheprovider {tests}")
        .env("PIMS_SIM_URL", &sim.url)
        .env("PIMS_SIM_ADMIN_TOKEN", &sim.admin_token)
        .env("PIMS_FIXTURES", fixtures)
        .env("PIMS_TMP", scratch.path())
        .env("PIMS_EXPECTED_SITE", &env)
        .run()?;
    Ok(())
}
