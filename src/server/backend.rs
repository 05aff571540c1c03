//! What the gateway forwards uploads to: the in-process engine, or a remote
//! Triton server (or another gateway).

use std::time::Duration;

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

#[derive(Debug, Serialize)]
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
}

impl RemoteBackend {
    pub fn new(remote: Remote) -> Self {
        Self { remote }
    }
}

impl PredictBackend for RemoteBackend {
    fn predict(&self, name: &str, image: Vec<u8>) -> Result<ImageResult, PredictError> {
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

    fn health(&self) -> BackendHealth {
        let checks = self.remote.check();
        BackendHealth {
            ready: checks.iter().all(|c| c.ok),
            backend: self.remote.provenance(),
            detail: checks
                .iter()
                .map(|c| format!("{}: {}", c.name, c.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}
