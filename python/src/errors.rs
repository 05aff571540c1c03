//! The two ways a step fails, as Python exceptions the models can branch
//! on: the photo's fault (`BadImage`, a 400 to the client) or the server's
//! (`StepError`).

use genderlens_core::{ErrorKind, PhotoError};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(genderlens_pipeline, BadImage, PyValueError);
create_exception!(genderlens_pipeline, StepError, PyException);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BadImage", m.py().get_type::<BadImage>())?;
    m.add("StepError", m.py().get_type::<StepError>())?;
    Ok(())
}

pub fn photo_error(error: PhotoError) -> PyErr {
    match error.kind {
        ErrorKind::Input => BadImage::new_err(error.message),
        ErrorKind::Internal | ErrorKind::Upstream => StepError::new_err(error.message),
    }
}

pub fn step_error(error: impl std::fmt::Display) -> PyErr {
    StepError::new_err(error.to_string())
}

/// A failure to set a step up, with everything that led to it.
pub fn setup_error(error: anyhow::Error) -> PyErr {
    StepError::new_err(format!("{error:#}"))
}
