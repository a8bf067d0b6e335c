//! [`BackendLocation`]: which backend a command talks to, the simulator embedded in the process
//! or a remote one (`--url`).

use crate::failure::Failure;

/// Which backend a command talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BackendLocation {
    /// The simulator embedded in this process.
    Embedded,
    /// A backend at this base URL (no trailing slash).
    Remote(String),
}

impl BackendLocation {
    /// The backend from `--url`, checked ([`crate::backend_url::check`]: exit 2 for a URL
    /// carrying credentials, a query or a fragment, never echoing it).
    pub(crate) fn from_flag(url: Option<&str>) -> Result<BackendLocation, Failure> {
        Ok(match url {
            None => BackendLocation::Embedded,
            Some(u) => BackendLocation::Remote(crate::backend_url::check(u)?),
        })
    }

    /// How `cache show` names it.
    pub(crate) fn label(&self) -> &str {
        match self {
            BackendLocation::Embedded => "embedded",
            BackendLocation::Remote(url) => url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_trailing_slash() {
        assert_eq!(
            BackendLocation::from_flag(Some("http://127.0.0.1:8080/")).unwrap(),
            BackendLocation::Remote("http://127.0.0.1:8080".into())
        );
    }
}
