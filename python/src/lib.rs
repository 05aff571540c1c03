//! `genderlens_pipeline`: the Triton ensemble's python models call these
//! instead of reimplementing GenderLens's steps, so a server answers with
//! the very code a local run uses. Tensors cross as bytes (native-endian
//! float32 or uint8) plus their shapes; numpy views them without a copy.

mod align;
mod decode;
mod errors;
mod postprocess;
mod tensors;

use pyo3::prelude::*;

#[pymodule]
fn genderlens_pipeline(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<decode::DecodeStep>()?;
    m.add_class::<align::AlignStep>()?;
    m.add_class::<postprocess::PostprocessStep>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
