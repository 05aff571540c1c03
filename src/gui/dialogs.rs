//! Native file dialogs. They block until the user answers, so they run on
//! their own thread; the seam lets tests answer without a desktop portal.

use std::path::PathBuf;
use std::sync::Arc;

use super::events::{DialogPurpose, UiEvent, UiSender};

pub trait FileDialogs: Send + Sync {
    /// The user's choice, or an empty list when they cancelled (or no dialog
    /// could be shown).
    fn ask(&self, purpose: DialogPurpose) -> Vec<PathBuf>;
}

/// The system's dialogs through rfd (the desktop portal, or zenity).
pub struct NativeDialogs;

const IMAGE_EXTENSIONS: &[&str] = crate::batch::inputs::IMAGE_EXTENSIONS;

impl FileDialogs for NativeDialogs {
    fn ask(&self, purpose: DialogPurpose) -> Vec<PathBuf> {
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
    let spawned = std::thread::Builder::new()
        .name("genderlens-dialog".into())
        .spawn({
            let ui = ui.clone();
            move || {
                let paths = dialogs.ask(purpose);
                let exists = matches!(
                    purpose,
                    DialogPurpose::ExportCsv | DialogPurpose::ExportJsonl
                ) && paths.first().is_some_and(|p| p.exists());
                ui.send(UiEvent::DialogClosed {
                    purpose,
                    paths,
                    exists,
                });
            }
        });
    if let Err(e) = spawned {
        ui.send(UiEvent::TaskFailed(format!("cannot open the dialog: {e}")));
    }
}
