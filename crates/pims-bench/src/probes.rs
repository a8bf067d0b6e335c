//! The workloads of the counted figures (B1i, B3i, B6i, B4c, B5c), each run by the
//! `pims-probe` binary in a process of its own, so that the process can be counted from outside
//! (callgrind, strace) without counting anything else.
//!
//! Everything here is deterministic on purpose: a `current_thread` runtime, calls made one
//! after another, fixed transaction ids where the workload chooses them, no timer that could
//! fire during a run. The client workloads pass [`Checkpoints`] (after the warm-up, after `N`
//! more operations, after `2N`), where callgrind writes its counts so far: the count after
//! `2N` minus the count after `N`, in one process, is what `N` operations cost, whatever the
//! process does once (start-up, opening a cache, the first connection, exit).

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use pims::Pims;
use pims_sim::{DEMO_CAR_ASSOCIATION_ID, DEMO_TOKEN, SimConfig, SimServer};
use pims_types::{Api, CallBody, Secret, StepsQuery, StepsSelector, TransactionId, Verb};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::constant::ConstantServer;
use crate::workloads::{BENCH_ACCOUNT, BenchCache, MapCache, bench_keys, bench_list};

/// The line a probe server prints once it listens: `listening http://127.0.0.1:PORT`.
pub const LISTENING: &str = "listening";

/// Which list the merge probes merge (of the 1,000 a prepared cache holds).
pub const MERGED_LIST: u64 = 500;

/// How many lists the merge probes' caches hold.
pub const MERGE_CACHE_LISTS: u64 = 1_000;

/// A `current_thread` runtime: every task of the probe on the calling thread, in an order that
/// does not depend on the machine's timing.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))
}

/// The steps request every client probe makes (the simulator's demo car association).
fn selector() -> Result<StepsSelector, String> {
    StepsSelector::car_association_id(DEMO_CAR_ASSOCIATION_ID).map_err(|e| e.to_string())
}

/// The call body the facade sends for the demo car association's steps request (it always
/// asks for `all`), with a fixed transaction id.
///
/// ```
/// let body = pims_bench::probes::steps_call_body().unwrap();
/// let text = String::from_utf8_lossy(&body);
/// assert!(text.contains("pims.subscription.steps") && text.contains("987654"));
/// ```
pub fn steps_call_body() -> Result<Bytes, String> {
    let body = CallBody::new(
        TransactionId::from_u64(1),
        Verb::Get,
        Api::SubscriptionSteps.name(),
        StepsQuery::new(selector()?).to_parameters(),
    )
    .to_json_string();
    Ok(Bytes::from(body))
}

/// Where a counted run is cut: callgrind writes the counts so far each time this function is
/// entered (`--dump-before`, [`crate::callgrind::count_parts`]), so that one process gives the
/// instructions of the operations between two checkpoints. It does nothing else.
#[inline(never)]
pub fn counted_checkpoint(operations_so_far: u64) {
    std::hint::black_box(operations_so_far);
}

/// The function name callgrind knows [`counted_checkpoint`] by.
pub const CHECKPOINT: &str = "pims_bench::probes::counted_checkpoint";

/// Operation numbers before which a probe passes a [`counted_checkpoint`] (the last may be the
/// number of operations: after the last one).
///
/// ```
/// let at = pims_bench::probes::Checkpoints::parse("20,220,420").unwrap();
/// assert_eq!(at.last(), 420);
/// assert!(pims_bench::probes::Checkpoints::parse("x").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoints(Vec<u64>);

impl Checkpoints {
    /// Reads `20,220,420`.
    pub fn parse(list: &str) -> Result<Checkpoints, String> {
        list.split(',')
            .map(|n| {
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("not a checkpoint: {n:?}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Checkpoints)
    }

    /// The last checkpoint: how many operations a probe makes.
    pub fn last(&self) -> u64 {
        self.0.iter().copied().max().unwrap_or(0)
    }

    /// Passes the checkpoint placed before operation `i`, if there is one.
    pub fn pass(&self, i: u64) {
        if self.0.contains(&i) {
            counted_checkpoint(i);
        }
    }
}

/// The facade the B1i probes use: the demo token, the bench account, the cache in `cache_dir`.
fn bench_facade(url: &str, cache_dir: &Path) -> Result<Pims, String> {
    Pims::builder()
        .base_url(url)
        .token(Secret::new(DEMO_TOKEN))
        .cache_dir(cache_dir)
        .account(BENCH_ACCOUNT)
        .build()
        .map_err(|e| format!("facade: {e}: {}", e.detail().unwrap_or("no detail")))
}

/// B1i, ours: steps calls, one after another, up to the last of `at`, through a facade on the
/// cache in `cache_dir` (prepared so that the list is cached: every call is a no-change merge).
pub fn facade_calls(url: &str, cache_dir: &Path, at: &Checkpoints) -> Result<(), String> {
    let rt = runtime()?;
    rt.block_on(async {
        let pims = bench_facade(url, cache_dir)?;
        let selector = selector()?;
        for i in 0..at.last() {
            at.pass(i);
            let steps = pims
                .steps(selector.clone())
                .send()
                .await
                .map_err(|e| format!("steps: {} {e}", e.code()))?;
            if steps.is_empty() {
                return Err("an empty list".to_owned());
            }
        }
        at.pass(at.last());
        Ok(())
    })
}

/// B1i, baseline: raw reqwest POSTs of the facade's call body, one after another, up to the
/// last of `at`, with the same device id and token; each answer read whole.
pub fn raw_calls(url: &str, device_id: &str, at: &Checkpoints) -> Result<(), String> {
    let rt = runtime()?;
    let endpoint = reqwest::Url::parse(&format!("{url}{}", pims_types::CALLS_PATH))
        .map_err(|e| format!("{url}: {e}"))?;
    let device = HeaderValue::from_str(device_id).map_err(|e| e.to_string())?;
    let authorization =
        HeaderValue::from_str(&format!("Bearer {DEMO_TOKEN}")).map_err(|e| e.to_string())?;
    let body = steps_call_body()?;
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        for i in 0..at.last() {
            at.pass(i);
            let response = client
                .post(endpoint.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "application/json")
                .header(pims_types::DEVICE_ID_HEADER, device.clone())
                .header(AUTHORIZATION, authorization.clone())
                .body(body.clone())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("HTTP {}", response.status()));
            }
            response.bytes().await.map_err(|e| e.to_string())?;
        }
        at.pass(at.last());
        Ok(())
    })
}

/// B3i, ours: no-change merges of list [`MERGED_LIST`], up to the last of `at`, on the sled
/// cache in `dir` (prepared with [`MERGE_CACHE_LISTS`] lists by [`prepare_merge_cache`]). Each
/// async merge is driven by [`run_inline`](crate::run_inline): one poll with a no-op waker,
/// which finishes it (no runtime: nothing waits), so the count is the merge's own.
pub fn sled_merges(dir: &Path, at: &Checkpoints) -> Result<(), String> {
    let cache = BenchCache::open(dir)?;
    let (keys, fresh) = (bench_keys(MERGED_LIST), bench_list(MERGED_LIST, false));
    let writes = cache.stats().writes;
    for i in 0..at.last() {
        at.pass(i);
        let merged = cache.merge_keys(&keys, std::hint::black_box(&fresh))?;
        std::hint::black_box(merged);
    }
    at.pass(at.last());
    if cache.stats().writes != writes {
        return Err("a no-change merge wrote to the store".to_owned());
    }
    Ok(())
}

/// Fills a sled cache in `dir` with the [`MERGE_CACHE_LISTS`] lists [`sled_merges`] expects
/// (done once, outside the counted process; each counted run works on a fresh copy).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// pims_bench::probes::prepare_merge_cache(dir.path()).unwrap();
/// let at = pims_bench::probes::Checkpoints::parse("1,3").unwrap();
/// pims_bench::probes::sled_merges(dir.path(), &at).unwrap();
/// ```
pub fn prepare_merge_cache(dir: &Path) -> Result<(), String> {
    let cache = BenchCache::open(dir)?;
    cache.populate(0, MERGE_CACHE_LISTS as usize)
}

/// B3i, baseline: the same merges on a `Mutex<HashMap>` filled with as many lists, in this
/// process (one thread: the same work in every run).
pub fn map_merges(at: &Checkpoints) {
    let map = MapCache::default();
    for i in 0..MERGE_CACHE_LISTS {
        map.merge(
            &crate::workloads::car_association_id(i),
            &bench_list(i, false),
        );
    }
    let key = crate::workloads::car_association_id(MERGED_LIST);
    let fresh = bench_list(MERGED_LIST, false);
    for i in 0..at.last() {
        at.pass(i);
        std::hint::black_box(map.merge(&key, std::hint::black_box(&fresh)));
    }
    at.pass(at.last());
}

/// Which server [`serve`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// pims-sim with its default scenario.
    Sim,
    /// The constant-envelope server answering these bytes.
    Constant(Bytes),
}

/// B6i: runs a server on a `current_thread` runtime, prints [`LISTENING`] and its base URL on
/// `out`, and serves until `stdin` reaches its end.
pub fn serve(
    served: Served,
    stdin: impl Read + Send + 'static,
    mut out: impl Write,
) -> Result<(), String> {
    let rt = runtime()?;
    rt.block_on(async {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // The end of stdin, read by a plain thread (tokio's stdin would poll a blocking pool).
        std::thread::spawn(move || {
            let mut stdin = stdin;
            let _ = std::io::copy(&mut stdin, &mut std::io::sink());
            let _ = stop.send(());
        });
        let base = match served {
            Served::Sim => {
                let sim = SimServer::start(SimConfig::default())
                    .await
                    .map_err(|e| format!("pims-sim: {e}"))?;
                let base = sim.base_url();
                announce(&mut out, &base)?;
                let _ = stopped.await;
                // Not shut down: the process exits, and the exit is not what is counted.
                std::mem::forget(sim);
                base
            }
            Served::Constant(answer) => {
                let server = ConstantServer::start(answer)
                    .await
                    .map_err(|e| format!("constant server: {e}"))?;
                let base = server.base_url();
                announce(&mut out, &base)?;
                let _ = stopped.await;
                std::mem::forget(server);
                base
            }
        };
        drop(base);
        Ok(())
    })
}

fn announce(out: &mut impl Write, base: &str) -> Result<(), String> {
    writeln!(out, "{LISTENING} {base}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("stdout: {e}"))
}

/// Reads a probe server's base URL from its first [`LISTENING`] line.
///
/// ```
/// let url = pims_bench::probes::read_listening(&b"noise\nlistening http://127.0.0.1:9\n"[..]).unwrap();
/// assert_eq!(url, "http://127.0.0.1:9");
/// ```
pub fn read_listening(out: impl Read) -> Result<String, String> {
    for line in std::io::BufReader::new(out).lines() {
        let line = line.map_err(|e| format!("probe output: {e}"))?;
        if let Some(rest) = line.strip_prefix(LISTENING) {
            return Ok(rest.trim().to_owned());
        }
    }
    Err("the probe server ended before it listened".to_owned())
}

/// The line the change probes print as they end, followed by their `/proc/self/io` as JSON.
pub const IO_REPORT: &str = "io";

/// This process's I/O counters (`/proc/self/io`: every thread, the finished ones included) as
/// the [`IO_REPORT`] line.
///
/// ```
/// let line = pims_bench::probes::io_report().unwrap();
/// assert!(line.starts_with("io {") && line.contains("\"wchar\""));
/// ```
pub fn io_report() -> Result<String, String> {
    let text =
        std::fs::read_to_string("/proc/self/io").map_err(|e| format!("/proc/self/io: {e}"))?;
    let fields: serde_json::Map<String, serde_json::Value> = text
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_owned(), v.trim().parse::<u64>().ok()?.into()))
        })
        .collect();
    Ok(format!("{IO_REPORT} {}", serde_json::Value::Object(fields)))
}

/// B4c: `changes` durable changes (a step turns alreadyDone), one after another, on lists
/// `0..changes` of the cache in `dir` (prepared with [`prepare_change_cache`]).
pub fn serial_changes(dir: &Path, changes: u64) -> Result<(), String> {
    let cache = BenchCache::open(dir)?;
    for i in 0..changes {
        check_durable(&cache.merge(i, &bench_list(i, true))?)?;
    }
    Ok(())
}

/// The threads [`concurrent_changes`] starts its blocking pool with.
pub const POOL_THREADS: usize = 64;

/// B5c: `changes` durable changes at once, each on its own list, as tasks on a two-worker
/// tokio runtime awaiting the cache (as the facade calls it: the store's flushes run on the
/// blocking pool), the pool grown to [`POOL_THREADS`] threads first.
pub fn concurrent_changes(dir: &Path, changes: u64) -> Result<(), String> {
    let cache = BenchCache::open(dir)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async {
        // The blocking pool, where the changes' flushes run, first grows to as many threads as
        // there are changes (all of them waiting at one barrier), as in a process that has been
        // running: otherwise a flush would wait for its thread to be created, and the changes
        // would be made durable staggered.
        let barrier = Arc::new(std::sync::Barrier::new(POOL_THREADS));
        let warm: Vec<_> = (0..POOL_THREADS)
            .map(|_| {
                let barrier = barrier.clone();
                tokio::task::spawn_blocking(move || {
                    barrier.wait();
                })
            })
            .collect();
        for task in warm {
            task.await.map_err(|e| e.to_string())?;
        }
        let tasks: Vec<_> = (0..changes)
            .map(|i| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.merge_async(i, &bench_list(i, true)).await })
            })
            .collect();
        for task in tasks {
            check_durable(&task.await.map_err(|e| e.to_string())??)?;
        }
        Ok(())
    })
}

/// Fills a cache in `dir` with `lists` lists in their to-do state, durably (the changes of
/// [`serial_changes`] and [`concurrent_changes`] then turn a step of each alreadyDone).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// pims_bench::probes::prepare_change_cache(dir.path(), 4).unwrap();
/// pims_bench::probes::serial_changes(dir.path(), 2).unwrap();
/// ```
pub fn prepare_change_cache(dir: &Path, lists: u64) -> Result<(), String> {
    let cache = BenchCache::open(dir)?;
    cache.populate(0, lists as usize)
}

fn check_durable(merged: &pims_cache::Merged) -> Result<(), String> {
    if merged.changed && merged.durable {
        Ok(())
    } else {
        Err(format!(
            "a change was not durable (changed {}, durable {})",
            merged.changed, merged.durable
        ))
    }
}

/// A facade on `cache_dir` that has answered one steps call (so that the cache holds the
/// list, linked to its carAssociationID, for the device it made); returns that device id.
/// Run natively, before the counted runs.
pub fn prepare_facade_cache(url: &str, cache_dir: &Path) -> Result<String, String> {
    let rt = runtime()?;
    rt.block_on(async {
        let pims = bench_facade(url, cache_dir)?;
        pims.steps(selector()?)
            .send()
            .await
            .map_err(|e| format!("steps: {} {e}", e.code()))?;
        let device = pims
            .cache()
            .map_err(|e| format!("device id: {e}"))?
            .device_id()
            .await
            .map_err(|e| format!("device id: {e}"))?;
        drop(pims);
        Ok(device)
    })
}

/// Copies the directory tree `from` into `to` (created): each counted run starts from the same
/// bytes, whatever the run before it wrote.
///
/// ```
/// let a = tempfile::tempdir().unwrap();
/// std::fs::create_dir(a.path().join("d")).unwrap();
/// std::fs::write(a.path().join("d/f"), b"x").unwrap();
/// let b = tempfile::tempdir().unwrap();
/// pims_bench::probes::copy_tree(a.path(), &b.path().join("copy")).unwrap();
/// assert_eq!(std::fs::read(b.path().join("copy/d/f")).unwrap(), b"x");
/// ```
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}
