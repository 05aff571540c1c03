//! The remote server's side of a batch: request workers, as many as the
//! requests allowed in flight, plugged into the one batch runner in place
//! of the local decode/detect/classify stages.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use genderlens_core::batch::{self, BatchStats, EngineEvent, Job, Payload, StageContext, Stages};

use super::{Remote, Upload};
use crate::error::PhotoError;
use crate::postprocess::ImageResult;

pub struct RemoteStages {
    remote: Arc<Remote>,
    /// Files above this size are refused before they are read or sent.
    max_file_bytes: u64,
}

impl RemoteStages {
    pub fn new(remote: Arc<Remote>, max_file_bytes: u64) -> Self {
        Self {
            remote,
            max_file_bytes,
        }
    }
}

impl Stages for RemoteStages {
    fn run(
        self: Box<Self>,
        jobs: Receiver<Job>,
        results: Sender<ImageResult>,
        context: StageContext,
    ) -> Result<BatchStats, String> {
        context.emitter.send(EngineEvent::Status(format!(
            "Sending photos to {}",
            self.remote.servers()
        )));
        let workers: Vec<_> = (0..self.remote.options().max_in_flight)
            .map(|n| {
                let (jobs, results) = (jobs.clone(), results.clone());
                let (remote, control) = (self.remote.clone(), context.control.clone());
                let max_file_bytes = self.max_file_bytes;
                batch::spawn(format!("genderlens-remote-{n}"), move || {
                    for Job {
                        index,
                        path,
                        payload,
                        ..
                    } in batch::wanted_jobs(&jobs, &control)
                    {
                        let upload = match payload {
                            Payload::Bytes(bytes) => Upload::memory(bytes, max_file_bytes),
                            Payload::File => Upload::file(&path, max_file_bytes),
                            Payload::Failed(error) => Err(error),
                        };
                        // A bug met on one photo must cost only that photo.
                        let classified = upload.and_then(|upload| {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                remote.classify(index, path.clone(), &upload)
                            }))
                            .map_err(|_| {
                                PhotoError::internal(
                                    "internal error while sending this file to the server",
                                )
                            })
                        });
                        let result = classified
                            .unwrap_or_else(|error| ImageResult::failed(index, path, error));
                        if results.send(result).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop((jobs, results));
        for worker in workers {
            let _ = worker.join();
        }
        Ok(BatchStats::default())
    }
}

/// Classifies everything under `paths` on `remote`, in the background,
/// listing and reading files under the same settings as a local batch.
pub fn start(
    remote: Arc<Remote>,
    paths: Vec<std::path::PathBuf>,
    settings: &crate::settings::EngineSettings,
    notify: Option<batch::Notify>,
) -> batch::BatchHandle {
    start_with(remote, paths, settings, notify, batch::Setup::default())
}

/// Like [`start`], set up beforehand.
pub fn start_with(
    remote: Arc<Remote>,
    paths: Vec<std::path::PathBuf>,
    settings: &crate::settings::EngineSettings,
    notify: Option<batch::Notify>,
    setup: batch::Setup,
) -> batch::BatchHandle {
    let max_file_bytes = settings.max_file_bytes();
    batch::start_with(
        batch::Source::Paths {
            paths,
            follow_symlinks: settings.follow_symlinks,
        },
        Box::new(RemoteStages::new(remote, max_file_bytes)),
        notify,
        setup,
    )
}
