//! Rust sources under `crates/`, `xtask/` and `fuzz/`: no leftover placeholder or debugging
//! macros, and no ignored test without a reason.
//!
//! The patterns are assembled with `concat!` so that this file does not match itself.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let src = dir.path().join("crates/a/src");
//! std::fs::create_dir_all(&src).unwrap();
//! let leftover = format!("fn f() {{ {}) }}\n", xtask::tidy::sources::FORBIDDEN_MACROS[0]);
//! std::fs::write(src.join("lib.rs"), leftover).unwrap();
//! let problems = xtask::tidy::sources::check(dir.path());
//! assert_eq!(problems.len(), 1);
//! assert_eq!(problems[0].line, Some(1));
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use super::{Problem, relative};

/// The directories scanned (those that exist).
pub const SCANNED_DIRS: [&str; 3] = ["crates", "xtask", "fuzz"];

/// Macro calls that must not be left in code.
pub const FORBIDDEN_MACROS: [&str; 3] = [
    concat!("todo", "!("),
    concat!("unimplemented", "!("),
    concat!("dbg", "!("),
];

/// A bare ignore attribute; `#[ignore = "reason"]` or a `//` comment beside it is fine.
pub const BARE_IGNORE: &str = concat!("#[", "ignore]");

/// Problems in the Rust sources of `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut files = Vec::new();
    for dir in SCANNED_DIRS {
        collect_rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        check_text(&relative(root, &file), &text, &mut problems);
    }
    problems
}

fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Build output, fuzz corpora and hidden directories hold no project sources.
        if name.starts_with('.') || name == "target" || name == "corpus" || name == "artifacts" {
            continue;
        }
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn check_text(file: &Path, text: &str, problems: &mut Vec<Problem>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for pattern in FORBIDDEN_MACROS {
            if code.contains(pattern) {
                problems.push(Problem::at(
                    file,
                    i + 1,
                    format!("`{pattern}` left in code: finish it or remove it"),
                ));
            }
        }
        if code.contains(BARE_IGNORE) {
            let comment_here = code.contains("//");
            let comment_above = i > 0 && lines[i - 1].trim_start().starts_with("//");
            if !comment_here && !comment_above {
                problems.push(Problem::at(
                    file,
                    i + 1,
                    format!(
                        "`{BARE_IGNORE}` without a reason: write `#[ignore = \"why\"]` or a comment"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_in(text: &str) -> Vec<String> {
        let mut problems = Vec::new();
        check_text(Path::new("x.rs"), text, &mut problems);
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn leftover_macros_are_found_with_their_line() {
        let [todo, unimplemented, dbg] = FORBIDDEN_MACROS;
        let text = format!(
            "fn a() {{}}\nfn b() {{ {todo}) }}\nfn c() {{ {unimplemented}\"x\") }}\nfn d() {{ {dbg}1); }}\n"
        );
        assert_eq!(
            problems_in(&text),
            [
                format!("x.rs:2: `{todo}` left in code: finish it or remove it"),
                format!("x.rs:3: `{unimplemented}` left in code: finish it or remove it"),
                format!("x.rs:4: `{dbg}` left in code: finish it or remove it"),
            ]
        );
    }

    #[test]
    fn comments_and_similar_names_are_not_flagged() {
        let [todo, _, dbg] = FORBIDDEN_MACROS;
        let text = format!(
            "// no {todo}) here\n    /// nor {dbg}x) in docs\nfn my_todo() {{}}\nlet s = \"todo\";\n"
        );
        assert_eq!(problems_in(&text), Vec::<String>::new());
    }

    #[test]
    fn ignore_needs_a_reason() {
        let bare = format!("#[test]\n{BARE_IGNORE}\nfn slow() {{}}\n");
        assert_eq!(
            problems_in(&bare),
            [format!(
                "x.rs:2: `{BARE_IGNORE}` without a reason: write `#[ignore = \"why\"]` or a comment"
            )]
        );
        let commented_above = format!("// needs a device\n{BARE_IGNORE}\nfn t() {{}}\n");
        let commented_beside = format!("{BARE_IGNORE} // needs a device\nfn t() {{}}\n");
        let with_reason = "#[ignore = \"needs a device\"]\nfn t() {}\n";
        for ok in [
            commented_above.as_str(),
            commented_beside.as_str(),
            with_reason,
        ] {
            assert_eq!(problems_in(ok), Vec::<String>::new(), "{ok}");
        }
    }

    #[test]
    fn scans_the_listed_directories_only_and_skips_build_output() {
        let dir = tempfile::tempdir().unwrap();
        let [todo, _, _] = FORBIDDEN_MACROS;
        let bad = format!("fn f() {{ {todo}) }}\n");
        for path in [
            "crates/a/src/lib.rs",
            "xtask/src/main.rs",
            "fuzz/fuzz_targets/envelope.rs",
            "crates/a/target/debug/build/out.rs",
            "fuzz/corpus/envelope/seed.rs",
            "other/src/lib.rs",
        ] {
            let p = dir.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, &bad).unwrap();
        }
        let files: Vec<String> = check(dir.path())
            .iter()
            .map(|p| p.file.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "crates/a/src/lib.rs",
                "fuzz/fuzz_targets/envelope.rs",
                "xtask/src/main.rs"
            ]
        );
    }
}
