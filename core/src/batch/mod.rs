//! The one batch runner. It owns everything about a batch that does not
//! depend on where photos are classified: listing the inputs, pause, resume,
//! additions and cancel, the tally, progress and the [`Summary`]. The work
//! itself plugs in as [`Stages`]: the local pipeline, or request workers
//! talking to a remote server.

pub mod control;
pub mod feed;
pub mod inputs;
pub mod keeper;
pub mod progress;
pub mod service;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::error::PhotoError;
use crate::postprocess::{ImageResult, Status};
use crate::runtime::SessionReport;
pub use control::BatchControl;
pub use inputs::{InputItem, Skipped};
pub use keeper::{Earlier, Keeper};
pub use progress::Progress;
pub use service::{Service, ServiceError};

#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// Listing a big folder takes a while: `found` photos so far. Their
    /// results may already be coming in.
    Scanning {
        found: usize,
    },
    /// The inputs given at the start are all listed: `total` photos will be
    /// reported. For a big folder this comes after the first results.
    Listed {
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
    /// Something went wrong that costs no photo its answer, but the user
    /// should know (answers are not being kept in the library, say).
    Warning(String),
    /// A model's session is ready, and where it runs.
    SessionReady(SessionReport),
    Image(Box<ImageResult>),
    Progress(Progress),
    Finished(Summary),
    /// The batch could not run at all (e.g. a model failed to load).
    Failed(String),
}

/// How the local face models were fed: batches of faces (each model runs
/// once per batch), faces, and the largest batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchStats {
    pub runs: usize,
    pub chips: usize,
    pub largest_batch: usize,
    pub classify_ms: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub total: usize,
    pub ok: usize,
    pub no_face: usize,
    pub failed: usize,
    pub faces: usize,
    pub skipped: usize,
    /// Photos unchanged since they were last classified the same way:
    /// their kept answers were reported instead (counted in `ok`,
    /// `no_face` and `failed` too).
    pub reused: usize,
    /// Photos classified again because the settings or models changed.
    pub settings_changed: usize,
    pub cancelled: bool,
    pub elapsed: Duration,
    pub batches: BatchStats,
}

/// Called after every event, e.g. to ask the GUI for a repaint.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// One photo handed to the stages, tagged with its input position.
pub struct Job {
    pub index: usize,
    pub path: PathBuf,
    pub payload: Payload,
    /// Set once whoever asked for this photo has stopped waiting (a server
    /// request that timed out): the stages skip it instead of working for nobody.
    pub abandoned: Option<Arc<AtomicBool>>,
}

impl Job {
    pub fn is_abandoned(&self) -> bool {
        self.abandoned
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// The jobs a stage worker should still do: every job until `jobs` closes,
/// less those that arrive after a cancel or whose caller gave up.
pub fn wanted_jobs<'a>(
    jobs: &'a Receiver<Job>,
    control: &'a BatchControl,
) -> impl Iterator<Item = Job> + 'a {
    jobs.iter()
        .filter(move |job| !control.is_cancelled() && !job.is_abandoned())
}

/// What the stages read for a photo.
pub enum Payload {
    /// The file at the job's path.
    File,
    /// An image already in memory (an upload); the path is only its name.
    Bytes(Vec<u8>),
    /// An input already known to be unusable (a missing path, say): the
    /// stages report it as this failure.
    Failed(PhotoError),
}

/// The work between the input feed and the results.
pub trait Stages: Send + 'static {
    /// Takes jobs until `jobs` closes and sends one result per job to
    /// `results` (jobs arriving after a cancel, or abandoned, may be dropped). `Err` means
    /// the batch cannot run at all; the stages must then drop `jobs` so the
    /// feed stops.
    fn run(
        self: Box<Self>,
        jobs: Receiver<Job>,
        results: Sender<ImageResult>,
        context: StageContext,
    ) -> Result<BatchStats, String>;
}

/// What the stages may use of the batch they run in.
#[derive(Clone)]
pub struct StageContext {
    pub emitter: Emitter,
    pub control: Arc<BatchControl>,
}

/// Sends the batch's events, asking for a repaint after each.
#[derive(Clone)]
pub struct Emitter {
    tx: Sender<EngineEvent>,
    notify: Option<Notify>,
}

impl Emitter {
    pub fn send(&self, event: EngineEvent) {
        // A closed channel means nobody listens any more; the batch winds down on its own.
        let _ = self.tx.send(event);
        if let Some(notify) = &self.notify {
            notify();
        }
    }
}

/// Where a batch's photos come from.
pub enum Source {
    /// Files and folders, listed up front (more may be added while it runs);
    /// links out of a folder are followed only when `follow_symlinks`.
    Paths {
        paths: Vec<PathBuf>,
        follow_symlinks: bool,
    },
    /// Jobs arriving until the sender is dropped (a server); each carries its index.
    Stream(Receiver<Job>),
}

/// A running batch: its events, and a way to stop it. Dropping the handle
/// before the batch ends cancels it, so no thread is left waiting.
pub struct BatchHandle {
    events: Receiver<EngineEvent>,
    control: Arc<BatchControl>,
    coordinator: Option<JoinHandle<()>>,
}

impl BatchHandle {
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

    /// Runs the batch to its end and returns the results in input order.
    ///
    /// (See also [`Drop`]: a handle let go early cancels its batch.)
    pub fn collect(self) -> Result<(Vec<ImageResult>, Summary), String> {
        let mut results = Vec::new();
        let mut summary = None;
        for event in self.wait() {
            match event {
                EngineEvent::Image(result) => results.push(*result),
                EngineEvent::Finished(s) => summary = Some(s),
                EngineEvent::Failed(message) => return Err(message),
                _ => {}
            }
        }
        results.sort_by_key(|r| r.index);
        let summary = summary.ok_or("the batch ended without a summary")?;
        Ok((results, summary))
    }
}

impl Drop for BatchHandle {
    fn drop(&mut self) {
        // `wait` takes the coordinator; a handle still holding it is let go early.
        if self.coordinator.is_some() {
            self.control.cancel();
        }
    }
}

/// How a batch is started, beyond what it classifies.
#[derive(Clone, Default)]
pub struct Setup {
    /// A control made beforehand (one already paused, say, so that not a
    /// single photo starts before the owner resumes it).
    pub control: Arc<BatchControl>,
    /// Where answers are kept and earlier ones found; none for a one-off run.
    pub keeper: Option<Arc<dyn Keeper>>,
}

impl Setup {
    pub fn with_control(control: Arc<BatchControl>) -> Self {
        Self {
            control,
            keeper: None,
        }
    }
}

/// Starts a batch of `source` through `stages` in the background.
pub fn start(source: Source, stages: Box<dyn Stages>, notify: Option<Notify>) -> BatchHandle {
    start_with(source, stages, notify, Setup::default())
}

/// Like [`start`], set up beforehand.
pub fn start_with(
    source: Source,
    stages: Box<dyn Stages>,
    notify: Option<Notify>,
    setup: Setup,
) -> BatchHandle {
    let (tx, events) = bounded(256);
    let control = setup.control;
    let context = StageContext {
        emitter: Emitter { tx, notify },
        control: control.clone(),
    };
    let keeper = setup.keeper;
    let coordinator = spawn("genderlens-batch".into(), move || {
        run(source, stages, context, keeper);
    });
    BatchHandle {
        events,
        control,
        coordinator: Some(coordinator),
    }
}

/// How far a batch has got; the one place results are counted.
struct Tally {
    tracker: progress::ProgressTracker,
    no_face: usize,
    reused: usize,
}

impl Tally {
    fn count(&mut self, result: &ImageResult, control: &BatchControl) -> Progress {
        let total = control.total();
        let tracker = &mut self.tracker;
        tracker.total = total;
        tracker.done += 1;
        tracker.faces += result.faces.len();
        if result.reused {
            self.reused += 1;
        }
        match result.status {
            Status::Error => tracker.failed += 1,
            Status::NoFace => self.no_face += 1,
            Status::Ok => {}
        }
        tracker.snapshot(Some(result.path.clone()), control.paused_for())
    }

    fn summary(&self, control: &BatchControl, fed: FeedCounts, batches: BatchStats) -> Summary {
        let tracker = &self.tracker;
        Summary {
            total: control.total(),
            ok: tracker.done - tracker.failed - self.no_face,
            no_face: self.no_face,
            failed: tracker.failed,
            faces: tracker.faces,
            skipped: fed.skipped,
            reused: self.reused,
            settings_changed: fed.settings_changed,
            cancelled: control.is_cancelled(),
            elapsed: tracker.elapsed(),
            batches,
        }
    }
}

/// What the feed counted on its way.
#[derive(Debug, Default, Clone, Copy)]
struct FeedCounts {
    /// Paths skipped as not images.
    skipped: usize,
    /// Photos classified again because the settings changed.
    settings_changed: usize,
}

fn run(
    source: Source,
    stages: Box<dyn Stages>,
    context: StageContext,
    keeper: Option<Arc<dyn Keeper>>,
) {
    let StageContext { emitter, control } = context.clone();
    let (jobs_tx, jobs_rx) = bounded::<Job>(16);
    let (results_tx, results_rx) = bounded::<ImageResult>(64);

    let feeder = match source {
        Source::Paths {
            paths,
            follow_symlinks,
        } => {
            let (found_tx, found_rx) = crossbeam_channel::unbounded();
            let listing = spawn("genderlens-list".into(), {
                let (control, emitter) = (control.clone(), emitter.clone());
                let stop = control.clone();
                let lister = inputs::Lister::new(paths, follow_symlinks)
                    .stop_when(move || stop.is_cancelled());
                move || feed::list_in_background(lister, found_tx, &control, &emitter)
            });
            let (control, emitter) = (control.clone(), emitter.clone());
            let earlier = EarlierAnswers {
                keeper: keeper.clone(),
                results: results_tx.clone(),
            };
            spawn("genderlens-feed".into(), move || {
                feed_paths(
                    feed::Feed::new(found_rx, listing),
                    &jobs_tx,
                    &earlier,
                    &control,
                    &emitter,
                )
            })
        }
        Source::Stream(incoming) => {
            emitter.send(EngineEvent::Listed {
                total: 0,
                skipped: Vec::new(),
            });
            let control = control.clone();
            spawn("genderlens-feed".into(), move || {
                feed_stream(&incoming, &jobs_tx, &control);
                FeedCounts::default()
            })
        }
    };
    let worker = spawn("genderlens-stages".into(), {
        let results_tx = results_tx.clone();
        move || stages.run(jobs_rx, results_tx, context)
    });
    drop(results_tx);

    let mut tally = Tally {
        tracker: progress::ProgressTracker::new(control.total()),
        no_face: 0,
        reused: 0,
    };
    let mut keeping_failed = false;
    for mut result in results_rx.iter() {
        // Photos in flight when the batch was cancelled go unreported.
        if control.is_cancelled() {
            continue;
        }
        if let Some(keeper) = keeper.as_ref().filter(|_| !result.reused)
            && let Err(problem) = keeper.keep(&mut result)
            && !std::mem::replace(&mut keeping_failed, true)
        {
            emitter.send(EngineEvent::Warning(format!(
                "Answers are not being saved to the library: {problem}"
            )));
        }
        let progress = tally.count(&result, &control);
        emitter.send(EngineEvent::Image(Box::new(result)));
        emitter.send(EngineEvent::Progress(progress));
    }
    let fed = feeder.join().unwrap_or_default();
    let outcome = worker
        .join()
        .unwrap_or_else(|_| Err("the batch's workers stopped unexpectedly".into()));
    crate::memory::release_freed();
    emitter.send(match outcome {
        Ok(batches) => {
            let summary = tally.summary(&control, fed, batches);
            if let Some(Err(problem)) = keeper.as_ref().map(|k| k.finish(&summary)) {
                emitter.send(EngineEvent::Warning(format!(
                    "The library could not record how the batch ended: {problem}"
                )));
            }
            EngineEvent::Finished(summary)
        }
        Err(message) => EngineEvent::Failed(message),
    });
}

/// The feed's way to the keeper's earlier answers: an unchanged photo's
/// kept answer goes straight to the results, past the stages.
struct EarlierAnswers {
    keeper: Option<Arc<dyn Keeper>>,
    results: Sender<ImageResult>,
}

impl EarlierAnswers {
    /// True when the photo was answered from the keeper.
    fn answered(&self, index: usize, path: &std::path::Path, counts: &mut FeedCounts) -> bool {
        let Some(keeper) = &self.keeper else {
            return false;
        };
        match keeper.earlier(path, index) {
            Earlier::Unchanged(result) => {
                // A closed channel means the batch is over; nothing to answer.
                let _ = self.results.send(*result);
                true
            }
            Earlier::SettingsChanged => {
                counts.settings_changed += 1;
                false
            }
            Earlier::Nothing => false,
        }
    }
}

/// Hands out the photos as they are listed, then any added while running;
/// photos the keeper already answered go straight to the results.
fn feed_paths(
    mut feed: feed::Feed,
    jobs: &Sender<Job>,
    earlier: &EarlierAnswers,
    control: &BatchControl,
    emitter: &Emitter,
) -> FeedCounts {
    let announce = |event: EngineEvent| emitter.send(event);
    let mut counts = FeedCounts::default();
    while let Some((index, item)) = feed.next(control, &announce) {
        let sent = match item {
            InputItem::Photo(path) if earlier.answered(index, &path, &mut counts) => true,
            InputItem::Photo(path) => jobs
                .send(Job {
                    index,
                    path,
                    payload: Payload::File,
                    abandoned: None,
                })
                .is_ok(),
            // Through the stages like any photo, so its result comes in the
            // same order and under the same provenance as the others.
            InputItem::Unusable { path, reason } => jobs
                .send(Job {
                    index,
                    path,
                    payload: Payload::Failed(PhotoError::input(reason)),
                    abandoned: None,
                })
                .is_ok(),
        };
        if !sent {
            break;
        }
    }
    feed.finish();
    counts.skipped = feed.skipped;
    counts
}

/// Passes jobs on until the stream ends or the batch is cancelled (a model
/// that cannot load cancels it); an idle stream is checked for that often,
/// so the stages can end and report why.
fn feed_stream(incoming: &Receiver<Job>, jobs: &Sender<Job>, control: &BatchControl) {
    const CANCEL_CHECK: Duration = Duration::from_millis(100);
    while !control.is_cancelled() {
        let job = match incoming.recv_timeout(CANCEL_CHECK) {
            Ok(job) => job,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        control.set_total(control.total() + 1);
        if jobs.send(job).is_err() {
            break;
        }
    }
}

pub fn spawn<T: Send + 'static>(
    name: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    std::thread::Builder::new()
        .name(name)
        .spawn(work)
        .expect("spawning a batch thread")
}
