//! Replays the seed corpus of the cargo-fuzz targets (`fuzz/corpus/<target>/`) through the same
//! checks the targets run, so CI exercises them on stable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "the {target} corpus has only {} seeds",
        files.len()
    );
    files
}

#[test]
fn envelope_corpus() {
    let mut decoded = 0;
    for (name, bytes) in corpus("envelope") {
        let ok = std::panic::catch_unwind(|| pims_types::fuzz_checks::envelope(&bytes));
        assert!(ok.is_ok(), "seed {name} broke an invariant");
        decoded += usize::from(pims_types::Message::from_slice(&bytes).is_ok());
    }
    // The corpus mixes valid documents and broken ones; both kinds must be there.
    assert!(decoded >= 5, "only {decoded} seeds decode");
}

#[test]
fn parameters_corpus() {
    for (name, bytes) in corpus("parameters") {
        let ok = std::panic::catch_unwind(|| pims_types::fuzz_checks::parameters(&bytes));
        assert!(ok.is_ok(), "seed {name} broke an invariant");
    }
}
