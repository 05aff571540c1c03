//! The model manifest (`models/manifest.json`): the single place that states
//! tensor names, shapes, normalisation, labels and chip geometry.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::labels::Labels;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MODELS_DIR_ENV: &str = "GENDERLENS_MODELS";

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub detector: DetectorSpec,
    pub landmarks: LandmarkSpec,
    pub classifier: ClassifierSpec,
    pub age: AgeSpec,
    pub faceapi: FaceApiSpec,
}

/// dlib's 5-point shape predictor, run inside each detected face.
#[derive(Debug, Clone, Deserialize)]
pub struct LandmarkSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub box_from_detection: BoxFromDetection,
}

/// How a detector box becomes the square box the shape predictor was trained on.
#[derive(Debug, Clone, Deserialize)]
pub struct BoxFromDetection {
    pub side_per_width: f32,
    pub centre_shift_per_height: f32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetectorSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub input: DetectorInput,
    pub outputs: DetectorOutputs,
    pub stride: u32,
    pub nms_iou: f32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetectorInput {
    pub name: String,
    pub size_multiple: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetectorOutputs {
    pub heatmap: String,
    pub scale: String,
    pub offset: String,
    pub landmarks: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassifierSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub input: ClassifierInput,
    pub output: TensorName,
    pub labels: Vec<String>,
    pub chip: ChipSpec,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassifierInput {
    pub name: String,
    pub normalization: Normalization,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Normalization {
    pub means: [f32; 3],
    pub scale: f32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TensorName {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChipSpec {
    pub size: u32,
    pub padding: f64,
    /// Where each landmark sits in dlib's normalised face frame.
    pub template: [[f64; 2]; 5],
}

/// dlib's age predictor: an aligned chip (the classifier's template at its
/// own size) to probabilities over whole years.
#[derive(Debug, Clone, Deserialize)]
pub struct AgeSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub input: ClassifierInput,
    pub output: TensorName,
    /// The age each output class stands for; the expected age weighs each
    /// class's probability by it.
    pub age_weights: Vec<f32>,
    pub chip: ChipSpec,
}

/// face-api.js's AgeGenderNet: a square crop of the detector box to gender
/// probabilities and an age.
#[derive(Debug, Clone, Deserialize)]
pub struct FaceApiSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub input: ClassifierInput,
    pub outputs: FaceApiOutputs,
    /// The gender output's labels, in its order.
    pub gender_labels: Vec<String>,
    pub crop: CropSpec,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FaceApiOutputs {
    pub gender: String,
    pub age: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CropSpec {
    pub size: u32,
}

/// A manifest together with the model bytes it names, verified against their sha256.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub detector_bytes: std::sync::Arc<[u8]>,
    pub classifier_bytes: std::sync::Arc<[u8]>,
    pub landmarks_bytes: std::sync::Arc<[u8]>,
    pub age_bytes: std::sync::Arc<[u8]>,
    pub faceapi_bytes: std::sync::Arc<[u8]>,
    /// The classifier's labels, read and checked once.
    pub labels: Labels,
    /// The same for face-api's gender output.
    pub faceapi_labels: Labels,
}

impl ModelBundle {
    /// Loads the bundle from the first models folder found (see [`models_dir_candidates`]).
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        let candidates = models_dir_candidates(explicit);
        for dir in &candidates {
            if dir.join(MANIFEST_FILE).is_file() {
                return Self::load(dir);
            }
        }
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "the model files were not found; looked for {MANIFEST_FILE} in: {}. Set {MODELS_DIR_ENV} or pass --models DIR",
            tried.join(", ")
        )
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = Manifest::read(dir)?;
        let detector_bytes =
            read_verified(dir, &manifest.detector.file, &manifest.detector.sha256)?;
        let classifier_bytes =
            read_verified(dir, &manifest.classifier.file, &manifest.classifier.sha256)?;
        let landmarks_bytes =
            read_verified(dir, &manifest.landmarks.file, &manifest.landmarks.sha256)?;
        let age_bytes = read_verified(dir, &manifest.age.file, &manifest.age.sha256)?;
        let faceapi_bytes = read_verified(dir, &manifest.faceapi.file, &manifest.faceapi.sha256)?;
        let labels = Labels::from_manifest(&manifest.classifier.labels)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        let faceapi_labels = Labels::from_manifest(&manifest.faceapi.gender_labels)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        if manifest.age.age_weights.is_empty() {
            bail!("{}: the age model names no ages", manifest_path.display());
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            detector_bytes: detector_bytes.into(),
            classifier_bytes: classifier_bytes.into(),
            landmarks_bytes: landmarks_bytes.into(),
            age_bytes: age_bytes.into(),
            faceapi_bytes: faceapi_bytes.into(),
            labels,
            faceapi_labels,
        })
    }
}

impl Manifest {
    /// The manifest in `dir`, without reading the models it names.
    pub fn read(dir: &Path) -> Result<Self> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", manifest_path.display()))
    }
}

/// A model file's bytes, refused unless they have the manifest's sha256.
pub fn read_verified(dir: &Path, file: &str, expected_sha256: &str) -> Result<Vec<u8>> {
    let path = dir.join(file);
    let bytes =
        std::fs::read(&path).with_context(|| format!("reading model {}", path.display()))?;
    let actual = sha256_hex(&bytes);
    if actual != expected_sha256 {
        bail!(
            "model {} is damaged or replaced: sha256 {actual}, the manifest expects {expected_sha256}",
            path.display()
        );
    }
    Ok(bytes)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the models may live, in lookup order: an explicit folder, the
/// `GENDERLENS_MODELS` variable, the installed layouts relative to the
/// executable, and the source tree this binary was built from.
pub fn models_dir_candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = explicit {
        dirs.push(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(MODELS_DIR_ENV) {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(exe_dir) = crate::paths::executable_dir() {
        dirs.push(exe_dir.join("models"));
        dirs.push(exe_dir.join("../share/genderlens/models"));
        dirs.push(exe_dir.join("../lib/genderlens/models"));
        // A macOS app bundle: Contents/MacOS/genderlens and Contents/Resources/models.
        dirs.push(exe_dir.join("../Resources/models"));
    }
    // The core library sits one folder below the repository's root.
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"));
    dirs
}
