//! ONNX Runtime: finding and loading the library once per process, and
//! building sessions on the best execution provider available.

pub mod assignment;
pub mod diagnosis;
pub mod fetch;
pub mod gpu_libs;
pub mod locate;
pub mod providers;
pub mod trt_cache;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use serde::Serialize;

pub use assignment::EpAssignment;
pub use locate::{LocateError, LocatedRuntime, RuntimeSource};
pub use providers::{Fallback, ShapeProfile};

use crate::manifest::ModelBundle;
use crate::settings::{EngineSettings, ProviderChoice};

/// The loaded ONNX Runtime. ort can load one library per process, so this is global.
pub struct Runtime {
    environment: Environment,
    pub located: LocatedRuntime,
    pub compiled_providers: Vec<String>,
}

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

impl Runtime {
    /// Finds and loads ONNX Runtime, or returns the one already loaded.
    pub fn init(explicit: Option<&Path>) -> Result<Arc<Runtime>> {
        let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(runtime) = slot.as_ref() {
            return Ok(runtime.clone());
        }
        let located = locate::locate(explicit)?;
        let environment = ort::init_from(&located.path)
            .map_err(|e| anyhow!("loading {}: {e}", located.path.display()))?
            .with_name("genderlens")
            .build()
            .map_err(|e| anyhow!("starting ONNX Runtime {}: {e}", located.version))?;
        let compiled_providers = providers::compiled_providers().unwrap_or_default();
        let runtime = Arc::new(Runtime {
            environment,
            located,
            compiled_providers,
        });
        *slot = Some(runtime.clone());
        Ok(runtime)
    }

    /// Like [`Runtime::init`], but on a machine with no runtime at all, fetches
    /// the CPU build first (the first-start path of a fresh install).
    pub fn init_or_fetch(explicit: Option<&Path>, log: impl FnMut(&str)) -> Result<Arc<Runtime>> {
        // One fetch at a time: threads that lose the race find the runtime in place.
        static FETCH: Mutex<()> = Mutex::new(());
        let _fetching = FETCH.lock().unwrap_or_else(|e| e.into_inner());
        match Self::init(explicit) {
            Ok(runtime) => Ok(runtime),
            Err(e) if matches!(e.downcast_ref(), Some(LocateError::NotFound(_))) => {
                let mut log = log;
                log(&format!("{e}"));
                log("Fetching the CPU build of ONNX Runtime (first start only)…");
                fetch::fetch_runtime(fetch::RuntimeBuild::Cpu, fetch::DEFAULT_VERSION, &mut log)?;
                Self::init(explicit)
            }
            Err(e) => Err(e),
        }
    }

    /// Builds a session for one model on the providers `settings` ask for, and
    /// reports where ONNX Runtime actually placed its nodes.
    pub fn session(
        &self,
        model: &ModelToLoad<'_>,
        settings: &EngineSettings,
    ) -> Result<(Session, SessionReport)> {
        let trt = providers::TensorRtOptions {
            cache_dir: self.engine_dir(model, settings)?,
            fp16: settings.fp16,
            profile: model.profile.clone(),
        };
        let first_engine_build =
            self.may_use_tensorrt(settings) && trt_cache::is_empty(&trt.cache_dir);

        let mut builder = Session::builder(&self.environment)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(builder_error)?
            .with_intra_threads(settings.threads_per_session)
            .map_err(builder_error)?
            .with_inter_threads(1)
            .map_err(builder_error)?
            // Inputs change shape from photo to photo (letterbox sizes, face
            // batches), so ONNX Runtime would plan and keep one memory pattern
            // per shape: about 100 MiB more peak memory, for no measurable speed.
            .with_memory_pattern(false)
            .map_err(builder_error)?
            .with_config_entry(assignment::RECORD_ASSIGNMENT_KEY, "1")
            .map_err(builder_error)?
            // Denormal activations are slow on x86 CPUs and change no answer here
            // (the parity and 1e-5 classifier tests hold with this on).
            .with_flush_to_zero()
            .map_err(builder_error)?;
        let fallbacks = providers::register(&mut builder, settings.provider, &trt)?;
        let session = builder
            .commit_from_memory(model.bytes)
            .with_context(|| format!("loading the {} model", model.name))?;
        let assignment = assignment::ep_assignment(&session)
            .with_context(|| format!("reading where the {} model runs", model.name))?;
        if settings.provider != ProviderChoice::Cpu
            && settings.provider != ProviderChoice::Auto
            && !assignment.uses_gpu()
        {
            return Err(anyhow!(
                "{:?} was requested, but ONNX Runtime placed every node of the {} model on the CPU",
                settings.provider,
                model.name
            ));
        }
        let report = SessionReport {
            model: model.name.to_string(),
            assignment,
            fallbacks,
            tensorrt_cache: trt.cache_dir,
            first_engine_build,
        };
        Ok((session, report))
    }

    /// Whether building a session for `model` will first build a TensorRT
    /// engine (seconds to minutes), so callers can show it as its own step.
    pub fn engine_build_pending(&self, model: &ModelToLoad<'_>, settings: &EngineSettings) -> bool {
        self.may_use_tensorrt(settings)
            && self
                .engine_dir(model, settings)
                .map_or(true, |dir| trt_cache::is_empty(&dir))
    }

    fn may_use_tensorrt(&self, settings: &EngineSettings) -> bool {
        matches!(
            settings.provider,
            ProviderChoice::Auto | ProviderChoice::Tensorrt
        ) && self.has_provider("TensorrtExecutionProvider")
    }

    fn engine_dir(&self, model: &ModelToLoad<'_>, settings: &EngineSettings) -> Result<PathBuf> {
        trt_cache::engine_dir(
            model.sha256,
            &model.profile,
            &self.located.version,
            settings.fp16,
        )
    }

    pub fn has_provider(&self, name: &str) -> bool {
        self.compiled_providers.iter().any(|p| p == name)
    }
}

pub struct ModelToLoad<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    /// The shapes TensorRT optimises for.
    pub profile: ShapeProfile,
}

impl<'a> ModelToLoad<'a> {
    /// The face detector: one photo at a time, up to the detector size square.
    pub fn detector(bundle: &'a ModelBundle, settings: &EngineSettings) -> Self {
        let spec = &bundle.manifest.detector;
        let size = settings.detector_size as usize;
        let min = spec.input.size_multiple as usize;
        Self {
            name: &spec.name,
            bytes: &bundle.detector_bytes,
            sha256: &spec.sha256,
            profile: ShapeProfile::new(
                &spec.input.name,
                [1, 3, min, min],
                // Most photos are landscape 4:3 once letterboxed.
                [1, 3, size * 3 / 4 / min * min, size],
                [1, 3, size, size],
            ),
        }
    }

    /// gender-v1: batches of 1 to the batch limit, twice that with mirrors.
    pub fn classifier(bundle: &'a ModelBundle, settings: &EngineSettings) -> Self {
        let spec = &bundle.manifest.classifier;
        let rows = settings.max_batch * per_face(settings.model.needs().mirrored_gender_chip);
        Self::chips(
            &spec.name,
            &bundle.classifier_bytes,
            &spec.sha256,
            &spec.input.name,
            spec.chip.size,
            rows,
        )
    }

    /// age-v1: one chip per face.
    pub fn age(bundle: &'a ModelBundle, settings: &EngineSettings) -> Self {
        let spec = &bundle.manifest.age;
        Self::chips(
            &spec.name,
            &bundle.age_bytes,
            &spec.sha256,
            &spec.input.name,
            spec.chip.size,
            settings.max_batch,
        )
    }

    /// face-api: every crop with its mirror image.
    pub fn faceapi(bundle: &'a ModelBundle, settings: &EngineSettings) -> Self {
        let spec = &bundle.manifest.faceapi;
        Self::chips(
            &spec.name,
            &bundle.faceapi_bytes,
            &spec.sha256,
            &spec.input.name,
            spec.crop.size,
            settings.max_batch * per_face(true),
        )
    }

    fn chips(
        name: &'a str,
        bytes: &'a [u8],
        sha256: &'a str,
        input: &str,
        size: u32,
        rows: usize,
    ) -> Self {
        let size = size as usize;
        Self {
            name,
            bytes,
            sha256,
            profile: ShapeProfile::new(
                input,
                [1, 3, size, size],
                [rows, 3, size, size],
                [rows, 3, size, size],
            ),
        }
    }
}

/// Inputs per face for a model that also sees the mirror image, or not.
fn per_face(mirrored: bool) -> usize {
    if mirrored { 2 } else { 1 }
}

/// Where one model runs, and which providers were skipped on the way there.
#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    pub model: String,
    pub assignment: EpAssignment,
    pub fallbacks: Vec<Fallback>,
    pub tensorrt_cache: PathBuf,
    /// TensorRT had no cached engine, so this start built one.
    pub first_engine_build: bool,
}

impl SessionReport {
    /// One line for logs and summaries, e.g. `gender-v1: CPUExecutionProvider (26 nodes); CUDA not used: …`.
    pub fn summary(&self) -> String {
        let mut line = format!("{}: {}", self.model, self.assignment);
        for fallback in &self.fallbacks {
            line.push_str(&format!(
                "; {} not used: {}",
                fallback.provider,
                first_line(&fallback.reason).trim_end_matches('.')
            ));
        }
        line
    }
}

/// ort's builder errors carry the builder, which cannot cross threads; keep the message.
fn builder_error(e: ort::Error<ort::session::builder::SessionBuilder>) -> anyhow::Error {
    anyhow!("{e}")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
