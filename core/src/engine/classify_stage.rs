//! The classifier worker: gathers faces from as many photos as are ready (up
//! to the batch limit), runs each face model once per batch, and turns each
//! photo into its result.

use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::Staged;
use crate::batch::{BatchControl, BatchStats};
use crate::combine::{ModelNames, combine};
use crate::error::PhotoError;
use crate::model::FaceModels;
use crate::postprocess::{self, ImageResult, StageTimings};
use crate::preprocess::PreparedPhoto;

pub struct ClassifyStage {
    pub max_batch: usize,
    /// How long a partly filled batch waits for more photos before running.
    pub linger: Duration,
    pub uncertain_below: f32,
    pub names: ModelNames,
}

impl ClassifyStage {
    /// Consumes `rx` until every sender is gone, calling `emit` once per photo.
    pub fn run(
        &self,
        models: &mut FaceModels,
        rx: &Receiver<Staged<PreparedPhoto>>,
        control: &BatchControl,
        mut emit: impl FnMut(ImageResult),
    ) -> BatchStats {
        let mut stats = BatchStats::default();
        let mut pending: Vec<Staged<PreparedPhoto>> = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut chips = chip_count(&first);
            pending.push(first);
            let deadline = Instant::now() + self.linger;
            // Photos without faces need no classifier run, so they never wait.
            while chips > 0 && chips < self.max_batch {
                match rx.recv_deadline(deadline) {
                    Ok(next) => {
                        chips += chip_count(&next);
                        pending.push(next);
                    }
                    Err(_) => break,
                }
            }
            if control.is_cancelled() {
                pending.clear();
                continue;
            }
            for result in self.flush(models, &mut pending, &mut stats) {
                emit(result);
            }
        }
        stats
    }

    fn flush(
        &self,
        models: &mut FaceModels,
        pending: &mut Vec<Staged<PreparedPhoto>>,
        stats: &mut BatchStats,
    ) -> Vec<ImageResult> {
        let faces: Vec<&crate::preprocess::FaceInputs> = pending
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok())
            .flat_map(|photo| photo.faces.iter().map(|f| &f.inputs))
            .collect();
        let started = Instant::now();
        let mut votes = Vec::with_capacity(faces.len());
        let mut failure = None;
        for batch in faces.chunks(self.max_batch) {
            // A panic in the runtime costs this batch's photos, not the stage.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| models.run(batch)));
            match outcome {
                Ok(Ok(v)) => votes.extend(v),
                Ok(Err(e)) => {
                    failure = Some(PhotoError::internal(format!("{e:#}")));
                    break;
                }
                Err(_) => {
                    failure = Some(PhotoError::internal(
                        "internal error: the classifier stopped unexpectedly",
                    ));
                    break;
                }
            }
            stats.runs += 1;
            stats.chips += batch.len();
            stats.largest_batch = stats.largest_batch.max(batch.len());
        }
        let batch_ms = started.elapsed().as_secs_f64() * 1e3;
        stats.classify_ms += batch_ms;
        let total_chips = faces.len().max(1) as f64;
        drop(faces);

        let mut next = votes.into_iter();
        pending
            .drain(..)
            .map(
                |Staged {
                     index,
                     path,
                     outcome,
                 }| {
                    let photo = match outcome {
                        Err(error) => return ImageResult::failed(index, path, error),
                        Ok(photo) => photo,
                    };
                    // Every face takes its votes, even when the photo fails,
                    // so the next photo's faces get their own.
                    let faces: Vec<_> = photo
                        .faces
                        .iter()
                        .map(|face| {
                            let votes = next.next().ok_or_else(|| {
                                failure.clone().unwrap_or_else(|| {
                                    PhotoError::internal("the classifier returned too few results")
                                })
                            })?;
                            let combined = combine(&votes, &self.names)?;
                            Ok(postprocess::face_result(
                                &face.detection,
                                combined,
                                self.uncertain_below,
                            ))
                        })
                        .collect();
                    let faces = match faces.into_iter().collect::<Result<Vec<_>, _>>() {
                        Ok(faces) => faces,
                        Err(error) => return ImageResult::failed(index, path, error),
                    };
                    let timings = StageTimings {
                        decode_ms: photo.decode_ms,
                        detect_ms: photo.detect_ms,
                        align_ms: photo.align_ms,
                        classify_ms: batch_ms * photo.faces.len() as f64 / total_chips,
                    };
                    postprocess::image_result(
                        index,
                        path,
                        (photo.width, photo.height),
                        faces,
                        timings,
                    )
                },
            )
            .collect()
    }
}

fn chip_count(staged: &Staged<PreparedPhoto>) -> usize {
    staged.outcome.as_ref().map_or(0, |p| p.faces.len())
}
