//! `AlignStep`: the detector's outputs to each face model's input rows, and
//! where each face is (see `genderlens_core::ensemble::align_step`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use genderlens_core::ensemble::{ALIGN_PARAMETERS, PhotoForAlignment, step_settings};
use genderlens_core::manifest::{Manifest, read_verified};
use genderlens_core::preprocess::detect::RawOutputs;
use image::RgbImage;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{photo_error, setup_error, step_error};
use crate::tensors::{float_bytes, floats};

#[pyclass(frozen)]
pub struct AlignStep {
    step: genderlens_core::ensemble::AlignStep,
}

type Aligned<'py> = (
    usize,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);

#[pymethods]
impl AlignStep {
    /// `models_dir` holds `manifest.json` and the landmark model it names.
    #[new]
    fn new(models_dir: PathBuf, parameters: BTreeMap<String, String>) -> PyResult<Self> {
        let (settings, max_faces) =
            step_settings(&parameters, ALIGN_PARAMETERS).map_err(step_error)?;
        let manifest = Manifest::read(&models_dir).map_err(setup_error)?;
        let landmarks = read_verified(
            &models_dir,
            &manifest.landmarks.file,
            &manifest.landmarks.sha256,
        )
        .map_err(setup_error)?;
        let step =
            genderlens_core::ensemble::AlignStep::new(manifest, &landmarks, &settings, max_faces)
                .map_err(setup_error)?;
        Ok(Self { step })
    }

    /// Side of the gender chips, the age chips and face-api's crops.
    #[getter]
    fn sizes(&self) -> (usize, usize, usize) {
        (
            self.step.chip_size(),
            self.step.age_chip_size(),
            self.step.crop_size(),
        )
    }

    /// The faces in one photo and their inputs: the face count F, then the
    /// gender chips `[max(2F,1), 3, s, s]`, the age chips `[max(F,1), ...]`,
    /// the crops `[max(2F,1), ...]` and the face meta `[F, 15]`, each as
    /// float32 bytes. Too many faces raises `BadImage`.
    #[pyo3(signature = (data, photo, photo_shape, full_size, scale, heat_shape, heatmap, box_scale, offset, landmarks))]
    #[allow(
        clippy::too_many_arguments,
        reason = "the python model passes each ensemble tensor as it arrives"
    )]
    fn run<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        photo: Vec<u8>,
        photo_shape: (u32, u32, u32),
        full_size: (u32, u32),
        scale: f32,
        heat_shape: Vec<i64>,
        heatmap: &[u8],
        box_scale: &[u8],
        offset: &[u8],
        landmarks: &[u8],
    ) -> PyResult<Aligned<'py>> {
        let (height, width, channels) = photo_shape;
        let photo = (channels == 3)
            .then(|| RgbImage::from_raw(width, height, photo))
            .flatten()
            .ok_or_else(|| step_error("the decoded photo's bytes do not match its shape"))?;
        let heatmap = floats(heatmap, "the detector's heatmap")?;
        let box_scale = floats(box_scale, "the detector's scale")?;
        let offset = floats(offset, "the detector's offset")?;
        let landmarks = floats(landmarks, "the detector's landmarks")?;
        let tensors = py
            .detach(|| {
                self.step.run(PhotoForAlignment {
                    bytes: data,
                    photo,
                    full_size,
                    scale,
                    detector: RawOutputs {
                        heat_shape: &heat_shape,
                        heatmap: &heatmap,
                        scale: &box_scale,
                        offset: &offset,
                        landmarks: &landmarks,
                    },
                })
            })
            .map_err(photo_error)?;
        Ok((
            tensors.faces,
            float_bytes(py, &tensors.chips)?,
            float_bytes(py, &tensors.age_chips)?,
            float_bytes(py, &tensors.crops)?,
            float_bytes(py, &tensors.meta)?,
        ))
    }
}
