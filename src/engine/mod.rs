//! The batch engine shared by the CLI and the desktop app.
//!
//! Inputs → decode workers → detect workers → one classifier worker that
//! batches chips across photos → events. Every queue is bounded, so memory
//! stays flat however many photos a folder holds.

pub mod classify_stage;
pub mod control;
pub mod feed;
pub mod inputs;
pub mod progress;
pub mod service;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Result;
use crossbeam_channel::{Receiver, Sender, bounded};

use crate::manifest::ModelBundle;
use crate::model::GenderClassifier;
use crate::postprocess::ImageResult;
use crate::preprocess::detect::{DetectorOptions, FaceDetector};
use crate::preprocess::{self, Aligner, DecodedPhoto, PreparedPhoto};
use crate::runtime::{ModelToLoad, Runtime, SessionReport};
use crate::settings::EngineSettings;
pub use classify_stage::BatchStats;
pub use control::BatchControl;
pub use inputs::{InputItem, Skipped};
pub use progress::Progress;
pub use service::Service;

#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// The inputs are listed; `total` photos will be reported.
    Started {
        total: usize,
        skipped: Vec<Skipped>,
    },
    /// Photos added to the running batch; `total` is the new total.
    Added {
        total: usize,
        skipped: Vec<Skipped>,
    },
    /// Something worth showing while nothing else moves (e.g. a TensorRT build).
    Status(String),
    /// A model's session is ready, and where it runs.
    SessionReady(SessionReport),
    Image(Box<ImageResult>),
    Progress(Progress),
    Finished(Summary),
    /// The batch could not run at all (e.g. a model failed to load).
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub no_face: usize,
    pub failed: usize,
    pub faces: usize,
    pub skipped: usize,
    pub cancelled: bool,
    pub elapsed: Duration,
    pub batches: BatchStats,
}

/// Loaded models and settings; starts batches.
#[derive(Clone)]
pub struct Engine {
    runtime: Arc<Runtime>,
    bundle: Arc<ModelBundle>,
    settings: EngineSettings,
    aligner: Arc<Aligner>,
    pool: Arc<SessionPool>,
}

/// Sessions kept between batches: building one costs a model load, and on a
/// GPU possibly a TensorRT engine build.
#[derive(Default)]
struct SessionPool {
    detectors: Mutex<Vec<(FaceDetector, SessionReport)>>,
    classifier: Mutex<Option<(GenderClassifier, SessionReport)>>,
}

/// A running batch: its events, and a way to stop it.
pub struct BatchHandle {
    events: Receiver<EngineEvent>,
    control: Arc<BatchControl>,
    coordinator: Option<JoinHandle<()>>,
}

impl BatchHandle {
    /// A batch run by another backend (a remote server) that reports the same events.
    pub(crate) fn new(
        events: Receiver<EngineEvent>,
        control: Arc<BatchControl>,
        coordinator: JoinHandle<()>,
    ) -> Self {
        Self {
            events,
            control,
            coordinator: Some(coordinator),
        }
    }

    pub fn events(&self) -> &Receiver<EngineEvent> {
        &self.events
    }

    /// Stops feeding new photos; photos already in flight are dropped unreported.
    pub fn cancel(&self) {
        self.control.cancel();
    }

    /// A cancel action that can be moved to another thread (a signal handler, a button).
    pub fn canceller(&self) -> impl Fn() + Send + Sync + 'static {
        let control = self.control.clone();
        move || control.cancel()
    }

    pub fn is_cancelled(&self) -> bool {
        self.control.is_cancelled()
    }

    /// Pause, resume and additions, shareable with other threads.
    pub fn control(&self) -> &Arc<BatchControl> {
        &self.control
    }

    /// Collects every event until the batch ends.
    pub fn wait(mut self) -> Vec<EngineEvent> {
        let events: Vec<EngineEvent> = self.events.iter().collect();
        if let Some(handle) = self.coordinator.take() {
            let _ = handle.join();
        }
        events
    }
}

/// Called after every event, e.g. to ask the GUI for a repaint.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

impl Engine {
    pub fn new(
        runtime: Arc<Runtime>,
        bundle: Arc<ModelBundle>,
        settings: EngineSettings,
    ) -> Result<Self> {
        settings.validate().map_err(anyhow::Error::msg)?;
        let aligner = Arc::new(Aligner::new(&bundle)?);
        Ok(Self {
            runtime,
            bundle,
            settings,
            aligner,
            pool: Arc::default(),
        })
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn bundle(&self) -> &ModelBundle {
        &self.bundle
    }

    /// Idle sessions kept for the next batch: (detectors, classifier present).
    pub fn pooled_sessions(&self) -> (usize, bool) {
        (
            lock(&self.pool.detectors).len(),
            lock(&self.pool.classifier).is_some(),
        )
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Classifies everything under `paths` in the background.
    pub fn start(&self, paths: Vec<PathBuf>, notify: Option<Notify>) -> BatchHandle {
        let (events_tx, events) = bounded(256);
        let control = Arc::new(BatchControl::default());
        let engine = self.clone();
        let emitter = Emitter {
            tx: events_tx,
            notify,
        };
        let batch_control = control.clone();
        let coordinator = std::thread::Builder::new()
            .name("genderlens-batch".into())
            .spawn(move || engine.run_batch(Source::Paths(paths), emitter, batch_control))
            .expect("spawning the batch thread");
        BatchHandle {
            events,
            control,
            coordinator: Some(coordinator),
        }
    }

    /// Runs a batch to the end on this thread's behalf and returns the results in input order.
    pub fn classify_all(&self, paths: Vec<PathBuf>) -> Result<(Vec<ImageResult>, Summary)> {
        let mut results = Vec::new();
        let mut summary = None;
        for event in self.start(paths, None).wait() {
            match event {
                EngineEvent::Image(result) => results.push(*result),
                EngineEvent::Finished(s) => summary = Some(s),
                EngineEvent::Failed(message) => anyhow::bail!(message),
                _ => {}
            }
        }
        results.sort_by_key(|r| r.index);
        let summary =
            summary.ok_or_else(|| anyhow::anyhow!("the batch ended without a summary"))?;
        Ok((results, summary))
    }

    fn detector_model(&self) -> ModelToLoad<'_> {
        ModelToLoad::detector(&self.bundle, &self.settings)
    }

    fn classifier_model(&self) -> ModelToLoad<'_> {
        ModelToLoad::classifier(&self.bundle, &self.settings)
    }

    /// Takes a pooled detector or builds one. Workers build in turn so a
    /// first-run TensorRT build happens once and the rest load the cached engine.
    fn acquire_detector(
        &self,
        emitter: &Emitter,
        reported: &Mutex<bool>,
    ) -> Result<(FaceDetector, SessionReport)> {
        let pooled = lock(&self.pool.detectors).pop();
        let mut reported = lock(reported);
        let (detector, report) = match pooled {
            Some(pooled) => pooled,
            None => {
                let model = self.detector_model();
                if !*reported && self.runtime.engine_build_pending(&model, &self.settings) {
                    emitter.send(EngineEvent::Status(
                        "Optimising the face detector for this GPU (first run only)…".into(),
                    ));
                }
                let (session, report) = self.runtime.session(&model, &self.settings)?;
                let detector = FaceDetector::new(
                    session,
                    self.bundle.manifest.detector.clone(),
                    DetectorOptions {
                        threshold: self.settings.detection_threshold,
                        min_face_px: self.settings.min_face_px,
                    },
                );
                (detector, report)
            }
        };
        if !*reported {
            emitter.send(EngineEvent::SessionReady(report.clone()));
            *reported = true;
        }
        Ok((detector, report))
    }

    fn acquire_classifier(&self, emitter: &Emitter) -> Result<(GenderClassifier, SessionReport)> {
        let (classifier, report) = match lock(&self.pool.classifier).take() {
            Some(pooled) => pooled,
            None => {
                let model = self.classifier_model();
                if self.runtime.engine_build_pending(&model, &self.settings) {
                    emitter.send(EngineEvent::Status(
                        "Optimising the classifier for this GPU (first run only)…".into(),
                    ));
                }
                let (session, report) = self.runtime.session(&model, &self.settings)?;
                let classifier =
                    GenderClassifier::new(session, self.bundle.manifest.classifier.clone());
                (classifier, report)
            }
        };
        emitter.send(EngineEvent::SessionReady(report.clone()));
        Ok((classifier, report))
    }

    fn run_batch(self, source: Source, emitter: Emitter, control: Arc<BatchControl>) {
        let skipped = Arc::new(AtomicUsize::new(0));
        let source = match source {
            Source::Paths(paths) => {
                let mut list = inputs::collect_inputs(&paths);
                control.total.store(list.items.len(), Ordering::SeqCst);
                skipped.store(list.skipped.len(), Ordering::SeqCst);
                emitter.send(EngineEvent::Started {
                    total: list.items.len(),
                    skipped: std::mem::take(&mut list.skipped),
                });
                Listed::Paths(list)
            }
            Source::Service(jobs) => {
                emitter.send(EngineEvent::Started {
                    total: 0,
                    skipped: Vec::new(),
                });
                Listed::Service(jobs)
            }
        };
        let cancel = &control.cancel;

        let decode_workers = self.settings.decode_workers;
        let detect_workers = self.settings.detect_workers;
        let (job_tx, job_rx) = bounded::<Staged<Payload>>(decode_workers * 2);
        let (decoded_tx, decoded_rx) = bounded::<Staged<DecodedPhoto>>(detect_workers * 2);
        let (prepared_tx, prepared_rx) = bounded::<Staged<PreparedPhoto>>(64);
        let fatal = Arc::new(Mutex::new(None::<String>));
        let mut workers = Vec::new();

        for n in 0..decode_workers {
            let (rx, tx, control) = (job_rx.clone(), decoded_tx.clone(), control.clone());
            let engine = self.clone();
            workers.push(spawn(format!("genderlens-decode-{n}"), move || {
                run_stage(&rx, &tx, &control.cancel, |path, payload| {
                    let manifest = &engine.bundle.manifest;
                    match payload {
                        Payload::File => preprocess::decode_photo(path, &engine.settings, manifest),
                        Payload::Bytes(bytes) => {
                            preprocess::decode_photo_bytes(&bytes, &engine.settings, manifest)
                        }
                    }
                    .map_err(|e| e.to_string())
                });
            }));
        }
        drop(decoded_tx);

        let detector_reported = Arc::new(Mutex::new(false));
        for n in 0..detect_workers {
            let (rx, tx, control) = (decoded_rx.clone(), prepared_tx.clone(), control.clone());
            let (engine, emitter, reported, fatal) = (
                self.clone(),
                emitter.clone(),
                detector_reported.clone(),
                fatal.clone(),
            );
            workers.push(spawn(format!("genderlens-detect-{n}"), move || {
                let (mut detector, report) = match engine.acquire_detector(&emitter, &reported) {
                    Ok(pooled) => pooled,
                    Err(e) => {
                        record_fatal(
                            &fatal,
                            &control.cancel,
                            format!("the face detector could not start: {e:#}"),
                        );
                        return;
                    }
                };
                run_stage(&rx, &tx, &control.cancel, |_, photo| {
                    preprocess::detect_and_align(&mut detector, photo, &engine.aligner)
                        .map_err(|e| format!("{e:#}"))
                });
                lock(&engine.pool.detectors).push((detector, report));
            }));
        }
        drop(decoded_rx);

        // Unusable inputs skip the pipeline but are reported in the same stream.
        let feeder = {
            let (control, prepared_tx) = (control.clone(), prepared_tx.clone());
            let (emitter, skipped) = (emitter.clone(), skipped.clone());
            spawn("genderlens-feed".into(), move || match source {
                Listed::Paths(list) => {
                    feed_paths(list, &job_tx, &prepared_tx, &control, &emitter, &skipped)
                }
                Listed::Service(jobs) => feed_service(&jobs, &job_tx, &control),
            })
        };
        drop(prepared_tx);

        let summary = match self.acquire_classifier(&emitter) {
            Ok((mut classifier, report)) => {
                let stage = classify_stage::ClassifyStage {
                    max_batch: self.settings.max_batch,
                    linger: Duration::from_millis(40),
                    uncertain_below: self.settings.uncertain_below,
                };
                let mut tracker =
                    progress::ProgressTracker::new(control.total.load(Ordering::SeqCst));
                let batches = stage.run(&mut classifier, &prepared_rx, cancel, |result| {
                    tracker.total = control.total.load(Ordering::SeqCst);
                    tracker.done += 1;
                    tracker.faces += result.faces.len();
                    if result.status == crate::postprocess::Status::Error {
                        tracker.failed += 1;
                    }
                    let progress = tracker.snapshot(Some(result.path.clone()));
                    emitter.send(EngineEvent::Image(Box::new(result)));
                    emitter.send(EngineEvent::Progress(progress));
                });
                *lock(&self.pool.classifier) = Some((classifier, report));
                Some((batches, tracker))
            }
            Err(e) => {
                record_fatal(
                    &fatal,
                    cancel,
                    format!("the classifier could not start: {e:#}"),
                );
                None
            }
        };
        drop(prepared_rx);
        let _ = feeder.join();
        for worker in workers {
            let _ = worker.join();
        }

        let fatal = lock(&fatal).take();
        if let Some(message) = fatal {
            emitter.send(EngineEvent::Failed(message));
            return;
        }
        if let Some((batches, tracker)) = summary {
            emitter.send(EngineEvent::Finished(Summary {
                total: control.total.load(Ordering::SeqCst),
                ok: tracker.done - tracker.failed - batches.no_face,
                no_face: batches.no_face,
                failed: tracker.failed,
                faces: tracker.faces,
                skipped: skipped.load(Ordering::SeqCst),
                cancelled: control.is_cancelled(),
                elapsed: tracker.elapsed(),
                batches,
            }));
        }
    }
}

/// Where a batch's photos come from.
enum Source {
    /// Files and folders, listed up front (more may be added while it runs).
    Paths(Vec<PathBuf>),
    /// Images in memory, arriving until the sender is dropped (a server).
    Service(Receiver<service::Job>),
}

enum Listed {
    Paths(inputs::InputList),
    Service(Receiver<service::Job>),
}

/// What the decode stage reads.
enum Payload {
    File,
    Bytes(Vec<u8>),
}

fn feed_paths(
    list: inputs::InputList,
    job_tx: &Sender<Staged<Payload>>,
    prepared_tx: &Sender<Staged<PreparedPhoto>>,
    control: &BatchControl,
    emitter: &Emitter,
    skipped: &AtomicUsize,
) {
    let mut feed = feed::Feed::new(list);
    let announce = |event: EngineEvent| {
        if let EngineEvent::Added { skipped: s, .. } = &event {
            skipped.fetch_add(s.len(), Ordering::SeqCst);
        }
        emitter.send(event);
    };
    while let Some((index, item)) = feed.next(control, &announce) {
        let sent = match item {
            InputItem::Photo(path) => job_tx
                .send(Staged {
                    index,
                    path,
                    outcome: Ok(Payload::File),
                })
                .is_ok(),
            InputItem::Unusable { path, reason } => prepared_tx
                .send(Staged {
                    index,
                    path,
                    outcome: Err(reason),
                })
                .is_ok(),
        };
        if !sent {
            break;
        }
    }
}

fn feed_service(
    jobs: &Receiver<service::Job>,
    job_tx: &Sender<Staged<Payload>>,
    control: &BatchControl,
) {
    for job in jobs.iter() {
        if control.is_cancelled() {
            break;
        }
        control.total.fetch_add(1, Ordering::SeqCst);
        let staged = Staged {
            index: job.index,
            path: job.name,
            outcome: Ok(Payload::Bytes(job.bytes)),
        };
        if job_tx.send(staged).is_err() {
            break;
        }
    }
}

/// One photo moving between stages; `Err` carries the message for its result.
pub struct Staged<T> {
    pub index: usize,
    pub path: PathBuf,
    pub outcome: Result<T, String>,
}

#[derive(Clone)]
struct Emitter {
    tx: Sender<EngineEvent>,
    notify: Option<Notify>,
}

impl Emitter {
    fn send(&self, event: EngineEvent) {
        // A closed channel means nobody listens any more; the batch winds down on its own.
        let _ = self.tx.send(event);
        if let Some(notify) = &self.notify {
            notify();
        }
    }
}

fn spawn(name: String, work: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name)
        .spawn(work)
        .expect("spawning a worker thread")
}

/// Moves photos from one stage's queue to the next, applying `work` to each;
/// ends when either queue closes, and drops photos once the batch is cancelled.
fn run_stage<I, O>(
    rx: &Receiver<Staged<I>>,
    tx: &Sender<Staged<O>>,
    cancel: &AtomicBool,
    mut work: impl FnMut(&std::path::Path, I) -> Result<O, String>,
) {
    for Staged {
        index,
        path,
        outcome,
    } in rx.iter()
    {
        if cancel.load(Ordering::SeqCst) {
            continue;
        }
        let outcome = outcome.and_then(|input| catch_panic(|| work(&path, input)));
        if tx
            .send(Staged {
                index,
                path,
                outcome,
            })
            .is_err()
        {
            break;
        }
    }
}

/// A worker that panicked while holding a lock left only plain data behind.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn record_fatal(slot: &Mutex<Option<String>>, cancel: &AtomicBool, message: String) {
    lock(slot).get_or_insert(message);
    cancel.store(true, Ordering::SeqCst);
}

/// A decoder bug triggered by one file must cost only that file.
fn catch_panic<T>(work: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(format!(
            "internal error while processing this file: {detail}"
        ))
    })
}
