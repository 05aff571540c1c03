//! Tensors between numpy and Rust: float32 in native byte order, as
//! `ndarray.tobytes()` writes them and `numpy.frombuffer` reads them.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::step_error;

pub fn floats(bytes: &[u8], what: &str) -> PyResult<Vec<f32>> {
    let (values, rest) = bytes.as_chunks::<4>();
    if !rest.is_empty() {
        return Err(step_error(format!(
            "{what} has {} bytes, not a whole number of float32 values",
            bytes.len()
        )));
    }
    Ok(values.iter().map(|b| f32::from_ne_bytes(*b)).collect())
}

pub fn float_bytes<'py>(py: Python<'py>, values: &[f32]) -> PyResult<Bound<'py, PyBytes>> {
    PyBytes::new_with(py, values.len() * 4, |out| {
        for (slot, value) in out.as_chunks_mut::<4>().0.iter_mut().zip(values) {
            *slot = value.to_ne_bytes();
        }
        Ok(())
    })
}
