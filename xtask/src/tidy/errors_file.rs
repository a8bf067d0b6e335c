//! The error catalogue `crates/pims-types/errors.tsv`: a header and 100 rows of 5
//! tab-separated columns with unique codes, identical to the spec's copy
//! (`../shared/spec/errors.tsv`) when that sits beside the checkout. That the code agrees with
//! the file is proven by pims-types' own tests (it embeds the file).
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let problems = xtask::tidy::errors_file::check(dir.path());
//! assert_eq!(problems[0].to_string(), "crates/pims-types/errors.tsv: missing");
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::Problem;

/// The catalogue, relative to the workspace root.
pub const ERRORS_FILE: &str = "crates/pims-types/errors.tsv";

/// The spec's copy, relative to the workspace root (optional: only beside a checkout).
pub const SPEC_ERRORS_FILE: &str = "../shared/spec/errors.tsv";

/// Data rows the catalogue has.
pub const ROWS: usize = 100;

/// Columns of every line: code, category, label, suberrors, remedy.
pub const COLUMNS: usize = 5;

/// Problems of the catalogue file of the workspace at `root`.
pub fn check(root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Ok(bytes) = fs::read(root.join(ERRORS_FILE)) else {
        problems.push(Problem::new(ERRORS_FILE, "missing"));
        return problems;
    };
    check_contents(&bytes, &mut problems);
    if let Ok(spec) = fs::read(root.join(SPEC_ERRORS_FILE))
        && spec != bytes
    {
        problems.push(Problem::new(
            ERRORS_FILE,
            format!("differs from the spec's {SPEC_ERRORS_FILE}: copy it again"),
        ));
    }
    problems
}

fn check_contents(bytes: &[u8], problems: &mut Vec<Problem>) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.push(Problem::new(ERRORS_FILE, "not UTF-8"));
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut codes = BTreeSet::new();
    let mut rows = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            problems.push(Problem::at(ERRORS_FILE, i + 1, "empty line"));
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() != COLUMNS {
            problems.push(Problem::at(
                ERRORS_FILE,
                i + 1,
                format!("{} columns, expected {COLUMNS}", columns.len()),
            ));
        }
        if i == 0 {
            continue; // the header
        }
        rows += 1;
        let code = columns[0];
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(Problem::at(
                ERRORS_FILE,
                i + 1,
                format!("code `{code}` is not a number"),
            ));
        } else if !codes.insert(code) {
            problems.push(Problem::at(
                ERRORS_FILE,
                i + 1,
                format!("code {code} appears twice"),
            ));
        }
    }
    if rows != ROWS {
        problems.push(Problem::new(
            ERRORS_FILE,
            format!("{rows} rows after the header, expected {ROWS}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(rows: usize) -> String {
        let mut text = String::from("code\tcategory\tlabel\tsuberrors\tremedy\n");
        for i in 0..rows {
            text.push_str(&format!(
                "{}\tGeneric error\tLabel {i}\tno\treport\n",
                2000 + i
            ));
        }
        text
    }

    fn problems(text: &str) -> Vec<String> {
        let mut p = Vec::new();
        check_contents(text.as_bytes(), &mut p);
        p.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_full_catalogue_passes() {
        assert_eq!(problems(&catalogue(ROWS)), Vec::<String>::new());
    }

    #[test]
    fn wrong_shapes_are_reported() {
        assert_eq!(
            problems(&catalogue(99)),
            ["crates/pims-types/errors.tsv: 99 rows after the header, expected 100"]
        );
        let duplicated = catalogue(ROWS).replace("2001\t", "2000\t");
        assert_eq!(
            problems(&duplicated),
            ["crates/pims-types/errors.tsv:3: code 2000 appears twice"]
        );
        let short = catalogue(ROWS).replace("Label 5\tno\treport", "Label 5\tno");
        assert_eq!(
            problems(&short),
            ["crates/pims-types/errors.tsv:7: 4 columns, expected 5"]
        );
        let word = catalogue(ROWS).replace("2009\t", "x\t");
        assert_eq!(
            problems(&word),
            ["crates/pims-types/errors.tsv:11: code `x` is not a number"]
        );
    }

    #[test]
    fn differs_from_the_spec_copy_beside_the_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("main");
        fs::create_dir_all(root.join("crates/pims-types")).unwrap();
        fs::create_dir_all(dir.path().join("shared/spec")).unwrap();
        fs::write(root.join(ERRORS_FILE), catalogue(ROWS)).unwrap();
        // Absent spec: nothing to compare.
        assert_eq!(check(&root), []);
        fs::write(dir.path().join("shared/spec/errors.tsv"), catalogue(ROWS)).unwrap();
        assert_eq!(check(&root), []);
        fs::write(
            dir.path().join("shared/spec/errors.tsv"),
            catalogue(ROWS).replace("Label 7", "Label seven"),
        )
        .unwrap();
        let found: Vec<String> = check(&root).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "crates/pims-types/errors.tsv: differs from the spec's ../shared/spec/errors.tsv: copy it again"
            ]
        );
    }
}
