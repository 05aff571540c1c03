//! The library's own rules, on hand-made answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::labels::Gender;
use crate::postprocess::{FaceResult, ModelValues, StageTimings};

fn face(p_male: f32, left: f32) -> FaceResult {
    let mut models = BTreeMap::new();
    models.insert(
        "gender-v1".to_string(),
        ModelValues {
            p_male: Some(p_male),
            age: None,
        },
    );
    FaceResult {
        bbox: [left, 2.5, left + 40.25, 60.0],
        landmarks: [
            [1.0, 2.0],
            [3.0, 4.0],
            [5.5, 6.5],
            [7.0, 8.0],
            [9.0, 10.125],
        ],
        detection_score: 0.987_654_3,
        gender: if p_male > 0.5 {
            Gender::Male
        } else {
            Gender::Female
        },
        score: if p_male > 0.5 { p_male } else { 1.0 - p_male },
        p_male,
        uncertain: false,
        age: Some(31.4),
        models,
        correction: None,
    }
}

fn answer(path: &Path, faces: Vec<FaceResult>) -> ImageResult {
    crate::postprocess::image_result(
        0,
        path.to_path_buf(),
        (640, 480),
        faces,
        StageTimings::default(),
    )
}

fn library(dir: &Path) -> Library {
    Library::open(&dir.join("lib").join("library.sqlite")).unwrap()
}

fn run(library: &Library, fingerprint: &Fingerprint) -> RunId {
    library
        .begin_run(&NewRun {
            inputs: &[PathBuf::from("/photos")],
            backend: "local",
            model: "m",
            fingerprint,
        })
        .unwrap()
}

fn fingerprint() -> Fingerprint {
    Fingerprint::new("local", "m", &crate::settings::EngineSettings::default())
}

#[test]
fn answers_come_back_exactly_even_under_names_that_are_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    #[cfg(unix)]
    let odd = {
        use std::os::unix::ffi::OsStrExt;
        dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"))
    };
    #[cfg(not(unix))]
    let odd = dir.path().join("café.jpg");
    std::fs::write(&odd, b"bytes").unwrap();
    let group = answer(&odd, vec![face(0.9, 10.0), face(0.1, 100.0)]);
    let failed = ImageResult::failed(
        1,
        dir.path().join("broken.jpg"),
        crate::error::PhotoError::input("not a JPEG"),
    );
    lib.record(run, &fp.hash, &mut group.clone()).unwrap();
    lib.record(run, &fp.hash, &mut failed.clone()).unwrap();
    let loaded = lib.load().unwrap();
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0], group);
    assert_eq!(loaded[1], ImageResult { index: 1, ..failed });
    // The per-photo columns analysts read.
    let conn = lib.conn();
    let (label, female, male): (String, i64, i64) = conn
        .query_row(
            "SELECT label, female_faces, male_faces FROM photos ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((label.as_str(), female, male), ("mixed", 1, 1));
    let kind: String = conn
        .query_row("SELECT kind FROM errors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "input");
}

#[test]
fn a_photo_is_reused_only_while_it_and_the_settings_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    let photo = dir.path().join("a.jpg");
    std::fs::write(&photo, b"first bytes").unwrap();
    lib.record(run, &fp.hash, &mut answer(&photo, vec![face(0.8, 1.0)]))
        .unwrap();

    let Lookup::Unchanged(kept) = lib.lookup(&photo, &fp.hash, 7).unwrap() else {
        panic!("an unchanged photo is reused");
    };
    assert_eq!((kept.index, kept.reused, kept.faces.len()), (7, true, 1));
    assert!(matches!(
        lib.lookup(&photo, "other settings", 0).unwrap(),
        Lookup::SettingsChanged
    ));
    // Same size, new bytes, new time: classified again.
    std::fs::write(&photo, b"other bytes").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3);
    std::fs::File::options()
        .append(true)
        .open(&photo)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(matches!(
        lib.lookup(&photo, &fp.hash, 0).unwrap(),
        Lookup::Classify
    ));
    assert!(matches!(
        lib.lookup(&dir.path().join("never.jpg"), &fp.hash, 0)
            .unwrap(),
        Lookup::Classify
    ));
}

#[test]
fn a_server_failure_is_asked_again_but_a_broken_photo_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    let (down, broken) = (dir.path().join("down.jpg"), dir.path().join("broken.jpg"));
    std::fs::write(&down, b"x").unwrap();
    std::fs::write(&broken, b"y").unwrap();
    let error = |path: &Path, e| ImageResult::failed(0, path.to_path_buf(), e);
    lib.record(
        run,
        &fp.hash,
        &mut error(
            &down,
            crate::error::PhotoError::upstream("connection refused"),
        ),
    )
    .unwrap();
    lib.record(
        run,
        &fp.hash,
        &mut error(&broken, crate::error::PhotoError::input("not an image")),
    )
    .unwrap();
    assert!(matches!(
        lib.lookup(&down, &fp.hash, 0).unwrap(),
        Lookup::Classify
    ));
    assert!(matches!(
        lib.lookup(&broken, &fp.hash, 0).unwrap(),
        Lookup::Unchanged(_)
    ));
}

#[test]
fn clear_can_be_undone_until_the_cleared_photos_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    let photo = dir.path().join("a.jpg");
    std::fs::write(&photo, b"a").unwrap();
    lib.record(run, &fp.hash, &mut answer(&photo, vec![face(0.2, 1.0)]))
        .unwrap();
    assert_eq!(lib.clear().unwrap(), 1);
    assert!(lib.load().unwrap().is_empty());
    assert!(matches!(
        lib.lookup(&photo, &fp.hash, 0).unwrap(),
        Lookup::Classify
    ));
    assert_eq!(lib.undo_clear().unwrap(), 1);
    assert_eq!(lib.load().unwrap().len(), 1);
    lib.clear().unwrap();
    assert_eq!(lib.forget_cleared().unwrap(), 1);
    assert_eq!(lib.undo_clear().unwrap(), 0);
    let faces: i64 = lib
        .conn()
        .query_row("SELECT COUNT(*) FROM faces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(faces, 0, "a forgotten photo's faces go with it");
}

#[test]
fn a_run_left_running_by_a_process_that_is_gone_is_offered_for_resuming() {
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    assert_eq!(
        lib.unfinished().unwrap(),
        None,
        "this process still runs it"
    );
    // A process id no live process has (above Linux's pid_max).
    lib.conn()
        .execute("UPDATE runs SET pid = 99999999 WHERE id = ?1", [run.0])
        .unwrap();
    let offered = lib.unfinished().unwrap().expect("a crashed run is offered");
    assert_eq!((offered.run, offered.state.as_str()), (run, "running"));
    assert_eq!(offered.inputs, vec![PathBuf::from("/photos")]);
    lib.set_run_state(run, RunState::Dismissed).unwrap();
    assert_eq!(lib.unfinished().unwrap(), None);
}

#[test]
fn a_library_from_a_newer_version_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();
    drop(conn);
    assert!(matches!(
        Library::open(&path),
        Err(LibraryError::Newer { .. })
    ));
}

#[test]
fn corrections_sit_beside_the_prediction_and_follow_their_face_when_reclassified() {
    use crate::labels::PersonLabel;
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    let photo = dir.path().join("group.jpg");
    std::fs::write(&photo, b"group").unwrap();
    lib.record(
        run,
        &fp.hash,
        &mut answer(&photo, vec![face(0.9, 10.0), face(0.7, 100.0)]),
    )
    .unwrap();
    lib.correct(&photo, 1, Some(PersonLabel::Female)).unwrap();
    lib.correct(&photo, 0, Some(PersonLabel::NotAFace)).unwrap();
    assert!(matches!(
        lib.correct(&photo, 5, Some(PersonLabel::Male)),
        Err(LibraryError::NoSuchFace { face: 5 })
    ));

    let loaded = lib.load().unwrap().remove(0);
    let corrected = &loaded.faces[1];
    assert_eq!(corrected.gender, Gender::Male, "the prediction stays");
    assert_eq!(corrected.label(), Some(Gender::Female));
    assert_eq!(loaded.faces[0].label(), None);
    // In JSON: the source and the person's label beside the model's, and back.
    let json = serde_json::to_value(corrected).unwrap();
    assert_eq!(json["label_source"], "person");
    assert_eq!(json["corrected_label"], "female");
    assert_eq!(json["gender"], "male");
    let back: FaceResult = serde_json::from_value(json).unwrap();
    assert_eq!(&back, corrected);
    let plain = serde_json::to_value(answer(&photo, vec![face(0.9, 1.0)])).unwrap();
    assert!(plain["faces"][0].get("label_source").is_none());

    // Classified again: the faces come in the other order and a little
    // moved, and the first one is no longer found.
    let mut moved = face(0.6, 101.0);
    moved.bbox[3] += 1.0;
    let mut reclassified = answer(&photo, vec![face(0.2, 300.0), moved]);
    lib.record(run, &fp.hash, &mut reclassified).unwrap();
    assert_eq!(
        reclassified.faces[1].label(),
        Some(Gender::Female),
        "the new answer carries the correction that still applies"
    );
    let again = lib.load().unwrap().remove(0);
    assert_eq!(again.faces[0].correction, None);
    assert_eq!(again.faces[1].label(), Some(Gender::Female));
    let kept: i64 = lib
        .conn()
        .query_row("SELECT COUNT(*) FROM corrections", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        kept, 1,
        "the correction of the face no longer found is gone"
    );

    lib.correct(&photo, 1, None).unwrap();
    assert_eq!(lib.load().unwrap()[0].faces[1].correction, None);
}

#[test]
fn a_server_failure_keeps_the_earlier_answer_and_its_corrections() {
    use crate::labels::PersonLabel;
    let dir = tempfile::tempdir().unwrap();
    let lib = library(dir.path());
    let fp = fingerprint();
    let run = run(&lib, &fp);
    let photo = dir.path().join("a.jpg");
    std::fs::write(&photo, b"a photo").unwrap();
    lib.record(run, &fp.hash, &mut answer(&photo, vec![face(0.8, 1.0)]))
        .unwrap();
    lib.correct(&photo, 0, Some(PersonLabel::Female)).unwrap();
    let mut down = ImageResult::failed(
        0,
        photo.clone(),
        crate::error::PhotoError::upstream("connection refused"),
    );
    lib.record(run, &fp.hash, &mut down).unwrap();
    let kept = lib.load().unwrap().remove(0);
    assert_eq!(kept.status, crate::postprocess::Status::Ok);
    assert_eq!(kept.faces[0].label(), Some(Gender::Female));

    // A different file at the same path: its faces are other faces.
    std::fs::write(&photo, b"another photo").unwrap();
    lib.record(run, &fp.hash, &mut answer(&photo, vec![face(0.8, 1.0)]))
        .unwrap();
    assert_eq!(lib.load().unwrap()[0].faces[0].correction, None);
}
