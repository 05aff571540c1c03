//! The photo library from the command line: answers kept as they arrive,
//! re-runs that skip unchanged photos, and a killed batch resumed without
//! losing or repeating a photo. The tables are read with plain SQL, as an
//! analyst would.

use std::path::Path;
use std::process::Output;

use crate::common;

fn classify(library: &Path, args: &[&str]) -> Output {
    let out = common::genderlens_command()
        .args([
            "classify",
            "--provider",
            "cpu",
            "--format",
            "jsonl",
            "--library",
        ])
        .arg(library)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Each JSONL line, with the fields a re-run may change left out.
fn answers(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn sql_count(library: &Path, query: &str) -> i64 {
    let conn = rusqlite::Connection::open(library).unwrap();
    conn.query_row(query, [], |row| row.get(0)).unwrap()
}

#[test]
fn a_rerun_answers_unchanged_photos_from_the_library_until_the_settings_change() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    common::link_fixture_copies(&photos, 1);
    let library = dir.path().join("library.sqlite");
    let photos_arg = photos.to_str().unwrap();

    let first = classify(&library, &[photos_arg]);
    assert!(!stderr(&first).contains("unchanged"), "{}", stderr(&first));
    let second = classify(&library, &[photos_arg]);
    assert!(
        stderr(&second).contains("8 unchanged since they were last classified"),
        "{}",
        stderr(&second)
    );
    assert_eq!(answers(&second), answers(&first));

    let again = classify(&library, &[photos_arg, "--reclassify"]);
    assert!(!stderr(&again).contains("unchanged"), "{}", stderr(&again));
    let coarser = classify(&library, &[photos_arg, "--detector-size", "320"]);
    assert!(
        stderr(&coarser).contains("8 classified again: the settings or models changed"),
        "{}",
        stderr(&coarser)
    );

    // The tables as the README documents them.
    assert_eq!(sql_count(&library, "SELECT COUNT(*) FROM photos"), 8);
    assert_eq!(sql_count(&library, "SELECT COUNT(*) FROM runs"), 4);
    assert_eq!(
        sql_count(
            &library,
            "SELECT COUNT(*) FROM photos WHERE label = 'mixed'"
        ),
        sql_count(
            &library,
            "SELECT COUNT(*) FROM photos WHERE female_faces > 0 AND male_faces > 0"
        )
    );
    assert_eq!(
        sql_count(&library, "SELECT SUM(faces) FROM photos"),
        sql_count(&library, "SELECT COUNT(*) FROM faces")
    );
    assert_eq!(
        sql_count(
            &library,
            "SELECT COUNT(*) FROM photos p JOIN errors e ON e.photo_id = p.id WHERE p.status = 'error'"
        ),
        sql_count(
            &library,
            "SELECT COUNT(*) FROM photos WHERE status = 'error'"
        )
    );
}

#[test]
fn a_one_off_run_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library.sqlite");
    let out = common::genderlens_command()
        .args(["classify", "--provider", "cpu", "--no-library"])
        .arg(common::photo("obama.jpg"))
        .env("GENDERLENS_LIBRARY", &library)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!library.exists());
    let nothing = common::genderlens_command()
        .args(["classify", "--resume", "--library"])
        .arg(&library)
        .output()
        .unwrap();
    assert!(!nothing.status.success());
    assert!(
        stderr(&nothing).contains("has no batch that stopped early"),
        "{}",
        stderr(&nothing)
    );
}

#[test]
fn a_killed_batch_resumes_without_losing_or_repeating_a_photo() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    common::link_fixture_copies(&photos, 20);
    let library = dir.path().join("library.sqlite");
    let mut child = common::genderlens_command()
        .args([
            "classify",
            "--provider",
            "cpu",
            "--format",
            "jsonl",
            "--library",
        ])
        .arg(&library)
        .arg(&photos)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed outright (no chance to tidy up) once some answers are kept.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        assert!(std::time::Instant::now() < deadline, "no answers were kept");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it was killed"
        );
        // The file and its tables appear while the batch starts.
        let kept = if library.exists() {
            rusqlite::Connection::open(&library)
                .and_then(|c| {
                    c.query_row("SELECT COUNT(*) FROM photos", [], |r| r.get::<_, i64>(0))
                })
                .unwrap_or(0)
        } else {
            0
        };
        if kept >= 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept_before = sql_count(&library, "SELECT COUNT(*) FROM photos");
    assert!(kept_before < 160, "killed before the end");

    let resumed = classify(&library, &["--resume"]);
    let text = stderr(&resumed);
    assert!(text.contains("resuming the batch started"), "{text}");
    assert!(
        text.contains(&format!("{kept_before} unchanged since")),
        "every photo kept before the kill is answered from the library: {text}"
    );
    // Every photo answered once in the output, and kept once.
    let mut paths: Vec<String> = answers(&resumed)
        .iter()
        .map(|a| a["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 160);
    assert_eq!(sql_count(&library, "SELECT COUNT(*) FROM photos"), 160);
    assert_eq!(
        sql_count(&library, "SELECT COUNT(*) FROM photos WHERE run_id = 2"),
        160 - kept_before,
        "the resumed run classified only what the killed one had not"
    );
    assert_eq!(
        sql_count(
            &library,
            "SELECT COUNT(*) FROM runs WHERE id = 1 AND state = 'resumed'"
        ),
        1
    );
}

#[test]
fn export_writes_the_library_with_its_corrections() {
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("library.sqlite");
    let astronaut = common::photo("astronaut.png");
    classify(
        &library,
        &[
            astronaut.to_str().unwrap(),
            common::photo("obama.jpg").to_str().unwrap(),
        ],
    );
    genderlens::library::Library::open(&library)
        .unwrap()
        .correct(&astronaut, 0, Some(genderlens::labels::PersonLabel::Male))
        .unwrap();
    let csv_path = dir.path().join("library.csv");
    let out = common::genderlens_command()
        .args(["export", "--format", "csv", "--library"])
        .arg(&library)
        .arg("-o")
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, common::DOCUMENTED_CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let corrected = rows
        .iter()
        .find(|r| r[0].ends_with("astronaut.png"))
        .unwrap();
    assert_eq!(
        (&corrected[6], &corrected[17], &corrected[18]),
        ("female", "person", "male"),
        "the models' label stays beside the person's"
    );
    assert!(corrected[13].starts_with("local"), "{:?}", &corrected[13]);
    let other = rows.iter().find(|r| r[0].ends_with("obama.jpg")).unwrap();
    assert_eq!((&other[17], &other[18]), ("model", ""));
    // Never over an existing file unasked.
    let again = common::genderlens_command()
        .args(["export", "--library"])
        .arg(&library)
        .arg("-o")
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(!again.status.success());
}
