//! What can be checked of the Swift bindings without a Swift compiler (none installs on these
//! machines): the generated C header parses with clang, and every FFI symbol the generated
//! Swift file calls (and every one the header declares) is exported by the library.

use std::collections::BTreeSet;
use std::path::Path;

use xshell::{Shell, cmd};

use super::{Built, tools};
use crate::failure::{self};
use crate::process;
use anyhow::{Context as _, Result};

/// The generated Swift file, header and module map.
pub const FILES: [&str; 3] = ["PimsFFI.swift", "pims_ffiFFI.h", "pims_ffiFFI.modulemap"];

/// The prefixes of the library's FFI symbols.
const PREFIXES: [&str; 2] = ["uniffi_pims_ffi_", "ffi_pims_ffi_"];

/// The FFI symbols `text` names (identifiers starting `uniffi_pims_ffi_` or `ffi_pims_ffi_`).
///
/// ```
/// let s = xtask::bindings::swift::ffi_symbols("x = uniffi_pims_ffi_fn_func_json_parse(a, ffi_pims_ffi_rustbuffer_free)");
/// assert_eq!(s.into_iter().collect::<Vec<_>>(),
///            ["ffi_pims_ffi_rustbuffer_free", "uniffi_pims_ffi_fn_func_json_parse"]);
/// ```
pub fn ffi_symbols(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| PREFIXES.iter().any(|p| t.starts_with(p)))
        .map(str::to_owned)
        .collect()
}

/// The dynamic symbols `library` defines (`nm -D --defined-only`).
fn exported(sh: &Shell, library: &Path) -> Result<BTreeSet<String>> {
    let out = process::read(cmd!(sh, "nm -D --defined-only {library}"))?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(str::to_owned)
        .collect())
}

/// Runs the checks on `built`'s Swift sources.
pub fn check(sh: &Shell, built: &Built) -> Result<()> {
    let dir = built.sources("swift");
    for file in FILES {
        if !dir.join(file).is_file() {
            return Err(failure::refused(format!(
                "the generator wrote no {}",
                dir.join(file).display()
            )));
        }
    }
    tools::require(sh, "clang", "clang")?;
    let header = dir.join(FILES[1]);
    // Included, as the module map has Swift include it.
    let scratch = tempfile::tempdir().context("creating a scratch directory")?;
    let includer = scratch.path().join("include_header.c");
    std::fs::write(&includer, format!("#include \"{}\"\n", FILES[1]))
        .with_context(|| format!("writing {}", includer.display()))?;
    let clang = cmd!(
        sh,
        "clang -fsyntax-only -Wall -Wextra -Werror -I {dir} {includer}"
    );
    // Echoed, and run capturing: a header that does not parse shows clang's complaint in the
    // error.
    eprintln!("$ {clang}");
    process::read(clang)?;

    let exported = exported(sh, &built.library)?;
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let swift = ffi_symbols(&read(&dir.join(FILES[0]))?);
    let declared = ffi_symbols(&read(&header)?);
    let missing: Vec<&String> = swift
        .iter()
        .chain(declared.iter())
        .filter(|s| !exported.contains(*s))
        .collect();
    if !missing.is_empty() {
        return Err(failure::refused(format!(
            "{} does not export {} symbol(s) the Swift bindings use: {}",
            built.library.display(),
            missing.len(),
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if swift.is_empty() {
        return Err(failure::refused(
            "the Swift file calls no FFI symbol: nothing was checked",
        ));
    }
    println!(
        "swift: the header parses; the {} symbols the Swift file calls and the {} the header declares are exported",
        swift.len(),
        declared.len()
    );
    Ok(())
}
