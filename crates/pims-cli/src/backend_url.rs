//! The backend URL of `--url`: checked before anything is opened, and kept (used, shown, put in
//! the cache namespace) only as `scheme://host[:port][/path]`.
//!
//! A URL carrying credentials (`https://user:password@host`) is refused: the access token goes
//! in `--token` or `PIMS_TOKEN`. A query or a fragment is refused too (`?token=…` is a secret in
//! a place that gets logged and shown). The refusal names the part at fault, never its value,
//! and never echoes the URL.

use url::Url;

use crate::failure::Failure;

/// What the refusals say about the token.
const TOKEN_ADVICE: &str = "the access token goes in --token TOKEN or PIMS_TOKEN";

/// The base URL in the one form pims keeps: scheme, host, port when not the default, path
/// without its trailing `/`; no credentials, query or fragment.
fn base(url: &Url) -> String {
    let mut out = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path().trim_end_matches('/'));
    out
}

/// Checks `--url`: the base URL as pims uses and shows it, or why it is refused (exit 2).
pub(crate) fn check(raw: &str) -> Result<String, Failure> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        // url's messages ("relative URL without a base", "invalid port number") never hold
        // the input.
        Failure::usage(format!(
            "--url is not a URL ({e}): give the backend's base URL, e.g. https://api.example.com"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Failure::usage(format!(
            "--url carries credentials (user:password@ before the host), which pims never sends \
             nor shows: give the URL without them; {TOKEN_ADVICE}"
        )));
    }
    if url.query().is_some() {
        return Err(Failure::usage(format!(
            "--url has a query (?… after the path), which pims never sends nor shows: give the \
             backend's base URL without it; {TOKEN_ADVICE}"
        )));
    }
    if url.fragment().is_some() {
        return Err(Failure::usage(
            "--url has a fragment (#… at the end), which pims never sends nor shows: give the \
             backend's base URL without it",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Failure::usage(
            "--url has no host: give the backend's base URL, e.g. https://api.example.com",
        ));
    }
    Ok(base(&url))
}

/// A backend label read back from the cache, as it may be shown: credentials, query and
/// fragment dropped when it is a URL that has any (older or foreign namespaces), else itself.
pub(crate) fn shown(label: &str) -> String {
    match Url::parse(label) {
        Ok(url)
            if !url.username().is_empty()
                || url.password().is_some()
                || url.query().is_some()
                || url.fragment().is_some() =>
        {
            base(&url)
        }
        _ => label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "c4n4ry";

    #[test]
    fn base_urls_are_kept_in_one_form() {
        for (given, kept) in [
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            (
                " https://api.example.com/pims/ ",
                "https://api.example.com/pims",
            ),
            ("https://api.example.com:443", "https://api.example.com"),
            ("http://[::1]:9", "http://[::1]:9"),
            ("http://LOCALHOST:1", "http://localhost:1"),
        ] {
            assert_eq!(check(given).unwrap(), kept, "{given}");
        }
    }

    #[test]
    fn credentials_queries_and_fragments_are_refused_unechoed() {
        for (given, reason) in [
            (
                format!("http://user:{CANARY}@127.0.0.1:8080"),
                "credentials",
            ),
            (format!("http://{CANARY}@127.0.0.1:8080"), "credentials"),
            (format!("https://api.example.com/?token={CANARY}"), "query"),
            (format!("https://api.example.com/#{CANARY}"), "fragment"),
            (format!("http://127.0.0.1:{CANARY}"), "not a URL"),
            (format!("{CANARY}:nothing"), "no host"),
        ] {
            let e = check(&given).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            let Failure::Usage(m) = e else { panic!() };
            assert!(m.contains(reason), "{given}: {m}");
            assert!(!m.contains(CANARY), "{m}");
        }
        let Failure::Usage(m) = check("http://u:p@127.0.0.1").unwrap_err() else {
            panic!()
        };
        assert!(m.contains("--token"), "{m}");
    }

    #[test]
    fn labels_read_back_lose_what_could_be_a_secret() {
        assert_eq!(
            shown(&format!("https://u:{CANARY}@h.example/p?token={CANARY}")),
            "https://h.example/p"
        );
        assert_eq!(shown("embedded"), "embedded");
        assert_eq!(shown("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
