//! What makes a stored answer still valid for a photo: the file is the same
//! (size and modification time, or failing that the same content), and it
//! was classified the same way (the settings fingerprint).

use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::settings::EngineSettings;

/// A file as it is on disk now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    /// Nanoseconds since the Unix epoch (0 where the system has no mtime).
    pub mtime_ns: i64,
}

impl FileStamp {
    pub fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Ok(Self {
            size: meta.len(),
            mtime_ns,
        })
    }
}

/// XXH3-128 of the file's bytes, as 32 hex digits: fast enough to take for
/// every photo (a 4 MB JPEG in well under a millisecond), and only compared
/// when a photo's modification time changed but its size did not.
pub fn content_hash(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// What changes the answers: the backend and models that classify, and the
/// settings that move boxes, scores or labels. The execution provider is
/// left out on purpose: every provider must give the same answers, and a
/// user switching from CPU to GPU should not pay for a full re-run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The settings as JSON, kept with each run for people to read.
    pub settings: String,
    /// A short hash of `settings`, kept with each photo.
    pub hash: String,
}

#[derive(Serialize)]
struct Inputs<'a> {
    backend: &'a str,
    model: &'a str,
    models: &'a str,
    detector_size: u32,
    detection_threshold: f32,
    min_face_px: f32,
    uncertain_below: f32,
    fp16: bool,
}

impl Fingerprint {
    /// `backend` is where photos are classified ("local", or the server's
    /// address); `models` the model names answers carry.
    pub fn new(backend: &str, models: &str, settings: &EngineSettings) -> Self {
        let inputs = Inputs {
            backend: if backend.starts_with("local") {
                "local"
            } else {
                backend
            },
            model: settings.model.as_str(),
            models,
            detector_size: settings.detector_size,
            detection_threshold: settings.detection_threshold,
            min_face_px: settings.min_face_px,
            uncertain_below: settings.uncertain_below,
            fp16: settings.fp16,
        };
        let settings = serde_json::to_string(&inputs).unwrap_or_default();
        let digest = Sha256::digest(settings.as_bytes());
        let hash = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { settings, hash }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_that_change_answers_change_the_fingerprint_and_the_provider_does_not() {
        let base = EngineSettings::default();
        let same = Fingerprint::new("local", "gender-v1", &base);
        let on_gpu = EngineSettings {
            provider: crate::settings::ProviderChoice::Tensorrt,
            ..base.clone()
        };
        assert_eq!(Fingerprint::new("local:cuda", "gender-v1", &on_gpu), same);
        let coarser = EngineSettings {
            detector_size: 320,
            ..base.clone()
        };
        assert_ne!(Fingerprint::new("local", "gender-v1", &coarser), same);
        let dlib = EngineSettings {
            model: crate::settings::ModelChoice::Dlib,
            ..base.clone()
        };
        assert_ne!(Fingerprint::new("local", "gender-v1", &dlib), same);
        assert_ne!(
            Fingerprint::new("http://server:8000", "gender-v1", &base),
            same
        );
    }

    #[test]
    fn the_content_hash_follows_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, b"one photo").unwrap();
        std::fs::write(&b, b"one photo").unwrap();
        assert_eq!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
        std::fs::write(&b, b"one photx").unwrap();
        assert_ne!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
        assert_eq!(content_hash(&a).unwrap().len(), 32);
    }
}
