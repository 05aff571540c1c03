//! Everything `genderlens doctor` (and the app's runtime panel) reports:
//! the runtime found, its providers, where each model really runs, the GPU
//! libraries by file name, and the cache folders.

use std::path::PathBuf;

use serde::Serialize;

use super::gpu_libs::{LibraryCheck, check_gpu_libraries};
use super::{ModelToLoad, Runtime, SessionReport};
use crate::manifest::ModelBundle;
use crate::settings::EngineSettings;

#[derive(Debug)]
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
    // Every model the app may run, whichever --model is chosen now.
    let models = [
        ModelToLoad::detector(bundle, settings),
        ModelToLoad::classifier(bundle, settings),
        ModelToLoad::age(bundle, settings),
        ModelToLoad::faceapi(bundle, settings),
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

/// Version of the `doctor --json` schema below; raised on any change that
/// is not a new field.
pub const REPORT_SCHEMA: u32 = 1;

/// `genderlens doctor --json`, as the README documents it: every check is an
/// object with `ok`, and either its facts or an `error`.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub schema: u32,
    /// The runtime, the models and every session are usable.
    pub healthy: bool,
    pub runtime: Checked<&'a RuntimeFacts>,
    pub models: Checked<ModelsFacts<'a>>,
    pub sessions: Vec<Checked<&'a SessionReport>>,
    pub gpu_libraries: &'a [LibraryCheck],
    pub cache_dir: Option<&'a PathBuf>,
    pub data_dir: Option<&'a PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct ModelsFacts<'a> {
    pub dir: &'a PathBuf,
}

/// One check: `{"ok": true, …facts}` or `{"ok": false, "error": "…"}`.
#[derive(Debug, Serialize)]
pub struct Checked<T> {
    pub ok: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub facts: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl<T> Checked<T> {
    fn from_result<'a, U>(result: &'a Result<U, String>, facts: impl FnOnce(&'a U) -> T) -> Self {
        match result {
            Ok(value) => Self {
                ok: true,
                facts: Some(facts(value)),
                error: None,
            },
            Err(error) => Self {
                ok: false,
                facts: None,
                error: Some(error.clone()),
            },
        }
    }
}

impl Diagnosis {
    pub fn is_healthy(&self) -> bool {
        self.runtime.is_ok() && self.models_dir.is_ok() && self.sessions.iter().all(|s| s.is_ok())
    }

    pub fn report(&self) -> Report<'_> {
        Report {
            schema: REPORT_SCHEMA,
            healthy: self.is_healthy(),
            runtime: Checked::from_result(&self.runtime, |r| r),
            models: Checked::from_result(&self.models_dir, |dir| ModelsFacts { dir }),
            sessions: self
                .sessions
                .iter()
                .map(|s| Checked::from_result(s, |r| r))
                .collect(),
            gpu_libraries: &self.gpu_libraries,
            cache_dir: self.cache_dir.as_ref(),
            data_dir: self.data_dir.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_each_outcome_plainly() {
        let diagnosis = Diagnosis {
            runtime: Err("no runtime".into()),
            models_dir: Ok(PathBuf::from("/models")),
            sessions: Vec::new(),
            gpu_libraries: Vec::new(),
            cache_dir: None,
            data_dir: None,
        };
        let json = serde_json::to_value(diagnosis.report()).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["healthy"], false);
        assert_eq!(
            json["runtime"],
            serde_json::json!({"ok": false, "error": "no runtime"})
        );
        assert_eq!(
            json["models"],
            serde_json::json!({"ok": true, "dir": "/models"})
        );
        assert!(json.get("Ok").is_none() && json["runtime"].get("Err").is_none());
    }
}
