//! A batch that never runs dry: images in memory go in, each caller gets its
//! own result back. The gateway uses it so concurrent uploads share the
//! detector workers and are classified together in one classifier run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded};

use super::{EngineEvent, Job, Payload, Source, Stages};
use crate::postprocess::ImageResult;
use crate::runtime::SessionReport;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ServiceError {
    /// The models could not start; every request gets this until restart.
    #[error("the classifier is not available: {0}")]
    Unavailable(String),
    #[error("no result within {0:?}")]
    Timeout(Duration),
    #[error("the classifier has stopped")]
    Stopped,
}

#[derive(Default)]
struct Shared {
    waiting: HashMap<usize, Sender<Result<ImageResult, ServiceError>>>,
    /// Photos the pipeline classified, whether or not anyone still waited.
    classified: usize,
    sessions: Vec<SessionReport>,
    failure: Option<String>,
}

pub struct Service {
    jobs: Option<Sender<Job>>,
    shared: Arc<Mutex<Shared>>,
    next: AtomicUsize,
    router: Option<JoinHandle<()>>,
}

impl Service {
    /// Starts `stages` as a server's pipeline. Sessions load in the
    /// background; a model that cannot load makes every request fail with
    /// the reason.
    pub fn start(stages: Box<dyn Stages>) -> Self {
        let (jobs, job_rx) = bounded::<Job>(64);
        let batch = super::start(Source::Stream(job_rx), stages, None);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let router = {
            let shared = shared.clone();
            super::spawn("genderlens-service-results".into(), move || {
                for event in batch.events().iter() {
                    let mut shared = lock(&shared);
                    match event {
                        EngineEvent::Image(result) => {
                            shared.classified += 1;
                            if let Some(waiter) = shared.waiting.remove(&result.index) {
                                let _ = waiter.send(Ok(*result));
                            }
                        }
                        EngineEvent::SessionReady(report) => shared.sessions.push(report),
                        EngineEvent::Failed(message) => {
                            for (_, waiter) in shared.waiting.drain() {
                                let _ =
                                    waiter.send(Err(ServiceError::Unavailable(message.clone())));
                            }
                            shared.failure = Some(message);
                        }
                        _ => {}
                    }
                }
                // The pipeline ended: nobody still waiting will get an answer.
                for (_, waiter) in lock(&shared).waiting.drain() {
                    let _ = waiter.send(Err(ServiceError::Stopped));
                }
                let _ = batch.wait();
            })
        };
        Service {
            jobs: Some(jobs),
            shared,
            next: AtomicUsize::new(0),
            router: Some(router),
        }
    }
}

impl Service {
    /// Classifies one image; `name` is only used in messages and the result.
    pub fn classify(
        &self,
        name: impl Into<PathBuf>,
        bytes: Vec<u8>,
        timeout: Duration,
    ) -> Result<ImageResult, ServiceError> {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = bounded(1);
        {
            let mut shared = lock(&self.shared);
            if let Some(failure) = &shared.failure {
                return Err(ServiceError::Unavailable(failure.clone()));
            }
            shared.waiting.insert(index, tx);
        }
        let abandoned = Arc::new(AtomicBool::new(false));
        let job = Job {
            index,
            path: name.into(),
            payload: Payload::Bytes(bytes),
            abandoned: Some(abandoned.clone()),
        };
        // Whatever ends the wait below without an answer, the pipeline
        // need not work on this photo any more.
        let _give_up = GiveUpOnDrop(abandoned);
        let queued = match &self.jobs {
            Some(jobs) => jobs.send_timeout(job, timeout),
            None => Err(crossbeam_channel::SendTimeoutError::Disconnected(job)),
        };
        if let Err(e) = queued {
            let mut shared = lock(&self.shared);
            shared.waiting.remove(&index);
            return Err(match (e, &shared.failure) {
                (crossbeam_channel::SendTimeoutError::Timeout(_), _) => {
                    ServiceError::Timeout(timeout)
                }
                // The pipeline has ended: say why, when it is known.
                (_, Some(failure)) => ServiceError::Unavailable(failure.clone()),
                (_, None) => ServiceError::Stopped,
            });
        }
        match rx.recv_timeout(timeout) {
            Ok(outcome) => outcome,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                lock(&self.shared).waiting.remove(&index);
                Err(ServiceError::Timeout(timeout))
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(ServiceError::Stopped),
        }
    }

    /// Where each model runs, once its session is loaded.
    pub fn sessions(&self) -> Vec<SessionReport> {
        lock(&self.shared).sessions.clone()
    }

    /// Why the models could not start, if they could not.
    pub fn failure(&self) -> Option<String> {
        lock(&self.shared).failure.clone()
    }

    /// Photos the pipeline has classified so far, answered or not.
    pub fn classified(&self) -> usize {
        lock(&self.shared).classified
    }

    /// Requests queued or being classified.
    pub fn in_flight(&self) -> usize {
        lock(&self.shared).waiting.len()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Closing the queue lets the pipeline finish what it holds and end.
        self.jobs.take();
        if let Some(router) = self.router.take() {
            let _ = router.join();
        }
    }
}

/// Marks a job abandoned when its caller stops waiting, answered or not
/// (once answered, the flag no longer matters).
struct GiveUpOnDrop(Arc<AtomicBool>);

impl Drop for GiveUpOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A waiter that panicked while holding the lock left only plain data behind.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
