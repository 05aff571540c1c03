//! Why one photo has no answer, sorted by whose fault it is, so that callers
//! can branch on it: the gateway picks its HTTP status from the kind, the
//! desktop app its wording.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The photo itself is bad: unreadable, damaged, too large, not an image.
    Input,
    /// GenderLens failed: the runtime, a model, a malformed model output or a caught panic.
    Internal,
    /// The remote server failed: unreachable, timed out, or answered with an error.
    Upstream,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Internal => "internal",
            Self::Upstream => "upstream",
        }
    }
}

/// One photo's failure: its kind and the message shown for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PhotoError {
    pub kind: ErrorKind,
    pub message: String,
}

impl PhotoError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }
}
