//! `pims cache show` and `pims cache wipe`, on the SDK's step cache in `$PIMS_HOME/cache`
//! (the facade's cache administration handle, [`pims::CacheAdmin`], got from the builder
//! without a backend: no backend is called).
//!
//! `show` lists every cached list of every namespace, identifiers masked; `wipe` removes them
//! all, durably, and reports only what reached the disk: on a cache that cannot be written
//! (read-only, full) it fails (exit 1) saying what is still there. The device id stays: it is
//! this installation's identity with the backend (a new one would be a new device to enrol, and
//! enrolled devices are limited per account).

use pims::cache::CacheError;
use pims::{CacheAdmin, CacheScope, CachedList, Pims, Removed, mask};
use serde_json::{Value, json};

use crate::escape::escape;
use crate::failure::Failure;
use crate::home::Home;
use crate::render;
use crate::session::backend_of;
use crate::style::Style;

/// Why the home's cache cannot be opened or used, in the CLI's words: from the cache's own
/// error when there is one behind the facade's, else the facade's error as a FAILED call.
pub(crate) fn cache_failure(home: &Home, e: &pims::Error) -> Failure {
    match e.cache_error() {
        Some(cache) => cache_error_failure(home, cache),
        None => Failure::from_pims(e),
    }
}

fn cache_error_failure(home: &Home, e: &CacheError) -> Failure {
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
            home.cache_dir().display()
        ));
    }
    let source = std::error::Error::source(e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    Failure::usage(format!(
        "the cache {} cannot be used ({e}{source}): check that the pims home is writable",
        home.cache_dir().display()
    ))
}

/// The home's cache, or `None` when there is none yet (nothing is created by looking).
fn open(home: &Home) -> Result<Option<CacheAdmin>, Failure> {
    let dir = home.cache_dir();
    if !dir.exists() {
        return Ok(None);
    }
    Pims::builder()
        .cache_dir(dir)
        .cache_admin()
        .map(Some)
        .map_err(|e| cache_failure(home, &e))
}

fn masked_opt(id: Option<&str>) -> String {
    id.map(mask).unwrap_or_else(|| "-".into())
}

fn steps_summary(cached: &CachedList) -> String {
    cached
        .list
        .steps()
        .iter()
        .map(|s| format!("{} {}", s.name, s.status))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_json(cached: &CachedList) -> Value {
    let steps: Vec<Value> = cached
        .list
        .steps()
        .iter()
        .map(|s| json!({"name": s.name.as_str(), "status": s.status.as_str(), "order": s.order}))
        .collect();
    json!({
        "backend": backend_of(&cached.account),
        "stepsID": mask(cached.list.steps_id().as_str()),
        "carAssociationID": cached.car_association_id.as_deref().map(mask),
        "vin": cached.vin.as_ref().map(|v| v.masked()),
        "steps": steps,
    })
}

/// `pims cache show`.
pub(crate) async fn show(home: &Home, style: &Style) -> Result<(), Failure> {
    let dir = home.cache_dir();
    let (device, lists) = match open(home)? {
        Some(cache) => {
            // The device id first: a cache that cannot give it fails here, before any list.
            let device = cache
                .device_id()
                .await
                .map_err(|e| cache_failure(home, &e))?;
            let lists = cache
                .lists(CacheScope::AllAccounts)
                .await
                .map_err(|e| cache_failure(home, &e))?;
            (Some(device), lists)
        }
        None => (None, Vec::new()),
    };
    if style.json {
        let shown: Vec<Value> = lists.iter().map(list_json).collect();
        render::out_line(&render::json_text(
            &json!({"cacheDirectory": dir.display().to_string(), "deviceId": device, "lists": shown}),
        ));
        return Ok(());
    }
    let Some(device) = device else {
        render::out_line(&format!(
            "the cache {} is empty: no list fetched yet",
            escape(&dir.display().to_string())
        ));
        return Ok(());
    };
    render::out_line(&format!(
        "cache {} (device {})",
        escape(&dir.display().to_string()),
        escape(&device)
    ));
    if lists.is_empty() {
        render::out_line("no cached list");
        return Ok(());
    }
    let mut rows = vec![vec![
        "STEPS ID".to_owned(),
        "CAR ASSOCIATION".into(),
        "VIN".into(),
        "BACKEND".into(),
        "STEPS".into(),
    ]];
    for cached in &lists {
        rows.push(vec![
            mask(cached.list.steps_id().as_str()),
            masked_opt(cached.car_association_id.as_deref()),
            cached
                .vin
                .as_ref()
                .map(|v| v.masked())
                .unwrap_or_else(|| "-".into()),
            backend_of(&cached.account).to_owned(),
            steps_summary(cached),
        ]);
    }
    render::out(&render::table(style, &rows));
    Ok(())
}

/// `pims cache wipe`.
pub(crate) async fn wipe(home: &Home, style: &Style) -> Result<(), Failure> {
    let dir = home.cache_dir();
    let done = match open(home)? {
        Some(cache) => {
            let removed = cache
                .wipe(CacheScope::AllAccounts)
                .await
                .map_err(|e| cache_failure(home, &e))?;
            // Only removals a flush made durable are reported done.
            if removed.durable_lists < removed.lists {
                let why = cache
                    .health()
                    .degradation()
                    .map(|d| d.reason.to_string())
                    .unwrap_or_else(|| "a flush failed".to_owned());
                let failure = not_wiped(&dir, &removed, &why);
                if style.json {
                    // `--json` prints one line whatever happens: what was done and what is left.
                    render::out_line(&render::json_text(&json!({
                        "cacheDirectory": dir.display().to_string(),
                        "removedLists": removed.durable_lists,
                        "listsLeft": removed.lists - removed.durable_lists,
                        "error": why,
                    })));
                }
                return Err(failure);
            }
            removed.durable_lists
        }
        None => 0,
    };
    if style.json {
        render::out_line(&render::json_text(
            &json!({"cacheDirectory": dir.display().to_string(), "removedLists": done}),
        ));
    } else {
        render::out_line(&format!(
            "emptied the cache {}: {} removed (this device's id is kept)",
            escape(&dir.display().to_string()),
            lists(done)
        ));
    }
    Ok(())
}

fn lists(n: usize) -> String {
    if n == 1 {
        "1 list".to_owned()
    } else {
        format!("{n} lists")
    }
}

/// A wipe that did not reach the disk (exit 1): what was done, what is left, and why.
fn not_wiped(dir: &std::path::Path, removed: &Removed, why: &str) -> Failure {
    let left = removed.lists - removed.durable_lists;
    let done = if removed.durable_lists == 0 {
        "nothing was removed".to_owned()
    } else {
        format!("only {} removed", lists(removed.durable_lists))
    };
    Failure::NotDone(format!(
        "the cache {} cannot be written ({why}): {done}; {} still there: make the cache \
         directory writable (or free some space), then run `pims cache wipe` again",
        dir.display(),
        if left == 1 {
            "1 cached list is".to_owned()
        } else {
            format!("{left} cached lists are")
        }
    ))
}
