//! The batch engine's streaming, progress and cancellation.

use crate::common;

use std::collections::BTreeSet;

use genderlens_core::EngineEvent;

/// A folder of `copies` copies of the fixture photos.
fn many_photos(copies: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<_> = std::fs::read_dir(common::photos_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for i in 0..copies {
        for source in &sources {
            let name = format!("{i:03}_{}", source.file_name().unwrap().to_string_lossy());
            std::fs::copy(source, dir.path().join(name)).unwrap();
        }
    }
    dir
}

#[test]
fn results_stream_with_their_input_index_and_progress_reaches_the_total() {
    let dir = many_photos(2);
    let events = common::engine()
        .start(vec![dir.path().to_path_buf()], None)
        .wait();
    let total = events
        .iter()
        .find_map(|e| match e {
            EngineEvent::Listed { total, .. } => Some(*total),
            _ => None,
        })
        .expect("a Listed event");
    assert_eq!(total, 16);
    assert_eq!(common::result_indices(&events), (0..16).collect());
    let last_progress = events
        .iter()
        .rev()
        .find_map(|e| match e {
            EngineEvent::Progress(p) => Some(p.clone()),
            _ => None,
        })
        .expect("progress events");
    assert_eq!(
        (
            last_progress.done,
            last_progress.total,
            last_progress.failed
        ),
        (16, 16, 0)
    );
    assert!(last_progress.images_per_second > 0.0);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EngineEvent::SessionReady(r) if r.model == "centerface"))
    );
    assert!(
        matches!(events.last(), Some(EngineEvent::Finished(s)) if !s.cancelled && s.faces == 16)
    );
}

#[test]
fn cancelling_stops_the_batch_early_and_says_so() {
    let dir = many_photos(8);
    let batch = common::engine().start(vec![dir.path().to_path_buf()], None);
    let mut images = 0;
    let mut finished = None;
    for event in batch.events().iter() {
        match event {
            EngineEvent::Image(_) => {
                images += 1;
                if images == 1 {
                    batch.cancel();
                }
            }
            EngineEvent::Finished(summary) => finished = Some(summary),
            _ => {}
        }
    }
    let summary = finished.expect("a cancelled batch still finishes");
    assert!(summary.cancelled);
    assert!(
        images < 64,
        "cancel stopped the batch: {images} of 64 reported"
    );
}

#[test]
fn a_second_batch_reuses_the_loaded_sessions() {
    let engine = common::engine();
    let workers = engine.settings().detect_workers;
    let pooled = |engine: &genderlens_core::Engine| {
        let (mut detectors, models) = engine.pooled_session_ids();
        detectors.sort_unstable();
        (detectors, models)
    };
    assert_eq!(pooled(&engine), (vec![], vec![]), "nothing loaded yet");
    let (first, _) = engine
        .classify_all(vec![common::photo("biden.jpg")])
        .unwrap();
    let after_first = pooled(&engine);
    assert_eq!(
        after_first.0.len(),
        workers,
        "every detect worker's session is kept"
    );
    assert_eq!(
        after_first.1.len(),
        3,
        "the ensemble's three model sessions are kept"
    );
    let (second, _) = engine
        .classify_all(vec![common::photo("biden.jpg")])
        .unwrap();
    assert_eq!(
        pooled(&engine),
        after_first,
        "the second batch ran on the very same sessions"
    );
    assert_eq!(
        first[0].faces, second[0].faces,
        "same sessions, same answers"
    );
}

#[test]
fn pausing_holds_new_photos_back_until_resumed() {
    let dir = many_photos(20);
    let batch = common::engine().start_paused(vec![dir.path().to_path_buf()], None);
    assert!(batch.control().is_paused());
    // Paused from the start: the photos are listed, and not one moves.
    let mut while_paused = 0;
    while let Ok(event) = batch
        .events()
        .recv_timeout(std::time::Duration::from_secs(3))
    {
        if matches!(event, EngineEvent::Image(_)) {
            while_paused += 1;
        }
        assert!(
            !matches!(event, EngineEvent::Finished(_)),
            "a paused batch must not finish"
        );
    }
    assert_eq!(
        while_paused, 0,
        "{while_paused} of 160 photos ran while paused"
    );
    batch.control().set_paused(false);
    let mut after = 0;
    let mut summary = None;
    for event in batch.events().iter() {
        match event {
            EngineEvent::Image(_) => after += 1,
            EngineEvent::Finished(s) => summary = Some(s),
            _ => {}
        }
    }
    assert_eq!(while_paused + after, 160);
    let summary = summary.expect("finished");
    assert!(!summary.cancelled);
    assert_eq!(summary.total, 160);
}

#[test]
fn photos_added_while_running_join_the_batch_once() {
    let first = many_photos(2);
    let extra = tempfile::tempdir().unwrap();
    std::fs::copy(common::photo("biden.jpg"), extra.path().join("new.jpg")).unwrap();
    // Started paused, so the batch cannot run dry and close before the addition.
    let batch = common::engine().start_paused(vec![first.path().to_path_buf()], None);
    let already_there = first.path().join("000_obama.jpg");
    assert!(
        batch
            .control()
            .add([extra.path().to_path_buf(), already_there])
    );
    batch.control().set_paused(false);
    let events = batch.wait();
    let added_total = events.iter().find_map(|e| match e {
        EngineEvent::Added { total, .. } => Some(*total),
        _ => None,
    });
    assert_eq!(
        added_total,
        Some(17),
        "16 photos plus one new; the duplicate is not queued"
    );
    let paths: BTreeSet<_> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Image(r) => Some(r.path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(paths.len(), 17);
    assert!(paths.iter().any(|p| p.ends_with("new.jpg")));
    assert!(matches!(events.last(), Some(EngineEvent::Finished(s)) if s.total == 17));
}

#[test]
fn a_finished_batch_refuses_additions() {
    let batch = common::engine().start(vec![common::photo("obama.jpg")], None);
    let control = batch.control().clone();
    let _ = batch.wait();
    assert!(!control.add([common::photo("biden.jpg")]));
}

#[test]
fn a_handle_let_go_early_cancels_its_batch() {
    let batch = common::engine().start_paused(vec![common::photos_dir()], None);
    let control = batch.control().clone();
    drop(batch);
    assert!(
        control.is_cancelled(),
        "a paused batch nobody holds must not wait forever"
    );
}

/// A server's request that times out is not worked on for nobody: the
/// photos of callers who gave up are skipped, not classified.
#[test]
fn photos_whose_callers_gave_up_are_not_classified() {
    use genderlens_core::batch::ServiceError;
    use std::time::Duration;
    let engine = common::engine();
    let service = engine.serve();
    let photo = std::fs::read(common::photo("obama3.jpg")).unwrap();
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..40)
            .map(|n| {
                let (service, photo) = (&service, photo.clone());
                scope.spawn(move || {
                    service.classify(format!("{n}.jpg"), photo, Duration::from_millis(1))
                })
            })
            .collect();
        calls.into_iter().map(|call| call.join().unwrap()).collect()
    });
    let timed_out = outcomes
        .iter()
        .filter(|o| matches!(o, Err(ServiceError::Timeout(_))))
        .count();
    assert!(timed_out >= 30, "{timed_out} of 40 timed out");
    // A patient caller waits behind whatever the pipeline still holds.
    let answer = service
        .classify("late.jpg", photo, Duration::from_secs(60))
        .expect("a patient caller is answered");
    assert_eq!(answer.status, genderlens_core::Status::Ok);
    let classified = service.classified();
    assert!(
        classified <= 10,
        "{classified} photos were classified for 40 callers who gave up and one who waited"
    );
}
