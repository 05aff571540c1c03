//! What can go wrong talking to a remote backend, sorted by what to do
//! about it: retry (connection refused, 503), or report for this one image.

use std::time::Duration;

use genderlens_core::PhotoError;

use super::address::SCHEMES;

/// Why a remote backend cannot be set up from the user's settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetupError {
    #[error("`{text}` is not a server address ({reason}); use {SCHEMES}")]
    NotAnAddress { text: String, reason: String },
    #[error("unknown scheme `{0}://`; use {SCHEMES}")]
    UnknownScheme(String),
    #[error("`{0}` names no host")]
    NoHost(String),
    #[error("the model name is empty")]
    EmptyModel,
    #[error("the timeout must be above 0 s, got {0}")]
    Timeout(f64),
    #[error("requests in flight must be 1 to 256, got {0}")]
    InFlight(usize),
    #[error("cannot set up the connection: {0}")]
    Client(String),
    #[error(
        "several servers are balanced over gRPC only (triton-grpc://); for HTTP or gateways, \
         put one proxy in front of them and give its address"
    )]
    SeveralNeedGrpc,
    #[error("no server address given")]
    NoAddress,
    #[error("{0} is in the list twice")]
    Twice(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot reach the server: {0}")]
    Connect(String),
    #[error("the server is not ready: {0}")]
    Unavailable(String),
    #[error("no answer from the server within {0:?}")]
    Timeout(Duration),
    #[error("the server refused this image: {0}")]
    Rejected(String),
    /// Not about the image: a missing model, an unknown route, a token the
    /// server does not accept.
    #[error("the server denied the request: {0}")]
    Denied(String),
    #[error("the server failed on this image: {0}")]
    Server(String),
    #[error("the server's answer makes no sense: {0}")]
    Protocol(String),
    /// The photo could not be read while it was being sent.
    #[error("cannot read file: {0}")]
    Unreadable(String),
}

impl RemoteError {
    /// The photo's failure: a refused image is the photo's fault, anything
    /// else the server's.
    pub fn into_photo_error(self, address: &impl std::fmt::Display) -> PhotoError {
        let message = format!("{self} ({address})");
        match self {
            Self::Rejected(_) => PhotoError::input(message),
            Self::Unreadable(_) => PhotoError::input(self.to_string()),
            _ => PhotoError::upstream(message),
        }
    }

    /// Only failures that another attempt can fix; a 4xx never is.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Unavailable(_))
    }

    /// Sorts an HTTP status that is not success, with the server's message.
    pub fn from_http_status(status: u16, message: String) -> Self {
        match status {
            503 => Self::Unavailable(message),
            401 | 403 | 404 | 405 | 407 => Self::Denied(format!("HTTP {status}: {message}")),
            400..=499 => Self::Rejected(format!("HTTP {status}: {message}")),
            _ => Self::Server(format!("HTTP {status}: {message}")),
        }
    }
}

/// The error text inside a JSON error body (`{"error": "..."}`), else the body itself.
pub fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                "no details given".into()
            } else {
                text.chars().take(300).collect()
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_failures_and_503_are_retried() {
        assert!(RemoteError::from_http_status(503, "x".into()).is_retryable());
        assert!(!RemoteError::from_http_status(400, "x".into()).is_retryable());
        assert!(!RemoteError::from_http_status(500, "x".into()).is_retryable());
        assert!(RemoteError::Connect("refused".into()).is_retryable());
        assert!(!RemoteError::Timeout(Duration::from_secs(1)).is_retryable());
    }

    #[test]
    fn only_a_refused_image_is_the_photos_fault() {
        let kind = |e: RemoteError| e.into_photo_error(&"server").kind;
        use genderlens_core::ErrorKind::{Input, Upstream};
        assert_eq!(kind(RemoteError::from_http_status(400, "x".into())), Input);
        assert_eq!(kind(RemoteError::from_http_status(422, "x".into())), Input);
        assert_eq!(
            kind(RemoteError::from_http_status(401, "x".into())),
            Upstream
        );
        assert_eq!(
            kind(RemoteError::from_http_status(404, "x".into())),
            Upstream
        );
        assert_eq!(
            kind(RemoteError::from_http_status(500, "x".into())),
            Upstream
        );
        assert_eq!(kind(RemoteError::Timeout(Duration::from_secs(1))), Upstream);
    }

    #[test]
    fn error_bodies_give_their_message() {
        assert_eq!(error_message(br#"{"error":"bad image"}"#), "bad image");
        assert_eq!(error_message(b"  plain text "), "plain text");
        assert_eq!(error_message(b""), "no details given");
    }
}
