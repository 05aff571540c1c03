//! GenderLens finds the faces in photos and classifies the apparent gender of
//! each, in the three steps of the original Triton ensemble:
//! [`preprocess`] (decode, detect, align) → [`model`] (classifier) →
//! [`postprocess`] (results), driven by the batch [`engine`]; or on a
//! [`remote`] Triton server or gateway instead.

pub mod cli;
pub mod engine;
pub mod export;
pub mod gui;
pub mod manifest;
pub mod memory;
pub mod model;
pub mod paths;
pub mod postprocess;
pub mod preprocess;
pub mod remote;
pub mod runtime;
pub mod server;
pub mod settings;

pub use engine::{BatchHandle, Engine, EngineEvent, Summary};
pub use manifest::ModelBundle;
pub use postprocess::{FaceResult, ImageResult, Status};
pub use runtime::Runtime;
pub use settings::{EngineSettings, ProviderChoice};
