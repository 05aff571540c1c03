//! Engine settings shared by the CLI and the desktop app.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which execution provider to ask ONNX Runtime for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ProviderChoice {
    /// TensorRT, then CUDA, then CPU: whatever this machine can run.
    #[default]
    Auto,
    /// TensorRT only; fail if it cannot be used.
    Tensorrt,
    /// CUDA only; fail if it cannot be used.
    Cuda,
    Cpu,
}

/// Which models classify each face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ModelChoice {
    /// dlib's and face-api's models together, each also on the mirror image.
    #[default]
    Ensemble,
    /// dlib's gender-v1 and age-v1 alone, on the aligned chips.
    Dlib,
    /// face-api.js's AgeGenderNet alone, on the crop and its mirror image.
    Faceapi,
}

/// The face inputs a [`ModelChoice`] needs cut and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelNeeds {
    pub gender_chip: bool,
    pub mirrored_gender_chip: bool,
    pub age_chip: bool,
    pub faceapi_crop: bool,
}

impl ModelChoice {
    pub const ALL: [ModelChoice; 3] = [Self::Ensemble, Self::Dlib, Self::Faceapi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ensemble => "ensemble",
            Self::Dlib => "dlib",
            Self::Faceapi => "faceapi",
        }
    }

    pub fn needs(self) -> ModelNeeds {
        let dlib = matches!(self, Self::Ensemble | Self::Dlib);
        ModelNeeds {
            gender_chip: dlib,
            mirrored_gender_chip: self == Self::Ensemble,
            age_chip: dlib,
            faceapi_crop: matches!(self, Self::Ensemble | Self::Faceapi),
        }
    }
}

impl std::fmt::Display for ModelChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineSettings {
    /// Which models classify each face.
    pub model: ModelChoice,
    pub provider: ProviderChoice,
    /// Half precision for TensorRT engines; changes scores slightly.
    pub fp16: bool,
    /// Most faces per model run (a mirrored input rides along with its face).
    pub max_batch: usize,
    /// Longest side of the detector input, a multiple of 32.
    pub detector_size: u32,
    pub detection_threshold: f32,
    /// Faces whose shorter box side is below this many pixels are ignored.
    pub min_face_px: f32,
    /// A face whose label probability is below this is reported as uncertain.
    pub uncertain_below: f32,
    /// Images above this many megapixels are refused before decoding.
    pub max_megapixels: f64,
    /// Files above this size are refused before reading.
    pub max_file_mb: u64,
    /// Memory all decoding may hold at once (pixels being decoded, rotated,
    /// converted, and waiting for the detector); a decode waits for room,
    /// and an image that alone needs more is refused.
    pub max_decode_memory_mb: u64,
    /// Follow symbolic links that lead out of a folder being walked (links
    /// into /proc, /sys and /dev never are).
    pub follow_symlinks: bool,
    pub decode_workers: usize,
    pub detect_workers: usize,
    /// ONNX Runtime intra-op threads per session.
    pub threads_per_session: usize,
    /// An ONNX Runtime library to use instead of searching for one.
    pub ort_dylib: Option<PathBuf>,
    /// A models folder to use instead of searching for one.
    pub models_dir: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            model: ModelChoice::Ensemble,
            provider: ProviderChoice::Auto,
            fp16: false,
            max_batch: 64,
            detector_size: 640,
            detection_threshold: 0.5,
            min_face_px: 20.0,
            uncertain_below: 0.6,
            max_megapixels: 100.0,
            max_file_mb: 512,
            max_decode_memory_mb: 512,
            follow_symlinks: false,
            decode_workers: (cores / 2).clamp(1, 8),
            // Each detect worker holds a session (GPU memory on a GPU), so
            // beyond four the cores go to ONNX Runtime's own threads instead.
            detect_workers: cores.clamp(1, 4),
            threads_per_session: (cores / cores.clamp(1, 4)).max(1),
            ort_dylib: None,
            models_dir: None,
        }
    }
}

/// A setting the pipeline cannot honour.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("detector size must be a positive multiple of 32, got {0}")]
    DetectorSize(u32),
    #[error("batch size must be at least 1")]
    BatchSize,
    #[error("detection threshold must be between 0 and 1, got {0}")]
    DetectionThreshold(f32),
    #[error("the uncertain threshold must be between 0.5 and 1, got {0}")]
    UncertainBelow(f32),
    #[error("the megapixel limit must be positive, got {0}")]
    MaxMegapixels(f64),
    #[error("the file size limit must be at least 1 MB")]
    MaxFileSize,
    #[error("the decoding memory limit must be at least 64 MB, got {0} MB")]
    DecodeMemory(u64),
    #[error("worker and thread counts must be at least 1")]
    Workers,
}

impl EngineSettings {
    /// Rejects values the pipeline cannot honour, naming the setting.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.detector_size < 32 || !self.detector_size.is_multiple_of(32) {
            return Err(SettingsError::DetectorSize(self.detector_size));
        }
        if self.max_batch == 0 {
            return Err(SettingsError::BatchSize);
        }
        if !(0.0..=1.0).contains(&self.detection_threshold) {
            return Err(SettingsError::DetectionThreshold(self.detection_threshold));
        }
        if !(0.5..=1.0).contains(&self.uncertain_below) {
            return Err(SettingsError::UncertainBelow(self.uncertain_below));
        }
        if self.max_megapixels.is_nan() || self.max_megapixels <= 0.0 {
            return Err(SettingsError::MaxMegapixels(self.max_megapixels));
        }
        if self.max_file_mb == 0 {
            return Err(SettingsError::MaxFileSize);
        }
        if self.max_decode_memory_mb < 64 {
            return Err(SettingsError::DecodeMemory(self.max_decode_memory_mb));
        }
        if self.decode_workers == 0 || self.detect_workers == 0 || self.threads_per_session == 0 {
            return Err(SettingsError::Workers);
        }
        Ok(())
    }

    /// Files above this many bytes are refused before they are read, by the
    /// pipeline, the thumbnails and the remote clients alike.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_mb.saturating_mul(1024 * 1024)
    }

    pub fn max_decode_memory_bytes(&self) -> u64 {
        self.max_decode_memory_mb.saturating_mul(1024 * 1024)
    }
}
