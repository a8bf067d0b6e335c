//! Why the step cache cannot be opened or used, told in the CLI's words (`session` when it
//! builds the facade, `cache show|wipe` when they open the cache).

use pims::cache::CacheError;

use crate::cache_location::CacheLocation;
use crate::failure::Failure;

/// Why the cache cannot be opened or used, in the CLI's words: from the cache's own error
/// when there is one behind the facade's, else the facade's error as a FAILED call.
pub(crate) fn cache_failure(cache: &CacheLocation, e: &pims::Error) -> Failure {
    match e.cache_error() {
        Some(error) => cache_error_failure(cache, error),
        None => Failure::from_pims(e),
    }
}

pub(crate) fn cache_error_failure(cache: &CacheLocation, e: &CacheError) -> Failure {
    if e.is_in_use() {
        return Failure::Busy(format!("{e}: wait for it to finish, or use another --home"));
    }
    if let CacheError::InvalidInput {
        what: "cache directory",
        ..
    } = e
    {
        return Failure::usage(format!(
            "the cache {} cannot be used ({e}): remove the link (pims then creates the cache \
             there) or put the directory itself in its place",
            cache.label()
        ));
    }
    let source = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    let message = format!(
        "the cache {} cannot be used ({e}{source}): {}",
        cache.label(),
        cache.remedy()
    );
    if cache.is_shared() {
        // A database down or refusing us is no bad usage: the operation could not be done.
        Failure::NotDone(message)
    } else {
        Failure::usage(message)
    }
}
