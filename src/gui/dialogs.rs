//! Native file dialogs. They block until the user answers, so they run on
//! their own thread; the seam lets tests answer without a desktop portal.

use std::path::PathBuf;
use std::sync::Arc;

use super::events::{DialogPurpose, UiEvent, UiSender};

pub trait FileDialogs: Send + Sync {
    /// The user's choice (empty when they cancelled), or why no dialog
    /// could be shown.
    fn ask(&self, purpose: DialogPurpose) -> Result<Vec<PathBuf>, String>;

    /// True when the dialog itself already asked before replacing a file
    /// (the system's save dialogs do), so the app does not ask again.
    fn confirms_overwrite(&self) -> bool {
        false
    }
}

/// No dialog a person answers comes back this fast: an answer sooner is
/// the dialog failing to open (no desktop portal and no zenity).
const FASTEST_ANSWER: std::time::Duration = std::time::Duration::from_millis(150);

/// The system's dialogs through rfd (the desktop portal, or zenity).
pub struct NativeDialogs;

const IMAGE_EXTENSIONS: &[&str] = crate::batch::inputs::IMAGE_EXTENSIONS;

impl FileDialogs for NativeDialogs {
    fn ask(&self, purpose: DialogPurpose) -> Result<Vec<PathBuf>, String> {
        let started = std::time::Instant::now();
        let chosen = Self::show(purpose);
        if chosen.is_empty() && started.elapsed() < FASTEST_ANSWER {
            return Err(
                "no file dialog could be shown (it needs the desktop portal, xdg-desktop-portal, or zenity)"
                    .into(),
            );
        }
        Ok(chosen)
    }

    fn confirms_overwrite(&self) -> bool {
        true
    }
}

impl NativeDialogs {
    fn show(purpose: DialogPurpose) -> Vec<PathBuf> {
        let dialog = rfd::FileDialog::new();
        match purpose {
            DialogPurpose::AddFiles => dialog
                .set_title("Add photos")
                .add_filter("Images", IMAGE_EXTENSIONS)
                .pick_files()
                .unwrap_or_default(),
            DialogPurpose::AddFolder => dialog
                .set_title("Add a folder of photos")
                .pick_folders()
                .unwrap_or_default(),
            DialogPurpose::OpenResults => dialog
                .set_title("Open results")
                .add_filter("GenderLens results (JSONL)", &["jsonl"])
                .pick_file()
                .into_iter()
                .collect(),
            DialogPurpose::ExportCsv => dialog
                .set_title("Export CSV")
                .set_file_name("genderlens-results.csv")
                .add_filter("CSV", &["csv"])
                .save_file()
                .into_iter()
                .collect(),
            DialogPurpose::ExportJsonl => dialog
                .set_title("Export JSONL")
                .set_file_name("genderlens-results.jsonl")
                .add_filter("JSON Lines", &["jsonl"])
                .save_file()
                .into_iter()
                .collect(),
            DialogPurpose::SortDestination => dialog
                .set_title("Sort copies into folders under…")
                .pick_folder()
                .into_iter()
                .collect(),
        }
    }
}

/// Shows a dialog on its own thread and reports the answer to the UI.
pub fn ask_in_background(dialogs: Arc<dyn FileDialogs>, purpose: DialogPurpose, ui: UiSender) {
    on_dialog_thread(ui, move |ui| match dialogs.ask(purpose) {
        Ok(paths) => answered(ui, purpose, paths, dialogs.confirms_overwrite()),
        Err(problem) => ui.send(UiEvent::DialogUnavailable { purpose, problem }),
    });
}

/// A path the user typed where no dialog could be shown, answered as a
/// dialog's would be (checked off the UI thread).
pub fn typed_in_background(purpose: DialogPurpose, path: PathBuf, ui: UiSender) {
    on_dialog_thread(ui, move |ui| answered(ui, purpose, vec![path], false));
}

fn answered(ui: &UiSender, purpose: DialogPurpose, paths: Vec<PathBuf>, dialog_asked: bool) {
    // A save dialog that already asked "replace?" is not asked again.
    let exists = !dialog_asked
        && matches!(
            purpose,
            DialogPurpose::ExportCsv | DialogPurpose::ExportJsonl
        )
        && paths.first().is_some_and(|p| p.exists());
    ui.send(UiEvent::DialogClosed {
        purpose,
        paths,
        exists,
    });
}

fn on_dialog_thread(ui: UiSender, work: impl FnOnce(&UiSender) + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("genderlens-dialog".into())
        .spawn({
            let ui = ui.clone();
            move || work(&ui)
        });
    if let Err(e) = spawned {
        ui.send(UiEvent::TaskFailed(format!("cannot open the dialog: {e}")));
    }
}
