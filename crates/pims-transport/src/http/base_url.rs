//! Checking the base URL: `https://`, or `http://` for a loopback host only; no credentials,
//! query or fragment (a URL is logged and must never carry a secret).

use std::net::IpAddr;

use reqwest::Url;

use crate::error::TransportError;

/// The call endpoint (`{base}/v1/calls`) for a base URL, or why the URL is refused.
pub(crate) fn endpoint(base: &str) -> Result<Url, TransportError> {
    let url = Url::parse(base.trim())
        .map_err(|e| TransportError::invalid_config(format!("base URL is not a URL ({e})")))?;
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_owned(),
        _ => return Err(TransportError::invalid_config("base URL has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: the userinfo may be a credential.
        return Err(TransportError::invalid_config(
            "base URL carries credentials; use a token provider",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(TransportError::invalid_config(
            "base URL has a query or a fragment",
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(TransportError::invalid_config(format!(
                "http:// is allowed only for loopback hosts; use https:// for {host}"
            )));
        }
        other => {
            return Err(TransportError::invalid_config(format!(
                "base URL scheme {other:?} is not https"
            )));
        }
    }
    let path = url.path().trim_end_matches('/');
    let full = format!("{path}{}", pims_types::CALLS_PATH);
    let mut endpoint = url.clone();
    endpoint.set_path(&full);
    Ok(endpoint)
}

/// The base URL as it may be shown in `Debug`: itself, or a placeholder when it carries
/// anything that could be a credential (userinfo, a query, a fragment) or does not parse.
pub(crate) fn shown(base: &str) -> String {
    match Url::parse(base.trim()) {
        Ok(url)
            if url.username().is_empty()
                && url.password().is_none()
                && url.query().is_none()
                && url.fragment().is_none() =>
        {
            base.to_owned()
        }
        _ => pims_types::REDACTED.to_owned(),
    }
}

/// Whether a URL host (as `Url::host_str` gives it: IPv6 in brackets) is a loopback address.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for (base, expected) in [
            (
                "https://api.example.com",
                "https://api.example.com/v1/calls",
            ),
            (
                "https://api.example.com/pims/",
                "https://api.example.com/pims/v1/calls",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/calls"),
            ("http://127.1.2.3", "http://127.1.2.3/v1/calls"),
            ("http://[::1]:9/", "http://[::1]:9/v1/calls"),
            ("http://LOCALHOST:1", "http://localhost:1/v1/calls"),
        ] {
            assert_eq!(endpoint(base).unwrap().as_str(), expected, "{base}");
        }
    }

    #[test]
    fn refused_urls_say_why_without_echoing_credentials() {
        for (base, reason) in [
            ("http://api.example.com", "loopback"),
            ("http://10.0.0.1:8080", "loopback"),
            ("http://127.0.0.1.example.com", "loopback"),
            ("ftp://127.0.0.1", "scheme"),
            ("not a url", "not a URL"),
            ("https://user:s3cr3t@api.example.com", "credentials"),
            ("https://api.example.com/?token=s3cr3t", "query"),
            ("unix:/tmp/x", "no host"),
        ] {
            let e = endpoint(base).unwrap_err();
            assert_eq!(e.code().as_u32(), 2006);
            let detail = std::error::Error::source(&e).unwrap().to_string();
            assert!(detail.contains(reason), "{base}: {detail}");
            assert!(!detail.contains("s3cr3t"), "{detail}");
            assert!(!shown(base).contains("s3cr3t"));
        }
    }
}
