//! File work the UI asks for (export, sorting, settings, opening results,
//! showing a folder), each on a short-lived thread that reports back.

use std::path::{Path, PathBuf};

use super::events::{UiEvent, UiSender};
use crate::export::{self, ExportFormat, Provenance};
use crate::postprocess::ImageResult;
use crate::settings_store::{self, AppSettings};

fn spawn(name: &str, ui: &UiSender, work: impl FnOnce() -> UiEvent + Send + 'static) {
    let sender = ui.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("genderlens-{name}"))
        .spawn(move || sender.send(work()));
    if let Err(e) = spawned {
        ui.send(UiEvent::TaskFailed(format!("cannot start {name}: {e}")));
    }
}

pub fn export(
    ui: &UiSender,
    path: PathBuf,
    format: ExportFormat,
    results: Vec<(ImageResult, Provenance)>,
    overwrite: bool,
) {
    spawn("export", ui, move || {
        let rows = results.iter().map(|(r, p)| (r, p));
        match export::export_results(&path, format, rows, overwrite) {
            Ok(rows) => UiEvent::Exported { path, rows },
            Err(e) => UiEvent::TaskFailed(format!("Export failed: {e:#}")),
        }
    });
}

pub fn sort_into_folders(ui: &UiSender, destination: PathBuf, results: Vec<ImageResult>) {
    spawn("sort", ui, move || {
        let report = export::sort_into_folders(&results, &destination);
        UiEvent::Sorted {
            destination,
            report,
        }
    });
}

pub fn save_settings(ui: &UiSender, path: PathBuf, settings: AppSettings) {
    spawn("settings", ui, move || {
        match settings_store::save(&path, &settings) {
            Ok(()) => UiEvent::SettingsSaved(path),
            Err(e) => UiEvent::TaskFailed(format!("Settings not saved: {e:#}")),
        }
    });
}

/// Server ready, model ready, model contract: each with its own message.
pub fn test_connection(ui: &UiSender, options: crate::remote::RemoteOptions) {
    spawn("test-connection", ui, move || {
        let url = options.url.clone();
        let outcome = crate::remote::Remote::connect(options)
            .map(|remote| remote.check())
            .map_err(|e| e.to_string());
        UiEvent::ConnectionChecked { url, outcome }
    });
}

pub fn open_results(ui: &UiSender, path: PathBuf) {
    spawn("open-results", ui, move || {
        match export::read_jsonl(&path) {
            Ok((results, problems)) => UiEvent::ResultsLoaded {
                path,
                results,
                problems,
            },
            Err(e) => UiEvent::TaskFailed(format!("Cannot open results: {e:#}")),
        }
    });
}

/// Opens the system file manager with `path` selected (the desktop's file
/// manager over D-Bus, else gio, xdg-open, Finder or Explorer).
pub fn show_in_folder(ui: &UiSender, path: &Path) {
    let path = path.to_path_buf();
    spawn("open-folder", ui, move || match opener::reveal(&path) {
        Ok(()) => UiEvent::Info(format!("Showed {} in its folder", path.display())),
        Err(e) => UiEvent::TaskFailed(format!("Cannot show {} in its folder: {e}", path.display())),
    });
}

/// Opens `path` in the system's default viewer for it.
pub fn open_photo(ui: &UiSender, path: &Path) {
    let path = path.to_path_buf();
    spawn("open-photo", ui, move || match opener::open(&path) {
        Ok(()) => UiEvent::Info(format!("Opened {} in the system's viewer", path.display())),
        Err(e) => UiEvent::TaskFailed(format!("Cannot open {}: {e}", path.display())),
    });
}
