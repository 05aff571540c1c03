//! The library in the desktop app: results that survive a restart, Clear
//! that asks and can be undone, retrying failed photos, resuming a batch
//! that stopped early, and the question before quitting during a batch.

use super::*;

fn with_library(library: &Path) -> AppConfig {
    AppConfig {
        library: Some(library.to_path_buf()),
        ..config(None)
    }
}

fn finished_batches(h: &mut Harness<'static, GenderLensApp>, n: usize) {
    wait_for(h, "the batch to finish", |app| {
        app.state.batches_finished >= n && !app.state.batch.active
    });
}

#[test]
fn results_survive_a_restart_and_a_second_drop_is_answered_from_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library.sqlite");
    let photos = [common::photo("astronaut.png"), common::photo("obama.jpg")];
    {
        let mut h = harness(with_library(&library));
        drop_files(&mut h, &photos);
        finished_batches(&mut h, 1);
        assert_eq!(h.state().state.store.len(), 2);
    }
    let mut h = harness(with_library(&library));
    wait_for(&mut h, "the library's photos", |app| {
        app.state.store.len() == 2
    });
    assert!(log_text(h.state()).contains("2 photos from the library"));
    // Dropped again: one row each still, answered from the library. (The
    // library's opening counts as the first work shown.)
    drop_files(&mut h, &photos);
    finished_batches(&mut h, 2);
    let app = h.state();
    assert_eq!(app.state.store.len(), 2);
    assert_eq!(app.state.last_summary.as_ref().unwrap().reused, 2);
    assert!(
        log_text(app).contains("2 unchanged photos kept their results from the library"),
        "{}",
        log_text(app)
    );
}

#[test]
fn clear_asks_first_and_can_be_undone_until_the_next_batch() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library.sqlite");
    let mut h = harness(with_library(&library));
    drop_files(
        &mut h,
        &[common::photo("astronaut.png"), common::photo("obama.jpg")],
    );
    finished_batches(&mut h, 1);

    click(&mut h, "Clear");
    h.get_by_label("Clear all results?");
    click(&mut h, "Cancel");
    assert_eq!(h.state().state.store.len(), 2, "nothing is lost on Cancel");

    click(&mut h, "Clear");
    click(&mut h, "Clear all");
    assert!(h.state().state.store.is_empty());
    h.get_by_label_contains("2 results cleared");
    click(&mut h, "Undo clear");
    assert_eq!(h.state().state.store.len(), 2);

    // Cleared, then a new batch: the clear is final, in the library too.
    click(&mut h, "Clear");
    click(&mut h, "Clear all");
    drop_files(&mut h, &[common::photo("biden.jpg")]);
    finished_batches(&mut h, 2);
    assert!(h.state().state.cleared.is_none());
    assert!(h.query_by_label("Undo clear").is_none());
    drop(h);
    let reopened = genderlens::library::Library::open(&library).unwrap();
    let paths: Vec<_> = reopened
        .load()
        .unwrap()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths.len(), 1);
    assert!(paths[0].ends_with("biden.jpg"));
}

#[test]
fn a_failed_photo_is_retried_once_it_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("later.jpg");
    std::fs::write(&photo, b"not yet a photo").unwrap();
    let mut h = harness(with_library(&dir.path().join("library.sqlite")));
    drop_files(&mut h, std::slice::from_ref(&photo));
    finished_batches(&mut h, 1);
    assert_eq!(h.state().state.store.counts().errors, 1);

    std::fs::copy(common::photo("obama.jpg"), &photo).unwrap();
    h.get_by_label("Re-run").click();
    h.run_steps(3);
    click(&mut h, "Retry failed photos (1)");
    finished_batches(&mut h, 2);
    let counts = h.state().state.store.counts();
    assert_eq!((counts.images, counts.errors, counts.faces), (1, 0, 1));
}

#[test]
fn a_batch_that_stopped_early_is_offered_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let library_path = dir.path().join("library.sqlite");
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["astronaut.png", "obama.jpg", "biden.jpg"] {
        std::fs::copy(common::photo(name), photos.join(name)).unwrap();
    }
    // A batch of the folder cancelled before any photo was done.
    {
        use genderlens::library::{Fingerprint, Library, NewRun, RunState};
        let library = Library::open(&library_path).unwrap();
        let fingerprint = Fingerprint::new("local", "m", &common::cpu_settings());
        let run = library
            .begin_run(&NewRun {
                inputs: std::slice::from_ref(&photos),
                backend: "local",
                model: "m",
                fingerprint: &fingerprint,
            })
            .unwrap();
        library.set_run_state(run, RunState::Cancelled).unwrap();
    }
    let mut h = harness(with_library(&library_path));
    wait_for(&mut h, "the offer", |app| app.state.unfinished.is_some());
    h.run_steps(2);
    h.get_by_label_contains("was cancelled after 0 photos");
    click(&mut h, "Resume");
    finished_batches(&mut h, 1);
    assert_eq!(h.state().state.store.len(), 3);
    assert!(h.query_by_label("Resume").is_none(), "offered once");
    drop(h);
    // Resumed, so not offered again.
    let mut h = harness(with_library(&library_path));
    wait_for(&mut h, "the library's photos", |app| {
        app.state.store.len() == 3
    });
    assert!(h.state().state.unfinished.is_none());
}

#[test]
fn closing_during_a_batch_asks_and_can_leave_it_for_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let library_path = dir.path().join("library.sqlite");
    let big = dir.path().join("big");
    std::fs::create_dir(&big).unwrap();
    for n in 0..150 {
        std::fs::hard_link(common::photo("obama.jpg"), big.join(format!("p{n:03}.jpg"))).unwrap();
    }
    let mut h = harness(with_library(&library_path));
    drop_files(&mut h, std::slice::from_ref(&big));
    wait_for(&mut h, "the first results", |app| {
        app.state.store.len() >= 3
    });

    // The window manager's close button, or Ctrl+Q.
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.run_steps(3);
    h.get_by_label("A batch is running");
    click(&mut h, "Keep running");
    assert!(h.state().state.batch.active, "the batch goes on");

    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.run_steps(3);
    click(&mut h, "Quit and resume next time");
    drop(h);
    let library = genderlens::library::Library::open(&library_path).unwrap();
    let unfinished = library.unfinished().unwrap().expect("offered next time");
    assert_eq!(unfinished.state, "interrupted");
    assert!(unfinished.done >= 3);
    // The folder as dropped, so a resume lists it whole again.
    assert_eq!(unfinished.inputs, vec![big]);
}

#[test]
fn faces_are_reviewed_from_the_keyboard_and_the_corrections_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let library_path = dir.path().join("library.sqlite");
    let mut h = harness(with_library(&library_path));
    drop_files(
        &mut h,
        &[
            common::photo("obama.jpg"),
            common::photo("astronaut.png"),
            common::photo("biden.jpg"),
        ],
    );
    finished_batches(&mut h, 1);
    click(&mut h, "Review");
    // The fixtures' faces are all sure: the uncertain-only review is empty.
    h.get_by_label("No uncertain faces to review.");
    click_checkbox(&mut h, "Uncertain faces only");
    h.get_by_label_contains("3 faces.");
    wait_for(&mut h, "the face crops", |app| app.pictures_pending() == 0);

    let review_order: Vec<std::path::PathBuf> = {
        let app = h.state_mut();
        let filter = app.view.filter.clone();
        let faces = app
            .view
            .review
            .faces(&mut app.state.store, &filter)
            .to_vec();
        faces
            .iter()
            .map(|(id, _)| app.state.store.get(*id).unwrap().path.clone())
            .collect()
    };
    // F on the first face, 0 on the second, then U takes the 0 back.
    for key in [egui::Key::F, egui::Key::Num0, egui::Key::U] {
        h.key_press(key);
        h.run_steps(2);
    }
    let app = h.state();
    assert_eq!(app.state.store.counts().corrected, 1);
    assert_eq!(
        app.view.review.cursor, 1,
        "undo goes back to the face it undid"
    );
    h.get_by_label_contains("you: female");
    drop(h);

    // Kept in the library, beside the models' label.
    let library = genderlens::library::Library::open(&library_path).unwrap();
    let kept = library.load().unwrap();
    let first = kept.iter().find(|r| r.path == review_order[0]).unwrap();
    assert_eq!(first.faces[0].label(), Some(genderlens::Gender::Female));
    let second = kept.iter().find(|r| r.path == review_order[1]).unwrap();
    assert_eq!(second.faces[0].correction, None);
    // A new window shows it, and counts it.
    let mut h = harness(with_library(&library_path));
    wait_for(&mut h, "the library", |app| app.state.store.len() == 3);
    assert_eq!(h.state().state.store.counts().corrected, 1);
}
