//! `PostprocessStep`: the face models' outputs to the result JSON a local
//! run gives (see `genderlens_core::ensemble::postprocess_step`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use genderlens_core::ensemble::{ModelOutputs, POSTPROCESS_PARAMETERS, step_settings};
use genderlens_core::manifest::Manifest;
use pyo3::prelude::*;

use crate::errors::{photo_error, setup_error, step_error};
use crate::tensors::floats;

#[pyclass(frozen)]
pub struct PostprocessStep {
    step: genderlens_core::ensemble::PostprocessStep,
}

#[pymethods]
impl PostprocessStep {
    /// `models_dir` holds `manifest.json`, which names the models, their
    /// label orders and the ages age-v1's classes stand for.
    #[new]
    fn new(models_dir: PathBuf, parameters: BTreeMap<String, String>) -> PyResult<Self> {
        let (settings, _) =
            step_settings(&parameters, POSTPROCESS_PARAMETERS).map_err(step_error)?;
        let manifest = Manifest::read(&models_dir).map_err(setup_error)?;
        let step =
            genderlens_core::ensemble::PostprocessStep::new(&manifest, settings.uncertain_below)
                .map_err(setup_error)?;
        Ok(Self { step })
    }

    /// One photo's model outputs (float32 bytes each, in the align step's
    /// row layout) and its `(width, height)` to its result as JSON text.
    /// Outputs that do not fit the faces raise `StepError`.
    fn run(
        &self,
        gender: &[u8],
        age: &[u8],
        faceapi: (&[u8], &[u8]),
        meta: &[u8],
        size: (u32, u32),
    ) -> PyResult<String> {
        let gender = floats(gender, "gender_model's output")?;
        let age = floats(age, "age_model's output")?;
        let faceapi_gender = floats(faceapi.0, "faceapi_model's GENDER")?;
        let faceapi_age = floats(faceapi.1, "faceapi_model's AGE")?;
        let meta = floats(meta, "FACE_META")?;
        self.step
            .run(ModelOutputs {
                gender: &gender,
                age: &age,
                faceapi_gender: &faceapi_gender,
                faceapi_age: &faceapi_age,
                meta: &meta,
                size,
            })
            .map_err(photo_error)
    }
}
