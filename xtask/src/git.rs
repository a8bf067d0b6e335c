//! The git operations of a release: is the tree clean, what is tracked, does the tag exist,
//! commit and tag.

use std::path::PathBuf;

use xshell::cmd;

use crate::failure::{self, WithSource as _};
use crate::process;
use crate::workspace::Workspace;
use anyhow::Result;

/// Refuses a working tree with changes or untracked files (a release is built from what is
/// committed, nothing else).
pub(crate) fn ensure_clean(ws: &Workspace) -> Result<()> {
    let sh = ws.sh();
    let status = process::read(cmd!(
        sh,
        "git status --porcelain=v1 --untracked-files=normal"
    ))
    .map_err(|e| {
        failure::refused(format!(
            "{} is not a usable git checkout (releases are made from a clean clone)",
            ws.root().display()
        ))
        .with_source(e)
    })?;
    let changes: Vec<&str> = status.lines().filter(|l| !l.trim().is_empty()).collect();
    if changes.is_empty() {
        return Ok(());
    }
    let mut shown: Vec<&str> = changes.iter().take(10).copied().collect();
    if changes.len() > shown.len() {
        shown.push("...");
    }
    Err(failure::refused(format!(
        "the working tree is not clean ({} change{}); commit or stash first:\n  {}",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" },
        shown.join("\n  ")
    )))
}

/// The tracked files, relative to the root.
pub(crate) fn tracked_files(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let sh = ws.sh();
    let out = process::read(cmd!(sh, "git ls-files -z"))?;
    Ok(out
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(PathBuf::from)
        .collect())
}

/// True when the tag exists.
pub(crate) fn tag_exists(ws: &Workspace, tag: &str) -> Result<bool> {
    let sh = ws.sh();
    Ok(!process::read(cmd!(sh, "git tag --list {tag}"))?
        .trim()
        .is_empty())
}

/// Commits `files` with `message` and puts the annotated tag `tag` on that commit.
pub(crate) fn commit_and_tag(
    ws: &Workspace,
    files: &[&str],
    message: &str,
    tag: &str,
) -> Result<()> {
    let sh = ws.sh();
    process::read(cmd!(sh, "git add -- {files...}"))?;
    process::read(cmd!(sh, "git commit --quiet -m {message}"))?;
    process::read(cmd!(sh, "git tag -a {tag} -m {message}"))?;
    Ok(())
}

/// The committer time of `HEAD`, in seconds since 1970 (for reproducible archive times).
pub(crate) fn head_time(ws: &Workspace) -> Option<u64> {
    let sh = ws.sh();
    process::read(cmd!(sh, "git log -1 --format=%ct"))
        .ok()?
        .trim()
        .parse()
        .ok()
}
