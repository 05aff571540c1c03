//! What background work reports to the UI thread, and the sender that wakes
//! the UI (asks egui for a repaint) after every message.

use std::path::PathBuf;

use crossbeam_channel::Sender;

use super::images::ImageReady;
use crate::batch::{EngineEvent, Skipped};
use crate::export::{Provenance, SortReport};
use crate::postprocess::ImageResult;
use crate::runtime::diagnosis::Diagnosis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    AddFiles,
    AddFolder,
    OpenResults,
    ExportCsv,
    ExportJsonl,
    SortDestination,
}

pub enum UiEvent {
    /// The engine is being prepared (loading or fetching ONNX Runtime, models).
    EngineLoading(String),
    EngineReady {
        runtime: String,
    },
    /// The engine cannot start; the queued photos wait for a retry.
    EngineUnavailable(String),
    /// Files that will not be classified, with the reason.
    Skipped(Vec<Skipped>),
    /// Photos queued but not started because a batch could not run.
    BatchStarting {
        queued: usize,
    },
    Engine(EngineEvent),
    /// A photo's result, from batch number `run`.
    Result(Box<ImageResult>, Provenance, u64),
    /// The batch's event stream closed.
    BatchEnded,
    /// The library opened at start: its photos, and a batch that stopped
    /// early, to offer for resuming.
    LibraryOpened {
        path: PathBuf,
        /// Each photo with the backend and models that classified it.
        results: Vec<(ImageResult, Provenance)>,
        unfinished: Option<crate::library::Unfinished>,
        /// How long opening and reading it took.
        took: std::time::Duration,
    },
    /// No library this time (it cannot be opened): answers are not kept.
    LibraryUnavailable(String),
    Diagnosis(Box<Diagnosis>),
    /// The outcome of "Test connection" for a remote server.
    ConnectionChecked {
        url: String,
        outcome: Result<Vec<crate::remote::Check>, String>,
    },
    DialogClosed {
        purpose: DialogPurpose,
        paths: Vec<PathBuf>,
        /// A save dialog's choice names a file that is already there.
        exists: bool,
    },
    /// No file dialog could be shown: the app asks for a typed path instead.
    DialogUnavailable {
        purpose: DialogPurpose,
        problem: String,
    },
    SettingsSaved(PathBuf),
    Exported {
        path: PathBuf,
        rows: usize,
    },
    Sorted {
        destination: PathBuf,
        report: SortReport,
    },
    ResultsLoaded {
        path: PathBuf,
        results: Vec<ImageResult>,
        problems: Vec<String>,
    },
    Image(ImageReady),
    /// Something worth a line in the log.
    Info(String),
    /// A background task failed; shown in the log and the status line.
    TaskFailed(String),
}

/// Sends to the UI and asks egui to repaint, so news shows without input.
#[derive(Clone)]
pub struct UiSender {
    tx: Sender<UiEvent>,
    ctx: egui::Context,
}

impl UiSender {
    pub fn new(tx: Sender<UiEvent>, ctx: egui::Context) -> Self {
        Self { tx, ctx }
    }

    pub fn send(&self, event: UiEvent) {
        // A closed channel means the window is gone; the work is moot.
        if self.tx.send(event).is_ok() {
            self.ctx.request_repaint();
        }
    }

    pub fn context(&self) -> &egui::Context {
        &self.ctx
    }
}
