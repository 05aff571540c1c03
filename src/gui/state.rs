//! Everything the app knows, apart from how it is drawn: settings, results,
//! the batch in progress, the engine's status and the log. Background
//! events change it through [`AppState::apply`].

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::events::UiEvent;
use super::results::{Origin, ResultStore};
use crate::batch::{EngineEvent, Progress, Summary};
use crate::remote::Check;
use crate::runtime::SessionReport;
use crate::runtime::diagnosis::Diagnosis;
use crate::settings_store::AppSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

pub struct LogLine {
    pub level: Level,
    pub text: String,
}

const LOG_CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct Log {
    lines: VecDeque<LogLine>,
    pub errors: usize,
}

impl Log {
    pub fn push(&mut self, level: Level, text: impl Into<String>) {
        if level == Level::Error {
            self.errors += 1;
        }
        self.record(level, text.into());
    }

    /// A photo's failure: listed as an error, but not counted among the
    /// app's own (the summary counts failed photos, and Clear resets them).
    pub fn push_photo_error(&mut self, text: impl Into<String>) {
        self.record(Level::Error, text.into());
    }

    fn record(&mut self, level: Level, text: String) {
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Warning => tracing::warn!("{text}"),
            Level::Error => tracing::error!("{text}"),
        }
        if self.lines.len() == LOG_CAPACITY {
            self.lines.pop_front();
        }
        self.lines.push_back(LogLine { level, text });
    }

    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    pub fn last(&self) -> Option<&LogLine> {
        self.lines.back()
    }
}

/// How long an outcome stays in the notification area unless it is an
/// error, which stays until dismissed.
pub const NOTICE_LIFETIME: Duration = Duration::from_secs(8);
const MOST_NOTICES: usize = 4;

/// The outcome of something the user did or started (a batch finished, an
/// export written, a copy made), shown large enough to be read.
#[derive(Debug, Clone)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub since: Instant,
}

impl Notice {
    /// True once an info or warning notice has been up long enough.
    pub fn expired(&self, now: Instant) -> bool {
        self.level != Level::Error && now.duration_since(self.since) >= NOTICE_LIFETIME
    }
}

/// The newest few notices, oldest first.
#[derive(Default)]
pub struct Notices {
    items: VecDeque<Notice>,
}

impl Notices {
    pub fn push(&mut self, level: Level, text: String) {
        if self.items.len() == MOST_NOTICES {
            self.items.pop_front();
        }
        self.items.push_back(Notice {
            level,
            text,
            since: Instant::now(),
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.items.iter()
    }

    pub fn dismiss(&mut self, n: usize) {
        self.items.remove(n);
    }

    pub fn forget_expired(&mut self, now: Instant) {
        self.items.retain(|notice| !notice.expired(now));
    }

    /// When the next notice goes, so the window repaints then.
    pub fn next_expiry(&self, now: Instant) -> Option<Duration> {
        self.items
            .iter()
            .filter(|n| n.level != Level::Error)
            .map(|n| NOTICE_LIFETIME.saturating_sub(now.duration_since(n.since)))
            .min()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineStatus {
    /// Loaded on the first batch, so the window opens at once.
    NotLoaded,
    Loading(String),
    Ready(String),
    Unavailable(String),
}

#[derive(Default)]
pub struct BatchState {
    pub active: bool,
    pub paused: bool,
    pub cancelling: bool,
    pub progress: Option<Progress>,
    /// A step worth its own line, such as a first-run TensorRT build.
    pub step: Option<String>,
}

/// "Test connection" in the settings, running or with its checks.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionTest {
    Running,
    Done {
        url: String,
        outcome: Result<Vec<Check>, String>,
    },
}

pub struct AppState {
    pub settings: AppSettings,
    pub settings_path: Option<PathBuf>,
    /// Shown until dismissed, e.g. a damaged settings file.
    pub settings_warning: Option<String>,
    pub store: ResultStore,
    pub batch: BatchState,
    pub last_summary: Option<Summary>,
    pub engine: EngineStatus,
    /// Where each model runs, from the latest batch.
    pub sessions: BTreeMap<String, SessionReport>,
    pub diagnosis: Option<Box<Diagnosis>>,
    pub diagnosing: bool,
    /// The latest "Test connection" of a remote server.
    pub connection: Option<ConnectionTest>,
    pub log: Log,
    pub notices: Notices,
    pub skipped: usize,
    /// Incremented when a batch's results are all in (for tests and automation).
    pub batches_finished: usize,
    files_opened: u64,
    /// The library answers are kept in; none when it could not be opened.
    pub library: Option<PathBuf>,
    /// A batch from an earlier session that stopped early, offered for resuming.
    pub unfinished: Option<crate::library::Unfinished>,
    /// What Clear took away, until it is undone or the next batch starts.
    pub cleared: Option<ResultStore>,
    /// Corrections in the order made, with the label each face had before.
    pub corrections_undo: Vec<(
        super::results::ResultId,
        usize,
        Option<crate::labels::PersonLabel>,
    )>,
}

impl AppState {
    pub fn new(
        settings: AppSettings,
        settings_path: Option<PathBuf>,
        settings_warning: Option<String>,
    ) -> Self {
        let mut log = Log::default();
        if let Some(warning) = &settings_warning {
            log.push(Level::Warning, warning.clone());
        }
        Self {
            settings,
            settings_path,
            settings_warning,
            store: ResultStore::default(),
            batch: BatchState::default(),
            last_summary: None,
            engine: EngineStatus::NotLoaded,
            sessions: BTreeMap::new(),
            diagnosis: None,
            connection: None,
            diagnosing: false,
            log,
            notices: Notices::default(),
            skipped: 0,
            batches_finished: 0,
            files_opened: 0,
            library: None,
            unfinished: None,
            cleared: None,
            corrections_undo: Vec::new(),
        }
    }

    /// Logs the outcome of an action and shows it in the notification area.
    pub fn announce(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        self.notices.push(level, text.clone());
        self.log.push(level, text);
    }

    /// Applies one background event. Events that need the app to act (dialog
    /// answers, decoded pictures) are handled by the app before this.
    pub fn apply(&mut self, event: UiEvent) {
        match event {
            UiEvent::EngineLoading(message) => {
                self.batch.step = Some(message.clone());
                self.engine = EngineStatus::Loading(message);
            }
            UiEvent::EngineReady { runtime } => {
                self.log.push(Level::Info, format!("Using {runtime}"));
                self.batch.step = None;
                self.engine = EngineStatus::Ready(runtime);
            }
            UiEvent::EngineUnavailable(message) => {
                self.log.push(
                    Level::Error,
                    format!("The classifier cannot start: {message}"),
                );
                self.batch.step = None;
                self.engine = EngineStatus::Unavailable(message);
            }
            UiEvent::Skipped(skipped) => self.log_skipped(&skipped),
            UiEvent::BatchStarting { queued } => {
                // The library forgets cleared photos for good now.
                self.cleared = None;
                self.batch = BatchState {
                    active: true,
                    ..BatchState::default()
                };
                self.log
                    .push(Level::Info, format!("Classifying {queued} photos…"));
            }
            UiEvent::Engine(event) => self.apply_engine(event),
            UiEvent::Result(result, provenance, run) => {
                if let Some(error) = &result.error {
                    let wording = super::results::error_wording(result.error_kind);
                    self.log.push_photo_error(format!(
                        "{} ({wording}): {error}",
                        result.path.display()
                    ));
                }
                let position = result.index;
                self.store
                    .push(*result, provenance, Origin::Batch(run), position);
            }
            UiEvent::LibraryOpened {
                path,
                results,
                unfinished,
                took,
            } => {
                let n = results.len();
                for (result, provenance) in results {
                    let position = result.index;
                    self.store
                        .push(result, provenance, Origin::Library, position);
                }
                if n > 0 {
                    self.log.push(
                        Level::Info,
                        format!(
                            "{n} photos from the library {} (read in {:.2} s)",
                            path.display(),
                            took.as_secs_f64()
                        ),
                    );
                    // Work shown, as for opened results (automation waits on it).
                    self.batches_finished += 1;
                }
                self.library = Some(path);
                self.unfinished = unfinished;
            }
            UiEvent::LibraryUnavailable(problem) => {
                self.announce(
                    Level::Error,
                    format!("The library cannot be used: {problem}"),
                );
            }
            UiEvent::BatchEnded => {
                self.batch = BatchState::default();
                self.batches_finished += 1;
            }
            UiEvent::Diagnosis(report) => {
                self.diagnosing = false;
                self.diagnosis = Some(report);
            }
            UiEvent::ConnectionChecked { url, outcome } => {
                match &outcome {
                    Ok(checks) if checks.iter().all(|c| c.ok) => self.log.push(
                        Level::Info,
                        format!("Connection to {url}: all checks passed"),
                    ),
                    Ok(checks) => {
                        for check in checks.iter().filter(|c| !c.ok) {
                            self.log.push(
                                Level::Warning,
                                format!("Connection to {url}: {}: {}", check.name, check.message),
                            );
                        }
                    }
                    Err(problem) => self
                        .log
                        .push(Level::Warning, format!("Connection to {url}: {problem}")),
                }
                self.connection = Some(ConnectionTest::Done { url, outcome });
            }
            UiEvent::SettingsSaved(path) => {
                self.log
                    .push(Level::Info, format!("Settings saved to {}", path.display()));
            }
            UiEvent::Exported { path, rows } => {
                self.announce(
                    Level::Info,
                    format!("Exported {rows} rows to {}", path.display()),
                );
            }
            UiEvent::Sorted {
                destination,
                report,
            } => {
                let per_folder: Vec<String> = report
                    .copied
                    .iter()
                    .map(|(folder, n)| format!("{n} to {folder}/"))
                    .collect();
                self.announce(
                    Level::Info,
                    format!(
                        "Copied {} photos under {}: {}{}{}",
                        report.total_copied(),
                        destination.display(),
                        per_folder.join(", "),
                        if report.skipped_errors > 0 {
                            format!("; {} failed photos left out", report.skipped_errors)
                        } else {
                            String::new()
                        },
                        if report.already_there > 0 {
                            format!(
                                "; {} already there (the same file), not copied again",
                                report.already_there
                            )
                        } else {
                            String::new()
                        }
                    ),
                );
                for (path, reason) in report.failures {
                    self.log.push(
                        Level::Error,
                        format!("Not copied {}: {reason}", path.display()),
                    );
                }
            }
            UiEvent::ResultsLoaded {
                path,
                results,
                problems,
            } => {
                let n = results.len();
                let provenance = crate::export::Provenance {
                    backend: format!("file:{}", path.display()),
                    model: String::new(),
                };
                // Opened files sort after every batch, in the order they were opened.
                self.files_opened += 1;
                let origin = Origin::File(self.files_opened);
                for (line, result) in results.into_iter().enumerate() {
                    self.store.push(result, provenance.clone(), origin, line);
                }
                for problem in problems {
                    self.log.push(Level::Warning, problem);
                }
                self.announce(
                    Level::Info,
                    format!("Opened {n} results from {}", path.display()),
                );
                self.batches_finished += 1;
            }
            UiEvent::Info(text) => self.announce(Level::Info, text),
            UiEvent::TaskFailed(message) => self.announce(Level::Error, message),
            UiEvent::DialogClosed { .. }
            | UiEvent::DialogUnavailable { .. }
            | UiEvent::Image(_) => {}
        }
    }

    fn apply_engine(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Scanning { found } => {
                self.batch.step = Some(format!("Scanning… found {found} photos"));
            }
            EngineEvent::Listed { skipped, .. } => {
                if self
                    .batch
                    .step
                    .as_deref()
                    .is_some_and(|s| s.starts_with("Scanning"))
                {
                    self.batch.step = None;
                }
                self.log_skipped(&skipped)
            }
            EngineEvent::Added { total, skipped } => {
                // The bar's total grows as soon as photos join, not at the
                // next result.
                if let Some(progress) = self.batch.progress.as_mut() {
                    progress.total = progress.total.max(total);
                }
                self.log_skipped(&skipped)
            }
            EngineEvent::Status(message) => {
                self.log.push(Level::Info, message.clone());
                self.batch.step = Some(message);
            }
            EngineEvent::Warning(message) => self.log.push(Level::Warning, message),
            EngineEvent::SessionReady(report) => {
                self.log.push(Level::Info, report.summary());
                self.batch.step = None;
                self.sessions.insert(report.model.clone(), report);
            }
            EngineEvent::Image(_) => {}
            EngineEvent::Progress(progress) => self.batch.progress = Some(progress),
            EngineEvent::Finished(summary) => {
                let level = if summary.failed > 0 {
                    Level::Warning
                } else {
                    Level::Info
                };
                self.announce(level, finished_line(&summary));
                if let Some(line) = library_line(&summary) {
                    self.log.push(Level::Info, line);
                }
                self.last_summary = Some(summary);
            }
            EngineEvent::Failed(message) => {
                self.announce(Level::Error, format!("The batch stopped: {message}"));
            }
        }
    }

    fn log_skipped(&mut self, skipped: &[crate::batch::Skipped]) {
        self.skipped += skipped.len();
        for s in skipped {
            self.log.push(
                Level::Warning,
                format!("Skipped {}: {}", s.path.display(), s.reason),
            );
        }
    }
}

/// The log line for a finished batch. A cancelled batch counts what was
/// done, out of what was listed, not the listed total as if all were done.
pub fn finished_line(summary: &crate::batch::Summary) -> String {
    let done = summary.ok + summary.no_face + summary.failed;
    let counts = format!(
        "{} faces, {} without a face, {} failed in {:.1} s",
        summary.faces,
        summary.no_face,
        summary.failed,
        summary.elapsed.as_secs_f64()
    );
    if summary.cancelled {
        format!(
            "Batch cancelled: {done} of {} photos done, {counts}",
            summary.total
        )
    } else {
        format!("Batch finished: {done} photos, {counts}")
    }
}

/// What the library spared or redid in a batch, when anything.
pub fn library_line(summary: &crate::batch::Summary) -> Option<String> {
    let mut parts = Vec::new();
    if summary.reused > 0 {
        parts.push(format!(
            "{} unchanged photos kept their results from the library",
            summary.reused
        ));
    }
    if summary.settings_changed > 0 {
        parts.push(format!(
            "{} were classified again because the settings or models changed",
            summary.settings_changed
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod finished_line_tests {
    use super::*;

    #[test]
    fn photos_added_mid_run_grow_the_total_at_once() {
        let mut state = AppState::new(Default::default(), None, None);
        state.apply(UiEvent::Engine(EngineEvent::Progress(
            crate::batch::Progress {
                done: 5,
                total: 10,
                failed: 0,
                faces: 5,
                images_per_second: 1.0,
                eta: None,
                current: None,
            },
        )));
        state.apply(UiEvent::Engine(EngineEvent::Added {
            total: 14,
            skipped: Vec::new(),
        }));
        let progress = state.batch.progress.as_ref().unwrap();
        assert_eq!((progress.done, progress.total), (5, 14));
    }

    #[test]
    fn a_cancelled_batch_counts_what_was_done() {
        let summary = crate::batch::Summary {
            total: 600,
            ok: 130,
            no_face: 10,
            failed: 2,
            faces: 150,
            cancelled: true,
            ..Default::default()
        };
        assert_eq!(
            finished_line(&summary),
            "Batch cancelled: 142 of 600 photos done, 150 faces, 10 without a face, 2 failed in 0.0 s"
        );
        let done = crate::batch::Summary {
            total: 8,
            ok: 8,
            faces: 8,
            ..Default::default()
        };
        assert_eq!(
            finished_line(&done),
            "Batch finished: 8 photos, 8 faces, 0 without a face, 0 failed in 0.0 s"
        );
    }
}
