//! The cache namespace of a backend and a token (the facade's `account`): `<backend>#` + 16 hex
//! digits of a SHA-256 of both, never the token itself, so that lists seen through one backend
//! and token are never served for another; and the backend read back from a namespace, as
//! `cache show` names it. The backend is the URL as [`crate::backend_url`] keeps it: no
//! credentials, query or fragment.

use pims::Secret;
use sha2::{Digest, Sha256};

use crate::backend_location::BackendLocation;

/// Longest backend label kept readable in a namespace (the cache takes 256 bytes).
const MAX_LABEL_IN_NAMESPACE: usize = 200;

/// The cache namespace of a backend and token: `<backend>#<16 hex digits>`, the digits from a
/// SHA-256 of both (never the token itself), the backend readable for `cache show`.
pub(crate) fn namespace(backend: &BackendLocation, token: &Secret) -> String {
    let mut hash = Sha256::new();
    hash.update(b"pims-cli/v1\n");
    hash.update(backend.label().as_bytes());
    hash.update(b"\n");
    hash.update(token.expose().as_bytes());
    let digest = hex::encode(&hash.finalize()[..8]);
    let label = backend.label();
    if label.len() <= MAX_LABEL_IN_NAMESPACE && !label.contains(char::is_control) {
        format!("{label}#{digest}")
    } else {
        format!("long-url#{digest}")
    }
}

/// The backend part of a namespace made by [`namespace`] (the whole string otherwise), as it
/// may be shown: a URL without credentials, query or fragment, whoever wrote the namespace.
/// It is not escaped: a table escapes its cells ([`crate::render::table`]).
pub(crate) fn backend_of(namespace: &str) -> String {
    let backend = namespace.rsplit_once('#').map_or(namespace, |(b, _)| b);
    crate::backend_url::shown(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_never_show_the_token() {
        let token = Secret::new("CANARY-TOKEN");
        let ns = namespace(&BackendLocation::Embedded, &token);
        assert!(ns.starts_with("embedded#") && ns.len() == 25, "{ns}");
        assert_eq!(backend_of(&ns), "embedded");
        assert!(!ns.contains("CANARY"));
        assert_eq!(ns, namespace(&BackendLocation::Embedded, &token));
        assert_ne!(
            ns,
            namespace(
                &BackendLocation::Remote("http://127.0.0.1:8080".into()),
                &token
            )
        );
        assert_ne!(
            ns,
            namespace(&BackendLocation::Embedded, &Secret::new("other"))
        );
    }

    #[test]
    fn namespaces_never_show_credentials_or_queries() {
        let token = Secret::new("t");
        assert!(BackendLocation::from_flag(Some("http://u:CANARY@127.0.0.1:8080")).is_err());
        assert!(BackendLocation::from_flag(Some("http://127.0.0.1:8080/?token=CANARY")).is_err());
        let ns = namespace(
            &BackendLocation::from_flag(Some("http://127.0.0.1:8080")).unwrap(),
            &token,
        );
        assert_eq!(backend_of(&ns), "http://127.0.0.1:8080");
        // A namespace written by someone else is shown without them.
        assert_eq!(
            backend_of("https://u:CANARY@h.example/?token=CANARY#0123456789abcdef"),
            "https://h.example"
        );
    }
}
