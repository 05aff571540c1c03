//! Everything `genderlens doctor` (and the app's runtime panel) reports:
//! the runtime found, its providers, where each model really runs, the GPU
//! libraries by file name, and the cache folders.

use std::path::PathBuf;

use serde::Serialize;

use super::gpu_libs::{LibraryCheck, check_gpu_libraries};
use super::{ModelToLoad, Runtime, SessionReport};
use crate::manifest::ModelBundle;
use crate::settings::EngineSettings;

#[derive(Debug, Serialize)]
pub struct Diagnosis {
    /// The runtime in use, or why none is (naming every candidate passed over).
    pub runtime: Result<RuntimeFacts, String>,
    pub models_dir: Result<PathBuf, String>,
    pub sessions: Vec<Result<SessionReport, String>>,
    pub gpu_libraries: Vec<LibraryCheck>,
    pub cache_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct RuntimeFacts {
    pub path: PathBuf,
    pub version: String,
    pub found_via: String,
    pub compiled_providers: Vec<String>,
}

pub fn diagnose(settings: &EngineSettings) -> Diagnosis {
    let runtime = Runtime::init(settings.ort_dylib.as_deref()).map_err(|e| format!("{e:#}"));
    let bundle = ModelBundle::locate(settings.models_dir.as_deref()).map_err(|e| format!("{e:#}"));
    let sessions = match (&runtime, &bundle) {
        (Ok(runtime), Ok(bundle)) => model_sessions(runtime, bundle, settings),
        _ => Vec::new(),
    };
    Diagnosis {
        runtime: runtime.map(|r| RuntimeFacts {
            path: r.located.path.clone(),
            version: r.located.version.clone(),
            found_via: r.located.source.to_string(),
            compiled_providers: r.compiled_providers.clone(),
        }),
        models_dir: bundle.map(|b| b.dir),
        sessions,
        gpu_libraries: check_gpu_libraries(),
        cache_dir: crate::paths::cache_dir(),
        data_dir: crate::paths::data_dir(),
    }
}

fn model_sessions(
    runtime: &Runtime,
    bundle: &ModelBundle,
    settings: &EngineSettings,
) -> Vec<Result<SessionReport, String>> {
    let models = [
        ModelToLoad::detector(bundle, settings),
        ModelToLoad::classifier(bundle, settings),
    ];
    models
        .iter()
        .map(|m| {
            runtime
                .session(m, settings)
                .map(|(_, report)| report)
                .map_err(|e| format!("{}: {e:#}", m.name))
        })
        .collect()
}
