//! A batch that never runs dry: images in memory go in, each caller gets its
//! own result back. The gateway uses it so concurrent uploads share the
//! detector workers and are classified together in one classifier run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded};

use super::{BatchControl, Emitter, Engine, EngineEvent, Source, lock};
use crate::postprocess::ImageResult;
use crate::runtime::SessionReport;

/// One image for the pipeline, tagged with the index its result will carry.
pub struct Job {
    pub(super) index: usize,
    pub(super) name: PathBuf,
    pub(super) bytes: Vec<u8>,
}

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
    sessions: Vec<SessionReport>,
    failure: Option<String>,
}

pub struct Service {
    jobs: Option<Sender<Job>>,
    shared: Arc<Mutex<Shared>>,
    next: AtomicUsize,
    threads: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Starts the pipeline for a server. Sessions load in the background; a
    /// model that cannot load makes every request fail with the reason.
    pub fn serve(&self) -> Service {
        let (jobs, job_rx) = bounded::<Job>(64);
        let (events_tx, events) = bounded(256);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let engine = self.clone();
        let emitter = Emitter {
            tx: events_tx,
            notify: None,
        };
        let coordinator = std::thread::Builder::new()
            .name("genderlens-service".into())
            .spawn(move || {
                engine.run_batch(
                    Source::Service(job_rx),
                    emitter,
                    Arc::new(BatchControl::default()),
                )
            })
            .expect("spawning the service thread");
        let router = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("genderlens-service-results".into())
                .spawn(move || {
                    for event in events.iter() {
                        let mut shared = lock(&shared);
                        match event {
                            EngineEvent::Image(result) => {
                                if let Some(waiter) = shared.waiting.remove(&result.index) {
                                    let _ = waiter.send(Ok(*result));
                                }
                            }
                            EngineEvent::SessionReady(report) => shared.sessions.push(report),
                            EngineEvent::Failed(message) => {
                                for (_, waiter) in shared.waiting.drain() {
                                    let _ = waiter
                                        .send(Err(ServiceError::Unavailable(message.clone())));
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
                })
                .expect("spawning the service results thread")
        };
        Service {
            jobs: Some(jobs),
            shared,
            next: AtomicUsize::new(0),
            threads: vec![coordinator, router],
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
        let job = Job {
            index,
            name: name.into(),
            bytes,
        };
        let queued = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send_timeout(job, timeout).is_ok());
        if !queued {
            lock(&self.shared).waiting.remove(&index);
            return Err(ServiceError::Timeout(timeout));
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

    /// Requests queued or being classified.
    pub fn in_flight(&self) -> usize {
        lock(&self.shared).waiting.len()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Closing the queue lets the pipeline finish what it holds and end.
        self.jobs.take();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
