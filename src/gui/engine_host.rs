//! The thread that owns the batch engine: it loads ONNX Runtime and the
//! models off the UI thread (or connects to the remote server the user
//! chose), starts batches, appends drops to a running batch, and forwards
//! the engine's events to the UI.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, never, select, unbounded};

use super::events::{UiEvent, UiSender};
use crate::backend::Backend;
use crate::batch::inputs::{InputItem, Lister};
use crate::batch::{BatchHandle, EngineEvent, Skipped};
use crate::export::Provenance;
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
    /// The results were cleared: photos may be added again.
    Forget,
    /// Try again to start the photos that waited for a failed engine.
    Retry,
}

/// The UI's handle on the host thread; dropping it ends the thread and any batch.
pub struct EngineHost {
    commands: Sender<EngineCommand>,
}

impl EngineHost {
    pub fn spawn(settings: EngineSettings, remote: Option<RemoteOptions>, ui: UiSender) -> Self {
        let (commands, rx) = unbounded();
        std::thread::Builder::new()
            .name("genderlens-engine-host".into())
            .spawn(move || Host::new(settings, remote, ui).run(rx))
            .expect("spawning the engine thread");
        Self { commands }
    }

    pub fn send(&self, command: EngineCommand) {
        let _ = self.commands.send(command);
    }
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
    ui: UiSender,
}

/// A chunk of what a background listing found.
struct Found {
    generation: u64,
    items: Vec<InputItem>,
    skipped: Vec<Skipped>,
    /// Photos this listing has found so far.
    so_far: usize,
    done: bool,
}

/// How often a listing hands over what it found (the first photo at once).
const CHUNK_EVERY: Duration = Duration::from_millis(200);
const CHUNK_MAX: usize = 1024;

/// Lists `paths` and hands over what it finds in chunks: the first photo at
/// once, then every [`CHUNK_EVERY`] or [`CHUNK_MAX`] photos, so a huge
/// folder's first photos are classified while the rest is still listed.
/// Stops when `deliver` refuses a chunk or `stop` says so.
fn list_in_chunks(
    paths: Vec<PathBuf>,
    follow_symlinks: bool,
    mut deliver: impl FnMut(Vec<InputItem>, Vec<Skipped>, usize, bool) -> bool,
    stop: impl Fn() -> bool,
) {
    let mut lister = Lister::new(paths, follow_symlinks);
    let mut chunk = Vec::new();
    let mut so_far = 0;
    let mut last_delivery: Option<Instant> = None;
    while !stop() {
        let next = lister.next();
        let done = next.is_none();
        if let Some(item) = next {
            chunk.push(item);
            so_far += 1;
        }
        let due =
            last_delivery.is_none_or(|at| at.elapsed() >= CHUNK_EVERY) || chunk.len() >= CHUNK_MAX;
        if done || (due && !chunk.is_empty()) {
            let items = std::mem::take(&mut chunk);
            if !deliver(items, lister.take_skipped(), so_far, done) || done {
                return;
            }
            last_delivery = Some(Instant::now());
        }
    }
}

impl Host {
    fn new(settings: EngineSettings, remote_options: Option<RemoteOptions>, ui: UiSender) -> Self {
        let (found_tx, found_rx) = unbounded();
        Self {
            found_tx,
            found_rx,
            generation: Arc::new(AtomicU64::new(0)),
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
                for path in std::mem::take(&mut self.waiting) {
                    self.release(&path);
                }
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
            EngineCommand::Forget => {
                self.seen.clear();
                self.unreported.clear();
            }
            EngineCommand::Retry => {
                if self.batch.is_none() {
                    self.start_waiting();
                }
            }
        }
    }

    fn apply(&mut self, settings: EngineSettings, remote: Option<RemoteOptions>) {
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
        if let Err(e) = spawned {
            self.ui.send(UiEvent::TaskFailed(format!(
                "cannot start listing the dropped files: {e}"
            )));
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
                    reason: "already added".into(),
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
                if !batch.handle.control().add(fresh.clone()) {
                    batch.closed = true;
                    self.waiting.extend(fresh);
                }
            }
            Some(_) => self.waiting.extend(fresh),
            None => {
                self.waiting.extend(fresh);
                self.start_waiting();
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
        let handle = backend.start(paths, Some(notify));
        self.batch = Some(RunningBatch {
            handle,
            closed: false,
        });
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
                self.unreported.remove(&result.path);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A dropped folder's first photo is handed over at once, before the
    /// rest is listed: the folder listed last, deleted on the first chunk,
    /// is never found.
    #[test]
    fn a_dropped_folder_is_handed_over_while_it_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        for f in 0..100 {
            let folder = dir.path().join(format!("{f:03}"));
            std::fs::create_dir(&folder).unwrap();
            for n in 0..50 {
                std::fs::write(folder.join(format!("{n:02}.jpg")), b"").unwrap();
            }
        }
        let mut chunks: Vec<(usize, usize, bool)> = Vec::new();
        list_in_chunks(
            vec![dir.path().to_path_buf()],
            false,
            |items, _, so_far, done| {
                if chunks.is_empty() {
                    std::fs::remove_dir_all(dir.path().join("099")).unwrap();
                }
                chunks.push((items.len(), so_far, done));
                true
            },
            || false,
        );
        let (first, _, first_done) = chunks[0];
        assert!(first >= 1 && !first_done, "{chunks:?}");
        let total: usize = chunks.iter().map(|c| c.0).sum();
        // 99 folders of 50 photos, and the folder that vanished as one error.
        assert_eq!(total, 99 * 50 + 1, "{chunks:?}");
        assert_eq!(chunks.last().map(|c| (c.1, c.2)), Some((total, true)));
    }

    #[test]
    fn a_listing_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..10 {
            std::fs::write(dir.path().join(format!("{n}.jpg")), b"").unwrap();
        }
        let delivered = std::cell::Cell::new(0);
        list_in_chunks(
            vec![dir.path().to_path_buf()],
            false,
            |items, _, _, _| {
                delivered.set(delivered.get() + items.len());
                true
            },
            || delivered.get() > 0,
        );
        assert_eq!(
            delivered.get(),
            1,
            "only the first photo, handed over at once"
        );
    }
}
