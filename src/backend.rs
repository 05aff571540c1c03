//! Where photos are classified, behind one type: the engine in this process,
//! or a remote Triton server (HTTP or gRPC) or gateway. The desktop app, the
//! command line and the gateway all start batches, classify single uploads,
//! ask for health and record provenance through [`Backend`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::batch::{BatchHandle, Notify, Service, ServiceError};
use crate::engine::{Engine, load_engine};
use crate::export::Provenance;
use crate::postprocess::ImageResult;
use crate::remote::{Remote, RemoteError, RemoteOptions};
use crate::settings::EngineSettings;

/// Why one upload got no answer at all (as opposed to an error result).
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The backend cannot answer now (models not loaded, server down).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Timeout(String),
    /// The upstream server answered, but with a failure of its own.
    #[error("{0}")]
    Upstream(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct BackendHealth {
    pub ready: bool,
    pub backend: String,
    pub detail: String,
}

pub enum Backend {
    Local(LocalBackend),
    Remote(RemoteBackend),
}

impl Backend {
    /// The one bootstrap: the remote server when one is given, else ONNX
    /// Runtime and the models (fetching the runtime on a fresh machine).
    /// `log` hears the slow steps.
    pub fn load(
        settings: EngineSettings,
        remote: Option<RemoteOptions>,
        log: impl FnMut(&str),
    ) -> Result<Self> {
        settings.validate()?;
        match remote {
            Some(options) => Ok(Self::Remote(RemoteBackend::new(
                Remote::connect(options)?,
                settings,
            ))),
            None => Ok(Self::Local(LocalBackend::new(load_engine(settings, log)?))),
        }
    }

    /// Classifies everything under `paths` in the background.
    pub fn start(&self, paths: Vec<PathBuf>, notify: Option<Notify>) -> BatchHandle {
        self.start_with(paths, notify, crate::batch::Setup::default())
    }

    /// Like [`Backend::start`], set up beforehand.
    pub fn start_with(
        &self,
        paths: Vec<PathBuf>,
        notify: Option<Notify>,
        setup: crate::batch::Setup,
    ) -> BatchHandle {
        match self {
            Self::Local(local) => local.engine.start_with(paths, notify, setup),
            Self::Remote(remote) => crate::remote::batch::start_with(
                remote.remote.clone(),
                paths,
                &remote.settings,
                notify,
                setup,
            ),
        }
    }

    /// Classifies one uploaded image; `name` only labels it.
    /// `request_id` travels on to a remote server, so that one request can
    /// be followed through both servers' logs.
    pub fn predict(
        &self,
        name: &str,
        image: Vec<u8>,
        request_id: Option<&str>,
    ) -> Result<ImageResult, PredictError> {
        match self {
            Self::Local(local) => local.predict(name, image),
            Self::Remote(remote) => remote.predict(name, image, request_id),
        }
    }

    pub fn health(&self) -> BackendHealth {
        match self {
            Self::Local(local) => local.health(),
            Self::Remote(remote) => remote.health(),
        }
    }

    /// What results record as their origin, before a batch tells more
    /// (see [`Provenance::observe`]).
    pub fn provenance(&self) -> Provenance {
        match self {
            Self::Local(local) => Provenance {
                backend: "local".into(),
                model: crate::combine::ModelNames::from_manifest(&local.engine.bundle().manifest)
                    .used_by(local.engine.settings().model)
                    .join("+"),
            },
            Self::Remote(remote) => Provenance {
                backend: remote.remote.provenance(),
                model: remote.remote.options().model.clone(),
            },
        }
    }

    /// One line for people: what classifies and where.
    pub fn describe(&self) -> String {
        match self {
            Self::Local(local) => {
                let located = &local.engine.runtime().located;
                format!(
                    "ONNX Runtime {} ({})",
                    located.version,
                    located.path.display()
                )
            }
            Self::Remote(remote) => {
                format!(
                    "{} at {} (photos are sent there)",
                    remote.remote.address().protocol.label(),
                    remote.remote.servers()
                )
            }
        }
    }

    /// Gets ready to answer uploads: each waits at most `request_timeout`,
    /// and the local pipeline's sessions start loading now rather than on
    /// the first request.
    pub fn prepare_to_serve(&mut self, request_timeout: Duration) {
        if let Self::Local(local) = self {
            local.timeout = request_timeout;
            local.service();
        }
    }

    pub fn engine(&self) -> Option<&Engine> {
        match self {
            Self::Local(local) => Some(&local.engine),
            Self::Remote(_) => None,
        }
    }

    pub fn remote(&self) -> Option<&Arc<Remote>> {
        match self {
            Self::Local(_) => None,
            Self::Remote(remote) => Some(&remote.remote),
        }
    }
}

/// The models in this process. Uploads share one long-running pipeline,
/// started on first use.
pub struct LocalBackend {
    engine: Engine,
    service: OnceLock<Service>,
    timeout: Duration,
}

/// How long an upload waits for the local pipeline unless told otherwise.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl LocalBackend {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            service: OnceLock::new(),
            timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    fn service(&self) -> &Service {
        self.service.get_or_init(|| self.engine.serve())
    }

    fn predict(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError> {
        self.service()
            .classify(name, image, self.timeout)
            .map_err(|e| match e {
                ServiceError::Timeout(_) => PredictError::Timeout(e.to_string()),
                ServiceError::Unavailable(_) | ServiceError::Stopped => {
                    PredictError::Unavailable(e.to_string())
                }
            })
    }

    fn health(&self) -> BackendHealth {
        // Asking must not start the serving pipeline: its sessions would sit
        // beside the batches' for good.
        let Some(service) = self.service.get() else {
            return BackendHealth {
                ready: false,
                backend: "local".into(),
                detail: "not serving uploads".into(),
            };
        };
        if let Some(failure) = service.failure() {
            return BackendHealth {
                ready: false,
                backend: "local".into(),
                detail: failure,
            };
        }
        let sessions = service.sessions();
        let detail = if sessions.is_empty() {
            "loading the models".to_string()
        } else {
            sessions
                .iter()
                .map(|s| s.summary())
                .collect::<Vec<_>>()
                .join("; ")
        };
        BackendHealth {
            // Both models (detector and classifier) report when ready.
            ready: sessions.len() >= 2,
            backend: "local".into(),
            detail,
        }
    }
}

/// A remote server (Triton's `gender_ensemble`, or a gateway).
pub struct RemoteBackend {
    remote: Arc<Remote>,
    /// How files are listed and read before they are sent.
    settings: EngineSettings,
    /// The last health checks: a probe every few seconds must not cost three
    /// upstream calls each time. Forgotten as soon as a request fails.
    last_health: Mutex<Option<(Instant, BackendHealth)>>,
}

/// How long a healthy answer is reused.
const HEALTH_TTL: Duration = Duration::from_secs(2);

impl RemoteBackend {
    pub fn new(remote: Remote, settings: EngineSettings) -> Self {
        Self {
            remote: Arc::new(remote),
            settings,
            last_health: Mutex::new(None),
        }
    }

    fn cached_health(&self) -> std::sync::MutexGuard<'_, Option<(Instant, BackendHealth)>> {
        self.last_health.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn predict(
        &self,
        name: &str,
        image: Vec<u8>,
        request_id: Option<&str>,
    ) -> Result<ImageResult, PredictError> {
        let outcome = self.forward(name, image, request_id);
        if outcome.is_err() {
            *self.cached_health() = None;
        }
        outcome
    }

    fn health(&self) -> BackendHealth {
        if let Some((at, health)) = self.cached_health().clone()
            && health.ready
            && at.elapsed() < HEALTH_TTL
        {
            return health;
        }
        let checks = self.remote.check();
        let health = BackendHealth {
            ready: checks.iter().all(|c| c.ok),
            backend: self.remote.provenance(),
            detail: checks
                .iter()
                .map(|c| format!("{}: {}", c.name, c.message))
                .collect::<Vec<_>>()
                .join("; "),
        };
        *self.cached_health() = Some((Instant::now(), health.clone()));
        health
    }

    fn forward(
        &self,
        name: &str,
        image: Vec<u8>,
        request_id: Option<&str>,
    ) -> Result<ImageResult, PredictError> {
        let max_file_bytes = self.settings.max_file_bytes();
        let image = match crate::remote::Upload::memory(image, max_file_bytes) {
            Ok(image) => image.with_request_id(request_id),
            Err(error) => return Ok(ImageResult::failed(0, name.into(), error)),
        };
        let servers = self.remote.servers();
        let described = |e: &RemoteError| format!("{e} ({servers})");
        match self
            .remote
            .try_classify(&image)
            .and_then(|json| crate::remote::answer::parse_answer(&json, 0, name.into()))
        {
            Ok(result) => Ok(result),
            // The image itself was refused: the upload is at fault.
            Err(e @ (RemoteError::Rejected(_) | RemoteError::Unreadable(_))) => Ok(
                ImageResult::failed(0, name.into(), e.into_photo_error(&servers)),
            ),
            Err(e @ (RemoteError::Connect(_) | RemoteError::Unavailable(_))) => {
                Err(PredictError::Unavailable(described(&e)))
            }
            Err(e @ RemoteError::Timeout(_)) => Err(PredictError::Timeout(described(&e))),
            Err(
                e @ (RemoteError::Server(_) | RemoteError::Protocol(_) | RemoteError::Denied(_)),
            ) => Err(PredictError::Upstream(described(&e))),
        }
    }
}
