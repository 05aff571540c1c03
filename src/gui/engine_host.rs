//! The thread that owns the batch engine: it loads ONNX Runtime and the
//! models off the UI thread (or connects to the remote server the user
//! chose), starts batches, appends drops to a running batch, and forwards
//! the engine's events to the UI.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, never, select, unbounded};

use super::events::{UiEvent, UiSender};
use super::listing::{Found, list_in_chunks};
use crate::backend::Backend;
use crate::batch::inputs::InputItem;
use crate::batch::{BatchHandle, EngineEvent, Skipped};
use crate::export::Provenance;
use crate::library::{Library, RunId, RunKeeper, RunState};
use crate::remote::RemoteOptions;
use crate::settings::EngineSettings;

pub enum EngineCommand {
    /// Classify these files and folders: appended to the running batch, or a new one.
    Add(Vec<PathBuf>),
    Pause,
    Resume,
    Cancel,
    /// Use these settings, and this remote server (or none: local), from the next batch on.
    Apply(Box<(EngineSettings, Option<RemoteOptions>)>),
    /// Run the runtime checks `genderlens doctor` runs.
    Diagnose,
    /// The results were cleared: hide them in the library too, until
    /// [`EngineCommand::UndoClear`] or the next batch.
    Clear,
    UndoClear,
    /// Classify these photos again, even unchanged ones (retry failed,
    /// re-run with the current settings).
    Reclassify(Vec<PathBuf>),
    /// Resume the library's batch that stopped early, or let it go.
    ResumeUnfinished(RunId),
    DismissUnfinished(RunId),
    /// The window is closing during a batch: record whether the user wants
    /// it resumed next time, then stop it; `done` hears when that is on disk.
    Quit {
        resume_later: bool,
        done: Sender<()>,
    },
    /// A person's label for a face, kept in the library.
    Correct {
        path: PathBuf,
        face: usize,
        label: Option<crate::labels::PersonLabel>,
    },
    /// Try again to start the photos that waited for a failed engine.
    Retry,
    /// Answers once every command before it is done.
    Flush(Sender<()>),
}

/// The UI's handle on the host thread; dropping it ends the thread and any batch.
pub struct EngineHost {
    commands: Sender<EngineCommand>,
}

impl EngineHost {
    /// Starts the host; it first opens `library` (when given) and reports
    /// its photos, then takes commands.
    pub fn spawn(
        settings: EngineSettings,
        remote: Option<RemoteOptions>,
        library: Option<OpenLibrary>,
        ui: UiSender,
    ) -> Self {
        let (commands, rx) = unbounded();
        std::thread::Builder::new()
            .name("genderlens-engine-host".into())
            .spawn(move || {
                let mut host = Host::new(settings, remote, ui);
                if let Some(library) = library {
                    host.open_library(library);
                }
                host.run(rx)
            })
            .expect("spawning the engine thread");
        Self { commands }
    }

    pub fn send(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }
}

impl Drop for EngineHost {
    /// The window is closing: what the user did last (a correction, say)
    /// reaches the library before the process ends, unless the disk hangs.
    fn drop(&mut self) {
        let (done, flushed) = crossbeam_channel::bounded(1);
        if self.commands.send(EngineCommand::Flush(done)).is_ok() {
            let _ = flushed.recv_timeout(std::time::Duration::from_secs(3));
        }
    }
}

/// The library the host opens first.
pub struct OpenLibrary {
    pub path: PathBuf,
    /// Resume its batch that stopped early at once, without asking.
    pub resume: bool,
}

struct RunningBatch {
    handle: BatchHandle,
    /// True once the batch stopped taking additions (it is finishing).
    closed: bool,
}

struct Host {
    settings: EngineSettings,
    remote_options: Option<RemoteOptions>,
    pending_settings: Option<(EngineSettings, Option<RemoteOptions>)>,
    /// The local engine and the remote client, each loaded on first use and
    /// kept until its settings change: switching to a server and back does
    /// not reload the models.
    local: Option<Arc<Backend>>,
    remote: Option<Arc<Backend>>,
    batch: Option<RunningBatch>,
    /// Photos waiting for the next batch (added while one was finishing, or
    /// while the engine could not start).
    waiting: Vec<PathBuf>,
    /// Every photo listed this session, so none is classified twice.
    seen: HashSet<PathBuf>,
    /// Queued photos not yet reported, by the path given to the engine, with
    /// their key in `seen`: a cancelled batch releases them to be added again.
    unreported: HashMap<PathBuf, PathBuf>,
    provenance: Provenance,
    /// Batches started so far; results carry their batch's number.
    runs: u64,
    /// Photos found by the listings of dropped folders, as they are found.
    found_tx: Sender<Found>,
    found_rx: Receiver<Found>,
    /// Bumped by Cancel: listings under an older generation stop, and what
    /// they had found is dropped.
    generation: Arc<AtomicU64>,
    /// Listings still running: while any is, the running batch is held open
    /// for what they find rather than finishing early.
    listings: usize,
    /// Loading the backend failed; photos wait until the settings change or
    /// the user retries, rather than reloading for every chunk found.
    load_failed: bool,
    /// Where answers are kept; none when it could not be opened.
    library: Option<Arc<Library>>,
    /// The running batch's record in the library.
    run: Option<RunId>,
    /// The next batch classifies every photo, even unchanged ones.
    reclassify_next: bool,
    /// Files and folders dropped since the last batch began: what the next
    /// one records as its inputs, so a resume lists them again whole.
    roots: Vec<PathBuf>,
    /// The stopped batch the next one resumes; marked resumed only once the
    /// new one is recorded, so a failure to start loses nothing.
    resuming: Option<RunId>,
    ui: UiSender,
}

impl Host {
    fn new(settings: EngineSettings, remote_options: Option<RemoteOptions>, ui: UiSender) -> Self {
        let (found_tx, found_rx) = unbounded();
        Self {
            found_tx,
            found_rx,
            generation: Arc::new(AtomicU64::new(0)),
            listings: 0,
            load_failed: false,
            library: None,
            run: None,
            reclassify_next: false,
            roots: Vec::new(),
            resuming: None,
            settings,
            remote_options,
            pending_settings: None,
            local: None,
            remote: None,
            batch: None,
            waiting: Vec::new(),
            seen: HashSet::new(),
            unreported: HashMap::new(),
            provenance: Provenance {
                backend: "local".into(),
                model: String::new(),
            },
            runs: 0,
            ui,
        }
    }

    fn run(mut self, commands: Receiver<EngineCommand>) {
        loop {
            let events = self
                .batch
                .as_ref()
                .map(|b| b.handle.events().clone())
                .unwrap_or_else(never);
            select! {
                recv(commands) -> command => match command {
                    Ok(command) => self.handle(command),
                    // The window closed: stop the batch and end.
                    Err(_) => {
                        if let Some(batch) = &self.batch {
                            batch.handle.cancel();
                        }
                        return;
                    }
                },
                recv(events) -> event => match event {
                    Ok(event) => self.forward(event),
                    Err(_) => self.batch_ended(),
                },
                recv(self.found_rx) -> found => {
                    if let Ok(found) = found {
                        self.take_found(found);
                    }
                }
            }
        }
    }

    fn open_library(&mut self, OpenLibrary { path, resume }: OpenLibrary) {
        let started = std::time::Instant::now();
        let opened = Library::open(&path).and_then(|library| {
            let results = library.load_with_provenance()?;
            let unfinished = library.unfinished()?;
            Ok((library, results, unfinished))
        });
        match opened {
            Ok((library, results, unfinished)) => {
                self.library = Some(Arc::new(library));
                let resume_now = unfinished.as_ref().filter(|_| resume).map(|u| u.run);
                self.ui.send(UiEvent::LibraryOpened {
                    path,
                    results,
                    unfinished: unfinished.filter(|_| !resume),
                    took: started.elapsed(),
                });
                match resume_now {
                    Some(run) => self.handle(EngineCommand::ResumeUnfinished(run)),
                    None if resume => self.ui.send(UiEvent::Info(
                        "Nothing to resume: no batch stopped early".into(),
                    )),
                    None => {}
                }
            }
            Err(e) => self.ui.send(UiEvent::LibraryUnavailable(format!(
                "{e}; answers are not kept this time"
            ))),
        }
    }

    /// Runs a library update, telling the user when it fails.
    fn in_library<T>(
        &self,
        what: &str,
        update: impl FnOnce(&Library) -> Result<T, crate::library::LibraryError>,
    ) -> Option<T> {
        let library = self.library.as_ref()?;
        match update(library) {
            Ok(value) => Some(value),
            Err(e) => {
                self.ui.send(UiEvent::TaskFailed(format!("{what}: {e}")));
                None
            }
        }
    }

    fn handle(&mut self, command: EngineCommand) {
        match command {
            EngineCommand::Add(paths) => self.add(paths),
            EngineCommand::Pause | EngineCommand::Resume => {
                if let Some(batch) = &self.batch {
                    batch
                        .handle
                        .control()
                        .set_paused(matches!(command, EngineCommand::Pause));
                }
            }
            EngineCommand::Cancel => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                if self.listings > 0 {
                    self.listings = 0;
                    self.hold_batch();
                    // Ends the "Scanning…" line of the listings stopped here.
                    self.ui.send(UiEvent::Engine(EngineEvent::Listed {
                        total: 0,
                        skipped: Vec::new(),
                    }));
                }
                for path in std::mem::take(&mut self.waiting) {
                    self.release(&path);
                }
                self.roots.clear();
                if let Some(batch) = &self.batch {
                    batch.handle.cancel();
                }
            }
            EngineCommand::Apply(update) => {
                let (settings, remote) = *update;
                if self.batch.is_some() {
                    self.pending_settings = Some((settings, remote));
                } else {
                    self.apply(settings, remote);
                }
            }
            EngineCommand::Diagnose => {
                let (settings, ui) = (self.settings.clone(), self.ui.clone());
                let spawned = std::thread::Builder::new()
                    .name("genderlens-diagnose".into())
                    .spawn(move || {
                        let report = crate::runtime::diagnosis::diagnose(&settings);
                        ui.send(UiEvent::Diagnosis(Box::new(report)));
                    });
                if let Err(e) = spawned {
                    self.ui.send(UiEvent::TaskFailed(format!(
                        "cannot start the runtime check: {e}"
                    )));
                }
            }
            EngineCommand::Clear => {
                self.in_library("Cannot clear the library", |l| l.clear());
            }
            EngineCommand::Correct { path, face, label } => {
                self.in_library("Cannot keep the correction", |l| {
                    l.correct(&path, face, label)
                });
            }
            EngineCommand::UndoClear => {
                self.in_library("Cannot undo the clear", |l| l.undo_clear());
            }
            EngineCommand::Reclassify(paths) => {
                // Only between batches (the app offers it then), so that
                // the batch it starts reclassifies exactly these.
                if self.batch.is_none() {
                    self.reclassify_next = true;
                    self.queue(
                        paths.into_iter().map(InputItem::Photo).collect(),
                        Vec::new(),
                    );
                }
            }
            EngineCommand::ResumeUnfinished(run) => {
                if let Some(inputs) =
                    self.in_library("Cannot resume the batch", |l| l.run_inputs(run))
                {
                    self.resuming = Some(run);
                    self.add(inputs);
                }
            }
            EngineCommand::DismissUnfinished(run) => {
                self.in_library("Cannot update the library", |l| {
                    l.set_run_state(run, RunState::Dismissed)
                });
            }
            EngineCommand::Quit { resume_later, done } => {
                if let Some(run) = self.run.filter(|_| self.batch.is_some()) {
                    let state = if resume_later {
                        RunState::Interrupted
                    } else {
                        RunState::Dismissed
                    };
                    self.in_library("Cannot record the stopped batch", |l| l.end_run(run, state));
                }
                if let Some(batch) = &self.batch {
                    batch.handle.cancel();
                }
                let _ = done.send(());
            }
            EngineCommand::Flush(done) => {
                let _ = done.send(());
            }
            EngineCommand::Retry => {
                self.load_failed = false;
                if self.batch.is_none() {
                    self.start_waiting();
                }
            }
        }
    }

    fn apply(&mut self, settings: EngineSettings, remote: Option<RemoteOptions>) {
        self.load_failed = false;
        // Sessions and connections depend on the settings; the next batch makes new ones.
        if settings != self.settings {
            self.settings = settings;
            self.local = None;
            self.remote = None;
        }
        if remote != self.remote_options {
            self.remote_options = remote;
            self.remote = None;
        }
    }

    /// Lists the new paths on a thread of their own; what it finds arrives
    /// at [`Self::take_found`] in chunks.
    fn add(&mut self, paths: Vec<PathBuf>) {
        // Recorded as given (folders whole), before listing them, so a batch
        // stopped mid-listing still resumes everything that was dropped.
        let running = self.batch.as_ref().is_some_and(|b| !b.closed);
        match (&self.library, self.run) {
            (Some(library), Some(run)) if running => {
                if let Err(e) = library.add_inputs(run, &paths) {
                    self.ui.send(UiEvent::TaskFailed(format!(
                        "The library cannot record the added photos for resuming: {e}"
                    )));
                }
            }
            _ => self.roots.extend(paths.iter().cloned()),
        }
        let found = self.found_tx.clone();
        let current = self.generation.clone();
        let generation = current.load(Ordering::SeqCst);
        let follow_symlinks = self.settings.follow_symlinks;
        let spawned = std::thread::Builder::new()
            .name("genderlens-list".into())
            .spawn(move || {
                list_in_chunks(
                    paths,
                    follow_symlinks,
                    |items, skipped, so_far, done| {
                        found
                            .send(Found {
                                generation,
                                items,
                                skipped,
                                so_far,
                                done,
                            })
                            .is_ok()
                    },
                    || current.load(Ordering::SeqCst) != generation,
                );
            });
        match spawned {
            Ok(_) => {
                self.listings += 1;
                self.hold_batch();
            }
            Err(e) => self.ui.send(UiEvent::TaskFailed(format!(
                "cannot start listing the dropped files: {e}"
            ))),
        }
    }

    /// Holds the running batch open while listings still run.
    fn hold_batch(&self) {
        if let Some(batch) = &self.batch {
            batch.handle.control().set_held(self.listings > 0);
        }
    }

    /// Queues what a listing found, unless the user cancelled since.
    fn take_found(&mut self, found: Found) {
        if found.generation != self.generation.load(Ordering::SeqCst) {
            return;
        }
        self.ui.send(UiEvent::Engine(if found.done {
            EngineEvent::Listed {
                total: found.so_far,
                skipped: Vec::new(),
            }
        } else {
            EngineEvent::Scanning {
                found: found.so_far,
            }
        }));
        self.queue(found.items, found.skipped);
        if found.done {
            self.listings = self.listings.saturating_sub(1);
            self.hold_batch();
        }
    }

    /// Drops what was already listed and queues the rest.
    fn queue(&mut self, items: Vec<InputItem>, mut skipped: Vec<Skipped>) {
        let mut fresh = Vec::new();
        for item in items {
            let path = item.path().to_path_buf();
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if self.seen.insert(key.clone()) {
                self.unreported.insert(path.clone(), key);
                fresh.push(path);
            } else {
                skipped.push(Skipped {
                    path,
                    reason: "already queued".into(),
                });
            }
        }
        if !skipped.is_empty() {
            self.ui.send(UiEvent::Skipped(skipped));
        }
        if fresh.is_empty() {
            return;
        }
        match &mut self.batch {
            Some(batch) if !batch.closed => {
                let control = batch.handle.control();
                if !control.add(fresh.clone()) {
                    batch.closed = true;
                    self.waiting.extend(fresh);
                    return;
                }
                if control.is_paused() {
                    // A paused batch lists nothing, so its total cannot say so yet.
                    self.ui.send(UiEvent::Info(paused_addition(fresh.len())));
                }
            }
            Some(_) => self.waiting.extend(fresh),
            None => {
                self.waiting.extend(fresh);
                if !self.load_failed {
                    self.start_waiting();
                }
            }
        }
    }

    fn start_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let ui = self.ui.clone();
        let notify: crate::batch::Notify = Arc::new(move || ui.context().request_repaint());
        let Some(backend) = self.backend() else {
            return;
        };
        self.provenance = backend.provenance();
        let paths = self.begin_run();
        // Held from its first moment while listings still run: set after the
        // start, a batch of one quick photo could run dry and close first.
        let control = Arc::new(crate::batch::BatchControl::default());
        control.set_held(self.listings > 0);
        let setup = crate::batch::Setup {
            control,
            keeper: self.keeper(&paths),
        };
        let handle = backend.start_with(paths, Some(notify), setup);
        self.batch = Some(RunningBatch {
            handle,
            closed: false,
        });
    }

    /// The new batch's record in the library, once the photos cleared
    /// before it are gone for good (Clear is undoable until now).
    fn keeper(&mut self, paths: &[PathBuf]) -> Option<Arc<dyn crate::batch::Keeper>> {
        let reclassify = std::mem::take(&mut self.reclassify_next);
        // What was dropped, or (a re-run) the photos themselves.
        let roots = std::mem::take(&mut self.roots);
        let inputs = if roots.is_empty() { paths } else { &roots };
        let resuming = self.resuming.take();
        let library = self.library.clone()?;
        self.in_library("Cannot tidy the library", |l| l.forget_cleared());
        match RunKeeper::begin(library, inputs, &self.provenance, &self.settings) {
            Ok(keeper) => {
                self.run = Some(keeper.run());
                if let Some(old) = resuming {
                    self.in_library("Cannot update the library", |l| {
                        l.set_run_state(old, RunState::Resumed)
                    });
                }
                Some(Arc::new(if reclassify {
                    keeper.without_reuse()
                } else {
                    keeper
                }))
            }
            Err(e) => {
                self.run = None;
                self.ui.send(UiEvent::TaskFailed(format!(
                    "The library cannot record this batch, so its answers are not kept: {e}"
                )));
                None
            }
        }
    }

    fn begin_run(&mut self) -> Vec<PathBuf> {
        let paths = std::mem::take(&mut self.waiting);
        self.runs += 1;
        self.ui.send(UiEvent::BatchStarting {
            queued: paths.len(),
        });
        paths
    }

    /// The backend the settings ask for, loaded on first use: ONNX Runtime
    /// and the models, or the remote server's client. Connecting is lazy, so
    /// a server that is down shows up as per-photo errors, not here.
    fn backend(&mut self) -> Option<Arc<Backend>> {
        let remote = self.remote_options.is_some();
        let slot = if remote { &self.remote } else { &self.local };
        if let Some(backend) = slot {
            return Some(backend.clone());
        }
        if !remote {
            self.ui.send(UiEvent::EngineLoading(
                "Loading ONNX Runtime and the models…".into(),
            ));
        }
        let ui = self.ui.clone();
        let loaded = Backend::load(self.settings.clone(), self.remote_options.clone(), |line| {
            ui.send(UiEvent::EngineLoading(line.to_string()))
        });
        match loaded {
            Ok(backend) => {
                self.ui.send(UiEvent::EngineReady {
                    runtime: backend.describe(),
                });
                let backend = Arc::new(backend);
                if remote {
                    self.remote = Some(backend.clone());
                } else {
                    self.local = Some(backend.clone());
                }
                Some(backend)
            }
            Err(e) => {
                self.load_failed = true;
                let message = if remote {
                    format!("the remote server's settings are not usable: {e:#}")
                } else {
                    format!("{e:#}")
                };
                self.ui.send(UiEvent::EngineUnavailable(message));
                None
            }
        }
    }

    fn forward(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Image(result) => {
                // Answered: the photo may be added again (and is then
                // answered from the library unless it changed).
                self.release(&result.path);
                self.ui
                    .send(UiEvent::Result(result, self.provenance.clone(), self.runs));
            }
            EngineEvent::SessionReady(_) => {
                self.provenance.observe(&event);
                self.ui.send(UiEvent::Engine(event));
            }
            EngineEvent::Finished(summary) => {
                if let Some(batch) = &mut self.batch {
                    batch.closed = true;
                }
                self.ui
                    .send(UiEvent::Engine(EngineEvent::Finished(summary)));
            }
            other => self.ui.send(UiEvent::Engine(other)),
        }
    }

    /// Forgets a photo that was queued but never classified.
    fn release(&mut self, path: &std::path::Path) {
        if let Some(key) = self.unreported.remove(path) {
            self.seen.remove(&key);
        }
    }

    fn batch_ended(&mut self) {
        self.run = None;
        if let Some(batch) = self.batch.take() {
            let cancelled = batch.handle.is_cancelled();
            let _ = batch.handle.wait();
            if cancelled {
                let dropped: Vec<PathBuf> = self
                    .unreported
                    .keys()
                    .filter(|p| !self.waiting.contains(p))
                    .cloned()
                    .collect();
                for path in dropped {
                    self.release(&path);
                }
            }
        }
        self.ui.send(UiEvent::BatchEnded);
        if let Some((settings, remote)) = self.pending_settings.take() {
            self.apply(settings, remote);
        }
        self.start_waiting();
    }
}

/// What the log says when photos join a paused batch.
fn paused_addition(photos: usize) -> String {
    let noun = if photos == 1 { "photo" } else { "photos" };
    format!("{photos} {noun} added to the paused batch; they are classified when you resume")
}
