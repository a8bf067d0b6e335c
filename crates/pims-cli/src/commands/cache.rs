//! `pims cache show` and `pims cache wipe`, on the SDK's step cache in `$PIMS_HOME/cache`
//! (the facade's cache administration handle, [`pims::CacheAdmin`], got from the builder
//! without a backend: no backend is called).
//!
//! `show` lists every cached list of every namespace, identifiers masked; `wipe` removes them
//! all, durably, and reports only what reached the disk: on a cache that cannot be written
//! (read-only, full) it fails (exit 1) saying what is still there. The device id stays: it is
//! this installation's identity with the backend (a new one would be a new device to enrol, and
//! enrolled devices are limited per account).

use std::sync::Arc;
use std::time::Duration;

use pims::cache::CacheError;
use pims::cache_postgres::{PostgresOptions, PostgresStore};
use pims::{CacheAdmin, CacheScope, CachedList, Pims, Removed, mask};
use serde_json::{Value, json};

use crate::cache_failure::{cache_error_failure, cache_failure};
use crate::cache_location::CacheLocation;
use crate::cache_namespace::backend_of;
use crate::escape::escape;
use crate::failure::Failure;
use crate::render;
use crate::style::Style;

/// How long `cache show|wipe` waits for a database server to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The cache, or `None` when there is none yet (nothing is created by looking: no directory
/// in the home, no table in a database).
async fn open(cache: &CacheLocation) -> Result<Option<CacheAdmin>, Failure> {
    match cache {
        CacheLocation::Home(dir) => {
            if !dir.exists() {
                return Ok(None);
            }
        }
        CacheLocation::Postgres { url, .. } => {
            let failed = |e: CacheError| cache_error_failure(cache, &e);
            let options = PostgresOptions::from_url(url.expose())
                .map_err(failed)?
                .connect_timeout(CONNECT_TIMEOUT);
            let store = PostgresStore::connect(options).await.map_err(failed)?;
            let version = store.schema_version().await.map_err(failed)?;
            if version.is_none() {
                return Ok(None);
            }
            return Pims::builder()
                .cache_store(Arc::new(store))
                .cache_admin()
                .map(Some)
                .map_err(|e| cache_failure(cache, &e));
        }
    }
    cache
        .builder()
        .cache_admin()
        .map(Some)
        .map_err(|e| cache_failure(cache, &e))
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
pub(crate) async fn show(cache: &CacheLocation, style: &Style) -> Result<(), Failure> {
    let (field, named) = cache.json_field();
    let (device, lists) = match open(cache).await? {
        Some(admin) => {
            // The device id first: a cache that cannot give it fails here, before any list.
            let device = admin
                .device_id()
                .await
                .map_err(|e| cache_failure(cache, &e))?;
            let lists = admin
                .lists(CacheScope::AllAccounts)
                .await
                .map_err(|e| cache_failure(cache, &e))?;
            (Some(device), lists)
        }
        None => (None, Vec::new()),
    };
    if style.json {
        let shown: Vec<Value> = lists.iter().map(list_json).collect();
        render::out_line(&render::json_text(
            &json!({field: named, "deviceId": device, "lists": shown}),
        ));
        return Ok(());
    }
    let Some(device) = device else {
        render::out_line(&format!(
            "the cache {} is empty: no list fetched yet",
            escape(&cache.label())
        ));
        return Ok(());
    };
    render::out_line(&format!(
        "cache {} (device {})",
        escape(&cache.label()),
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
pub(crate) async fn wipe(cache: &CacheLocation, style: &Style) -> Result<(), Failure> {
    let (field, named) = cache.json_field();
    let done = match open(cache).await? {
        Some(admin) => {
            let removed = admin
                .wipe(CacheScope::AllAccounts)
                .await
                .map_err(|e| cache_failure(cache, &e))?;
            // Only removals a flush made durable are reported done.
            if removed.durable_lists < removed.lists {
                let why = admin
                    .health()
                    .degradation()
                    .map(|d| d.reason.to_string())
                    .unwrap_or_else(|| "a flush failed".to_owned());
                let failure = not_wiped(cache, &removed, &why);
                if style.json {
                    // `--json` prints one line whatever happens: what was done and what is left.
                    render::out_line(&render::json_text(&json!({
                        field: named,
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
            &json!({field: named, "removedLists": done}),
        ));
    } else {
        render::out_line(&format!(
            "emptied the cache {}: {} removed (this device's id is kept)",
            escape(&cache.label()),
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
fn not_wiped(cache: &CacheLocation, removed: &Removed, why: &str) -> Failure {
    let left = removed.lists - removed.durable_lists;
    let done = if removed.durable_lists == 0 {
        "nothing was removed".to_owned()
    } else {
        format!("only {} removed", lists(removed.durable_lists))
    };
    Failure::NotDone(format!(
        "the cache {} cannot be written ({why}): {done}; {} still there: make the cache \
         directory writable (or free some space), then run `pims cache wipe` again",
        cache.label(),
        if left == 1 {
            "1 cached list is".to_owned()
        } else {
            format!("{left} cached lists are")
        }
    ))
}
