//! B5 (measured here: 64 concurrent durable changes vs the same 64 one after the other) and
//! the rows of B3, B4 and B7 (measured by criterion in `benches/micro.rs`, read back from
//! its `estimates.json` files).

use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::plan::Plan;
use crate::report::{Goal, Measure, Row};
use crate::stats::median;
use crate::workloads::{BenchCache, bench_list};

/// Criterion's benchmark ids (group, function), shared with `benches/micro.rs`.
pub mod ids {
    /// B3, ours.
    pub const B3_OURS: (&str, &str) = ("B3", "step_cache_merge_sled");
    /// B3, baseline.
    pub const B3_BASE: (&str, &str) = ("B3", "merge_mutex_hashmap");
    /// B4, ours.
    pub const B4_OURS: (&str, &str) = ("B4", "merge_and_flush");
    /// B4, baseline.
    pub const B4_BASE: (&str, &str) = ("B4", "write_all_sync_data");
    /// B7, the large cache.
    pub const B7_LARGE: (&str, &str) = ("B7", "lookup_large_cache");
    /// B7, the small cache (the scaling row).
    pub const B7_SMALL: (&str, &str) = ("B7", "lookup_small_cache");
    /// B7's baseline: a raw `sled::Tree::get` in a tree of as many records.
    pub const B7_RAW: (&str, &str) = ("B7", "raw_sled_get");
    /// The file (next to criterion's directory) where the micro benches leave their counts.
    pub const SIDE_FILE: &str = "micro-counts.json";
}

/// B5: the same durable change (a step turns alreadyDone) on 64 lists, all at once as tasks on
/// a two-worker tokio runtime awaiting the cache (as the facade calls it: the flushes on the
/// blocking pool, shared), then one after the other.
pub(crate) fn b5(plan: &Plan, work: &Path) -> Row {
    const WHAT: &str = "64 concurrent durable changes vs 64 serial: total time";
    measure_b5(plan, work).unwrap_or_else(|e| Row::failed("B5", WHAT, e))
}

fn measure_b5(plan: &Plan, work: &Path) -> Result<Row, String> {
    const WHAT: &str = "64 concurrent durable changes vs 64 serial: total time";
    let dir = tempfile::tempdir_in(work).map_err(|e| format!("work dir: {e}"))?;
    let cache = BenchCache::open(dir.path())?;
    let n = plan.concurrency as u64;
    let rounds = plan.b5_rounds.max(1) as u64;
    cache.populate(0, (2 * n * rounds) as usize)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let (mut serial, mut concurrent, mut shared) = (vec![], vec![], vec![]);
    for round in 0..rounds {
        let first = round * 2 * n;
        let lists: Vec<_> = (first..first + n).map(|i| bench_list(i, true)).collect();
        let start = Instant::now();
        for (i, list) in (first..).zip(&lists) {
            check_durable(&cache.merge(i, list)?)?;
        }
        serial.push(start.elapsed().as_secs_f64() * 1e3);

        let first = first + n;
        let flushes = cache.stats().flushes;
        let start = Instant::now();
        let outcome: Result<(), String> = runtime.block_on(async {
            let tasks: Vec<_> = (first..first + n)
                .map(|i| {
                    let cache = cache.clone();
                    tokio::spawn(async move { cache.merge_async(i, &bench_list(i, true)).await })
                })
                .collect();
            for task in tasks {
                check_durable(&task.await.map_err(|e| e.to_string())??)?;
            }
            Ok(())
        });
        outcome?;
        concurrent.push(start.elapsed().as_secs_f64() * 1e3);
        shared.push((cache.stats().flushes - flushes) as f64);
    }
    Ok(Row::ratio(
        "B5",
        WHAT,
        Measure::new(median(&concurrent), "ms"),
        Measure::new(median(&serial), "ms"),
        Goal::RatioAtMost(0.1),
    )
    .with_note(format!(
        "median of {rounds} rounds; the 64 concurrent changes took {} physical flushes (median)",
        median(&shared)
    )))
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

/// Criterion's median estimate of one benchmark, in nanoseconds per iteration.
pub(crate) fn estimate_ns(criterion_home: &Path, (group, id): (&str, &str)) -> Result<f64, String> {
    let path = criterion_home
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    v["median"]["point_estimate"]
        .as_f64()
        .filter(|x| x.is_finite() && *x > 0.0)
        .ok_or_else(|| format!("{}: no median estimate", path.display()))
}

/// The rows of B3, B4 and B7 from criterion's results and the benches' side file.
pub(crate) fn micro_rows(criterion_home: &Path, side: &Value) -> Vec<Row> {
    let mut rows = Vec::new();
    let est = |id| estimate_ns(criterion_home, id);

    const B3: &str = "merge of a 3-step list, no change: ops/s";
    rows.push(match (est(ids::B3_OURS), est(ids::B3_BASE)) {
        (Ok(ours), Ok(base)) => {
            let writes = side["b3_writes_during_no_change_merges"].as_u64();
            Row::ratio(
                "B3",
                B3,
                Measure::new(1e9 / ours, "ops/s"),
                Measure::new(1e9 / base, "ops/s"),
                Goal::RatioAtLeast(0.5),
            )
            .with_note(format!(
                "StepCache::merge on sled vs the same merge on Mutex<HashMap>; store writes during the no-change merges: {}",
                writes.map_or("?".into(), |w| w.to_string())
            ))
        }
        (Err(e), _) | (_, Err(e)) => Row::failed("B3", B3, e),
    });

    const B4: &str = "durable change (a step turns alreadyDone): latency";
    rows.push(match (est(ids::B4_OURS), est(ids::B4_BASE)) {
        (Ok(ours), Ok(base)) => {
            Row::ratio(
                "B4",
                B4,
                Measure::new(ours / 1e3, "µs"),
                Measure::new(base / 1e3, "µs"),
                Goal::RatioAtMost(1.3),
            )
            .with_note(format!(
                "merge + flush (sled's flush, then an fdatasync of its log) vs File::write_all + sync_data \
                 of the same {} record bytes (rewritten in place)",
                side["b4_record_bytes"]
                    .as_u64()
                    .map_or("?".into(), |b| b.to_string())
            ))
        }
        (Err(e), _) | (_, Err(e)) => Row::failed("B4", B4, e),
    });

    let large = side["b7_large_lists"].as_u64().unwrap_or(0);
    let small = side["b7_small_lists"].as_u64().unwrap_or(0);
    let quick = |row: Row| {
        if large < 1_000_000 {
            let note = row.note.clone().map_or(String::new(), |n| format!("{n}; "));
            row.with_note(format!(
                "{note}--quick: {} lists instead of 1,000,000",
                count(large)
            ))
        } else {
            row
        }
    };
    let b7 = format!(
        "lookup by carAssociationID vs raw sled get, {} lists",
        count(large)
    );
    rows.push(match (est(ids::B7_LARGE), est(ids::B7_RAW)) {
        (Ok(l), Ok(r)) => quick(
            Row::ratio(
                "B7",
                b7,
                Measure::new(l / 1e3, "µs"),
                Measure::new(r / 1e3, "µs"),
                Goal::RatioAtMost(2.0),
            )
            .with_note(
                "StepCache::get (index, then record) vs sled::Tree::get of a random key in a tree of as many \
                 records of the same size, same page cache (4 MiB)",
            ),
        ),
        (Err(e), _) | (_, Err(e)) => Row::failed("B7", b7, e),
    });
    let scaling = format!(
        "lookup, cache of {} vs {} lists",
        count(large),
        count(small)
    );
    rows.push(match (est(ids::B7_LARGE), est(ids::B7_SMALL)) {
        (Ok(l), Ok(s)) => quick(
            Row::ratio(
                "B7",
                scaling,
                Measure::new(l / 1e3, "µs"),
                Measure::new(s / 1e3, "µs"),
                Goal::Report,
            )
            .with_note("scaling: the small cache is answered from the cache's memo"),
        ),
        (Err(e), _) | (_, Err(e)) => Row::failed("B7", scaling, e),
    });
    let what = format!("bytes on disk per list ({} lists)", count(large));
    rows.push(match (side["b7_large_allocated_bytes"].as_u64(), large) {
        (Some(bytes), n) if n > 0 => Row::value(
            "B7",
            what,
            Measure::new(bytes as f64 / n as f64, "B"),
            Goal::ValueAtMost(256.0),
        )
        .with_note(format!(
            "{} allocated ({} apparent) in {} files; populated in {:.1} s",
            mib(bytes),
            mib(side["b7_large_apparent_bytes"].as_u64().unwrap_or(0)),
            side["b7_large_files"].as_u64().unwrap_or(0),
            side["b7_populate_seconds"].as_f64().unwrap_or(f64::NAN)
        )),
        _ => Row::failed("B7", what, "the micro benches left no disk count"),
    });
    rows
}

/// `1000000` as `1,000,000`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn micro_rows_from_criterion_files() {
        let home = tempfile::tempdir().unwrap();
        for ((group, id), ns) in [
            (ids::B3_OURS, 4000.0),
            (ids::B3_BASE, 1000.0),
            (ids::B4_OURS, 3e6),
            (ids::B4_BASE, 2e6),
            (ids::B7_LARGE, 9000.0),
            (ids::B7_SMALL, 6000.0),
            (ids::B7_RAW, 4500.0),
        ] {
            let dir = home.path().join(group).join(id).join("new");
            std::fs::create_dir_all(&dir).unwrap();
            let est = json!({"median": {"point_estimate": ns}, "mean": {"point_estimate": ns}});
            std::fs::write(dir.join("estimates.json"), est.to_string()).unwrap();
        }
        let side = json!({"b7_large_lists": 100_000, "b7_small_lists": 1000,
            "b7_large_allocated_bytes": 30_000_000u64, "b7_large_apparent_bytes": 29_000_000u64});
        let rows = micro_rows(home.path(), &side);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].ratio, Some(0.25));
        assert_eq!(rows[0].met(), Some(false), "B3's goal is 0.5x");
        assert_eq!(rows[1].ratio, Some(1.5));
        assert_eq!(rows[1].met(), Some(false), "B4's goal is 1.3x");
        assert!(rows[1].note.as_deref().unwrap().contains("fdatasync"));
        // B7: the lookup against a raw sled get, then the scaling row (reported only).
        assert_eq!(rows[2].ratio, Some(2.0));
        assert_eq!(rows[2].met(), Some(true));
        assert!(rows[2].note.as_deref().unwrap().contains("100,000 lists"));
        assert_eq!(rows[3].ratio, Some(1.5));
        assert_eq!(rows[3].met(), None);
        assert_eq!(rows[4].ours.value, 300.0);
        assert_eq!(rows[4].met(), Some(false), "bytes per list: at most 256");
    }

    #[test]
    fn missing_results_are_failed_rows() {
        let home = tempfile::tempdir().unwrap();
        let rows = micro_rows(home.path(), &json!({}));
        assert!(rows.iter().all(|r| r.met().is_none() && r.note.is_some()));
    }

    #[test]
    fn b5_measures_with_a_tiny_plan() {
        let work = tempfile::tempdir().unwrap();
        let plan = Plan {
            concurrency: 8,
            b5_rounds: 1,
            ..Plan::quick()
        };
        let row = b5(&plan, work.path());
        assert!(row.ours.value > 0.0, "{row:?}");
        assert!(row.baseline.is_some(), "{row:?}");
    }
}
