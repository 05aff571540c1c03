//! Step 5: the face models' outputs for one photo's faces to the result
//! JSON, combined by the same rule, in the same float32 arithmetic, as a
//! local run.

use super::FACE_META_WIDTH;
use super::align_step::detection_from_meta;
use crate::combine::{ModelNames, combine};
use crate::error::PhotoError;
use crate::labels::Labels;
use crate::manifest::Manifest;
use crate::model::age::expected_age;
use crate::model::{FaceApiVote, FaceVotes};
use crate::postprocess::{ImageResult, StageTimings, answer_json, face_result, image_result};

pub struct PostprocessStep {
    names: ModelNames,
    labels: Labels,
    faceapi_labels: Labels,
    age_weights: Vec<f32>,
    uncertain_below: f32,
}

/// One photo's model outputs as flat float32 tensors, in step 3's row layout.
pub struct ModelOutputs<'a> {
    /// gender-v1: `[2F, 2]` label probabilities in the manifest's order.
    pub gender: &'a [f32],
    /// age-v1: `[F, ages]` probabilities.
    pub age: &'a [f32],
    /// face-api: `[2F, 2]` gender probabilities and `[2F, 1]` ages.
    pub faceapi_gender: &'a [f32],
    pub faceapi_age: &'a [f32],
    /// `[F, 15]`, which also says how many faces there are.
    pub meta: &'a [f32],
    /// The upright photo's width and height.
    pub size: (u32, u32),
}

impl PostprocessStep {
    pub fn new(manifest: &Manifest, uncertain_below: f32) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !manifest.age.age_weights.is_empty(),
            "the age model names no ages"
        );
        Ok(Self {
            names: ModelNames::from_manifest(manifest),
            labels: Labels::from_manifest(&manifest.classifier.labels)?,
            faceapi_labels: Labels::from_manifest(&manifest.faceapi.gender_labels)?,
            age_weights: manifest.age.age_weights.clone(),
            uncertain_below,
        })
    }

    /// The photo's result as the JSON a local result serialises to, without
    /// its place in a batch.
    pub fn run(&self, out: ModelOutputs<'_>) -> Result<String, PhotoError> {
        let result = self.result(out)?;
        Ok(answer_json(&result).to_string())
    }

    pub fn result(&self, out: ModelOutputs<'_>) -> Result<ImageResult, PhotoError> {
        if !out.meta.len().is_multiple_of(FACE_META_WIDTH) {
            return Err(PhotoError::internal(format!(
                "FACE_META has {} values, not rows of {FACE_META_WIDTH}",
                out.meta.len()
            )));
        }
        let count = out.meta.len() / FACE_META_WIDTH;
        let classes = self.age_weights.len();
        // A photo without faces brings a blank row from each model.
        for (what, values, width, rows) in [
            ("gender_model", out.gender, 2, 2 * count),
            ("age_model", out.age, classes, count),
            ("faceapi_model's GENDER", out.faceapi_gender, 2, 2 * count),
            ("faceapi_model's AGE", out.faceapi_age, 1, 2 * count),
        ] {
            if values.len() % width != 0 || values.len() / width < rows {
                return Err(PhotoError::internal(format!(
                    "{what} answered {} values for {rows} inputs of {width}",
                    values.len()
                )));
            }
        }
        let male = self.labels.male_output();
        let faceapi_male = self.faceapi_labels.male_output();
        let (rows, _) = out.meta.as_chunks::<FACE_META_WIDTH>();
        let faces = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mirror = count + i;
                let faceapi = |row: usize| FaceApiVote {
                    p_male: out.faceapi_gender[2 * row + faceapi_male],
                    age: out.faceapi_age[row],
                };
                let votes = FaceVotes {
                    dlib_p_male: Some(out.gender[2 * i + male]),
                    dlib_p_male_mirrored: Some(out.gender[2 * mirror + male]),
                    dlib_age: Some(expected_age(
                        &out.age[i * classes..(i + 1) * classes],
                        &self.age_weights,
                    )),
                    faceapi: Some([faceapi(i), faceapi(mirror)]),
                };
                let combined = combine(&votes, &self.names)?;
                Ok(face_result(
                    &detection_from_meta(row),
                    combined,
                    self.uncertain_below,
                ))
            })
            .collect::<Result<Vec<_>, PhotoError>>()?;
        Ok(image_result(
            0,
            Default::default(),
            out.size,
            faces,
            StageTimings::default(),
        ))
    }
}
