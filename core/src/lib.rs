//! The GenderLens pipeline, with no window, HTTP or gRPC in it: the three
//! steps of the original Triton ensemble, [`preprocess`] (decode, detect,
//! align) → [`model`] (classifier) → [`postprocess`] (results), the ONNX
//! [`runtime`] that runs them, the [`batch`] runner that feeds photos through
//! them, and [`export`] of the results.

pub mod batch;
pub mod combine;
pub mod engine;
pub mod ensemble;
pub mod error;
pub mod export;
pub mod labels;
pub mod library;
pub mod manifest;
pub mod memory;
pub mod model;
pub mod paths;
pub mod postprocess;
pub mod preprocess;
pub mod runtime;
pub mod settings;
pub mod stability;

pub use batch::{BatchHandle, EngineEvent, Summary};
pub use engine::Engine;
pub use error::{ErrorKind, PhotoError};
pub use labels::Gender;
pub use manifest::ModelBundle;
pub use postprocess::{FaceResult, ImageResult, Status};
pub use runtime::Runtime;
pub use settings::{EngineSettings, ModelChoice, ProviderChoice};
