//! What the gateway forwards uploads to. Today that is the in-process engine;
//! remote Triton backends implement the same trait.

use std::time::Duration;

use serde::Serialize;

use crate::engine::Service;
use crate::engine::service::ServiceError;
use crate::postprocess::ImageResult;

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The backend cannot answer now (models not loaded, server down).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Timeout(String),
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
