//! The one way every front end (window, command line, server) gets an
//! engine: ONNX Runtime (fetched on a fresh machine), then the models, then
//! the engine over both.

use std::sync::Arc;

use anyhow::Result;

use super::Engine;
use crate::manifest::ModelBundle;
use crate::runtime::Runtime;
use crate::settings::EngineSettings;

/// Loads the runtime and the models for `settings`; `log` hears each slow
/// step (a first-start fetch of ONNX Runtime, for one).
pub fn load_engine(settings: EngineSettings, log: impl FnMut(&str)) -> Result<Engine> {
    settings.validate()?;
    let runtime = Runtime::init_or_fetch(settings.ort_dylib.as_deref(), log)?;
    let bundle = Arc::new(ModelBundle::locate(settings.models_dir.as_deref())?);
    Engine::new(runtime, bundle, settings)
}
