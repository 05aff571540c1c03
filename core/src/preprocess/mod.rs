//! Step 1 of the pipeline (`gender_preprocess`): decode, detect, align.
//!
//! Decoding and letterboxing run on the decode workers; detection and
//! alignment run on the detect workers, each with its own detector session.

pub mod align;
pub mod decode;
pub mod detect;
pub mod landmarks;
pub mod letterbox;
pub mod memory_budget;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use image::RgbImage;

use crate::manifest::{BoxFromDetection, ChipSpec, Manifest, ModelBundle};
use crate::settings::{EngineSettings, ModelNeeds};
use decode::{DecodeError, DecodeLimits};
use detect::{Detection, FaceDetector};
use landmarks::{FaceBox, ShapePredictor};
use letterbox::LetterboxedImage;

/// Cuts each face's model inputs: dlib's 5-point landmarks inside the
/// detector box, then dlib's chip geometry for the aligned chips, and the
/// box padded to a square for face-api's crop.
pub struct Aligner {
    predictor: ShapePredictor,
    box_rule: BoxFromDetection,
    chip: ChipSpec,
    age_chip: ChipSpec,
    crop_size: u32,
    needs: ModelNeeds,
}

/// One face's inputs, each cut only when the chosen models need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaceInputs {
    /// The aligned chip for gender-v1.
    pub chip: Option<Vec<u8>>,
    /// The aligned chip for age-v1: the same alignment at its own size.
    pub age_chip: Option<Vec<u8>>,
    /// The detector box padded to a centred square, for face-api.
    pub crop: Option<Vec<u8>>,
}

impl Aligner {
    pub fn new(bundle: &ModelBundle, needs: ModelNeeds) -> Result<Self> {
        let predictor = ShapePredictor::from_bytes(&bundle.landmarks_bytes)
            .with_context(|| format!("reading {}", bundle.manifest.landmarks.file))?;
        anyhow::ensure!(
            predictor.parts() == bundle.manifest.classifier.chip.template.len(),
            "the landmark model and the chip template disagree on the number of points"
        );
        Ok(Self {
            predictor,
            box_rule: bundle.manifest.landmarks.box_from_detection.clone(),
            chip: bundle.manifest.classifier.chip.clone(),
            age_chip: bundle.manifest.age.chip.clone(),
            crop_size: bundle.manifest.faceapi.crop.size,
            needs,
        })
    }

    /// The aligned chip for gender-v1 alone.
    pub fn chip(&self, photo: &RgbImage, detection: &Detection) -> Vec<u8> {
        align::extract_chip(photo, &self.landmarks(photo, detection), &self.chip)
    }

    /// Everything the chosen models need for this face.
    pub fn inputs(&self, photo: &RgbImage, detection: &Detection) -> FaceInputs {
        let needs = self.needs;
        let points =
            (needs.gender_chip || needs.age_chip).then(|| self.landmarks(photo, detection));
        let aligned = |spec: &ChipSpec, wanted: bool| {
            points
                .as_ref()
                .filter(|_| wanted)
                .map(|p| align::extract_chip(photo, p, spec))
        };
        FaceInputs {
            chip: aligned(&self.chip, needs.gender_chip),
            age_chip: aligned(&self.age_chip, needs.age_chip),
            crop: needs
                .faceapi_crop
                .then(|| align::square_crop(photo, detection.face_box, self.crop_size as usize)),
        }
    }

    fn landmarks(&self, photo: &RgbImage, detection: &Detection) -> [[f64; 2]; 5] {
        let face = FaceBox::from_detection(detection.face_box, &self.box_rule);
        let parts = self.predictor.predict(photo, &face);
        let mut points = [[0.0f64; 2]; 5];
        points.copy_from_slice(&parts[..5]);
        points
    }
}

/// A photo ready for the detector.
pub struct DecodedPhoto {
    pub rgb: RgbImage,
    pub detector_input: LetterboxedImage,
    pub decode_ms: f64,
    /// The photo's share of the decode budget, held until it is dropped.
    pub memory: Option<memory_budget::Reservation>,
}

pub fn decode_photo(
    path: &Path,
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
) -> Result<DecodedPhoto, DecodeError> {
    let started = Instant::now();
    let decoded = decode::decode_file(path, limits)?;
    Ok(ready_for_detector(decoded, settings, manifest, started))
}

/// The same as [`decode_photo`] for an image already in memory (an upload).
pub fn decode_photo_bytes(
    bytes: &[u8],
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
) -> Result<DecodedPhoto, DecodeError> {
    let started = Instant::now();
    let decoded = decode::decode_bytes(bytes, limits)?;
    Ok(ready_for_detector(decoded, settings, manifest, started))
}

/// The limits `settings` set for decoding, drawing on `budget` when given.
pub fn decode_limits(
    settings: &EngineSettings,
    budget: Option<std::sync::Arc<memory_budget::MemoryBudget>>,
) -> DecodeLimits {
    DecodeLimits {
        max_megapixels: settings.max_megapixels,
        max_file_bytes: settings.max_file_bytes(),
        budget,
    }
}

fn ready_for_detector(
    decoded: decode::DecodedImage,
    settings: &EngineSettings,
    manifest: &Manifest,
    started: Instant,
) -> DecodedPhoto {
    let detector_input = letterbox::letterbox(
        &decoded.rgb,
        settings.detector_size,
        manifest.detector.input.size_multiple,
    );
    DecodedPhoto {
        rgb: decoded.rgb,
        detector_input,
        decode_ms: started.elapsed().as_secs_f64() * 1e3,
        memory: decoded.memory,
    }
}

/// A face found in a photo with its inputs for the models.
pub struct PreparedFace {
    pub detection: Detection,
    pub inputs: FaceInputs,
}

pub struct PreparedPhoto {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<PreparedFace>,
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub align_ms: f64,
}

pub fn detect_and_align(
    detector: &mut FaceDetector,
    photo: DecodedPhoto,
    aligner: &Aligner,
) -> Result<PreparedPhoto> {
    let size = photo.rgb.dimensions();
    let started = Instant::now();
    let detections = detector.detect(&photo.detector_input, size)?;
    let detect_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let faces = detections
        .into_iter()
        .map(|detection| PreparedFace {
            inputs: aligner.inputs(&photo.rgb, &detection),
            detection,
        })
        .collect();
    Ok(PreparedPhoto {
        width: size.0,
        height: size.1,
        faces,
        decode_ms: photo.decode_ms,
        detect_ms,
        align_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}
