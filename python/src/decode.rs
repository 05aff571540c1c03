//! `DecodeStep`: an encoded image to the detector's input and the photo as
//! decoded for it (a 12-megapixel JPEG is decoded at a quarter of its size).

use std::collections::BTreeMap;
use std::path::PathBuf;

use genderlens_core::EngineSettings;
use genderlens_core::ensemble::{DECODE_PARAMETERS, decode_for_detector, step_settings};
use genderlens_core::manifest::Manifest;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{BadImage, setup_error, step_error};
use crate::tensors::float_bytes;

#[pyclass(frozen)]
pub struct DecodeStep {
    settings: EngineSettings,
    manifest: Manifest,
}

type Decoded<'py> = (
    Bound<'py, PyBytes>,
    (usize, usize, usize, usize),
    Bound<'py, PyBytes>,
    (usize, usize, usize),
    (u32, u32),
    f32,
);

#[pymethods]
impl DecodeStep {
    /// `models_dir` holds the models' `manifest.json`; `parameters` are the
    /// Triton model's (see the module's README for the keys).
    #[new]
    fn new(models_dir: PathBuf, parameters: BTreeMap<String, String>) -> PyResult<Self> {
        let (settings, _) = step_settings(&parameters, DECODE_PARAMETERS).map_err(step_error)?;
        let manifest = Manifest::read(&models_dir).map_err(setup_error)?;
        Ok(Self { settings, manifest })
    }

    /// One image's bytes to: the detector input (float32) and its shape
    /// `(1, 3, h, w)`; the decoded photo (uint8) and its shape `(h, w, 3)`;
    /// the upright photo's `(width, height)`; detector pixels per photo
    /// pixel. A file that is not a usable image raises `BadImage`.
    fn run<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Decoded<'py>> {
        let decoded = py
            .detach(|| decode_for_detector(data, &self.settings, &self.manifest))
            .map_err(|e| BadImage::new_err(e.to_string()))?;
        let input = &decoded.detector_input;
        let photo = &decoded.photo;
        Ok((
            float_bytes(py, &input.data)?,
            (1, 3, input.height as usize, input.width as usize),
            PyBytes::new(py, photo.as_raw()),
            (photo.height() as usize, photo.width() as usize, 3),
            decoded.full_size,
            input.scale,
        ))
    }
}
