//! Logs on stderr: `-v` info, `-vv` debug, `-vvv` trace for the pims crates, warnings only for
//! the libraries under them (their debug output is not ours to vouch for); `RUST_LOG` is used
//! only when no `-v` is given. The pims crates never log a secret, and mask phone numbers and
//! VINs. Every field value is escaped like the rest of what reaches the terminal
//! ([`crate::escape`]): a path or a step name from the backend can hold an escape sequence.

use std::fmt::Write as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::debug_fn;

use crate::escape::escape;

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

/// How fields are written: `name=value` (the message bare), each value escaped.
fn escaped_fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    debug_fn(|writer, field, value| {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        if field.name() == "message" {
            write!(writer, "{}", escape(&text))
        } else {
            write!(writer, "{field}={}", escape(&text))
        }
    })
    .delimited(" ")
}

/// Installs the subscriber (once, at start).
pub(crate) fn init(verbose: u8, color: bool) {
    let _ = tracing_subscriber::fmt()
        .fmt_fields(escaped_fields())
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

    /// Formats one event with the CLI's field formatter into a string.
    fn formatted(event: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(escaped_fields())
            .with_ansi(false)
            .without_time()
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, event);
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_fields_never_carry_a_raw_control_character() {
        let path = std::path::Path::new("/tmp/esc\x1b[2Jhome");
        let steps_id = "13\x1b[2J24";
        let line = formatted(|| {
            tracing::warn!(dir = %path.display(), steps_id, "moved \x1b[31m aside");
        });
        assert!(!line.contains('\x1b'), "{line:?}");
        assert!(line.contains("dir=/tmp/esc\\u{1b}[2Jhome"), "{line:?}");
        assert!(line.contains("moved \\u{1b}[31m aside"), "{line:?}");
        assert!(line.contains("steps_id="), "{line:?}");
    }
}
