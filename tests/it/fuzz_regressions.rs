//! The fuzz targets' checks (`fuzz/checks.rs`) replayed on their committed
//! seeds and on every input that once crashed one (`fuzz/regressions/`), so
//! a fixed bug stays fixed without running the fuzzers.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 6] = [
    ("decode", checks::decode),
    ("centerface", checks::centerface),
    ("shape_predictor", checks::shape_predictor),
    ("kserve", checks::kserve),
    ("multipart", checks::multipart),
    ("readers", checks::readers),
];

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

#[test]
fn every_seed_and_past_crash_passes_its_target_check() {
    let mut replayed = 0;
    for (target, check) in TARGETS {
        let seeds = files_in(&fuzz_dir("seeds", target));
        assert!(!seeds.is_empty(), "fuzz/seeds/{target} has no seeds");
        for input in seeds
            .iter()
            .chain(&files_in(&fuzz_dir("regressions", target)))
        {
            let data = std::fs::read(input).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target} fails on {}", input.display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} fuzz inputs");
}

/// The seeds are what they claim to be, so the fuzzers start from inputs
/// that reach deep into each parser rather than from its first error.
#[test]
fn the_seeds_are_accepted_by_what_they_seed() {
    use genderlens_core::preprocess::decode::{DecodeLimits, decode_bytes};
    let limits = DecodeLimits {
        max_megapixels: 4.0,
        max_file_bytes: 8 << 20,
        budget: None,
        show_truncated: false,
    };
    for seed in files_in(&fuzz_dir("seeds", "decode")) {
        let data = std::fs::read(&seed).unwrap();
        assert!(
            decode_bytes(&data, &limits).is_ok(),
            "{} does not decode",
            seed.display()
        );
    }
    let tiny = std::fs::read(fuzz_dir("seeds", "shape_predictor").join("tiny.dat")).unwrap();
    let predictor =
        genderlens_core::preprocess::landmarks::ShapePredictor::from_bytes(&tiny).unwrap();
    assert_eq!(predictor.parts(), 5);
    let results = std::fs::read(fuzz_dir("seeds", "readers").join("results.jsonl")).unwrap();
    let (rows, problems) =
        genderlens_core::export::files::parse_jsonl(&results[..], "results.jsonl").unwrap();
    assert_eq!((rows.len(), problems.len()), (3, 0), "{problems:?}");
}
