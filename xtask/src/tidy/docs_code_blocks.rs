//! The code of the guides stays true: every `rust` block of `docs/*.md` is either compiled, its
//! file included as a doc test somewhere in the workspace (`#[doc = include_str!(".../docs/x.md")]`,
//! so that `cargo test --doc` builds every block of it), or taken from a file under an
//! `examples/` directory, named on the block's first line (`// from crates/x/examples/y.rs`, or
//! `...y.rs#name` for the lines between `// region: name` and `// endregion: name`) and equal to
//! it. In an included file every fence says its language: rustdoc compiles a bare fence as
//! Rust, so diagrams are `text`.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::create_dir_all(dir.path().join("docs")).unwrap();
//! std::fs::write(dir.path().join("docs/guide.md"), "```rust\nlet x = 1;\n```\n").unwrap();
//! let problems = xtask::tidy::docs_code_blocks::check(dir.path());
//! assert_eq!(problems.len(), 1);
//! assert_eq!(problems[0].line, Some(1));
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use super::{Problem, relative};

/// The guides' directory.
pub const DOCS_DIR: &str = "docs";

/// Where the doc-test includes are looked for.
pub const INCLUDING_DIRS: [&str; 2] = ["crates", "xtask"];

/// How a doc-test include starts.
const INCLUDE: &str = "[doc = include_str!(\"";

/// The marker of a block taken from an example file.
pub const FROM_MARKER: &str = "// from ";

/// A fenced block of a Markdown file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The 1-based line of its opening fence.
    pub line: usize,
    /// The info string's first word (`rust`, `sh`, empty for a bare fence).
    pub language: String,
    /// Its lines, without the fences.
    pub text: String,
}

/// The fenced blocks of a Markdown text (``` fences, at the start of a line).
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => {
                let info = line.trim_start().trim_start_matches('`');
                let language = info
                    .split([',', ' '])
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                open = Some(Block {
                    line: i + 1,
                    language,
                    text: String::new(),
                });
            }
            (Some(_), true) => out.extend(open.take()),
            (Some(block), false) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, false) => {}
        }
    }
    out
}

/// The problems of the code blocks of `root/docs/*.md`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut guides: Vec<PathBuf> = fs::read_dir(root.join(DOCS_DIR))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guides.sort();
    let includes = included_guides(root);
    let mut problems = Vec::new();
    for guide in guides {
        let Ok(text) = fs::read_to_string(&guide) else {
            continue;
        };
        let rel = relative(root, &guide);
        let name = guide
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let included = includes.contains(&name);
        for block in blocks(&text) {
            if included {
                if block.language.is_empty() {
                    problems.push(Problem::at(
                        &rel,
                        block.line,
                        "a bare fence in a guide compiled as a doc test: say its language \
                         (`text` for a diagram), or rustdoc compiles it as Rust",
                    ));
                }
                continue;
            }
            if block.language == "rust"
                && let Some(problem) = check_taken(root, &rel, &block)
            {
                problems.push(problem);
            }
        }
    }
    problems
}

/// A block not compiled: it must name the example it is taken from and equal it.
fn check_taken(root: &Path, rel: &Path, block: &Block) -> Option<Problem> {
    let first = block.text.lines().next().unwrap_or_default();
    let Some(source) = first.strip_prefix(FROM_MARKER) else {
        return Some(Problem::at(
            rel,
            block.line,
            format!(
                "a rust block that is never compiled: include {} as a doc test \
                 (`#[doc = include_str!(...)]` in a crate that has what it uses), or take it \
                 from an example (`{FROM_MARKER}crates/<crate>/examples/<file>.rs` on its first line)",
                rel.display()
            ),
        ));
    };
    let (file, region) = match source.trim().split_once('#') {
        Some((file, region)) => (file, Some(region)),
        None => (source.trim(), None),
    };
    if !Path::new(file)
        .components()
        .any(|c| c.as_os_str() == "examples")
    {
        return Some(Problem::at(
            rel,
            block.line,
            format!("{file} is not under an examples/ directory"),
        ));
    }
    let Ok(example) = fs::read_to_string(root.join(file)) else {
        return Some(Problem::at(
            rel,
            block.line,
            format!("{file} cannot be read"),
        ));
    };
    let expected = match region {
        None => Some(example),
        Some(name) => region_of(&example, name),
    };
    let shown: String = block
        .text
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    match expected {
        None => Some(Problem::at(
            rel,
            block.line,
            format!("{file} has no region `{}`", region.unwrap_or_default()),
        )),
        Some(expected) if expected.trim_end() != shown.trim_end() => Some(Problem::at(
            rel,
            block.line,
            format!("the block differs from {source}: copy it again"),
        )),
        Some(_) => None,
    }
}

/// The lines between `// region: name` and `// endregion: name`.
fn region_of(text: &str, name: &str) -> Option<String> {
    let start = format!("// region: {name}");
    let end = format!("// endregion: {name}");
    let mut lines = text.lines().skip_while(|l| l.trim() != start);
    lines.next()?;
    let mut region: Vec<&str> = Vec::new();
    for line in lines {
        if line.trim() == end {
            // The region's own indentation is not shown.
            let indent = region
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            return Some(
                region
                    .iter()
                    .map(|l| format!("{}\n", l.get(indent..).unwrap_or("")))
                    .collect(),
            );
        }
        region.push(line);
    }
    None
}

/// The file names of the guides some Rust source includes (`include_str!("…/docs/x.md")`).
fn included_guides(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in INCLUDING_DIRS {
        collect_rust(&root.join(dir), &mut files);
    }
    let needle = format!("{DOCS_DIR}/");
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        // Only a doc attribute makes a doc test: a test reading the guide is no include.
        for (at, _) in text.match_indices(INCLUDE) {
            let rest = &text[at + INCLUDE.len()..];
            let Some(path) = rest.split('"').next() else {
                continue;
            };
            if let Some((_, guide)) = path.rsplit_once(&needle) {
                out.push(guide.to_owned());
            }
        }
    }
    out
}

fn collect_rust(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_rust(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let file = dir.path().join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        dir
    }

    fn found(dir: &tempfile::TempDir) -> Vec<String> {
        check(dir.path()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn fences_and_languages() {
        let md = "text\n```rust,no_run\nlet a = 1;\n```\n```\ndiagram\n```\n  ```sh\nls\n  ```\n";
        let found = blocks(md);
        let langs: Vec<(usize, &str)> = found
            .iter()
            .map(|b| (b.line, b.language.as_str()))
            .collect();
        assert_eq!(langs, [(2, "rust"), (5, ""), (8, "sh")]);
        assert_eq!(found[0].text, "let a = 1;\n");
    }

    #[test]
    fn an_included_guide_is_compiled_and_needs_languages_on_every_fence() {
        let dir = workspace(&[
            (
                "docs/a.md",
                "```rust\nlet x = 1;\n```\n```\nbox\n```\n```sh\nls\n```\n",
            ),
            (
                "crates/c/src/lib.rs",
                "#[cfg(doctest)]\n#[doc = include_str!(\"../../../docs/a.md\")]\nstruct A;\n",
            ),
        ]);
        assert_eq!(
            found(&dir),
            [
                "docs/a.md:4: a bare fence in a guide compiled as a doc test: say its language \
              (`text` for a diagram), or rustdoc compiles it as Rust"
            ]
        );
    }

    #[test]
    fn a_block_taken_from_an_example_must_equal_it() {
        let example =
            "fn main() {\n    // region: start\n    let x = 1;\n    // endregion: start\n}\n";
        let md = format!(
            "```rust\n// from crates/c/examples/e.rs#start\nlet x = 1;\n```\n\
                 ```rust\n// from crates/c/examples/e.rs#start\nlet x = 2;\n```\n\
                 ```rust\n// from crates/c/src/lib.rs\n```\n\
                 ```rust\n// from crates/c/examples/e.rs#gone\n```\n\
                 ```rust\n// from crates/c/examples/e.rs\n{example}```\n\
                 ```json\n{{}}\n```\n"
        );
        let dir = workspace(&[
            ("docs/a.md", &md),
            ("crates/c/examples/e.rs", example),
            ("crates/c/src/lib.rs", ""),
        ]);
        let found = found(&dir);
        assert_eq!(
            found,
            [
                "docs/a.md:5: the block differs from crates/c/examples/e.rs#start: copy it again",
                "docs/a.md:9: crates/c/src/lib.rs is not under an examples/ directory",
                "docs/a.md:12: crates/c/examples/e.rs has no region `gone`",
            ],
        );
    }
}
