//! Exports of real results: CSV and JSONL written atomically and never
//! over an existing file unasked; "sort into folders" copies, never moves.

use crate::common;

use genderlens_core::export::{self, ExportFormat, Provenance};

/// Results for a folder of photos; the folder lives as long as the caller
/// keeps it, so the copy tests can read the photos, and is removed after.
fn results() -> (tempfile::TempDir, Vec<genderlens_core::ImageResult>) {
    let dir = tempfile::tempdir().unwrap();
    for name in ["astronaut.png", "obama.jpg", "camera.png"] {
        std::fs::copy(common::photo(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(
        dir.path().join("broken.jpg"),
        b"\xff\xd8\xff\xe0 not really",
    )
    .unwrap();
    let (results, _) = common::engine()
        .classify_all(vec![dir.path().to_path_buf()])
        .unwrap();

    (dir, results)
}

fn provenance() -> Provenance {
    Provenance {
        backend: "local:CPUExecutionProvider".into(),
        model: "gender-v1".into(),
    }
}

#[test]
fn csv_has_one_row_per_face_with_the_documented_columns() {
    let (_photos, results) = results();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let p = provenance();
    let rows = export::export_results(
        &path,
        ExportFormat::Csv,
        results.iter().map(|r| (r, &p)),
        false,
    )
    .unwrap();
    let faces: usize = results.iter().map(|r| r.faces.len().max(1)).sum();
    assert_eq!(rows, faces);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, common::DOCUMENTED_CSV_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows);
    let grace = records
        .iter()
        .find(|r| r[0].ends_with("astronaut.png"))
        .unwrap();
    assert_eq!(&grace[6], "female");
    assert_eq!(&grace[13], "local:CPUExecutionProvider");
    // The age column comes last, one decimal, as JSON has it.
    let age: f32 = grace[16].parse().expect("an age in years");
    assert!((15.0..70.0).contains(&age), "{age}");
    assert!(
        grace[16].split('.').nth(1).is_none_or(|d| d.len() == 1),
        "{}",
        &grace[16]
    );
    // Nobody reviewed it: the models' label, and no person's.
    assert_eq!((&grace[17], &grace[18]), ("model", ""));
    let broken = records
        .iter()
        .find(|r| r[0].ends_with("broken.jpg"))
        .unwrap();
    assert_eq!(&broken[11], "error");
    assert!(!broken[12].is_empty());
    assert!(broken[16].is_empty(), "no face, no age");
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_existing_file_is_kept_unless_replacing_was_confirmed() {
    let (_photos, results) = results();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    std::fs::write(&path, "precious").unwrap();
    let p = provenance();
    let refused = export::export_results(
        &path,
        ExportFormat::Jsonl,
        results.iter().map(|r| (r, &p)),
        false,
    );
    assert!(refused.unwrap_err().to_string().contains("already exists"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");

    let rows = export::export_results(
        &path,
        ExportFormat::Jsonl,
        results.iter().map(|r| (r, &p)),
        true,
    )
    .unwrap();
    assert_eq!(rows, results.len());
    let (read_back, problems) = export::read_jsonl(&path).unwrap();
    assert!(problems.is_empty());
    // Stage timings are not part of the file.
    let without_timings: Vec<_> = results
        .iter()
        .cloned()
        .map(|mut r| {
            r.timings = Default::default();
            r
        })
        .collect();
    assert_eq!(read_back, without_timings);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn sorting_copies_into_label_folders_without_overwriting() {
    let (_photos, results) = results();
    let dest = tempfile::tempdir().unwrap();
    let report = export::sort_into_folders(&results, dest.path());
    assert_eq!(report.skipped_errors, 1, "the broken file is left out");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(dest.path().join("female/astronaut.png").is_file());
    assert!(dest.path().join("male/obama.jpg").is_file());
    // Originals stay where they were.
    for r in &results {
        assert!(r.path.is_file(), "{} was moved", r.path.display());
    }
    // A second run finds every photo already there and copies nothing.
    let again = export::sort_into_folders(&results, dest.path());
    assert_eq!(again.total_copied(), 0);
    assert_eq!(again.already_there, report.total_copied());
    assert!(!dest.path().join("female/astronaut (2).png").exists());
    // A different photo of the same name gets a numbered copy, and the
    // first file is kept as it was.
    let astronaut = results
        .iter()
        .find(|r| r.path.ends_with("astronaut.png"))
        .unwrap();
    std::fs::copy(common::photo("obama.jpg"), &astronaut.path).unwrap();
    let changed = export::sort_into_folders([astronaut], dest.path());
    assert_eq!(changed.total_copied(), 1, "{changed:?}");
    assert!(dest.path().join("female/astronaut (2).png").is_file());
    assert_eq!(
        std::fs::read(dest.path().join("female/astronaut.png")).unwrap(),
        std::fs::read(common::photo("astronaut.png")).unwrap()
    );
}
