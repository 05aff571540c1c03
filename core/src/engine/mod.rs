//! The local pipeline: loaded models and settings ([`Engine`]), and the
//! stages that run them inside a batch ([`LocalStages`]).
//!
//! Jobs → decode workers → detect workers → one classifier worker that
//! batches chips across photos → results. Every queue is bounded, so memory
//! stays flat however many photos a folder holds.

pub mod bootstrap;
pub mod classify_stage;
pub mod floor;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use crossbeam_channel::{Receiver, Sender, bounded};

use crate::batch::{
    self, BatchHandle, BatchStats, EngineEvent, Job, Notify, Payload, Service, Source,
    StageContext, Stages,
};
use crate::combine::ModelNames;
use crate::error::PhotoError;
use crate::manifest::ModelBundle;
use crate::model::FaceModels;
use crate::postprocess::ImageResult;
use crate::preprocess::decode::DecodeLimits;
use crate::preprocess::detect::{DetectorOptions, FaceDetector};
use crate::preprocess::memory_budget::MemoryBudget;
use crate::preprocess::{self, Aligner, DecodedPhoto, PreparedPhoto};
use crate::runtime::{ModelToLoad, Runtime, SessionReport};
use crate::settings::EngineSettings;
pub use bootstrap::load_engine;

/// Loaded models and settings; starts batches.
#[derive(Clone)]
pub struct Engine {
    runtime: Arc<Runtime>,
    bundle: Arc<ModelBundle>,
    settings: EngineSettings,
    aligner: Arc<Aligner>,
    pool: Arc<SessionPool>,
    /// What decoding may hold at once, across every batch and the server.
    decode_limits: DecodeLimits,
}

/// Sessions kept between batches: building one costs a model load, and on a
/// GPU possibly a TensorRT engine build.
#[derive(Default)]
struct SessionPool {
    detectors: Mutex<Vec<(FaceDetector, SessionReport)>>,
    models: Mutex<Option<(FaceModels, Vec<SessionReport>)>>,
}

impl Engine {
    pub fn new(
        runtime: Arc<Runtime>,
        bundle: Arc<ModelBundle>,
        settings: EngineSettings,
    ) -> Result<Self> {
        settings.validate()?;
        let aligner = Arc::new(Aligner::new(&bundle, settings.model.needs())?);
        let budget = MemoryBudget::new(settings.max_decode_memory_bytes());
        let decode_limits = preprocess::decode_limits(&settings, Some(budget));
        Ok(Self {
            runtime,
            bundle,
            settings,
            aligner,
            pool: Arc::default(),
            decode_limits,
        })
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn bundle(&self) -> &ModelBundle {
        &self.bundle
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Identifies the pooled sessions, so a test can tell a reused session
    /// from a rebuilt one: (detector addresses, face model addresses).
    pub fn pooled_session_ids(&self) -> (Vec<usize>, Vec<usize>) {
        let detectors = lock(&self.pool.detectors)
            .iter()
            .map(|(d, _)| d.session_id())
            .collect();
        let models = lock(&self.pool.models)
            .as_ref()
            .map(|(m, _)| m.session_ids())
            .unwrap_or_default();
        (detectors, models)
    }

    /// Classifies everything under `paths` in the background.
    pub fn start(&self, paths: Vec<PathBuf>, notify: Option<Notify>) -> BatchHandle {
        batch::start(self.source(paths), self.stages(), notify)
    }

    /// Like [`Engine::start`], but paused: nothing is classified until the
    /// handle's control resumes it.
    pub fn start_paused(&self, paths: Vec<PathBuf>, notify: Option<Notify>) -> BatchHandle {
        let control = Arc::new(batch::BatchControl::default());
        control.set_paused(true);
        self.start_with(paths, notify, batch::Setup::with_control(control))
    }

    /// Like [`Engine::start`], set up beforehand: under a control made
    /// already (one held, say, so the batch cannot run dry before its owner
    /// adds more), keeping answers in a library.
    pub fn start_with(
        &self,
        paths: Vec<PathBuf>,
        notify: Option<Notify>,
        setup: batch::Setup,
    ) -> BatchHandle {
        batch::start_with(self.source(paths), self.stages(), notify, setup)
    }

    fn source(&self, paths: Vec<PathBuf>) -> Source {
        Source::Paths {
            paths,
            follow_symlinks: self.settings.follow_symlinks,
        }
    }

    /// The pipeline for a server: images in memory in, one result each out.
    pub fn serve(&self) -> Service {
        Service::start(self.stages())
    }

    /// This engine's pipeline, to plug into a batch.
    pub fn stages(&self) -> Box<dyn Stages> {
        Box::new(LocalStages {
            engine: self.clone(),
        })
    }

    /// Runs a batch to the end on this thread's behalf and returns the results in input order.
    pub fn classify_all(&self, paths: Vec<PathBuf>) -> Result<(Vec<ImageResult>, batch::Summary)> {
        self.start(paths, None)
            .collect()
            .map_err(anyhow::Error::msg)
    }

    /// Takes a pooled detector or builds one. Workers build in turn so a
    /// first-run TensorRT build happens once and the rest load the cached engine.
    fn acquire_detector(
        &self,
        context: &StageContext,
        reported: &Mutex<bool>,
    ) -> Result<(FaceDetector, SessionReport)> {
        let pooled = lock(&self.pool.detectors).pop();
        let mut reported = lock(reported);
        let (detector, report) = match pooled {
            Some(pooled) => pooled,
            None => {
                let model = ModelToLoad::detector(&self.bundle, &self.settings);
                if !*reported && self.runtime.engine_build_pending(&model, &self.settings) {
                    context.emitter.send(EngineEvent::Status(
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
            context
                .emitter
                .send(EngineEvent::SessionReady(report.clone()));
            *reported = true;
        }
        Ok((detector, report))
    }

    /// Takes the pooled face models or loads the ones the settings choose.
    fn acquire_models(&self, context: &StageContext) -> Result<(FaceModels, Vec<SessionReport>)> {
        let (models, reports) = match lock(&self.pool.models).take() {
            Some(pooled) => pooled,
            None => self.load_models(context)?,
        };
        for report in &reports {
            context
                .emitter
                .send(EngineEvent::SessionReady(report.clone()));
        }
        Ok((models, reports))
    }

    fn load_models(&self, context: &StageContext) -> Result<(FaceModels, Vec<SessionReport>)> {
        let mut reports = Vec::new();
        let settings = &self.settings;
        let models = FaceModels::load(&self.bundle, settings, settings.model, |model| {
            if self.runtime.engine_build_pending(&model, settings) {
                context.emitter.send(EngineEvent::Status(format!(
                    "Optimising {} for this GPU (first run only)…",
                    model.name
                )));
            }
            let (session, report) = self.runtime.session(&model, settings)?;
            reports.push(report);
            Ok(session)
        })?;
        Ok((models, reports))
    }

    fn decode(&self, path: &Path, payload: Payload) -> Result<DecodedPhoto, PhotoError> {
        let (manifest, limits) = (&self.bundle.manifest, &self.decode_limits);
        match payload {
            Payload::File => preprocess::decode_photo(path, limits, &self.settings, manifest),
            Payload::Bytes(bytes) => {
                preprocess::decode_photo_bytes(&bytes, limits, &self.settings, manifest)
            }
            Payload::Failed(error) => return Err(error),
        }
        .map_err(|e| PhotoError::input(e.to_string()))
    }
}

/// The decode → detect → classify pipeline of one batch.
pub struct LocalStages {
    engine: Engine,
}

impl Stages for LocalStages {
    fn run(
        self: Box<Self>,
        jobs: Receiver<Job>,
        results: Sender<ImageResult>,
        context: StageContext,
    ) -> Result<BatchStats, String> {
        let engine = self.engine;
        let settings = &engine.settings;
        let (decoded_tx, decoded_rx) = bounded::<Staged<DecodedPhoto>>(settings.detect_workers * 2);
        let (prepared_tx, prepared_rx) = bounded::<Staged<PreparedPhoto>>(64);
        let fatal = Arc::new(Mutex::new(None::<String>));
        let cancel = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();

        for n in 0..settings.decode_workers {
            let (rx, tx) = (jobs.clone(), decoded_tx.clone());
            let (engine, control) = (engine.clone(), context.control.clone());
            workers.push(batch::spawn(format!("genderlens-decode-{n}"), move || {
                for Job {
                    index,
                    path,
                    payload,
                    ..
                } in batch::wanted_jobs(&rx, &control)
                {
                    let outcome = catch_panic(|| engine.decode(&path, payload));
                    if tx.send(Staged::new(index, path, outcome)).is_err() {
                        break;
                    }
                }
            }));
        }
        drop((jobs, decoded_tx));

        let detector_reported = Arc::new(Mutex::new(false));
        for n in 0..settings.detect_workers {
            let (rx, tx) = (decoded_rx.clone(), prepared_tx.clone());
            let (engine, context, reported) =
                (engine.clone(), context.clone(), detector_reported.clone());
            let (fatal, cancel) = (fatal.clone(), cancel.clone());
            workers.push(batch::spawn(format!("genderlens-detect-{n}"), move || {
                let (mut detector, report) = match engine.acquire_detector(&context, &reported) {
                    Ok(pooled) => pooled,
                    Err(e) => {
                        record_fatal(
                            &fatal,
                            &cancel,
                            &context,
                            format!("the face detector could not start: {e:#}"),
                        );
                        return;
                    }
                };
                for staged in rx.iter() {
                    if cancel.load(Ordering::SeqCst) || context.control.is_cancelled() {
                        continue;
                    }
                    let staged = staged.then(|photo| {
                        catch_panic(|| {
                            preprocess::detect_and_align(&mut detector, photo, &engine.aligner)
                                .map_err(|e| PhotoError::internal(format!("{e:#}")))
                        })
                    });
                    if tx.send(staged).is_err() {
                        break;
                    }
                }
                lock(&engine.pool.detectors).push((detector, report));
            }));
        }
        drop((decoded_rx, prepared_tx));

        let stats = match engine.acquire_models(&context) {
            Ok((mut models, reports)) => {
                let stage = classify_stage::ClassifyStage {
                    max_batch: settings.max_batch,
                    linger: Duration::from_millis(40),
                    uncertain_below: settings.uncertain_below,
                    names: ModelNames::from_manifest(&engine.bundle.manifest),
                };
                let stats = stage.run(&mut models, &prepared_rx, &context.control, |result| {
                    let _ = results.send(result);
                });
                *lock(&engine.pool.models) = Some((models, reports));
                Some(stats)
            }
            Err(e) => {
                record_fatal(
                    &fatal,
                    &cancel,
                    &context,
                    format!("the classifier could not start: {e:#}"),
                );
                None
            }
        };
        // Draining stops the detect workers; they then return their sessions.
        drop(prepared_rx);
        for worker in workers {
            let _ = worker.join();
        }
        match lock(&fatal).take() {
            Some(message) => Err(message),
            None => Ok(stats.unwrap_or_default()),
        }
    }
}

/// One photo moving between stages; `Err` carries the failure for its result.
pub struct Staged<T> {
    pub index: usize,
    pub path: PathBuf,
    pub outcome: Result<T, PhotoError>,
}

impl<T> Staged<T> {
    fn new(index: usize, path: PathBuf, outcome: Result<T, PhotoError>) -> Self {
        Self {
            index,
            path,
            outcome,
        }
    }

    /// The next stage's work on this photo, unless an earlier stage failed it.
    fn then<O>(self, work: impl FnOnce(T) -> Result<O, PhotoError>) -> Staged<O> {
        Staged::new(self.index, self.path, self.outcome.and_then(work))
    }
}

/// A worker that panicked while holding a lock left only plain data behind.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A model that cannot load ends the batch: the feed stops and the batch
/// reports `Failed` instead of a summary.
fn record_fatal(
    slot: &Mutex<Option<String>>,
    cancel: &AtomicBool,
    context: &StageContext,
    message: String,
) {
    lock(slot).get_or_insert(message);
    cancel.store(true, Ordering::SeqCst);
    context.control.cancel();
}

/// A decoder or runtime bug triggered by one file must cost only that file.
fn catch_panic<T>(work: impl FnOnce() -> Result<T, PhotoError>) -> Result<T, PhotoError> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        Err(PhotoError::internal(format!(
            "internal error while processing this file: {detail}"
        )))
    })
}
