//! The GenderLens application on top of [`genderlens_core`]: the desktop
//! window ([`gui`]), the command line ([`cli`]), the `/predict` gateway
//! ([`server`]), the [`remote`] Triton and gateway clients, and the one
//! [`backend`] they all classify through.

pub mod backend;
pub mod cli;
#[cfg(feature = "gui")]
pub mod gui;
pub mod remote;
pub mod server;
pub mod settings_store;

// The core's modules under their own names, so the app and its tests read
// `genderlens::engine`, `genderlens::export` and so on.
pub use genderlens_core::{
    BatchHandle, Engine, EngineEvent, EngineSettings, ErrorKind, FaceResult, Gender, ImageResult,
    ModelBundle, ModelChoice, PhotoError, ProviderChoice, Runtime, Status, Summary,
};
pub use genderlens_core::{
    batch, combine, engine, error, export, labels, library, manifest, memory, model, paths,
    postprocess, preprocess, runtime, settings, stability,
};
