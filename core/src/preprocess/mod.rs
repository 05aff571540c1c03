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

use std::borrow::Cow;
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
        Self::from_parts(&bundle.manifest, &bundle.landmarks_bytes, needs)
    }

    /// An aligner from the manifest and the landmark model's bytes alone,
    /// for a process that runs no model of its own.
    pub fn from_parts(manifest: &Manifest, landmarks: &[u8], needs: ModelNeeds) -> Result<Self> {
        let predictor = ShapePredictor::from_bytes(landmarks)
            .with_context(|| format!("reading {}", manifest.landmarks.file))?;
        anyhow::ensure!(
            predictor.parts() == manifest.classifier.chip.template.len(),
            "the landmark model and the chip template disagree on the number of points"
        );
        Ok(Self {
            predictor,
            box_rule: manifest.landmarks.box_from_detection.clone(),
            chip: manifest.classifier.chip.clone(),
            age_chip: manifest.age.chip.clone(),
            crop_size: manifest.faceapi.crop.size,
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

    /// The widest input cut from a face: below it, a reduced decode would
    /// enlarge the face for its chip.
    pub fn largest_input_side(&self) -> u32 {
        let needs = self.needs;
        [
            needs.gender_chip.then_some(self.chip.size),
            needs.age_chip.then_some(self.age_chip.size),
            needs.faceapi_crop.then_some(self.crop_size),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
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
    /// The photo, or a JPEG reduced in decoding to what the detector needs.
    pub rgb: RgbImage,
    /// The upright photo's size in the file: boxes and landmarks are given
    /// in its pixels, whatever size `rgb` is.
    pub full_size: (u32, u32),
    pub detector_input: LetterboxedImage,
    pub decode_ms: f64,
    /// The photo's share of the decode budget, held until it is dropped.
    pub memory: Option<memory_budget::Reservation>,
    /// The file's bytes while `rgb` is reduced, to decode it finer for a
    /// face too small in it.
    pub source: Option<Vec<u8>>,
    pub limits: DecodeLimits,
}

impl DecodedPhoto {
    /// `rgb`'s pixels per pixel of the photo.
    pub fn reduction(&self) -> f64 {
        reduction_of(self.rgb.width(), self.full_size)
    }
}

/// Pixels of an image `width` wide per pixel of a photo of `full_size`.
fn reduction_of(width: u32, full_size: (u32, u32)) -> f64 {
    f64::from(width) / f64::from(full_size.0.max(1))
}

pub fn decode_photo(
    path: &Path,
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
) -> Result<DecodedPhoto, DecodeError> {
    let started = Instant::now();
    let bytes = decode::read_bounded(path, limits.max_file_bytes)?;
    decode_at_detector_size(Cow::Owned(bytes), limits, settings, manifest, started)
}

/// The same as [`decode_photo`] for an image already in memory (an upload).
pub fn decode_photo_bytes(
    bytes: &[u8],
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
) -> Result<DecodedPhoto, DecodeError> {
    let started = Instant::now();
    decode_at_detector_size(Cow::Borrowed(bytes), limits, settings, manifest, started)
}

/// Decodes no larger than the detector's input needs: a 12-megapixel JPEG
/// is decoded at a quarter of its size for a 640-pixel detector.
fn decode_at_detector_size(
    bytes: Cow<'_, [u8]>,
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
    started: Instant,
) -> Result<DecodedPhoto, DecodeError> {
    let decoded = decode::decode_bytes_at_least(&bytes, limits, Some(settings.detector_size))?;
    let reduced = decoded.rgb.dimensions() != decoded.full_size;
    Ok(ready_for_detector(
        decoded,
        // Kept (an upload copied) only while a finer decode may be needed.
        reduced.then(|| bytes.into_owned()),
        limits,
        settings,
        manifest,
        started,
    ))
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
        show_truncated: false,
    }
}

fn ready_for_detector(
    decoded: decode::DecodedImage,
    source: Option<Vec<u8>>,
    limits: &DecodeLimits,
    settings: &EngineSettings,
    manifest: &Manifest,
    started: Instant,
) -> DecodedPhoto {
    let mut detector_input = letterbox::letterbox(
        &decoded.rgb,
        settings.detector_size,
        manifest.detector.input.size_multiple,
    );
    // Detector pixels per pixel of the photo, not of the reduced decode,
    // so faces come out in the photo's own pixels.
    detector_input.scale *= decoded.rgb.width() as f32 / decoded.full_size.0.max(1) as f32;
    DecodedPhoto {
        rgb: decoded.rgb,
        full_size: decoded.full_size,
        detector_input,
        decode_ms: started.elapsed().as_secs_f64() * 1e3,
        memory: decoded.memory,
        source,
        limits: limits.clone(),
    }
}

/// The image chips are cut from, and its pixels per pixel of the photo.
pub struct ChipSource {
    pub rgb: RgbImage,
    pub reduction: f64,
}

/// The reduced decode when every face in it is at least as large as the
/// largest input cut from it, so no chip is enlarged from fewer pixels than
/// the photo has; else the photo decoded as fine as its smallest face needs.
pub fn source_for_chips(photo: DecodedPhoto, faces: &[Detection], aligner: &Aligner) -> ChipSource {
    let DecodedPhoto {
        rgb,
        full_size,
        source,
        limits,
        ..
    } = photo;
    chip_source(rgb, full_size, source.as_deref(), &limits, faces, aligner)
}

/// [`source_for_chips`] from its parts: `rgb` is the photo as decoded for
/// the detector, `full_size` the photo's own size and `bytes` its file,
/// given when `rgb` is reduced.
pub fn chip_source(
    rgb: RgbImage,
    full_size: (u32, u32),
    bytes: Option<&[u8]>,
    limits: &DecodeLimits,
    faces: &[Detection],
    aligner: &Aligner,
) -> ChipSource {
    let reduction = reduction_of(rgb.width(), full_size);
    let smallest = faces
        .iter()
        .map(|d| (d.bbox[2] - d.bbox[0]).min(d.bbox[3] - d.bbox[1]))
        .fold(f32::INFINITY, f32::min);
    let needed = f64::from(aligner.largest_input_side());
    let enough = |r: f64| f64::from(smallest) * r >= needed;
    let Some(bytes) = bytes.filter(|_| reduction < 1.0 && !enough(reduction)) else {
        return ChipSource { rgb, reduction };
    };
    // The finest reduction that still gives the smallest face `needed` pixels.
    let longest = full_size.0.max(full_size.1);
    let wanted = (f64::from(longest) * (needed / f64::from(smallest).max(1.0))).ceil() as u32;
    match decode::decode_bytes_at_least(bytes, limits, Some(wanted.min(longest))) {
        Ok(finer) => ChipSource {
            reduction: reduction_of(finer.rgb.width(), full_size),
            rgb: finer.rgb,
        },
        // Decoded once already: the reduced image is the best there is.
        Err(_) => ChipSource { rgb, reduction },
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
    let size = photo.full_size;
    let started = Instant::now();
    let detections = detector.detect(&photo.detector_input, size)?;
    let detect_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let decode_ms = photo.decode_ms;
    let source = source_for_chips(photo, &detections, aligner);
    let faces = detections
        .into_iter()
        .map(|detection| PreparedFace {
            inputs: aligner.inputs(&source.rgb, &detection.scaled(source.reduction)),
            detection,
        })
        .collect();
    Ok(PreparedPhoto {
        width: size.0,
        height: size.1,
        faces,
        decode_ms,
        detect_ms,
        align_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}
