//! The pipeline cut where the Triton ensemble cuts it, so a server runs the
//! very code a local run does, step by step, with tensors between steps:
//!
//! 1. [`decode_step`]: encoded image → the detector's letterboxed input, and
//!    the photo as decoded for it;
//! 2. the face detector (CenterFace), run by the server;
//! 3. [`align_step`]: the detector's outputs → each face model's input rows
//!    and where each face is;
//! 4. the face models, run by the server;
//! 5. [`postprocess_step`]: the face models' outputs → the result JSON a
//!    local run gives.
//!
//! Only the models run elsewhere; everything between them is this crate's.

pub mod align_step;
pub mod decode_step;
pub mod parameters;
pub mod postprocess_step;

pub use align_step::{AlignStep, FaceTensors, PhotoForAlignment};
pub use decode_step::{ForDetector, decode_for_detector};
pub use parameters::{
    ALIGN_PARAMETERS, DECODE_PARAMETERS, POSTPROCESS_PARAMETERS, ParameterError, step_settings,
};
pub use postprocess_step::{ModelOutputs, PostprocessStep};

/// Per face in `FACE_META`: box (left, top, right, bottom), five landmarks
/// (x, y each), detection score.
pub const FACE_META_WIDTH: usize = 15;
