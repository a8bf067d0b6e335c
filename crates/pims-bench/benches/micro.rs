//! Criterion benches of the micro figures, each next to its baseline:
//! - B3: `StepCache::merge` of a 3-step list that changes nothing, on sled, vs the same merge
//!   on a `Mutex<HashMap>`;
//! - B4: a durable change (merge that turns a step alreadyDone, flushed before it returns) vs
//!   `File::write_all` + `sync_data` of the same record bytes;
//! - B7: `StepCache::get` by carAssociationID in a cache of 1,000,000 lists
//!   (`PIMS_BENCH_B7_LISTS`) vs a raw `sled::Tree::get` of a random key in a tree of as many
//!   records (same size, same page cache); the same lookup in a cache of 1,000 lists (the
//!   scaling row), and the bytes on disk per list.
//!
//! The cache is async: [`BenchCache`] drives it with `pims_bench::run_inline` (one poll with a
//! no-op waker, which finishes every operation outside a tokio runtime), so what is timed is
//! the cache, not an executor.
//!
//! Counts that criterion does not measure (bytes on disk, record size, writes seen) go to
//! `$PIMS_BENCH_OUT/micro-counts.json`. Run alone with `cargo bench -p pims-bench`; the
//! `pims-bench` command runs it and reads the results back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use pims_bench::{
    BenchCache, DurableFile, MapCache, Scatter, bench_keys, bench_list, car_association_id, ids,
};
use pims_types::StepsSelector;
use serde_json::{Map, Value, json};

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).map(PathBuf::from)
}

fn wanted(figure: &str) -> bool {
    match std::env::var("PIMS_BENCH_ONLY") {
        Ok(only) if !only.is_empty() => only.split(',').any(|f| f == figure),
        _ => true,
    }
}

struct Context {
    work: tempfile::TempDir,
    counts: Map<String, Value>,
}

fn b3(c: &mut Criterion, cx: &mut Context) {
    let cache = BenchCache::open(&cx.work.path().join("b3")).unwrap();
    cache.populate(0, 1_000).unwrap();
    let (i, fresh) = (500, bench_list(500, false));
    let keys = bench_keys(i);
    let key = car_association_id(i);
    let map = MapCache::default();
    for j in 0..1_000 {
        map.merge(&car_association_id(j), &bench_list(j, false));
    }
    let writes = cache.stats().writes;
    let mut group = c.benchmark_group("B3");
    group.bench_function(ids::B3_OURS.1, |b| {
        b.iter(|| black_box(cache.merge_keys(&keys, black_box(&fresh)).unwrap()))
    });
    group.bench_function(ids::B3_BASE.1, |b| {
        b.iter(|| black_box(map.merge(&key, black_box(&fresh))))
    });
    group.finish();
    cx.counts.insert(
        "b3_writes_during_no_change_merges".into(),
        json!(cache.stats().writes - writes),
    );
}

fn b4(c: &mut Criterion, cx: &mut Context) {
    let cache = BenchCache::open(&cx.work.path().join("b4")).unwrap();
    // A record as written by a change, for the baseline to write the same bytes.
    cache.populate(0, 1).unwrap();
    cache.merge(0, &bench_list(0, true)).unwrap();
    let record = cache.record_bytes(0).unwrap();
    cx.counts
        .insert("b4_record_bytes".into(), json!(record.len()));
    let mut next = 1u64;
    let mut group = c.benchmark_group("B4");
    group.bench_function(ids::B4_OURS.1, |b| {
        b.iter_custom(|iters| {
            // Untimed: `iters` fresh lists in their to-do state, durable.
            let first = next;
            next += iters;
            cache.populate(first, iters as usize).unwrap();
            let done: Vec<_> = (first..next).map(|i| bench_list(i, true)).collect();
            let keys: Vec<_> = (first..next).map(bench_keys).collect();
            let start = Instant::now();
            for (k, list) in keys.iter().zip(&done) {
                let m = cache.merge_keys(k, list).unwrap();
                assert!(m.changed && m.durable, "not a durable change");
            }
            start.elapsed()
        })
    });
    let mut file = DurableFile::create(&cx.work.path().join("b4.record"), &record).unwrap();
    group.bench_function(ids::B4_BASE.1, |b| {
        b.iter(|| file.write_durably(black_box(&record)).unwrap())
    });
    group.finish();
}

fn b7(c: &mut Criterion, cx: &mut Context) {
    // `cargo test --benches` runs each benchmark once (criterion's test mode, no `--bench`
    // argument): a small large cache keeps that fast.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let large_n: u64 = std::env::var("PIMS_BENCH_B7_LISTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench_mode { 1_000_000 } else { 2_000 });
    let small_n = 1_000u64;
    let small = BenchCache::open(&cx.work.path().join("b7-small")).unwrap();
    small.populate(0, small_n as usize).unwrap();
    let large = BenchCache::open(&cx.work.path().join("b7-large")).unwrap();
    let start = Instant::now();
    large.populate(0, large_n as usize).unwrap();
    let populate = start.elapsed();
    eprintln!("B7: {large_n} lists cached in {populate:.1?}");
    let disk = large.disk_usage().unwrap();
    for (k, v) in [
        ("b7_large_lists", json!(large_n)),
        ("b7_small_lists", json!(small_n)),
        ("b7_large_allocated_bytes", json!(disk.allocated)),
        ("b7_large_apparent_bytes", json!(disk.apparent)),
        ("b7_large_files", json!(disk.files)),
        ("b7_populate_seconds", json!(populate.as_secs_f64())),
        (
            "b7_small_allocated_bytes",
            json!(small.disk_usage().unwrap().allocated),
        ),
    ] {
        cx.counts.insert(k.into(), v);
    }
    for (cache, n) in [(&small, small_n), (&large, large_n)] {
        assert!(
            cache.lookup(n - 1).unwrap().is_some(),
            "list {} missing",
            n - 1
        );
    }
    let raw = RawTree::fill(&cx.work.path().join("b7-raw"), large_n, &small);
    cx.counts
        .insert("b7_raw_record_bytes".into(), json!(raw.record_len));
    let mut group = c.benchmark_group("B7");
    for (id, cache, n) in [
        (ids::B7_SMALL.1, &small, small_n),
        (ids::B7_LARGE.1, &large, large_n),
    ] {
        let mut scatter = Scatter::new(n);
        group.bench_function(id, |b| {
            b.iter_batched(
                || {
                    StepsSelector::car_association_id(car_association_id(scatter.next_index()))
                        .unwrap()
                },
                |selector| {
                    let found = cache.lookup_selector(&selector).unwrap();
                    assert!(found.is_some());
                    found
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    let mut scatter = Scatter::new(large_n);
    group.bench_function(ids::B7_RAW.1, |b| {
        b.iter_batched(
            || RawTree::key(scatter.next_index()),
            |key| {
                let found = raw.tree.get(&key).unwrap();
                assert!(found.is_some());
                found
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// B7's baseline: a sled database configured as the cache's (same page cache, same mode, no
/// background flusher), one tree of `n` records shaped like the cache's list records: the key
/// a one-byte tag, a one-byte namespace id and the stepsID; the value as many bytes as a cached
/// record.
struct RawTree {
    _db: sled::Db,
    tree: sled::Tree,
    record_len: usize,
}

impl RawTree {
    fn key(i: u64) -> Vec<u8> {
        let mut k = vec![b'L', 1];
        k.extend_from_slice((i + 1).to_string().as_bytes());
        k
    }

    fn fill(dir: &std::path::Path, n: u64, like: &BenchCache) -> RawTree {
        let record = like.record_bytes(0).unwrap();
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(pims_cache::DEFAULT_PAGE_CACHE_BYTES)
            .mode(sled::Mode::LowSpace)
            .flush_every_ms(None)
            .open()
            .unwrap();
        let tree = db.open_tree(b"raw").unwrap();
        for i in 0..n {
            tree.insert(Self::key(i), record.as_slice()).unwrap();
        }
        db.flush().unwrap();
        RawTree {
            _db: db,
            tree,
            record_len: record.len(),
        }
    }
}

fn main() {
    let work = match env_path("PIMS_BENCH_WORK") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            tempfile::tempdir_in(dir).unwrap()
        }
        None => tempfile::tempdir().unwrap(),
    };
    let mut cx = Context {
        work,
        counts: Map::new(),
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .configure_from_args();
    if wanted("B3") {
        b3(&mut c, &mut cx);
    }
    if wanted("B4") {
        b4(&mut c, &mut cx);
    }
    if wanted("B7") {
        b7(&mut c, &mut cx);
    }
    c.final_summary();
    let out = env_path("PIMS_BENCH_OUT").unwrap_or_else(std::env::temp_dir);
    let path = out.join(ids::SIDE_FILE);
    std::fs::write(&path, Value::Object(cx.counts).to_string()).unwrap();
    eprintln!("counts written to {}", path.display());
}
