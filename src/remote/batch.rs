//! The remote server's side of a batch: request workers, as many as the
//! requests allowed in flight, plugged into the one batch runner in place
//! of the local decode/detect/classify stages.

use std::path::Path;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use genderlens_core::batch::{self, BatchStats, EngineEvent, Job, Payload, StageContext, Stages};

use super::Remote;
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
            self.remote.address()
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
                        let bytes = match payload {
                            Payload::Bytes(bytes) => within_limit(bytes, max_file_bytes),
                            Payload::File => read_photo(&path, max_file_bytes),
                            Payload::Failed(error) => Err(error),
                        }
                        .and_then(only_images);
                        // A bug met on one photo must cost only that photo.
                        let classified = bytes.and_then(|bytes| {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                remote.classify(index, path.clone(), &bytes)
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

/// What is not an image stays here: it fails as it would locally, and is
/// never uploaded.
fn only_images(bytes: Vec<u8>) -> Result<Vec<u8>, PhotoError> {
    match crate::preprocess::decode::sniff_format(&bytes) {
        Ok(_) => Ok(bytes),
        Err(e) => Err(PhotoError::input(e.to_string())),
    }
}

/// An image in memory, refused when above the file-size limit, as a file would be.
pub fn within_limit(bytes: Vec<u8>, max_file_bytes: u64) -> Result<Vec<u8>, PhotoError> {
    if bytes.len() as u64 > max_file_bytes {
        return Err(too_large(bytes.len() as u64, max_file_bytes));
    }
    Ok(bytes)
}

fn too_large(size: u64, max_file_bytes: u64) -> PhotoError {
    PhotoError::input(format!(
        "the file is {} MB, above the {} MB limit",
        size / (1024 * 1024),
        max_file_bytes / (1024 * 1024)
    ))
}

fn read_photo(path: &Path, max_file_bytes: u64) -> Result<Vec<u8>, PhotoError> {
    let cannot_read = |e: std::io::Error| PhotoError::input(format!("cannot read file: {e}"));
    let metadata = std::fs::metadata(path).map_err(cannot_read)?;
    if !metadata.is_file() {
        return Err(PhotoError::input("not a regular file"));
    }
    if metadata.len() > max_file_bytes {
        return Err(too_large(metadata.len(), max_file_bytes));
    }
    if metadata.len() == 0 {
        return Err(PhotoError::input("the file is empty"));
    }
    std::fs::read(path).map_err(cannot_read)
}

/// Classifies everything under `paths` on `remote`, in the background,
/// listing and reading files under the same settings as a local batch.
pub fn start(
    remote: Arc<Remote>,
    paths: Vec<std::path::PathBuf>,
    settings: &crate::settings::EngineSettings,
    notify: Option<batch::Notify>,
) -> batch::BatchHandle {
    let max_file_bytes = settings.max_file_bytes();
    batch::start(
        batch::Source::Paths {
            paths,
            follow_symlinks: settings.follow_symlinks,
        },
        Box::new(RemoteStages::new(remote, max_file_bytes)),
        notify,
    )
}
