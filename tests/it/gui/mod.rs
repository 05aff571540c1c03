//! The desktop app driven headlessly with egui_kittest: the real app state
//! and views, the real engine on the real models, simulated drops and clicks.
//! Snapshot tests render with wgpu (lavapipe on a machine without a GPU).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use genderlens::gui::events::DialogPurpose;
use genderlens::gui::results::{Filter, RowMode, Sort};
use genderlens::gui::{AppConfig, GenderLensApp, dialogs::FileDialogs};
use genderlens::settings_store::{self, AppSettings, ThemeChoice};

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Answers every dialog with a fixed choice, standing in for the OS dialog.
struct Answer(Vec<PathBuf>);

impl FileDialogs for Answer {
    fn ask(&self, _purpose: DialogPurpose) -> Result<Vec<PathBuf>, String> {
        Ok(self.0.clone())
    }
}

/// A desktop where no file dialog can be shown.
struct NoDialogs;

impl FileDialogs for NoDialogs {
    fn ask(&self, _purpose: DialogPurpose) -> Result<Vec<PathBuf>, String> {
        Err("no file dialog could be shown".into())
    }
}

fn settings() -> AppSettings {
    AppSettings {
        engine: common::cpu_settings(),
        ..AppSettings::default()
    }
}

fn config(settings_path: Option<PathBuf>) -> AppConfig {
    // Fail loudly here, with instructions, if the runtime or models are missing.
    common::runtime();
    common::bundle();
    AppConfig {
        settings: settings(),
        settings_path,
        settings_warning: None,
        initial_paths: Vec::new(),
        open_results: None,
        dialogs: Arc::new(Answer(Vec::new())),
        frame_stats_path: None,
        exit_when_done: false,
        start_tab: Default::default(),
        library: None,
        resume: false,
    }
}

fn harness(config: AppConfig) -> Harness<'static, GenderLensApp> {
    Harness::builder()
        .with_size([1200.0, 800.0])
        .with_max_steps(100_000)
        .build_eframe(move |cc| GenderLensApp::new(&cc.egui_ctx, config))
}

/// Steps frames until `done` holds; background work is real, so this polls
/// with a generous deadline rather than sleeping a fixed time.
fn wait_for(
    h: &mut Harness<'static, GenderLensApp>,
    what: &str,
    done: impl Fn(&GenderLensApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.step();
}

fn drop_files(h: &mut Harness<'static, GenderLensApp>, paths: &[PathBuf]) {
    for path in paths {
        h.input_mut()
            .dropped_files
            .push(Arc::new(Dropped(path.clone())));
    }
    h.step();
}

/// Clicks the widget and lets the app act on it (actions apply after the
/// frame that saw the click; new windows need one more frame to size).
fn click(h: &mut Harness<'static, GenderLensApp>, label: &str) {
    h.get_by_label(label).click();
    h.run_steps(3);
}

fn click_checkbox(h: &mut Harness<'static, GenderLensApp>, label: &str) {
    h.get_by_role_and_label(Role::CheckBox, label).click();
    h.run_steps(3);
}

fn log_text(app: &GenderLensApp) -> String {
    app.state
        .log
        .lines()
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dropped_photos_are_classified_and_shown_with_labels() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a photo").unwrap();
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("readme.md"), "not a photo either").unwrap();
    std::fs::copy(common::photo("obama.jpg"), folder.join("obama.jpg")).unwrap();

    let mut h = harness(config(None));
    h.get_by_label("Drop photos or folders here");
    drop_files(
        &mut h,
        &[
            common::photo("astronaut.png"),
            common::photo("biden.jpg"),
            folder.clone(),
            notes.clone(),
        ],
    );
    wait_for(&mut h, "the batch to finish", |app| {
        app.state.batches_finished > 0 && app.state.store.len() >= 3
    });

    let app = h.state();
    let mut labels: Vec<_> = app
        .state
        .store
        .images()
        .iter()
        .filter_map(|r| {
            Some((
                r.path.file_name()?.to_string_lossy().into_owned(),
                r.gender?.as_str().to_string(),
            ))
        })
        .collect();
    labels.sort();
    assert_eq!(
        labels,
        [
            ("astronaut.png".to_string(), "female".to_string()),
            ("biden.jpg".into(), "male".into()),
            ("obama.jpg".into(), "male".into()),
        ]
    );
    // The text file named directly is tried and fails on its own; the
    // folder's non-image is skipped with a reason; the duplicate is not queued.
    let notes_result = app
        .state
        .store
        .images()
        .iter()
        .find(|r| r.path == notes)
        .expect("the dropped text file has a result");
    assert!(
        notes_result
            .error
            .as_deref()
            .unwrap()
            .contains("not a recognised image format")
    );
    assert_eq!(notes_result.error_kind, Some(genderlens::ErrorKind::Input));
    let astronaut_score = app
        .state
        .store
        .images()
        .iter()
        .find(|r| r.path.ends_with("astronaut.png"))
        .map(|r| r.faces[0].score)
        .expect("the astronaut has a face");
    assert_eq!(app.state.store.len(), 4);
    let log = log_text(app);
    assert!(log.contains("readme.md: not an image file"), "{log}");

    // Dropping a photo again answers it again in its own row, not a second one.
    let batches = h.state().state.batches_finished;
    drop_files(&mut h, &[common::photo("astronaut.png")]);
    wait_for(&mut h, "the photo to be answered again", |app| {
        app.state.batches_finished > batches && !app.state.batch.active
    });
    assert_eq!(h.state().state.store.len(), 4);

    // The gallery shows each photo with its label once thumbnails load.
    wait_for(&mut h, "thumbnails", |app| app.pictures_pending() == 0);
    h.get_by_label("Photo astronaut.png");

    // Selecting a photo opens the detail view with the face's scores.
    click(&mut h, "Photo astronaut.png");
    wait_for(&mut h, "the detail picture", |app| {
        app.pictures_pending() == 0
    });
    h.get_by_label("Face 1");
    // The detail view shows the classifier's own score for the face.
    h.get_by_label(&format!("female {astronaut_score:.3}"));
    click(&mut h, "Copy as JSON");

    click(&mut h, "Table");
    assert!(h.query_all_by_label("female").count() >= 1);
    assert!(h.query_all_by_label("male").count() >= 2);
    assert!(
        h.query_by_label("cannot read").is_some(),
        "a damaged photo is worded as such"
    );
    assert!(log_text(h.state()).contains("as JSON"));
}

#[test]
fn the_table_filters_by_label_uncertain_no_face_and_error() {
    let mut h = harness(config(None));
    let photos_dir = common::photos_dir();
    drop_files(
        &mut h,
        &[photos_dir.clone(), PathBuf::from("/no/such/photo.jpg")],
    );
    wait_for(&mut h, "the batch to finish", |app| {
        app.state.batches_finished > 0
    });
    click(&mut h, "Table");

    let all_rows = {
        let app = h.state_mut();
        app.state
            .store
            .rows(RowMode::PerFace, &Filter::default(), Sort::default())
            .len()
    };
    // 8 photos with 8 faces, plus the missing file's error row.
    assert_eq!(all_rows, 9);
    h.get_by_label(&format!("{all_rows} rows"));

    // Unticking "Female", "No face" and "Errors" leaves only the male faces.
    for label in ["Female", "No face", "Errors"] {
        click_checkbox(&mut h, label);
    }
    let counts = h.state().state.store.counts();
    h.step();
    h.get_by_label(&format!("{} rows", counts.male));
    assert!(h.query_by_label_contains("astronaut.png").is_none());
    assert!(h.query_by_label_contains("obama.jpg").is_some());
    assert!(h.query_by_label_contains("/no/such/photo.jpg").is_none());

    // Errors only.
    click_checkbox(&mut h, "Male");
    click_checkbox(&mut h, "Errors");
    h.get_by_label("1 rows");
    assert!(h.query_by_label("/no/such/photo.jpg").is_some());

    // Per photo, with a path filter.
    click_checkbox(&mut h, "Female");
    click_checkbox(&mut h, "Male");
    click(&mut h, "per photo");
    h.get_by_role_and_label(Role::TextInput, "Path").click();
    h.run_steps(2);
    h.get_by_role_and_label(Role::TextInput, "Path")
        .type_text("obama");
    h.step();
    h.step();
    h.get_by_label("4 rows");
}

#[test]
fn settings_are_saved_and_read_back_and_a_damaged_file_warns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config/settings.json");
    let mut h = harness(config(Some(path.clone())));
    click(&mut h, "Settings");
    click(&mut h, "Dark");
    click(&mut h, "Apply");
    wait_for(&mut h, "the settings to be saved", |app| {
        log_text(app).contains("Settings saved")
    });
    let (saved, warning) = settings_store::load(&path);
    assert_eq!(warning, None);
    assert_eq!(saved.theme, ThemeChoice::Dark);
    assert_eq!(saved.engine, common::cpu_settings());
    assert_eq!(h.state().state.settings.theme, ThemeChoice::Dark);
    drop(h);

    // A new window starts with what was saved.
    let (loaded, warning) = settings_store::load(&path);
    let mut reopened = config(Some(path.clone()));
    reopened.settings = loaded;
    reopened.settings_warning = warning;
    let h = harness(reopened);
    assert_eq!(h.state().state.settings.theme, ThemeChoice::Dark);
    drop(h);

    // A damaged file: defaults, and a warning the user can see.
    std::fs::write(&path, "{ this is not json").unwrap();
    let (loaded, warning) = settings_store::load(&path);
    let mut damaged = config(Some(path.clone()));
    damaged.settings = loaded;
    damaged.settings_warning = warning;
    let mut h = harness(damaged);
    h.step();
    assert_eq!(h.state().state.settings.theme, ThemeChoice::System);
    // The banner, and the status line repeating the latest log entry.
    assert_eq!(h.query_all_by_label_contains("is damaged").count(), 2);
    click(&mut h, "Dismiss");
    assert_eq!(h.query_all_by_label_contains("is damaged").count(), 1);
}

#[test]
fn a_running_batch_can_be_paused_extended_and_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (big, extra) = (dir.path().join("big"), dir.path().join("extra"));
    std::fs::create_dir(&big).unwrap();
    std::fs::create_dir(&extra).unwrap();
    for n in 0..150 {
        std::fs::hard_link(common::photo("obama.jpg"), big.join(format!("p{n:03}.jpg"))).unwrap();
    }
    std::fs::hard_link(common::photo("biden.jpg"), extra.join("late.jpg")).unwrap();

    let mut h = harness(config(None));
    drop_files(&mut h, std::slice::from_ref(&big));
    wait_for(&mut h, "the first results", |app| {
        app.state.store.len() >= 3
    });

    click(&mut h, "Pause");
    assert!(h.state().state.batch.paused);

    // A drop while paused joins the batch and is acknowledged at once; once
    // resumed, the total grows by one.
    let total_before = h.state().state.batch.progress.as_ref().unwrap().total;
    drop_files(&mut h, std::slice::from_ref(&extra));
    wait_for(&mut h, "the acknowledgement", |app| {
        log_text(app).contains("1 photo added to the paused batch")
    });
    click(&mut h, "Resume");
    assert!(!h.state().state.batch.paused);
    wait_for(&mut h, "the addition", |app| {
        app.state
            .batch
            .progress
            .as_ref()
            .is_some_and(|p| p.total == total_before + 1)
    });

    click(&mut h, "Cancel");
    wait_for(&mut h, "the batch to stop", |app| !app.state.batch.active);
    let app = h.state();
    let summary = app.state.last_summary.as_ref().expect("a summary");
    assert!(summary.cancelled);
    assert!(app.state.store.len() < 151, "cancelled before the end");
    // The log counts what was done, not what was listed.
    let done = summary.ok + summary.no_face + summary.failed;
    assert!(done < summary.total, "{summary:?}");
    let line = format!("Batch cancelled: {done} of {} photos done", summary.total);
    assert!(log_text(app).contains(&line), "{}", log_text(app));
}

/// The window with saved results open (`tests/fixtures/results.jsonl`, made by
/// `genderlens classify --format jsonl tests/fixtures/photos tests/fixtures/README.md`),
/// rendered by wgpu: deterministic input, so the pictures can be compared.
fn snapshot_harness() -> Harness<'static, GenderLensApp> {
    let mut config = config(None);
    config.open_results = Some(PathBuf::from("tests/fixtures/results.jsonl"));
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .with_max_steps(100_000)
        .wgpu()
        .build_eframe(move |cc| GenderLensApp::new(&cc.egui_ctx, config));
    wait_for(&mut h, "the saved results and their thumbnails", |app| {
        app.settled() && app.thumbnails_cached() == 8
    });
    h
}

/// Takes the pointer off the window first: a hover highlight or a tooltip
/// would otherwise depend on how many frames the loading took. Notices go
/// too, since they fade after a time that depends on the machine's speed.
fn snapshot(h: &mut Harness<'static, GenderLensApp>, name: &str) {
    h.remove_cursor();
    h.state_mut().state.notices = Default::default();
    h.run_steps(3);
    h.snapshot(name);
}

#[test]
fn snapshot_of_the_empty_window() {
    let mut h = harness_for_empty_snapshot();
    snapshot(&mut h, "empty_window");
}

#[test]
fn snapshots_of_the_results_views() {
    let mut h = snapshot_harness();
    assert_eq!(h.state().state.store.len(), 9);
    snapshot(&mut h, "gallery");

    click(&mut h, "Photo astronaut.png");
    wait_for(&mut h, "the detail picture", |app| {
        app.pictures_pending() == 0
    });
    snapshot(&mut h, "detail");

    click(&mut h, "Close");
    click(&mut h, "Table");
    snapshot(&mut h, "table");

    // The age range: only faces of 45 to 55, and the age histogram under
    // p(male)'s.
    set_age_range(&mut h, 45, 55);
    let expected = {
        let app = h.state_mut();
        app.state
            .store
            .images()
            .iter()
            .flat_map(|r| &r.faces)
            .filter(|f| f.age.is_some_and(|a| (45.0..56.0).contains(&a)))
            .count()
    };
    assert!(
        expected > 0 && expected < 8,
        "{expected} faces aged 45 to 55"
    );
    h.get_by_label(&format!("{expected} rows"));
    snapshot(&mut h, "table_ages");
    click(&mut h, "all ages");
    h.run_steps(2);
    h.get_by_label("9 rows");

    click(&mut h, "Settings");
    snapshot(&mut h, "settings");
}

/// Sets the summary panel's age range, as its two fields would.
fn set_age_range(h: &mut Harness<'static, GenderLensApp>, from: u32, to: u32) {
    let filter = &mut h.state_mut().view.filter;
    (filter.age_from, filter.age_to) = (from, to);
    h.run_steps(2);
    // Both fields show the range, labelled for assistive technology.
    h.get_by_role_and_label(Role::SpinButton, "Age");
    h.get_by_role_and_label(Role::SpinButton, "to");
}

fn harness_for_empty_snapshot() -> Harness<'static, GenderLensApp> {
    let config = config(None);
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .wgpu()
        .build_eframe(move |cc| GenderLensApp::new(&cc.egui_ctx, config));
    h.run_steps(3);
    h
}

/// A window showing `tests/fixtures/results.jsonl` (9 photos), whose file
/// dialogs answer `path`.
fn with_saved_results(path: &Path) -> Harness<'static, GenderLensApp> {
    let mut config = config(None);
    config.open_results = Some(PathBuf::from("tests/fixtures/results.jsonl"));
    config.dialogs = Arc::new(Answer(vec![path.to_path_buf()]));
    let mut h = harness(config);
    wait_for(&mut h, "the saved results", |app| {
        app.state.store.len() == 9
    });
    h
}

#[test]
fn exporting_asks_before_replacing_a_file_and_sorting_copies() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("results.csv");
    let mut h = with_saved_results(&csv_path);

    click(&mut h, "Export");
    click(&mut h, "CSV (one row per face)…");
    wait_for(&mut h, "the export", |app| {
        log_text(app).contains("Exported 9 rows")
    });
    let first = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(first.lines().count(), 10, "a header and 9 rows");
    assert!(first.starts_with(
        "path,face,l,t,r,b,gender,score,p_male,uncertain,detection_score,status,error,backend,model"
    ));

    // The same file again: the app asks, and "Cancel" keeps the file.
    std::fs::write(&csv_path, "keep me").unwrap();
    click(&mut h, "Export");
    click(&mut h, "CSV (one row per face)…");
    wait_for(&mut h, "the question", |app| {
        app.view.confirm_overwrite.is_some()
    });
    h.run_steps(2);
    h.get_by_label_contains("already exists. Replace it?");
    click(&mut h, "Cancel");
    assert!(h.state().view.confirm_overwrite.is_none());
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), "keep me");

    // "Replace" writes it.
    click(&mut h, "Export");
    click(&mut h, "CSV (one row per face)…");
    wait_for(&mut h, "the question", |app| {
        app.view.confirm_overwrite.is_some()
    });
    h.run_steps(2);
    click(&mut h, "Replace");
    wait_for(&mut h, "the second export", |app| {
        log_text(app).matches("Exported 9 rows").count() == 2
    });
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), first);

    // Sorting copies the photos into label folders under the chosen folder.
    let sorted = dir.path().join("sorted");
    std::fs::create_dir(&sorted).unwrap();
    h.state_mut()
        .set_dialogs(Arc::new(Answer(vec![sorted.clone()])));
    click(&mut h, "Export");
    click(&mut h, "Sort copies into folders…");
    wait_for(&mut h, "the copies", |app| {
        log_text(app).contains("Copied 8 photos")
    });
    assert!(sorted.join("female/astronaut.png").is_file());
    assert!(sorted.join("male/obama.jpg").is_file());
    assert!(common::photo("astronaut.png").is_file());
    assert!(log_text(h.state()).contains("1 failed photos left out"));

    // Sorting again copies nothing and says why.
    click(&mut h, "Export");
    click(&mut h, "Sort copies into folders…");
    wait_for(&mut h, "the second sort", |app| {
        log_text(app).contains("Copied 0 photos")
    });
    assert!(
        log_text(h.state()).contains("8 already there (the same file), not copied again"),
        "{}",
        log_text(h.state())
    );
    assert!(!sorted.join("female/astronaut (2).png").exists());
}

#[test]
fn remote_backend_is_shown_tested_and_used_for_dropped_photos() {
    let triton = common::triton::Triton::start(&[]);
    let url = triton.grpc_url();
    let mut config = config(None);
    config.settings.backend = settings_store::BackendChoice::Remote;
    config.settings.remote.url = url.clone();
    let mut h = harness(config);
    // Sending photos away is visible at all times, not only in the settings.
    h.get_by_label(&format!("Remote · {url}"));

    click(&mut h, "Settings");
    h.get_by_label("Photos are sent to this server to be classified.");
    click(&mut h, "Test connection");
    wait_for(&mut h, "the connection test", |app| {
        matches!(
            app.state.connection,
            Some(genderlens::gui::state::ConnectionTest::Done { .. })
        )
    });
    match &h.state().state.connection {
        Some(genderlens::gui::state::ConnectionTest::Done { outcome, .. }) => {
            let checks = outcome.as_ref().expect("the settings are usable");
            assert_eq!(checks.len(), 3);
            assert!(checks.iter().all(|c| c.ok), "{checks:?}");
        }
        other => panic!("no connection test result: {other:?}"),
    }
    h.get_by_label("Passed: model ready: model gender_ensemble is ready");

    drop_files(&mut h, &[common::photo("astronaut.png")]);
    wait_for(&mut h, "the remote batch", |app| {
        app.state.batches_finished > 0 && app.state.store.len() == 1
    });
    let result = &h.state().state.store.images()[0];
    assert_eq!(result.gender, Some(genderlens::Gender::Female));
    assert!(triton.inference_count("gender_ensemble") >= 1);

    // Another address typed: the old test result no longer speaks for it.
    let draft = |h: &mut Harness<'static, GenderLensApp>| {
        h.state_mut()
            .view
            .settings_draft
            .clone()
            .expect("settings open")
    };
    let mut edited = draft(&mut h);
    edited.remote.url = "triton-grpc://elsewhere:8001".into();
    h.state_mut().view.settings_draft = Some(edited);
    h.run_steps(2);
    assert!(
        h.query_by_label("Passed: model ready: model gender_ensemble is ready")
            .is_none()
    );
    // Back to this computer: the Runtime section forgets the server.
    let mut local = draft(&mut h);
    local.backend = settings_store::BackendChoice::Local;
    local.remote.url = url.clone();
    h.state_mut().view.settings_draft = Some(local);
    h.run_steps(2);
    click(&mut h, "Apply");
    assert_eq!(
        h.state().state.engine,
        genderlens::gui::state::EngineStatus::NotLoaded
    );
    h.get_by_label("Not loaded yet: it loads with the first batch.");
}

#[test]
fn snapshot_of_the_remote_settings() {
    let mut config = config(None);
    config.settings.backend = settings_store::BackendChoice::Remote;
    config.settings.remote.url = "triton-grpc://gpu-server.example:8001".into();
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .wgpu()
        .build_eframe(move |cc| GenderLensApp::new(&cc.egui_ctx, config));
    h.run_steps(3);
    h.get_by_label("Remote · triton-grpc://gpu-server.example:8001");
    click(&mut h, "Settings");
    snapshot(&mut h, "settings_remote");
}

/// Esc closes what is on top (About, then Settings, then the detail view),
/// and the toolbar's Settings and About buttons toggle their windows.
#[test]
fn esc_and_the_toolbar_buttons_close_settings_and_about() {
    let mut h = harness(config(None));
    h.run_steps(2);
    click(&mut h, "Settings");
    h.run_steps(2);
    assert!(h.state().view.settings_open);
    click(&mut h, "About");
    h.run_steps(2);
    assert!(h.state().view.about_open && h.state().view.settings_open);

    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().view.about_open, "Esc closes About first");
    assert!(
        h.state().view.settings_open,
        "Settings stays for the next Esc"
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().view.settings_open, "then Settings");

    // The toolbar button opens Settings and, pressed again, closes it.
    click(&mut h, "Settings");
    h.run_steps(2);
    assert!(h.state().view.settings_open);
    // The window's title says "Settings" too; the button is the button.
    h.get_by_role_and_label(Role::Button, "Settings").click();
    h.run_steps(2);
    assert!(!h.state().view.settings_open, "the button closes it again");
}

/// The detail view of a photo that failed gives its reason once, not again
/// for the missing picture.
#[test]
fn a_failed_photo_shows_its_error_once_in_the_detail_view() {
    let mut h = snapshot_harness();
    click(&mut h, "Photo README.md");
    wait_for(&mut h, "the detail picture to give up", |app| {
        app.pictures_pending() == 0
    });
    h.run_steps(3);
    assert_eq!(
        h.query_all_by_label_contains("not a recognised image format")
            .count(),
        1,
        "the detail view's error line, and nothing repeating it"
    );
    assert!(
        h.query_by_label_contains("Cannot show this photo")
            .is_none()
    );
    h.get_by_label("No preview.");
}

/// "Check runtime" fills Settings with long lines (library paths, missing
/// GPU libraries); they wrap, and the window stays inside the app's.
#[test]
fn settings_stay_on_screen_after_check_runtime() {
    let config = config(None);
    let mut h = Harness::builder()
        .with_size([700.0, 600.0])
        .with_max_steps(100_000)
        .build_eframe(move |cc| GenderLensApp::new(&cc.egui_ctx, config));
    h.run_steps(2);
    click(&mut h, "Settings");
    // Below the fold of a small window: scroll to it, as a person would.
    h.get_by_label("Check runtime").scroll_to_me();
    h.run_steps(3);
    click(&mut h, "Check runtime");
    wait_for(&mut h, "the runtime check", |app| {
        app.state.diagnosis.is_some() && !app.state.diagnosing
    });
    h.run_steps(5);
    let window = h.get_by_role_and_label(Role::Window, "Settings").rect();
    let screen = h.ctx.content_rect();
    assert!(
        window.left() >= screen.left() && window.right() <= screen.right(),
        "Settings {window:?} inside the window {screen:?}"
    );
    h.get_by_label("Providers");
}

mod library;

#[test]
fn export_takes_all_photos_or_only_those_the_filter_shows() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("shown.csv");
    let mut h = with_saved_results(&csv_path);
    // Only the female faces shown: one photo.
    click_checkbox(&mut h, "Male");
    click_checkbox(&mut h, "No face");
    click_checkbox(&mut h, "Errors");
    click(&mut h, "Export");
    click(&mut h, "Only the photos the filter shows");
    // The menu stays open for the export the choice was made for.
    click(&mut h, "CSV (one row per face)…");
    wait_for(&mut h, "the export", |app| {
        log_text(app).contains("Exported 1 rows")
    });
    let shown = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(shown.lines().count(), 2, "{shown}");
    assert!(shown.lines().nth(1).unwrap().contains("astronaut.png"));

    std::fs::remove_file(&csv_path).unwrap();
    // The choice stayed; the menu closed after the export.
    assert!(h.query_by_label("All 9 photos").is_none());
    click(&mut h, "Export");
    click(&mut h, "All 9 photos");
    click(&mut h, "CSV (one row per face)…");
    wait_for(&mut h, "the second export", |app| {
        log_text(app).contains("Exported 9 rows")
    });
}

#[test]
fn a_setting_out_of_range_is_named_beside_its_field_and_not_applied() {
    let mut h = harness(config(None));
    h.run_steps(2);
    click(&mut h, "Settings");
    h.run_steps(2);
    // As typed: 33 stays 33 (not silently 128) and is refused with the reason.
    h.state_mut()
        .view
        .settings_draft
        .as_mut()
        .expect("the settings being edited")
        .engine
        .detector_size = 33;
    h.run_steps(2);
    h.get_by_label("detector size must be a positive multiple of 32, got 33");
    assert!(
        h.get_by_label("Apply").accesskit_node().is_disabled(),
        "an invalid setting cannot be applied"
    );
    h.state_mut()
        .view
        .settings_draft
        .as_mut()
        .unwrap()
        .engine
        .detector_size = 320;
    h.run_steps(2);
    assert!(
        h.query_by_label("detector size must be a positive multiple of 32, got 33")
            .is_none()
    );
    assert!(!h.get_by_label("Apply").accesskit_node().is_disabled());
}

#[test]
fn the_arrow_keys_move_through_the_gallery_and_esc_closes_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_saved_results(&dir.path().join("unused"));
    h.run_steps(2);
    let order: Vec<genderlens::gui::results::ResultId> = {
        let app = h.state_mut();
        let (filter, sort) = (app.view.filter.clone(), app.view.sort);
        app.state
            .store
            .rows(RowMode::PerImage, &filter, sort)
            .iter()
            .map(|r| r.image)
            .collect()
    };
    let press = |h: &mut Harness<'static, GenderLensApp>, key| {
        h.key_press(key);
        h.run_steps(2);
        h.state().view.selected
    };
    assert_eq!(
        press(&mut h, egui::Key::ArrowRight),
        Some(order[0]),
        "the first key selects the first photo"
    );
    assert_eq!(press(&mut h, egui::Key::ArrowRight), Some(order[1]));
    assert_eq!(press(&mut h, egui::Key::ArrowLeft), Some(order[0]));
    let below = press(&mut h, egui::Key::ArrowDown).unwrap();
    assert!(
        order.iter().position(|id| *id == below).unwrap() > 1,
        "a line down"
    );
    assert_eq!(press(&mut h, egui::Key::ArrowUp), Some(order[0]));
    assert_eq!(press(&mut h, egui::Key::Escape), None);
}

#[test]
fn without_a_file_dialog_the_path_is_typed_in_the_window() {
    let mut config = config(None);
    config.dialogs = Arc::new(NoDialogs);
    let mut h = harness(config);
    h.run_steps(2);
    // The toolbar's button (the empty window has one more).
    h.get_all_by_label("Add files…").next().unwrap().click();
    h.run_steps(3);
    wait_for(&mut h, "the typed-path question", |app| {
        app.view.path_prompt.is_some()
    });
    h.run_steps(2);
    h.get_by_label("no file dialog could be shown.");
    h.state_mut().view.path_prompt.as_mut().unwrap().text =
        common::photo("obama.jpg").display().to_string();
    h.run_steps(2);
    click(&mut h, "OK");
    wait_for(&mut h, "the typed photo's result", |app| {
        app.state.store.len() == 1 && !app.state.batch.active
    });
    assert!(h.state().view.path_prompt.is_none());
    assert!(log_text(h.state()).contains("type the path instead"));
}

#[test]
fn tab_reaches_the_tiles_the_arrows_follow_and_enter_opens_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_saved_results(&dir.path().join("unused"));
    h.run_steps(2);
    let mut presses = 0;
    while h.state().view.selected.is_none() {
        h.key_press(egui::Key::Tab);
        h.run_steps(2);
        presses += 1;
        assert!(presses < 100, "Tab never reached a photo's tile");
    }
    let name_of = |h: &Harness<'static, GenderLensApp>| {
        let app = h.state();
        let id = app.view.selected.unwrap();
        let path = app.state.store.get(id).unwrap().path.clone();
        (
            path.file_name().unwrap().to_string_lossy().to_string(),
            path,
        )
    };
    let (first, _) = name_of(&h);
    assert!(
        h.get_by_label(&format!("Photo {first}")).is_focused(),
        "the tile Tab reached has the keyboard focus"
    );
    // From a focused tile the arrows move the selection and the focus.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(3);
    let (second, path) = name_of(&h);
    assert_ne!(first, second);
    assert!(h.get_by_label(&format!("Photo {second}")).is_focused());

    // Enter opens it in the system's viewer, or says why it cannot.
    h.key_press(egui::Key::Enter);
    wait_for(&mut h, "the photo to be opened", |app| {
        let log = log_text(app);
        log.contains(&format!("Opened {}", path.display()))
            || log.contains(&format!("Cannot open {}", path.display()))
    });
    assert!(
        h.state()
            .state
            .notices
            .iter()
            .any(|n| n.text.contains(&second)),
        "the outcome is shown in the notification area"
    );
}

#[test]
fn a_click_on_a_face_in_the_list_keeps_its_box_highlighted() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = with_saved_results(&dir.path().join("unused"));
    click(&mut h, "Photo astronaut.png");
    wait_for(&mut h, "the detail picture", |app| {
        app.pictures_pending() == 0
    });
    let pinned = |h: &Harness<'static, GenderLensApp>| {
        h.get_by_label("Face 1").accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
    };
    assert!(!pinned(&h));
    click(&mut h, "Face 1");
    assert!(pinned(&h), "a click keeps the face highlighted");
    h.remove_cursor();
    h.run_steps(2);
    assert!(pinned(&h), "it stays when the pointer leaves");
    click(&mut h, "Face 1");
    assert!(!pinned(&h), "a second click lets it go");
}

#[test]
fn at_800_by_600_the_widened_detail_panel_leaves_room_and_about_leaves_the_toolbar() {
    let mut config = config(None);
    config.open_results = Some(PathBuf::from("tests/fixtures/results.jsonl"));
    let mut h = harness(config);
    wait_for(&mut h, "the saved results", |app| {
        app.state.store.len() == 9
    });
    click(&mut h, "Photo astronaut.png");
    // Widened in a large window: its edge dragged far to the left.
    // The first button in the panel sits a frame's margin right of its edge.
    let before = h.get_by_label("Open").rect().left();
    let edge = egui::pos2(before - 8.0, 400.0);
    h.hover_at(edge);
    h.run_steps(2);
    h.drag_at(edge);
    h.run_steps(2);
    for x in [500.0, 300.0, 100.0, 20.0] {
        h.hover_at(egui::pos2(x, 400.0));
        h.run_steps(2);
    }
    h.drop_at(egui::pos2(20.0, 400.0));
    h.run_steps(3);
    let widened = h.get_by_label("Open").rect().left();
    assert!(
        widened < before - 100.0,
        "the panel widened: {before} → {widened}"
    );

    // Then the window shrinks to 800×600: a whole tile still fits beside it.
    h.set_size(egui::vec2(800.0, 600.0));
    h.run_steps(4);
    let panel = h.get_by_label("Open").rect().left();
    let tile = h
        .get_all_by_label_contains("Photo ")
        .next()
        .expect("a tile in the gallery")
        .rect();
    assert!(
        tile.width() >= 160.0 && tile.right() < panel,
        "{tile:?}, panel at {panel}"
    );

    click(&mut h, "About");
    let title = h.get_by_label("About GenderLens").rect();
    let toolbar = h.get_by_label("Add files…").rect();
    assert!(
        title.top() > toolbar.bottom(),
        "About ({title:?}) sits below the toolbar ({toolbar:?})"
    );
}

/// A JPEG cut off half way is refused by the classifier, but its picture
/// shows as far as it goes, so the user can tell which photo it is.
#[test]
fn a_truncated_jpeg_is_refused_but_shows_its_picture() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(common::fixtures().join("photos/obama.jpg")).unwrap();
    let half = dir.path().join("half.jpg");
    std::fs::write(&half, &whole[..whole.len() / 2]).unwrap();
    let mut h = harness(config(None));
    drop_files(&mut h, &[half]);
    wait_for(&mut h, "the classification", |app| {
        app.state.store.len() == 1 && !app.state.batch.active
    });
    let error = h.state().state.store.images()[0].error.clone();
    assert!(
        error.as_deref().is_some_and(|e| e.contains("truncated")),
        "{error:?}"
    );
    wait_for(&mut h, "the thumbnail", |app| {
        app.pictures_pending() == 0 && app.thumbnails_cached() == 1
    });
    click(&mut h, "Photo half.jpg");
    wait_for(&mut h, "the detail picture", |app| {
        app.pictures_pending() == 0 && app.thumbnails_cached() == 2
    });
    assert!(h.query_by_label("No preview.").is_none());
    assert!(
        h.query_by_label_contains("Cannot show this photo")
            .is_none()
    );
}
