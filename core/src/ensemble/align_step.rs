//! Step 3: the detector's outputs to every face model's input rows, cut by
//! the same code a local run cuts them with.
//!
//! Row layout, with F faces (one blank row when F is 0, since a server
//! cannot run a batch of none):
//! - gender chips `[2F, 3, s, s]`: the F aligned chips, then their mirror images;
//! - age chips `[F, 3, s, s]`: the same alignment at the age model's size;
//! - face-api crops `[2F, 3, s, s]`: the F square crops, then their mirror images;
//! - face meta `[F, 15]`: see [`FACE_META_WIDTH`].

use anyhow::Context;
use image::RgbImage;

use super::FACE_META_WIDTH;
use crate::error::PhotoError;
use crate::manifest::{Manifest, Normalization};
use crate::model::{as_slices, inputs_of, normalise_chips, originals_then_mirrors};
use crate::preprocess::decode::DecodeLimits;
use crate::preprocess::detect::{Detection, DetectorOptions, RawOutputs, detections_in_photo};
use crate::preprocess::{Aligner, FaceInputs, chip_source, decode_limits};
use crate::settings::{EngineSettings, ModelChoice};

pub struct AlignStep {
    aligner: Aligner,
    manifest: Manifest,
    options: DetectorOptions,
    limits: DecodeLimits,
    max_faces: usize,
}

/// What step 3 receives for one photo.
pub struct PhotoForAlignment<'a> {
    /// The encoded image, for a finer decode when a face is too small in `photo`.
    pub bytes: &'a [u8],
    /// The photo as step 1 decoded it.
    pub photo: RgbImage,
    pub full_size: (u32, u32),
    /// Detector pixels per pixel of the photo, as step 1 gave it.
    pub scale: f32,
    pub detector: RawOutputs<'a>,
}

/// Step 3's outputs for one photo, each a flat float32 tensor.
#[derive(Debug, Default)]
pub struct FaceTensors {
    pub faces: usize,
    pub chips: Vec<f32>,
    pub age_chips: Vec<f32>,
    pub crops: Vec<f32>,
    pub meta: Vec<f32>,
}

impl AlignStep {
    /// Every model of the ensemble is fed, so every input is cut.
    pub fn new(
        manifest: Manifest,
        landmarks: &[u8],
        settings: &EngineSettings,
        max_faces: usize,
    ) -> anyhow::Result<Self> {
        let aligner = Aligner::from_parts(&manifest, landmarks, ModelChoice::Ensemble.needs())
            .context("loading the landmark model")?;
        Ok(Self {
            aligner,
            manifest,
            options: DetectorOptions {
                threshold: settings.detection_threshold,
                min_face_px: settings.min_face_px,
            },
            limits: decode_limits(settings, None),
            max_faces,
        })
    }

    pub fn chip_size(&self) -> usize {
        self.manifest.classifier.chip.size as usize
    }

    pub fn age_chip_size(&self) -> usize {
        self.manifest.age.chip.size as usize
    }

    pub fn crop_size(&self) -> usize {
        self.manifest.faceapi.crop.size as usize
    }

    pub fn run(&self, input: PhotoForAlignment<'_>) -> Result<FaceTensors, PhotoError> {
        let faces = detections_in_photo(
            input.detector,
            &self.manifest.detector,
            &self.options,
            input.scale,
            input.full_size,
        )
        .map_err(|e| PhotoError::internal(format!("{e:#}")))?;
        if faces.len() > self.max_faces {
            return Err(PhotoError::input(format!(
                "{} faces, above the {} this server accepts",
                faces.len(),
                self.max_faces
            )));
        }
        let reduced = input.photo.dimensions() != input.full_size;
        let source = chip_source(
            input.photo,
            input.full_size,
            reduced.then_some(input.bytes),
            &self.limits,
            &faces,
            &self.aligner,
        );
        let inputs: Vec<FaceInputs> = faces
            .iter()
            .map(|d| {
                self.aligner
                    .inputs(&source.rgb, &d.scaled(source.reduction))
            })
            .collect();
        self.tensors(&faces, &inputs)
            .map_err(|e| PhotoError::internal(format!("{e:#}")))
    }

    fn tensors(&self, faces: &[Detection], inputs: &[FaceInputs]) -> anyhow::Result<FaceTensors> {
        let manifest = &self.manifest;
        let inputs: Vec<&FaceInputs> = inputs.iter().collect();
        let chips = inputs_of(&inputs, |f| f.chip.as_deref(), "aligned chip")?;
        let age_chips = inputs_of(&inputs, |f| f.age_chip.as_deref(), "age chip")?;
        let crops = inputs_of(&inputs, |f| f.crop.as_deref(), "square crop")?;
        Ok(FaceTensors {
            faces: faces.len(),
            chips: with_mirrors(
                &chips,
                self.chip_size(),
                &manifest.classifier.input.normalization,
            )?,
            age_chips: rows_or_blank(
                &age_chips,
                self.age_chip_size(),
                &manifest.age.input.normalization,
            )?,
            crops: with_mirrors(
                &crops,
                self.crop_size(),
                &manifest.faceapi.input.normalization,
            )?,
            meta: faces.iter().flat_map(meta_row).collect(),
        })
    }
}

/// The chips, then their mirror images, normalised: the rows a local run
/// feeds its models, in the same order.
fn with_mirrors(chips: &[&[u8]], size: usize, norm: &Normalization) -> anyhow::Result<Vec<f32>> {
    let rows = originals_then_mirrors(chips, size);
    rows_or_blank(&as_slices(&rows), size, norm)
}

fn rows_or_blank(rows: &[&[u8]], size: usize, norm: &Normalization) -> anyhow::Result<Vec<f32>> {
    if rows.is_empty() {
        return Ok(vec![0.0; 3 * size * size]);
    }
    normalise_chips(rows, size, norm)
}

fn meta_row(d: &Detection) -> [f32; FACE_META_WIDTH] {
    let mut row = [0.0; FACE_META_WIDTH];
    row[..4].copy_from_slice(&d.bbox);
    for (i, [x, y]) in d.landmarks.iter().enumerate() {
        row[4 + 2 * i] = *x;
        row[5 + 2 * i] = *y;
    }
    row[14] = d.score;
    row
}

/// A face as `FACE_META` carries it; the unclipped box is not carried
/// since only alignment, done by then, needs it.
pub fn detection_from_meta(row: &[f32; FACE_META_WIDTH]) -> Detection {
    let bbox = [row[0], row[1], row[2], row[3]];
    let mut landmarks = [[0.0; 2]; 5];
    for (i, point) in landmarks.iter_mut().enumerate() {
        *point = [row[4 + 2 * i], row[5 + 2 * i]];
    }
    Detection {
        bbox,
        face_box: bbox,
        landmarks,
        score: row[14],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_meta_round_trips_a_detection() {
        let detection = Detection {
            bbox: [1.5, 2.25, 40.0, 52.5],
            face_box: [1.5, 2.25, 40.0, 52.5],
            landmarks: [
                [10.0, 11.0],
                [30.0, 11.5],
                [20.0, 25.0],
                [12.0, 40.0],
                [28.0, 40.5],
            ],
            score: 0.875,
        };
        let row = meta_row(&detection);
        assert_eq!(detection_from_meta(&row), detection);
    }

    #[test]
    fn no_face_still_gives_one_blank_row() {
        let norm = Normalization {
            means: [1.0, 2.0, 3.0],
            scale: 0.5,
        };
        assert_eq!(with_mirrors(&[], 4, &norm).unwrap(), vec![0.0; 48]);
        let chip = vec![9u8; 48];
        let rows = with_mirrors(&[&chip], 4, &norm).unwrap();
        assert_eq!(rows.len(), 2 * 48, "the chip and its mirror image");
        assert_eq!(rows[0], 4.0);
        assert_eq!(rows[16], 3.5);
    }
}
