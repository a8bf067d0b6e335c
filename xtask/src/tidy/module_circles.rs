//! The module-circle counter: per crate target (library, binaries), the graph of modules (a
//! file or an inline `mod`) joined by the `crate::…` and `super::…` paths of non-test code
//! (`#[cfg(test)]` items are skipped); its strongly connected components of more than one
//! module are circles: modules that cannot be understood, nor moved, one without the other.
//! `cargo xtask tidy` prints every circle, and fails when the workspace has more than
//! [`MAX_MODULE_CIRCLES`].
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let root = dir.path();
//! std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"a\"]\n").unwrap();
//! std::fs::create_dir_all(root.join("a/src")).unwrap();
//! std::fs::write(root.join("a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
//! std::fs::write(root.join("a/src/lib.rs"), "mod model;\nmod scenario;\n").unwrap();
//! std::fs::write(root.join("a/src/model.rs"), "use crate::scenario::Scenario;\n").unwrap();
//! std::fs::write(root.join("a/src/scenario.rs"), "pub fn f() { super::model::g() }\n").unwrap();
//! let circles = xtask::tidy::module_circles::circles(root);
//! assert_eq!(circles.len(), 1);
//! assert_eq!(circles[0].to_string(), "a (lib): model <-> scenario");
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::Problem;
use super::members::load;
use super::rust_tokens::{Token, tokens};

/// The most module circles the workspace may have. Issue 17 allowed 3, none between a type and
/// what validates it; main had 9 when this rule came, and the splits of issue 17 removed them
/// all: a new circle is a design knot to untie, not to count.
pub const MAX_MODULE_CIRCLES: usize = 0;

/// Modules of one crate target that use each other, directly or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Circle {
    /// The crate and its target: `pims-sim (lib)`, `pims-cli (bin main)`.
    pub target: String,
    /// The modules, sorted, as paths from the target's root (`crate` for the root itself).
    pub modules: Vec<String>,
}

impl fmt::Display for Circle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.modules.join(" <-> "))
    }
}

/// Every module circle of the workspace at `root`, crate by crate.
pub fn circles(root: &Path) -> Vec<Circle> {
    let mut out = Vec::new();
    for member in load(root) {
        for (target, file) in targets(&member.dir) {
            let graph = Graph::of_target(&file);
            for modules in graph.circles() {
                out.push(Circle {
                    target: format!("{} ({target})", member.name),
                    modules,
                });
            }
        }
    }
    out
}

/// A problem when the workspace has more circles than [`MAX_MODULE_CIRCLES`].
pub fn check(root: &Path) -> Vec<Problem> {
    let found = circles(root);
    if found.len() > MAX_MODULE_CIRCLES {
        return vec![too_many(&found)];
    }
    Vec::new()
}

/// The problem of more circles than allowed, each listed.
fn too_many(found: &[Circle]) -> Problem {
    let list: Vec<String> = found.iter().map(|c| format!("  {c}")).collect();
    Problem::new(
        "Cargo.toml",
        format!(
            "{} module circles, more than {MAX_MODULE_CIRCLES} (MAX_MODULE_CIRCLES in \
             xtask/src/tidy/module_circles.rs): split a module along its seam or move the shared \
             piece below both:\n{}",
            found.len(),
            list.join("\n")
        ),
    )
}

/// The circles as `cargo xtask tidy` prints them.
pub fn summary(root: &Path) -> String {
    let found = circles(root);
    let mut out = format!(
        "tidy: {} module circle{} (at most {MAX_MODULE_CIRCLES})",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    );
    for circle in &found {
        out.push_str(&format!("\ntidy:   {circle}"));
    }
    out
}

/// The crate roots of a crate directory: (label, file).
fn targets(dir: &Path) -> Vec<(String, PathBuf)> {
    let src = dir.join("src");
    let mut out = Vec::new();
    if src.join("lib.rs").is_file() {
        out.push(("lib".to_owned(), src.join("lib.rs")));
    }
    if src.join("main.rs").is_file() {
        out.push(("bin main".to_owned(), src.join("main.rs")));
    }
    let mut bins: Vec<PathBuf> = fs::read_dir(src.join("bin"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    bins.sort();
    for bin in bins {
        let (name, file) = if bin.is_dir() {
            (bin.file_name(), bin.join("main.rs"))
        } else {
            (bin.file_stem(), bin.clone())
        };
        if file.is_file() {
            let name = name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((format!("bin {name}"), file));
        }
    }
    out
}

/// The modules of one target and the paths between them.
#[derive(Debug, Default)]
struct Graph {
    /// Every module, as its segments from the root (`[]` is the root).
    modules: BTreeSet<Vec<String>>,
    /// (from module, absolute path used): resolved to modules once all are known.
    uses: Vec<(Vec<String>, Vec<String>)>,
}

impl Graph {
    fn of_target(root_file: &Path) -> Self {
        let mut graph = Self::default();
        let dir = root_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        graph.walk_file(root_file, Vec::new(), dir);
        graph
    }

    /// Reads the module `module` from `file`; its `mod x;` children live in `child_dir`.
    fn walk_file(&mut self, file: &Path, module: Vec<String>, child_dir: PathBuf) {
        let Ok(text) = fs::read_to_string(file) else {
            return;
        };
        self.modules.insert(module.clone());
        let toks = tokens(&text);
        // (module, its child directory, the brace depth its block closes at)
        let mut stack: Vec<(Vec<String>, PathBuf, usize)> = vec![(module, child_dir, 0)];
        let mut depth = 0;
        let mut in_test = false;
        let mut i = 0;
        while i < toks.len() {
            let (current, dir, _) = stack.last().cloned().unwrap_or_default();
            match &toks[i] {
                Token::Punct('#') => {
                    let (is_test, end) = attribute(&toks, i);
                    in_test |= is_test;
                    i = end;
                    continue;
                }
                _ if in_test => {
                    in_test = false;
                    i = skip_item(&toks, i);
                    continue;
                }
                Token::Ident(kw) if kw == "mod" => {
                    if let Some(Token::Ident(name)) = toks.get(i + 1) {
                        let mut child = current.clone();
                        child.push(name.clone());
                        match toks.get(i + 2) {
                            Some(Token::Punct(';')) => {
                                let file = [
                                    dir.join(format!("{name}.rs")),
                                    dir.join(name).join("mod.rs"),
                                ]
                                .into_iter()
                                .find(|f| f.is_file());
                                if let Some(file) = file {
                                    self.walk_file(&file, child, dir.join(name));
                                }
                                i += 3;
                                continue;
                            }
                            Some(Token::Punct('{')) => {
                                depth += 1;
                                self.modules.insert(child.clone());
                                stack.push((child, dir.join(name), depth));
                                i += 3;
                                continue;
                            }
                            _ => {}
                        }
                    }
                }
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => {
                    if stack.len() > 1 && stack.last().is_some_and(|(_, _, d)| *d == depth) {
                        stack.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                Token::Ident(kw) if (kw == "crate" || kw == "super") => {
                    let after_dollar = i > 0 && toks[i - 1] == Token::Punct('$');
                    let after_sep = i > 0 && toks[i - 1] == Token::PathSep;
                    if toks.get(i + 1) == Some(&Token::PathSep) && !after_dollar && !after_sep {
                        let (base, start) = base_of(&toks, i, &current);
                        let (paths, end) = path_tree(&toks, start);
                        for path in paths {
                            let mut abs = base.clone();
                            abs.extend(path.into_iter().filter(|s| s != "self"));
                            self.uses.push((current.clone(), abs));
                        }
                        i = end.max(i + 1);
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// The module a used path lands in: its longest prefix that is a module.
    fn resolve(&self, path: &[String]) -> Vec<String> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| self.modules.contains(prefix))
            .unwrap_or_default()
    }

    /// The strongly connected components of more than one module, each sorted, by name.
    fn circles(&self) -> Vec<Vec<String>> {
        let index: BTreeMap<&Vec<String>, usize> = self
            .modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m, i))
            .collect();
        let names: Vec<String> = self
            .modules
            .iter()
            .map(|m| {
                if m.is_empty() {
                    "crate".to_owned()
                } else {
                    m.join("::")
                }
            })
            .collect();
        let mut edges = vec![BTreeSet::new(); names.len()];
        for (from, path) in &self.uses {
            let to = self.resolve(path);
            if let (Some(&a), Some(&b)) = (index.get(from), index.get(&to))
                && a != b
            {
                edges[a].insert(b);
            }
        }
        let mut out: Vec<Vec<String>> = strongly_connected(&edges)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut c: Vec<String> = c.into_iter().map(|i| names[i].clone()).collect();
                c.sort();
                c
            })
            .collect();
        out.sort();
        out
    }
}

/// An attribute starting at `#`: whether it is `cfg(test)`, and the index after it.
fn attribute(toks: &[Token], i: usize) -> (bool, usize) {
    let mut j = i + 1;
    let inner = toks.get(j) == Some(&Token::Punct('!'));
    if inner {
        j += 1;
    }
    if toks.get(j) != Some(&Token::Punct('[')) {
        return (false, i + 1);
    }
    let end = matching(toks, j, '[', ']');
    let body = &toks[j + 1..end.saturating_sub(1).max(j + 1)];
    let is_test = !inner
        && body
            == [
                Token::Ident("cfg".into()),
                Token::Punct('('),
                Token::Ident("test".into()),
                Token::Punct(')'),
            ];
    (is_test, end)
}

/// The index after the item starting at `i`: its `;` or its closing brace.
fn skip_item(toks: &[Token], mut i: usize) -> usize {
    while i < toks.len() {
        match toks[i] {
            Token::Punct(';') => return i + 1,
            Token::Punct('{') => return matching(toks, i, '{', '}'),
            _ => i += 1,
        }
    }
    i
}

/// The index after the `close` matching the `open` at `i`.
fn matching(toks: &[Token], i: usize, open: char, close: char) -> usize {
    let mut depth = 0;
    let mut j = i;
    while j < toks.len() {
        if toks[j] == Token::Punct(open) {
            depth += 1;
        } else if toks[j] == Token::Punct(close) {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
        j += 1;
    }
    j
}

/// `crate::` or `super::super::` at `i`: the absolute module it starts from, and the index of
/// the rest of the path.
fn base_of(toks: &[Token], mut i: usize, current: &[String]) -> (Vec<String>, usize) {
    if toks[i] == Token::Ident("crate".into()) {
        return (Vec::new(), i + 2);
    }
    let mut base = current.to_vec();
    while toks.get(i) == Some(&Token::Ident("super".into()))
        && toks.get(i + 1) == Some(&Token::PathSep)
    {
        base.pop();
        i += 2;
    }
    (base, i)
}

/// The paths of a use tree or a plain path starting at `i` (`a::b`, `a::{b, c::d}`, `a::*`),
/// and the index after it.
fn path_tree(toks: &[Token], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut segments = Vec::new();
    loop {
        match toks.get(i) {
            Some(Token::Ident(s)) => {
                segments.push(s.clone());
                i += 1;
                if toks.get(i) == Some(&Token::PathSep) {
                    i += 1;
                    continue;
                }
                return (vec![segments], i);
            }
            Some(Token::Punct('{')) => {
                i += 1;
                let mut out = Vec::new();
                while i < toks.len() && toks[i] != Token::Punct('}') {
                    let (paths, next) = path_tree(toks, i);
                    for p in paths {
                        let mut full = segments.clone();
                        full.extend(p);
                        out.push(full);
                    }
                    i = next.max(i + 1);
                    // `b as c`: the alias is not a path.
                    while i < toks.len()
                        && toks[i] != Token::Punct(',')
                        && toks[i] != Token::Punct('}')
                    {
                        i += 1;
                    }
                    if toks.get(i) == Some(&Token::Punct(',')) {
                        i += 1;
                    }
                }
                return (out, i + 1);
            }
            _ => return (vec![segments], i),
        }
    }
}

/// Tarjan's strongly connected components of the graph `edges` (adjacency sets).
fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeSet<usize>],
        next: usize,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on_stack: Vec<bool>,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        next: 0,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on_stack: vec![false; n],
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_of(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = [\"a\"]\n").unwrap();
        fs::create_dir_all(root.join("a/src")).unwrap();
        fs::write(root.join("a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        for (path, text) in files {
            let file = root.join("a/src").join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, text).unwrap();
        }
        dir
    }

    fn listed(dir: &tempfile::TempDir) -> Vec<String> {
        circles(dir.path())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn files_inline_modules_groups_and_super_chains() {
        let dir = crate_of(&[
            (
                "lib.rs",
                "pub mod session;\npub mod commands;\nmod clean;\n",
            ),
            (
                "session.rs",
                "use crate::commands::{cache::{Purge, self}, other as o};\n",
            ),
            (
                "commands/mod.rs",
                "pub mod cache;\nmod inner { fn f() { super::super::clean::g() } }\n",
            ),
            (
                "commands/cache.rs",
                "pub fn f() { crate::session::open(); }\n",
            ),
            (
                "clean.rs",
                "pub fn g() { crate::commands::inner::h(); crate::commands::f(); }\n",
            ),
        ]);
        // inner -> clean -> inner (clean -> commands is one way: declaring a module is no edge),
        // and session <-> commands::cache through a group.
        assert_eq!(
            listed(&dir),
            [
                "a (lib): clean <-> commands::inner",
                "a (lib): commands::cache <-> session"
            ]
        );
    }

    #[test]
    fn test_code_comments_strings_and_macros_make_no_edge() {
        let dir = crate_of(&[
            ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;\n"),
            (
                "a.rs",
                "use crate::b::B;\n\
                 #[cfg(test)]\nmod tests { use crate::a::x; fn f() { crate::b::y() } }\n",
            ),
            (
                "b.rs",
                "/// [`crate::a`]\n// crate::a::x\nconst S: &str = \"crate::a\";\n\
                 macro_rules! m { () => { $crate::a::x } }\n\
                 #[cfg(test)]\nuse crate::a::Y;\n\
                 #[cfg(test)]\nfn helper() { crate::a::z(); }\n\
                 pub(crate) struct B;\n",
            ),
            ("tests.rs", "use crate::a::A;\nuse crate::b::B;\n"),
        ]);
        assert_eq!(listed(&dir), Vec::<String>::new());
    }

    #[test]
    fn a_workspace_over_the_limit_fails_and_lists_them() {
        let mut files = vec![(String::from("lib.rs"), String::new())];
        for n in 0..=MAX_MODULE_CIRCLES {
            files[0].1.push_str(&format!("mod x{n};\nmod y{n};\n"));
            files.push((format!("x{n}.rs"), format!("use crate::y{n}::Y;\n")));
            files.push((format!("y{n}.rs"), format!("use super::x{n}::X;\n")));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let dir = crate_of(&refs);
        assert_eq!(circles(dir.path()).len(), MAX_MODULE_CIRCLES + 1);
        let problems = check(dir.path());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("a (lib): x0 <-> y0"),
            "{}",
            problems[0]
        );
        let last = format!("tidy:   a (lib): x{m} <-> y{m}", m = MAX_MODULE_CIRCLES);
        assert!(summary(dir.path()).contains(&last));
    }
}
