//! Release versions (`X.Y.Z`) and the bump rules of `cargo xtask release`.

use std::fmt;
use std::str::FromStr;

use crate::failure::{self, ErrorKind};
use anyhow::Result;

/// A release version `MAJOR.MINOR.PATCH` (pre-release and build suffixes are not used here).
///
/// ```
/// use xtask::Version;
///
/// let v: Version = "0.1.0".parse().unwrap();
/// assert_eq!(v, Version::new(0, 1, 0));
/// assert_eq!(v.to_string(), "0.1.0");
/// assert!("1.2".parse::<Version>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incompatible API changes.
    pub major: u64,
    /// Compatible additions (for `0.x`, the breaking-change level).
    pub minor: u64,
    /// Fixes.
    pub patch: u64,
}

impl Version {
    /// The version `major.minor.patch`.
    ///
    /// ```
    /// assert_eq!(xtask::Version::new(1, 2, 3).to_string(), "1.2.3");
    /// ```
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            failure::invalid(format!(
                "`{s}` is not a release version: expected MAJOR.MINOR.PATCH, like 1.4.2"
            ))
        };
        let mut parts = s.split('.');
        let mut number = || -> Result<u64> {
            let part = parts.next().ok_or_else(bad)?;
            let digits_only = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            // Semantic versioning forbids leading zeros ("01").
            if !digits_only || (part.len() > 1 && part.starts_with('0')) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let version = Self::new(number()?, number()?, number()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

/// What `cargo xtask release` was asked for: a level to bump, or an exact version.
///
/// ```
/// use xtask::{Bump, Version};
///
/// let current = Version::new(0, 4, 2);
/// assert_eq!("patch".parse::<Bump>().unwrap().apply(current).unwrap(), Version::new(0, 4, 3));
/// assert_eq!("minor".parse::<Bump>().unwrap().apply(current).unwrap(), Version::new(0, 5, 0));
/// assert_eq!("major".parse::<Bump>().unwrap().apply(current).unwrap(), Version::new(1, 0, 0));
/// assert_eq!("0.9.0".parse::<Bump>().unwrap().apply(current).unwrap(), Version::new(0, 9, 0));
/// assert!("0.4.2".parse::<Bump>().unwrap().apply(current).is_err()); // not greater
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// `X.Y.Z` -> `(X+1).0.0`.
    Major,
    /// `X.Y.Z` -> `X.(Y+1).0`.
    Minor,
    /// `X.Y.Z` -> `X.Y.(Z+1)`.
    Patch,
    /// Exactly this version, which must be greater than the current one.
    Exact(Version),
}

impl Bump {
    /// The version that follows `current`; refuses an exact version that is not greater.
    ///
    /// ```
    /// use xtask::{Bump, ErrorKind, KindOf, Version};
    ///
    /// let err = Bump::Exact(Version::new(0, 1, 0)).apply(Version::new(0, 2, 0)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Refused);
    /// assert!(err.to_string().contains("not greater than the current version 0.2.0"));
    /// ```
    pub fn apply(self, current: Version) -> Result<Version> {
        let next = match self {
            Self::Major => Version::new(current.major + 1, 0, 0),
            Self::Minor => Version::new(current.major, current.minor + 1, 0),
            Self::Patch => Version::new(current.major, current.minor, current.patch + 1),
            Self::Exact(v) => v,
        };
        if next <= current {
            return Err(failure::refused(format!(
                "version {next} is not greater than the current version {current}"
            )));
        }
        Ok(next)
    }
}

impl FromStr for Bump {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "major" => Ok(Self::Major),
            "minor" => Ok(Self::Minor),
            "patch" => Ok(Self::Patch),
            _ => s.parse().map(Self::Exact).map_err(|_| {
                failure::new(
                    ErrorKind::Usage,
                    format!("`{s}` is neither major, minor, patch nor a version X.Y.Z"),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::KindOf as _;

    #[test]
    fn parses_plain_versions_only() {
        assert_eq!(
            "10.20.30".parse::<Version>().unwrap(),
            Version::new(10, 20, 30)
        );
        assert_eq!("0.0.0".parse::<Version>().unwrap(), Version::new(0, 0, 0));
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "v1.2.3",
            "01.2.3",
            "1.02.3",
            "1.2.3-rc.1",
            "1.2.3+build",
            "1..3",
            " 1.2.3",
            "a.b.c",
            "1.2.-3",
            "99999999999999999999.0.0",
        ] {
            let err = bad.parse::<Version>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Invalid, "{bad:?}");
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn orders_numerically() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(v("0.10.0") > v("0.9.9"));
        assert!(v("1.0.0") > v("0.99.99"));
        assert!(v("0.1.10") > v("0.1.9"));
    }

    #[test]
    fn bump_levels_reset_the_lower_parts() {
        let current = Version::new(1, 7, 9);
        assert_eq!(Bump::Major.apply(current).unwrap(), Version::new(2, 0, 0));
        assert_eq!(Bump::Minor.apply(current).unwrap(), Version::new(1, 8, 0));
        assert_eq!(Bump::Patch.apply(current).unwrap(), Version::new(1, 7, 10));
        let zero = Version::new(0, 1, 0);
        assert_eq!(Bump::Patch.apply(zero).unwrap(), Version::new(0, 1, 1));
        assert_eq!(Bump::Minor.apply(zero).unwrap(), Version::new(0, 2, 0));
        assert_eq!(Bump::Major.apply(zero).unwrap(), Version::new(1, 0, 0));
    }

    #[test]
    fn exact_versions_must_be_greater() {
        let current = Version::new(0, 3, 1);
        assert_eq!(
            Bump::Exact(Version::new(0, 3, 2)).apply(current).unwrap(),
            Version::new(0, 3, 2)
        );
        for not_greater in [
            Version::new(0, 3, 1),
            Version::new(0, 3, 0),
            Version::new(0, 2, 9),
        ] {
            let err = Bump::Exact(not_greater).apply(current).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Refused);
            assert_eq!(
                err.to_string(),
                format!("version {not_greater} is not greater than the current version 0.3.1")
            );
        }
    }

    #[test]
    fn bump_arguments() {
        assert_eq!("major".parse::<Bump>().unwrap(), Bump::Major);
        assert_eq!("minor".parse::<Bump>().unwrap(), Bump::Minor);
        assert_eq!("patch".parse::<Bump>().unwrap(), Bump::Patch);
        assert_eq!(
            "2.0.0".parse::<Bump>().unwrap(),
            Bump::Exact(Version::new(2, 0, 0))
        );
        for bad in ["Patch", "micro", "2.0", "v2.0.0", ""] {
            let err = bad.parse::<Bump>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{bad:?}");
            assert!(
                err.to_string()
                    .contains("neither major, minor, patch nor a version X.Y.Z")
            );
        }
    }
}
