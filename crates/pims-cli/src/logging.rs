//! Logs on stderr: `-v` info, `-vv` debug, `-vvv` trace for the pims crates, warnings only for
//! the libraries under them (their debug output is not ours to vouch for); `RUST_LOG` is used
//! only when no `-v` is given. The pims crates never log a secret, and mask phone numbers and
//! VINs.

use tracing_subscriber::EnvFilter;

/// The crates whose logs `-v` turns up.
const OURS: &[&str] = &[
    "pims",
    "pims_cli",
    "pims_transport",
    "pims_cache",
    "pims_sim",
];

/// The filter for a `-v` count.
fn filter(verbose: u8) -> EnvFilter {
    let level = match verbose {
        0 => {
            return EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
        }
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut directives = String::from("warn");
    for krate in OURS {
        directives.push_str(&format!(",{krate}={level}"));
    }
    EnvFilter::new(directives)
}

/// Installs the subscriber (once, at start).
pub(crate) fn init(verbose: u8, color: bool) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(verbose > 1)
        // A command's run is short: the time of day says nothing a reader needs.
        .without_time()
        .with_env_filter(filter(verbose))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_raises_only_our_crates() {
        let f = filter(2).to_string();
        assert!(f.contains("pims_transport=debug"), "{f}");
        assert!(f.split(",").any(|d| d == "warn"), "{f}");
        assert!(filter(5).to_string().contains("pims=trace"));
    }
}
