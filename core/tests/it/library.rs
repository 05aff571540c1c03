//! The photo library with the real pipeline: answers kept as they arrive,
//! unchanged photos answered from it, changed ones and changed settings
//! classified again, and a stopped batch found for resuming.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use genderlens_core::batch::{Setup, Summary};
use genderlens_core::library::{Fingerprint, Library, NewRun, RunKeeper, RunState};
use genderlens_core::{Engine, ImageResult};

use crate::common;

fn copy_fixtures(dir: &Path) {
    for entry in std::fs::read_dir(common::photos_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

/// Runs `inputs` through `engine`, keeping answers in `library`.
fn kept_batch(
    engine: &Engine,
    library: &Arc<Library>,
    inputs: Vec<PathBuf>,
) -> (Vec<ImageResult>, Summary) {
    let fingerprint = Fingerprint::new("local", "test-models", engine.settings());
    let run = library
        .begin_run(&NewRun {
            inputs: &inputs,
            backend: "local",
            model: "test-models",
            fingerprint: &fingerprint,
        })
        .unwrap();
    let keeper = RunKeeper::new(library.clone(), run, fingerprint.hash.clone());
    let setup = Setup {
        keeper: Some(Arc::new(keeper)),
        ..Setup::default()
    };
    engine
        .start_with(inputs, None, setup)
        .collect()
        .expect("the batch runs")
}

fn without_reuse_flag(mut results: Vec<ImageResult>) -> Vec<ImageResult> {
    for r in &mut results {
        r.reused = false;
        r.timings = Default::default();
    }
    results
}

#[test]
fn a_rerun_answers_unchanged_photos_from_the_library_and_classifies_changed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    copy_fixtures(&photos);
    let library = Arc::new(Library::open(&dir.path().join("library.sqlite")).unwrap());
    let engine = common::engine();

    let (first, summary) = kept_batch(&engine, &library, vec![photos.clone()]);
    assert_eq!((summary.total, summary.reused), (8, 0));
    assert!(first.iter().all(|r| !r.reused));
    // Everything is in the library as it was reported, field for field.
    let mut stored = library.load().unwrap();
    stored.sort_by(|a, b| a.path.cmp(&b.path));
    let mut reported = without_reuse_flag(first.clone());
    for r in &mut reported {
        r.path = std::path::absolute(&r.path).unwrap();
    }
    reported.sort_by(|a, b| a.path.cmp(&b.path));
    let strip_index = |rs: Vec<ImageResult>| -> Vec<ImageResult> {
        rs.into_iter()
            .map(|r| ImageResult { index: 0, ..r })
            .collect()
    };
    assert_eq!(strip_index(stored), strip_index(reported));

    let (second, summary) = kept_batch(&engine, &library, vec![photos.clone()]);
    assert_eq!((summary.total, summary.reused), (8, 8));
    assert_eq!(
        without_reuse_flag(second),
        without_reuse_flag(first.clone())
    );

    // One photo replaced by another's bytes; one only touched (same bytes).
    std::fs::copy(photos.join("obama.jpg"), photos.join("astronaut.png")).unwrap();
    let touched = photos.join("obama.jpg");
    let file = std::fs::File::options()
        .append(true)
        .open(&touched)
        .unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    let (third, summary) = kept_batch(&engine, &library, vec![photos.clone()]);
    assert_eq!((summary.total, summary.reused), (8, 7), "{third:#?}");
    let changed = third.iter().find(|r| !r.reused).unwrap();
    assert!(changed.path.ends_with("astronaut.png"));
    let obama = third
        .iter()
        .find(|r| r.path.ends_with("obama.jpg"))
        .unwrap();
    assert_eq!(changed.faces[0].p_male, obama.faces[0].p_male);

    // Other settings: everything is classified again, and counted as such.
    let coarser = common::engine_with(genderlens_core::EngineSettings {
        detector_size: 320,
        ..common::cpu_settings()
    });
    let (_, summary) = kept_batch(&coarser, &library, vec![photos]);
    assert_eq!((summary.reused, summary.settings_changed), (0, 8));
}

#[test]
fn a_cancelled_run_is_offered_for_resuming_and_a_resumed_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(dir.path());
    let library = Arc::new(Library::open(&dir.path().join("library.sqlite")).unwrap());
    let engine = common::engine();
    let inputs = vec![
        dir.path().join("obama.jpg"),
        dir.path().join("astronaut.png"),
    ];
    let fingerprint = Fingerprint::new("local", "m", engine.settings());
    let run = library
        .begin_run(&NewRun {
            inputs: &inputs,
            backend: "local",
            model: "m",
            fingerprint: &fingerprint,
        })
        .unwrap();
    // Still running in this process: not offered.
    assert_eq!(library.unfinished().unwrap(), None);
    // Cancelled after its first photo.
    let keeper = Arc::new(RunKeeper::new(
        library.clone(),
        run,
        fingerprint.hash.clone(),
    ));
    let handle = engine.start_with(
        inputs[..1].to_vec(),
        None,
        Setup {
            keeper: Some(keeper.clone()),
            ..Setup::default()
        },
    );
    handle.collect().unwrap();
    // As a cancel records it (a finished run is not offered).
    assert_eq!(library.unfinished().unwrap(), None);
    library.set_run_state(run, RunState::Cancelled).unwrap();
    let offered = library.unfinished().unwrap().expect("offered");
    assert_eq!(offered.run, run);
    assert_eq!(offered.state, "cancelled");
    let absolute: Vec<PathBuf> = inputs
        .iter()
        .map(|p| std::path::absolute(p).unwrap())
        .collect();
    assert_eq!(offered.inputs, absolute);
    assert_eq!(offered.done, 1);
    library.set_run_state(run, RunState::Resumed).unwrap();
    assert_eq!(library.unfinished().unwrap(), None);
}
