//! What the gateway forwards uploads to: the in-process engine, or a remote
//! Triton server (or another gateway).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::engine::Service;
use crate::engine::service::ServiceError;
use crate::postprocess::ImageResult;
use crate::remote::{Remote, RemoteError};

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

pub trait PredictBackend: Send + Sync {
    fn predict(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError>;
    fn health(&self) -> BackendHealth;
}

/// The models in this process, shared by all requests.
pub struct LocalBackend {
    service: Service,
    timeout: Duration,
}

impl LocalBackend {
    pub fn new(service: Service, timeout: Duration) -> Self {
        Self { service, timeout }
    }
}

impl PredictBackend for LocalBackend {
    fn predict(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError> {
        self.service
            .classify(name, image, self.timeout)
            .map_err(|e| match e {
                ServiceError::Timeout(_) => PredictError::Timeout(e.to_string()),
                ServiceError::Unavailable(_) | ServiceError::Stopped => {
                    PredictError::Unavailable(e.to_string())
                }
            })
    }

    fn health(&self) -> BackendHealth {
        if let Some(failure) = self.service.failure() {
            return BackendHealth {
                ready: false,
                backend: "local".into(),
                detail: failure,
            };
        }
        let sessions = self.service.sessions();
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

/// Forwards each upload to a remote server (Triton's `gender_ensemble`, or a gateway).
pub struct RemoteBackend {
    remote: Remote,
    /// The last health checks: a probe every few seconds must not cost three
    /// upstream calls each time. Forgotten as soon as a request fails.
    last_health: Mutex<Option<(Instant, BackendHealth)>>,
}

/// How long a healthy answer is reused.
const HEALTH_TTL: Duration = Duration::from_secs(2);

impl RemoteBackend {
    pub fn new(remote: Remote) -> Self {
        Self {
            remote,
            last_health: Mutex::new(None),
        }
    }

    fn forget_health(&self) {
        *self.last_health.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl PredictBackend for RemoteBackend {
    fn predict(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError> {
        let outcome = self.forward(name, image);
        if outcome.is_err() {
            self.forget_health();
        }
        outcome
    }

    fn health(&self) -> BackendHealth {
        if let Some((at, health)) = self.cached_health()
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
        *self.last_health.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), health.clone()));
        health
    }
}

impl RemoteBackend {
    fn cached_health(&self) -> Option<(Instant, BackendHealth)> {
        self.last_health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn forward(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError> {
        let address = self.remote.address();
        match self.remote.try_classify(&image) {
            Ok(json) => crate::remote::answer::parse_answer(&json, 0, name.into())
                .map_err(|e| PredictError::Upstream(format!("{e} ({address})"))),
            // The image itself was refused: the client's upload is at fault.
            Err(RemoteError::Rejected(message)) => Ok(ImageResult::failed(0, name.into(), message)),
            Err(e @ (RemoteError::Connect(_) | RemoteError::Unavailable(_))) => {
                Err(PredictError::Unavailable(format!("{e} ({address})")))
            }
            Err(e @ RemoteError::Timeout(_)) => {
                Err(PredictError::Timeout(format!("{e} ({address})")))
            }
            Err(e @ (RemoteError::Server(_) | RemoteError::Protocol(_))) => {
                Err(PredictError::Upstream(format!("{e} ({address})")))
            }
        }
    }
}
