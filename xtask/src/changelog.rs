//! `CHANGELOG.md` in the [Keep a Changelog](https://keepachangelog.com/en/1.1.0/) format: the
//! `## [Unreleased]` section, and moving it under a version and a date at release time.
//!
//! ```
//! use xtask::{changelog, Date, Version};
//!
//! let text = "# Changelog\n\n## [Unreleased]\n\n### Added\n- the `pims` command\n";
//! let released = changelog::release(text, Version::new(0, 2, 0), Date::constant(2026, 12, 1)).unwrap();
//! assert_eq!(
//!     released,
//!     "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n\n### Added\n- the `pims` command\n"
//! );
//! ```

use crate::failure::{self};
use crate::version::Version;
use anyhow::Result;
use jiff::civil::Date;

/// The heading of the section that collects changes until the next release.
pub const UNRELEASED_HEADING: &str = "## [Unreleased]";

/// The lines of `text`, each with its line ending.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn is_unreleased_heading(line: &str) -> bool {
    line.trim_end().eq_ignore_ascii_case(UNRELEASED_HEADING)
}

/// A link reference definition, like `[unreleased]: https://...`.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

/// The version of a release heading `## [1.2.3] - 2026-12-01`.
fn release_heading(line: &str) -> Option<Version> {
    let rest = line.strip_prefix("## [")?;
    let (version, _) = rest.split_once(']')?;
    version.parse().ok()
}

fn is_entry(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("- ") || t.starts_with("* ") || t.starts_with("+ ")
}

/// Where the unreleased section starts (its heading) and ends (exclusive).
fn unreleased_span(lines: &[&str]) -> Result<(usize, usize)> {
    let start = lines
        .iter()
        .position(|l| is_unreleased_heading(l))
        .ok_or_else(|| {
            failure::refused(format!(
                "CHANGELOG.md has no `{UNRELEASED_HEADING}` section (Keep a Changelog format): \
                 add one listing the changes of this release"
            ))
        })?;
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with("## ") || is_link_definition(l))
        .map_or(lines.len(), |i| start + 1 + i);
    Ok((start, end))
}

/// The versions that have a section, in file order (newest first in a well-kept file).
///
/// ```
/// use xtask::{changelog, Version};
///
/// let text = "## [Unreleased]\n## [0.2.0] - 2026-11-02\n## [0.1.0] - 2026-10-01\n";
/// assert_eq!(changelog::released_versions(text), [Version::new(0, 2, 0), Version::new(0, 1, 0)]);
/// ```
pub fn released_versions(text: &str) -> Vec<Version> {
    lines(text)
        .into_iter()
        .filter_map(release_heading)
        .collect()
}

/// The body of the `## [Unreleased]` section, trimmed; refuses a missing or empty section.
///
/// ```
/// use xtask::changelog;
///
/// let text = "## [Unreleased]\n\n### Fixed\n- a crash\n\n## [0.1.0] - 2026-10-01\n";
/// assert_eq!(changelog::unreleased_notes(text).unwrap(), "### Fixed\n- a crash");
/// assert!(changelog::unreleased_notes("## [Unreleased]\n\n## [0.1.0]\n").is_err());
/// ```
pub fn unreleased_notes(text: &str) -> Result<String> {
    let lines = lines(text);
    let (start, end) = unreleased_span(&lines)?;
    let body = &lines[start + 1..end];
    if !body.iter().any(|l| is_entry(l)) {
        return Err(failure::refused(format!(
            "the `{UNRELEASED_HEADING}` section of CHANGELOG.md lists no changes: \
             describe what this release changes there first"
        )));
    }
    Ok(body.concat().trim().to_owned())
}

/// Moves the unreleased notes under `## [version] - date`, leaves an empty `## [Unreleased]`
/// above it, and updates the comparison links at the bottom when the file has them.
///
/// Refuses a missing or empty unreleased section, a version that already has a section, and a
/// version that is not greater than every released one.
///
/// ```
/// use xtask::{changelog, Date, Version};
///
/// let text = "## [Unreleased]\n- faster\n\n## [0.1.0] - 2026-10-01\n- first\n\n\
///             [unreleased]: https://example.com/r/compare/v0.1.0...HEAD\n\
///             [0.1.0]: https://example.com/r/releases/tag/v0.1.0\n";
/// let out = changelog::release(text, Version::new(0, 1, 1), Date::constant(2026, 12, 1)).unwrap();
/// assert!(out.contains("## [Unreleased]\n\n## [0.1.1] - 2026-12-01\n\n- faster\n\n## [0.1.0]"));
/// assert!(out.contains("[unreleased]: https://example.com/r/compare/v0.1.1...HEAD\n\
///                       [0.1.1]: https://example.com/r/compare/v0.1.0...v0.1.1\n"));
/// ```
pub fn release(text: &str, version: Version, date: Date) -> Result<String> {
    let lines = lines(text);
    let (start, end) = unreleased_span(&lines)?;
    unreleased_notes(text)?;
    let released = released_versions(text);
    if released.contains(&version) {
        return Err(failure::refused(format!(
            "CHANGELOG.md already has a section for {version}"
        )));
    }
    let previous = released.iter().max().copied();
    if let Some(latest) = previous.filter(|latest| *latest > version) {
        return Err(failure::refused(format!(
            "CHANGELOG.md already documents {latest}, later than {version}"
        )));
    }

    let mut body = &lines[start + 1..end];
    while body.first().is_some_and(|l| l.trim().is_empty()) {
        body = &body[1..];
    }
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body = &body[..body.len() - 1];
    }

    let mut out = String::with_capacity(text.len() + 256);
    for line in &lines[..=start] {
        push_line(&mut out, line);
    }
    out.push('\n');
    out.push_str(&format!("## [{version}] - {date}\n\n"));
    for line in body {
        push_line(&mut out, line);
    }
    if end < lines.len() {
        out.push('\n');
    }
    for line in &lines[end..] {
        match compare_base(line) {
            Some(base) => {
                out.push_str(&format!("[unreleased]: {base}/compare/v{version}...HEAD\n"));
                match previous {
                    Some(prev) => out.push_str(&format!(
                        "[{version}]: {base}/compare/v{prev}...v{version}\n"
                    )),
                    None => out.push_str(&format!("[{version}]: {base}/releases/tag/v{version}\n")),
                }
            }
            None => push_line(&mut out, line),
        }
    }
    Ok(out)
}

/// The repository address of an `[unreleased]: <repo>/compare/vX...HEAD` link.
fn compare_base(line: &str) -> Option<&str> {
    let (label, url) = line.split_once("]: ")?;
    if !label.eq_ignore_ascii_case("[unreleased") {
        return None;
    }
    let url = url.trim();
    url.find("/compare/").map(|i| &url[..i])
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::KindOf as _;

    const DATE: Date = Date::constant(2026, 12, 1);

    const FIRST: &str = "\
# Changelog

All notable changes to this project will be documented in this file.

## [Unreleased]

### Added
- pims-types: the wire model.
- xtask: `cargo xtask ci`.

[unreleased]: https://github.com/pims-rs/pims-rs/compare/v0.1.0...HEAD
";

    #[test]
    fn first_release_moves_notes_and_adds_a_tag_link() {
        let out = release(FIRST, Version::new(0, 1, 1), DATE).unwrap();
        assert_eq!(
            out,
            "\
# Changelog

All notable changes to this project will be documented in this file.

## [Unreleased]

## [0.1.1] - 2026-12-01

### Added
- pims-types: the wire model.
- xtask: `cargo xtask ci`.

[unreleased]: https://github.com/pims-rs/pims-rs/compare/v0.1.1...HEAD
[0.1.1]: https://github.com/pims-rs/pims-rs/releases/tag/v0.1.1
"
        );
    }

    #[test]
    fn second_release_links_the_comparison_with_the_previous_one() {
        let once = release(FIRST, Version::new(0, 1, 1), DATE).unwrap();
        let with_notes = once.replace(
            "## [Unreleased]\n\n",
            "## [Unreleased]\n\n### Fixed\n- cache: lock file left behind.\n\n",
        );
        let twice = release(
            &with_notes,
            Version::new(0, 2, 0),
            Date::constant(2027, 1, 5),
        )
        .unwrap();
        assert!(twice.contains(
            "## [Unreleased]\n\n## [0.2.0] - 2027-01-05\n\n### Fixed\n- cache: lock file left behind.\n\n## [0.1.1] - 2026-12-01\n"
        ), "{twice}");
        assert!(
            twice.ends_with(
                "[unreleased]: https://github.com/pims-rs/pims-rs/compare/v0.2.0...HEAD\n\
                 [0.2.0]: https://github.com/pims-rs/pims-rs/compare/v0.1.1...v0.2.0\n\
                 [0.1.1]: https://github.com/pims-rs/pims-rs/releases/tag/v0.1.1\n"
            ),
            "{twice}"
        );
        assert_eq!(
            released_versions(&twice),
            [Version::new(0, 2, 0), Version::new(0, 1, 1)]
        );
        // The released notes are gone from the unreleased section.
        assert_eq!(
            unreleased_notes(&twice).unwrap_err().kind(),
            ErrorKind::Refused
        );
    }

    #[test]
    fn files_without_links_or_trailing_newline_are_handled() {
        let text = "## [Unreleased]\n- one change";
        let out = release(text, Version::new(1, 0, 0), DATE).unwrap();
        assert_eq!(
            out,
            "## [Unreleased]\n\n## [1.0.0] - 2026-12-01\n\n- one change\n"
        );
    }

    #[test]
    fn refuses_a_missing_section() {
        let err = release("# Changelog\n\n- stray\n", Version::new(0, 2, 0), DATE).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
        assert!(
            err.to_string().contains("has no `## [Unreleased]` section"),
            "{err}"
        );
    }

    #[test]
    fn refuses_an_empty_section() {
        for text in [
            "## [Unreleased]\n",
            "## [Unreleased]\n\n### Added\n\n## [0.1.0] - 2026-10-01\n- old\n",
            "## [Unreleased]\n\n[unreleased]: https://x/compare/v0.1.0...HEAD\n",
        ] {
            let err = release(text, Version::new(0, 2, 0), DATE).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Refused, "{text:?}");
            assert!(err.to_string().contains("lists no changes"), "{err}");
        }
    }

    #[test]
    fn refuses_a_version_already_documented_or_older() {
        let text = "## [Unreleased]\n- new\n\n## [0.3.0] - 2026-10-01\n- old\n";
        let err = release(text, Version::new(0, 3, 0), DATE).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
        assert!(
            err.to_string().contains("already has a section for 0.3.0"),
            "{err}"
        );
        let err = release(text, Version::new(0, 2, 5), DATE).unwrap_err();
        assert!(err.to_string().contains("already documents 0.3.0"), "{err}");
    }

    #[test]
    fn heading_match_is_case_insensitive_and_notes_are_trimmed() {
        let text = "## [unreleased]  \n\n\n- a\n* b\n\n\n";
        assert_eq!(unreleased_notes(text).unwrap(), "- a\n* b");
    }

    #[test]
    fn sections_after_unreleased_are_kept_byte_for_byte() {
        let old = "## [0.1.0] - 2026-10-01\n\n### Added\n- first\n\n[0.1.0]: https://x/releases/tag/v0.1.0\n";
        let text = format!("## [Unreleased]\n- second\n\n{old}");
        let out = release(&text, Version::new(0, 1, 1), DATE).unwrap();
        assert!(out.ends_with(old), "{out}");
    }
}
