//! The classifier worker: gathers chips from as many photos as are ready (up
//! to the batch limit), runs the classifier once per batch, and turns each
//! photo into its result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::Staged;
use crate::model::GenderClassifier;
use crate::postprocess::{self, ImageResult, Labels, StageTimings, Status};
use crate::preprocess::PreparedPhoto;

/// How the classifier was fed: runs, chips and the largest batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchStats {
    pub runs: usize,
    pub chips: usize,
    pub largest_batch: usize,
    pub no_face: usize,
    pub classify_ms: f64,
}

pub struct ClassifyStage {
    pub max_batch: usize,
    /// How long a partly filled batch waits for more photos before running.
    pub linger: Duration,
    pub uncertain_below: f32,
}

impl ClassifyStage {
    /// Consumes `rx` until every sender is gone, calling `emit` once per photo.
    pub fn run(
        &self,
        classifier: &mut GenderClassifier,
        rx: &Receiver<Staged<PreparedPhoto>>,
        cancel: &AtomicBool,
        mut emit: impl FnMut(ImageResult),
    ) -> BatchStats {
        let labels = Labels::new(&classifier.spec().labels);
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
            if cancel.load(Ordering::SeqCst) {
                pending.clear();
                continue;
            }
            for result in self.flush(classifier, &mut pending, &labels, &mut stats) {
                if result.status == Status::NoFace {
                    stats.no_face += 1;
                }
                emit(result);
            }
        }
        stats
    }

    fn flush(
        &self,
        classifier: &mut GenderClassifier,
        pending: &mut Vec<Staged<PreparedPhoto>>,
        labels: &Labels,
        stats: &mut BatchStats,
    ) -> Vec<ImageResult> {
        let chips: Vec<&[u8]> = pending
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok())
            .flat_map(|photo| photo.faces.iter().map(|f| f.chip.as_slice()))
            .collect();
        let started = Instant::now();
        let mut probabilities = Vec::with_capacity(chips.len());
        let mut failure = None;
        for batch in chips.chunks(self.max_batch) {
            match classifier.classify(batch) {
                Ok(p) => probabilities.extend(p),
                Err(e) => {
                    failure = Some(format!("{e:#}"));
                    break;
                }
            }
            stats.runs += 1;
            stats.chips += batch.len();
            stats.largest_batch = stats.largest_batch.max(batch.len());
        }
        let batch_ms = started.elapsed().as_secs_f64() * 1e3;
        stats.classify_ms += batch_ms;
        let total_chips = chips.len().max(1) as f64;
        drop(chips);

        let mut next = probabilities.into_iter();
        pending
            .drain(..)
            .map(
                |Staged {
                     index,
                     path,
                     outcome,
                 }| match outcome {
                    Err(message) => ImageResult::failed(index, path, message),
                    Ok(photo) if failure.is_some() && !photo.faces.is_empty() => {
                        ImageResult::failed(index, path, failure.clone().unwrap_or_default())
                    }
                    Ok(photo) => {
                        let faces = photo
                            .faces
                            .iter()
                            .map(|face| {
                                let p = next.next().unwrap_or([f32::NAN; 2]);
                                postprocess::face_result(
                                    &face.detection,
                                    p,
                                    labels,
                                    self.uncertain_below,
                                )
                            })
                            .collect();
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
                    }
                },
            )
            .collect()
    }
}

fn chip_count(staged: &Staged<PreparedPhoto>) -> usize {
    staged.outcome.as_ref().map_or(0, |p| p.faces.len())
}
