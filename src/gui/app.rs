//! The eframe app: `logic` takes in background news and dropped files,
//! `ui` draws the views and turns what the user asked for into work for
//! background threads.

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, unbounded};

use super::dialogs::{FileDialogs, ask_in_background};
use super::engine_host::{EngineCommand, EngineHost};
use super::events::{DialogPurpose, UiEvent, UiSender};
use super::frame_stats::FrameStats;
use super::images::{ImageLoader, ImageRequest};
use super::results::ResultId;
use super::state::{AppState, BatchState, ConnectionTest, Level};
use super::tasks;
use super::textures::TextureCache;
use super::views::{self, Action, Tab, ViewState};
use crate::export::ExportFormat;
use crate::settings_store::{AppSettings, ThemeChoice};

/// Everything the app needs from whoever starts it.
pub struct AppConfig {
    pub settings: AppSettings,
    /// Where settings are saved; `None` keeps them for this run only.
    pub settings_path: Option<PathBuf>,
    /// Shown to the user, e.g. because the settings file was damaged.
    pub settings_warning: Option<String>,
    /// Photos and folders queued at start.
    pub initial_paths: Vec<PathBuf>,
    /// A JSONL export to show at start.
    pub open_results: Option<PathBuf>,
    pub dialogs: Arc<dyn FileDialogs>,
    /// Write frame-cost statistics here on exit.
    pub frame_stats_path: Option<PathBuf>,
    /// Close once the first batch (or opened results) is done and its
    /// thumbnails are shown, after a further run of frames to measure the
    /// settled view: for benchmarks and automation.
    pub exit_when_done: bool,
    /// The view shown first.
    pub start_tab: Tab,
    /// The library to open and keep answers in; none keeps them for this
    /// session only.
    pub library: Option<PathBuf>,
    /// Resume the library's batch that stopped early as soon as it opens.
    pub resume: bool,
}

/// Most background events taken in one frame, so a flood never stalls a frame.
const EVENTS_PER_FRAME: usize = 2_000;
const THUMBNAIL_CACHE: usize = 400;

pub struct GenderLensApp {
    pub state: AppState,
    pub view: ViewState,
    events: Receiver<UiEvent>,
    ui: UiSender,
    host: EngineHost,
    loader: ImageLoader,
    textures: TextureCache,
    dialogs: Arc<dyn FileDialogs>,
    frame_stats: FrameStats,
    frame_stats_path: Option<PathBuf>,
    exit_when_done: bool,
    applied_theme: Option<ThemeChoice>,
    /// Every visible picture was drawn last frame (none still loading).
    pictures_settled: bool,
    /// The batches-finished count last announced as ready in the log.
    announced_ready: usize,
    /// Frames drawn since the work settled, when closing after it.
    frames_since_settled: u32,
    /// Consecutive frames drawn with everything settled.
    settled_frames: u32,
    /// The window title last asked for, so it is sent only when it changes.
    title: String,
    /// The user chose how to quit during a batch: the next close goes through.
    quitting: bool,
}

/// Frames drawn after everything is shown before `exit_when_done` closes.
const SETTLED_FRAMES: u32 = 120;

impl GenderLensApp {
    pub fn new(ctx: &egui::Context, config: AppConfig) -> Self {
        let (tx, events) = unbounded();
        let ui = UiSender::new(tx, ctx.clone());
        let host = EngineHost::spawn(
            config.settings.engine.clone(),
            config.settings.active_remote(),
            config
                .library
                .clone()
                .map(|path| super::engine_host::OpenLibrary {
                    path,
                    resume: config.resume,
                }),
            ui.clone(),
        );
        let loader = {
            let ui = ui.clone();
            let engine = &config.settings.engine;
            // Pictures have a budget of their own, beside the engine's.
            let budget = crate::preprocess::memory_budget::MemoryBudget::new(
                engine.max_decode_memory_bytes() / 2,
            );
            let limits = crate::preprocess::decode::DecodeLimits {
                // A cut-off JPEG shows as far as it goes, so the user can see
                // which photo it is; the engine still refuses it.
                show_truncated: true,
                ..crate::preprocess::decode_limits(engine, Some(budget))
            };
            ImageLoader::spawn(
                2,
                limits,
                Arc::new(move |ready| ui.send(UiEvent::Image(ready))),
            )
        };
        let state = AppState::new(
            config.settings,
            config.settings_path,
            config.settings_warning,
        );
        if !config.initial_paths.is_empty() {
            host.send(EngineCommand::Add(config.initial_paths));
        }
        if let Some(path) = config.open_results {
            tasks::open_results(&ui, path);
        }
        Self {
            state,
            view: ViewState {
                tab: config.start_tab,
                ..ViewState::default()
            },
            events,
            ui,
            host,
            loader,
            textures: TextureCache::new(THUMBNAIL_CACHE),
            dialogs: config.dialogs,
            frame_stats: FrameStats::default(),
            frame_stats_path: config.frame_stats_path,
            exit_when_done: config.exit_when_done,
            applied_theme: None,
            pictures_settled: false,
            title: views::progress::window_title(&BatchState::default()),
            announced_ready: 0,
            frames_since_settled: 0,
            settled_frames: 0,
            quitting: false,
        }
    }

    /// Replaces the file dialogs (for automation and tests).
    pub fn set_dialogs(&mut self, dialogs: Arc<dyn FileDialogs>) {
        self.dialogs = dialogs;
    }

    /// Pictures waiting to be decoded (thumbnails and previews).
    pub fn pictures_pending(&self) -> usize {
        self.loader.queued()
    }

    pub fn thumbnails_cached(&self) -> usize {
        self.textures.len()
    }

    fn take_events(&mut self, ctx: &egui::Context) {
        for _ in 0..EVENTS_PER_FRAME {
            let Ok(event) = self.events.try_recv() else {
                return;
            };
            match event {
                UiEvent::Image(ready) => self.textures.insert(ctx, ready),
                UiEvent::DialogClosed {
                    purpose,
                    paths,
                    exists,
                } => self.dialog_answered(purpose, paths, exists),
                UiEvent::DialogUnavailable { purpose, problem } => {
                    self.state
                        .log
                        .push(Level::Warning, format!("{problem}; type the path instead"));
                    self.view.path_prompt = Some(views::PathPrompt {
                        purpose,
                        problem,
                        text: String::new(),
                    });
                }
                other => self.state.apply(other),
            }
            // A photo answered anew: its pictures and its undo entries are stale.
            for id in self.state.store.take_replaced() {
                self.textures.forget(id);
                self.state
                    .corrections_undo
                    .retain(|(undo, _, _)| *undo != id);
            }
        }
        // More are waiting: come back next frame rather than stall this one.
        ctx.request_repaint();
    }

    fn dialog_answered(&mut self, purpose: DialogPurpose, paths: Vec<PathBuf>, exists: bool) {
        let Some(first) = paths.first().cloned() else {
            return;
        };
        match purpose {
            DialogPurpose::AddFiles | DialogPurpose::AddFolder => self.add_paths(paths),
            DialogPurpose::OpenResults => tasks::open_results(&self.ui, first),
            DialogPurpose::ExportCsv | DialogPurpose::ExportJsonl => {
                if exists {
                    self.view.confirm_overwrite = Some((purpose, first));
                } else {
                    self.export(purpose, first, false);
                }
            }
            DialogPurpose::SortDestination => {
                self.state.log.push(
                    Level::Info,
                    format!("Copying photos into folders under {}…", first.display()),
                );
                let results = self.exported().into_iter().map(|(r, _)| r).collect();
                tasks::sort_into_folders(&self.ui, first, results);
            }
        }
    }

    fn export(&mut self, purpose: DialogPurpose, path: PathBuf, overwrite: bool) {
        let format = if purpose == DialogPurpose::ExportCsv {
            ExportFormat::Csv
        } else {
            ExportFormat::Jsonl
        };
        let results = self.exported();
        tasks::export(&self.ui, path, format, results, overwrite);
    }

    /// What Export and Sort take: every result, or those the filter shows,
    /// as the Export menu says; in the order the photos were added.
    fn exported(&mut self) -> Vec<(crate::postprocess::ImageResult, crate::export::Provenance)> {
        let store = &mut self.state.store;
        let taken = match self.view.export_scope {
            views::ExportScope::All => store.in_added_order(),
            views::ExportScope::Shown => {
                let shown = store.shown(&self.view.filter);
                store.in_added_order_where(|id| shown.contains(&id))
            }
        };
        taken
            .into_iter()
            .map(|(r, p)| (r.clone(), p.clone()))
            .collect()
    }

    fn add_paths(&mut self, paths: Vec<PathBuf>) {
        if !paths.is_empty() {
            self.host.send(EngineCommand::Add(paths));
        }
    }

    fn perform(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::Ask(purpose) => {
                ask_in_background(self.dialogs.clone(), purpose, self.ui.clone())
            }
            Action::AddPaths(paths) => self.add_paths(paths),
            Action::Pause => {
                self.state.batch.paused = true;
                self.host.send(EngineCommand::Pause);
            }
            Action::Resume => {
                self.state.batch.paused = false;
                self.host.send(EngineCommand::Resume);
            }
            Action::Cancel => {
                self.state.batch.cancelling = true;
                self.state.batch.paused = false;
                self.state.log.push(Level::Info, "Cancelling the batch…");
                self.host.send(EngineCommand::Cancel);
            }
            Action::ClearResults => {
                let cleared = std::mem::take(&mut self.state.store);
                self.state.announce(
                    Level::Info,
                    format!(
                        "Cleared {} results; undo is possible until the next batch",
                        cleared.len()
                    ),
                );
                self.state.cleared = Some(cleared);
                self.state.corrections_undo.clear();
                self.state.last_summary = None;
                self.textures.clear();
                self.view.selected = None;
                self.host.send(EngineCommand::Clear);
            }
            Action::UndoClear => {
                if let Some(cleared) = self.state.cleared.take() {
                    // Results that came in since stay; the cleared ones return around them.
                    let since = std::mem::replace(&mut self.state.store, cleared);
                    self.state.store.merge(since);
                    self.state.store.take_replaced();
                    self.state.corrections_undo.clear();
                    // Ids of the results that came in since are others now.
                    self.textures.clear();
                    self.state.announce(
                        Level::Info,
                        format!("Restored {} results", self.state.store.len()),
                    );
                    self.host.send(EngineCommand::UndoClear);
                }
            }
            Action::Rerun(_) if self.state.batch.active => {
                self.state.log.push(
                    Level::Warning,
                    "Re-classifying waits until the running batch ends",
                );
            }
            Action::Rerun(which) => {
                let paths = self.rerun_paths(which);
                if !paths.is_empty() {
                    self.state.log.push(
                        Level::Info,
                        format!(
                            "Classifying {} photos again with the current settings",
                            paths.len()
                        ),
                    );
                    self.host.send(EngineCommand::Reclassify(paths));
                }
            }
            Action::ResumeUnfinished(run) => {
                self.state.unfinished = None;
                self.host.send(EngineCommand::ResumeUnfinished(run));
            }
            Action::DismissUnfinished(run) => {
                self.state.unfinished = None;
                self.host.send(EngineCommand::DismissUnfinished(run));
            }
            Action::Quit { resume_later } => {
                let (done, answered) = crossbeam_channel::bounded(1);
                self.host.send(EngineCommand::Quit { resume_later, done });
                // The choice must be on disk before the process ends; the
                // host answers at once unless the disk is very slow.
                let _ = answered.recv_timeout(std::time::Duration::from_secs(3));
                self.quitting = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::Select(id) => self.view.selected = id,
            Action::Correct { id, face, label } => self.correct(id, face, label, true),
            Action::UndoCorrection => {
                if let Some((id, face, before)) = self.state.corrections_undo.pop() {
                    self.correct(id, face, before, false);
                    self.view.review.point_at(id, face);
                }
            }
            Action::CopyJson(id) => {
                if let Some(result) = self.state.store.get(id) {
                    match serde_json::to_string_pretty(result) {
                        Ok(json) => {
                            ctx.copy_text(json);
                            self.state.announce(
                                Level::Info,
                                format!("Copied the result for {} as JSON", result.path.display()),
                            );
                        }
                        Err(e) => self
                            .state
                            .announce(Level::Error, format!("Cannot copy: {e}")),
                    }
                }
            }
            Action::ShowInFolder(id) => {
                if let Some(result) = self.state.store.get(id) {
                    tasks::show_in_folder(&self.ui, &result.path);
                }
            }
            Action::OpenPhoto(id) => {
                if let Some(result) = self.state.store.get(id) {
                    tasks::open_photo(&self.ui, &result.path);
                }
            }
            Action::ApplySettings(settings) => self.apply_settings(*settings),
            Action::TestConnection(options) => {
                self.state.connection = Some(ConnectionTest::Running);
                tasks::test_connection(&self.ui, *options);
            }
            Action::CheckRuntime => {
                self.state.diagnosing = true;
                self.host.send(EngineCommand::Diagnose);
            }
            Action::ConfirmOverwrite(replace) => {
                if let Some((purpose, path)) = self.view.confirm_overwrite.take()
                    && replace
                {
                    self.export(purpose, path, true);
                }
            }
            Action::RetryEngine => self.host.send(EngineCommand::Retry),
            Action::TypedPath(purpose, path) => {
                super::dialogs::typed_in_background(purpose, path, self.ui.clone());
            }
        }
    }

    /// Sets a person's label for a face, in the window and in the library;
    /// `remember` keeps the label it had for Undo.
    fn correct(
        &mut self,
        id: ResultId,
        face: usize,
        label: Option<crate::labels::PersonLabel>,
        remember: bool,
    ) {
        let Some(before) = self.state.store.correct(id, face, label) else {
            return;
        };
        if remember {
            self.state.corrections_undo.push((id, face, before));
        }
        // An answer from an opened file is not the library's: its faces
        // may differ, so its corrections stay in the window.
        let from_file = matches!(
            self.state.store.origin(id),
            Some(super::results::Origin::File(_))
        );
        if let Some(result) = self.state.store.get(id).filter(|_| !from_file) {
            self.host.send(EngineCommand::Correct {
                path: result.path.clone(),
                face,
                label,
            });
        }
    }

    /// The photos a re-run classifies again.
    fn rerun_paths(&mut self, which: views::Rerun) -> Vec<PathBuf> {
        let store = &mut self.state.store;
        match which {
            views::Rerun::Failed => store
                .images()
                .iter()
                .filter(|r| r.status == crate::postprocess::Status::Error)
                .map(|r| r.path.clone())
                .collect(),
            views::Rerun::All => store.images().iter().map(|r| r.path.clone()).collect(),
            views::Rerun::One(id) => store.get(id).map(|r| r.path.clone()).into_iter().collect(),
            views::Rerun::Shown => {
                let shown = store.shown(&self.view.filter);
                store
                    .in_added_order_where(|id| shown.contains(&id))
                    .into_iter()
                    .map(|(r, _)| r.path.clone())
                    .collect()
            }
        }
    }

    fn apply_settings(&mut self, settings: AppSettings) {
        if let Err(problem) = settings.validate() {
            self.view.settings_error = Some(problem.to_string());
            return;
        }
        self.view.settings_error = None;
        self.state.settings_warning = None;
        self.host.send(EngineCommand::Apply(Box::new((
            settings.engine.clone(),
            settings.active_remote(),
        ))));
        if let Some(path) = &self.state.settings_path {
            tasks::save_settings(&self.ui, path.clone(), settings.clone());
        }
        // Another backend (a server, or this computer again): what the
        // Runtime section said about the old one no longer holds.
        if settings.active_remote() != self.state.settings.active_remote() {
            self.state.engine = super::state::EngineStatus::NotLoaded;
            self.state.sessions.clear();
        }
        self.state.settings = settings;
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        let theme = self.state.settings.theme;
        if self.applied_theme != Some(theme) {
            ctx.set_theme(match theme {
                ThemeChoice::System => egui::ThemePreference::System,
                ThemeChoice::Light => egui::ThemePreference::Light,
                ThemeChoice::Dark => egui::ThemePreference::Dark,
            });
            self.applied_theme = Some(theme);
        }
    }

    /// The work asked for is done and on screen: results in, pictures drawn.
    pub fn settled(&self) -> bool {
        self.state.batches_finished > 0 && !self.state.batch.active && self.pictures_settled
    }

    /// Logs once per finished batch that everything is shown, so automation
    /// (and the desktop smoke test) can wait on a line rather than a timer.
    /// It waits for a second settled frame: the first one is only painted
    /// after this frame's `ui` returns.
    fn announce_when_settled(&mut self, ctx: &egui::Context) {
        if !self.settled() {
            self.settled_frames = 0;
            return;
        }
        self.settled_frames += 1;
        if self.settled_frames == 1 {
            ctx.request_repaint();
        }
        if self.settled_frames >= 2 && self.announced_ready != self.state.batches_finished {
            self.announced_ready = self.state.batches_finished;
            tracing::info!(
                "ready: {} results shown, {} pictures cached",
                self.state.store.len(),
                self.textures.len()
            );
        }
    }

    /// Draws everything and returns what the user asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut wanted: Vec<ImageRequest> = Vec::new();
        let ctx = ui.ctx().clone();

        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(4.0);
            views::toolbar::show(ui, &self.state, &mut self.view, &mut actions);
            ui.add_space(2.0);
            if let Some(warning) = self.state.settings_warning.clone() {
                ui.horizontal(|ui| {
                    views::coloured(ui, views::UNCERTAIN, warning.as_str());
                    if ui.small_button("Dismiss").clicked() {
                        self.state.settings_warning = None;
                    }
                });
            }
            if let super::state::EngineStatus::Unavailable(error) = &self.state.engine {
                ui.horizontal(|ui| {
                    views::coloured(
                        ui,
                        views::ERROR,
                        format!("The classifier cannot start: {error}"),
                    );
                    if ui.button("Retry").clicked() {
                        actions.push(Action::RetryEngine);
                    }
                });
            }
            views::progress::show(ui, &self.state, &mut actions);
            views::library::banners(ui, &self.state, &mut actions);
            ui.add_space(2.0);
        });

        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                views::log::status_line(ui, &self.state.log, &mut self.view.log_open);
            });
        });
        if self.view.log_open {
            egui::Panel::bottom("log")
                .resizable(true)
                .default_size(160.0)
                .show(ui, |ui| views::log::show(ui, &self.state.log));
        }

        let has_results = !self.state.store.is_empty();
        if has_results {
            egui::Panel::left("summary")
                .resizable(true)
                .default_size(250.0)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| {
                        views::summary::show(ui, &self.state.store, &mut self.view)
                    });
                });
        }
        if let Some(id) = self.view.selected {
            // Never so wide that the gallery or table beside it is squeezed out.
            let widest = (ctx.content_rect().width() - 480.0).max(220.0);
            egui::Panel::right("detail")
                .resizable(true)
                .default_size(380.0_f32.min(widest))
                .max_size(widest)
                .show(ui, |ui| {
                    views::detail::show(
                        ui,
                        &self.state.store,
                        id,
                        &mut self.textures,
                        &mut wanted,
                        &mut actions,
                    )
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if !has_results && self.state.batch.active {
                views::drop_zone::working(ui, &self.state.batch);
            } else if !has_results {
                views::drop_zone::empty(ui, &mut actions);
            } else {
                match self.view.tab {
                    Tab::Gallery => views::gallery::show(
                        ui,
                        &mut self.state.store,
                        &self.view,
                        &mut self.textures,
                        &mut wanted,
                        &mut actions,
                    ),
                    Tab::Table => {
                        views::table::show(ui, &mut self.state.store, &mut self.view, &mut actions)
                    }
                    Tab::Review => views::review::show(
                        ui,
                        &mut self.state.store,
                        &mut self.view,
                        &mut self.textures,
                        &mut wanted,
                        &mut actions,
                    ),
                }
            }
        });

        let mut settings_open = self.view.settings_open;
        // Below the toolbar, under the Settings button, leaving the toolbar usable.
        let top_right = egui::pos2(ctx.content_rect().right() - 12.0, 44.0);
        // Never wider than the window, whatever width it was left at.
        let widest = (ctx.content_rect().width() - 24.0).max(240.0);
        egui::Window::new("Settings")
            .open(&mut settings_open)
            .pivot(egui::Align2::RIGHT_TOP)
            .default_pos(top_right)
            .default_width(460.0_f32.min(widest))
            .max_width(widest)
            .default_height(600.0)
            .show(&ctx, |ui| {
                views::settings::show(ui, &self.state, &mut self.view, &mut actions)
            });
        if !settings_open {
            self.view.settings_draft = None;
            self.view.settings_error = None;
        }
        self.view.settings_open = settings_open;

        egui::Window::new("About GenderLens")
            .open(&mut self.view.about_open)
            .collapsible(false)
            .resizable(false)
            .default_width(420.0)
            // Below the toolbar, which stays usable.
            .pivot(egui::Align2::CENTER_TOP)
            .default_pos(egui::pos2(ctx.content_rect().center().x, 48.0))
            .show(&ctx, views::about::show);

        if let Some((_, path)) = &self.view.confirm_overwrite {
            let text = format!("{} already exists. Replace it?", path.display());
            egui::Modal::new(egui::Id::unique("confirm_overwrite")).show(&ctx, |ui| {
                ui.label(text);
                ui.horizontal(|ui| {
                    if ui.button("Replace").clicked() {
                        actions.push(Action::ConfirmOverwrite(true));
                    }
                    if ui.button("Cancel").clicked() {
                        actions.push(Action::ConfirmOverwrite(false));
                    }
                });
            });
        }

        views::library::confirmations(&ctx, &self.state, &mut self.view, &mut actions);
        views::path_prompt::show(&ctx, &mut self.view, &mut actions);
        views::notices::show(&ctx, &mut self.state.notices);

        let hovering = ctx.input(|i| i.raw.hovered_files.len());
        if hovering > 0 {
            views::drop_zone::hover_overlay(&ctx, hovering);
        }
        self.pictures_settled = wanted.is_empty() && self.loader.queued() == 0;
        self.loader.want(wanted);
        actions
    }
}

impl eframe::App for GenderLensApp {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.frame_stats.record_whole_frame(frame.info().cpu_usage);
        self.frame_stats.begin();
        self.apply_theme(ctx);
        self.take_events(ctx);
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        self.add_paths(dropped);
        let (quit, escape, close_requested) = ctx.input(|i| {
            (
                i.modifiers.command && i.key_pressed(egui::Key::Q),
                i.key_pressed(egui::Key::Escape),
                i.viewport().close_requested(),
            )
        });
        // Closing during a batch asks first (the window manager's close
        // button and Ctrl+Q alike).
        if close_requested && self.state.batch.active && !self.quitting {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.view.confirm_quit = true;
        }
        if escape {
            self.view.close_topmost();
        }
        let title = views::progress::window_title(&self.state.batch);
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if quit {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let actions = self.show(ui);
        let ctx = ui.ctx().clone();
        for action in actions {
            self.perform(&ctx, action);
        }
        // Only now is `pictures_settled` about what this frame showed.
        self.announce_when_settled(&ctx);
        if self.exit_when_done && self.settled() {
            self.frames_since_settled += 1;
            ctx.request_repaint();
        }
        if self.frames_since_settled > SETTLED_FRAMES {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.frame_stats.end();
    }

    fn on_exit(&mut self) {
        let report = self.frame_stats.report(self.state.store.len());
        tracing::info!(
            "frame cost over {} frames: mean {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            report.app.frames,
            report.app.mean_ms,
            report.app.p95_ms,
            report.app.max_ms
        );
        if let Some(path) = &self.frame_stats_path {
            let written = serde_json::to_string_pretty(&report)
                .map_err(std::io::Error::other)
                .and_then(|json| std::fs::write(path, json));
            if let Err(e) = written {
                tracing::error!("cannot write {}: {e}", path.display());
            }
        }
    }
}
