//! The limit a folder's speed can reach on this machine: decoding alone,
//! then detection alone, each with nothing else running. The pipeline does
//! both and more (alignment, the face models, results), so its time over
//! this floor says how much the rest and the hand-offs cost.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::Engine;
use crate::preprocess::detect::{DetectorOptions, FaceDetector};
use crate::preprocess::{self, letterbox::LetterboxedImage};
use crate::runtime::ModelToLoad;

const KEPT_FOR_DETECTION: usize = 32;

#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// Seconds to decode every photo as the pipeline does (JPEGs reduced
    /// to the detector's size), on every core.
    pub decode_seconds: f64,
    /// Seconds to run the detector on every photo, already decoded, on the
    /// detect workers.
    pub detect_seconds: f64,
    pub images: usize,
}

impl Floor {
    pub fn seconds(&self) -> f64 {
        self.decode_seconds + self.detect_seconds
    }

    pub fn images_per_second(&self) -> f64 {
        self.images as f64 / self.seconds().max(1e-9)
    }
}

impl Engine {
    /// Measures the floor for `photos`: each decoded once by every core in
    /// turn, then detected on the detect workers.
    pub fn measure_floor(&self, photos: &[PathBuf]) -> Result<Floor> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let next = AtomicUsize::new(0);
        // A few decoded photos are kept to detect on: the detector's work
        // depends on its input size, not on which photo it is.
        let kept: Mutex<Vec<LetterboxedImage>> = Mutex::new(Vec::new());
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..cores {
                scope.spawn(|| {
                    while let Some(path) = photos.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let decoded = preprocess::decode_photo(
                            path,
                            &self.decode_limits,
                            &self.settings,
                            &self.bundle.manifest,
                        );
                        if let Ok(decoded) = decoded {
                            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                            if kept.len() < KEPT_FOR_DETECTION {
                                kept.push(decoded.detector_input);
                            }
                        }
                    }
                });
            }
        });
        let decode_seconds = started.elapsed().as_secs_f64();

        let decoded = kept.into_inner().unwrap_or_else(|e| e.into_inner());
        anyhow::ensure!(
            !decoded.is_empty(),
            "no photo in the folder could be decoded"
        );
        let mut detectors = (0..self.settings.detect_workers)
            .map(|_| self.detector())
            .collect::<Result<Vec<_>>>()?;
        let next = AtomicUsize::new(0);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for detector in &mut detectors {
                let (next, decoded) = (&next, &decoded);
                scope.spawn(move || {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= photos.len() {
                            break;
                        }
                        let input = &decoded[n % decoded.len()];
                        // The photo's own size does not change the detector's work.
                        let _ = detector.detect(input, (input.width, input.height));
                    }
                });
            }
        });
        Ok(Floor {
            decode_seconds,
            detect_seconds: started.elapsed().as_secs_f64(),
            images: photos.len(),
        })
    }

    fn detector(&self) -> Result<FaceDetector> {
        let model = ModelToLoad::detector(&self.bundle, &self.settings);
        let (session, _) = self
            .runtime
            .session(&model, &self.settings)
            .context("loading the face detector")?;
        Ok(FaceDetector::new(
            session,
            self.bundle.manifest.detector.clone(),
            DetectorOptions {
                threshold: self.settings.detection_threshold,
                min_face_px: self.settings.min_face_px,
            },
        ))
    }
}
