//! Step 3 of the pipeline (`gender_postprocess`): the models' combined
//! answers to results, in the schema shared by the CLI, the desktop app and
//! the `/predict` answer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::combine::ModelValues;
use crate::combine::{Combined, is_male};
use crate::error::{ErrorKind, PhotoError};
use crate::labels::{Gender, PersonLabel};
use crate::preprocess::detect::Detection;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    NoFace,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::NoFace => "no_face",
            Self::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceResult {
    /// `[left, top, right, bottom]` in the upright photo's pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub landmarks: [[f32; 2]; 5],
    pub detection_score: f32,
    pub gender: Gender,
    /// Probability of `gender`.
    pub score: f32,
    pub p_male: f32,
    pub uncertain: bool,
    /// Apparent age in years, to one decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<f32>,
    /// Each model's own answer, by model name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, ModelValues>,
    /// A person's label, where one reviewed the face; `gender`, `score` and
    /// the rest stay as the models predicted. Written as `label_source:
    /// "person"` and `corrected_label`.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
}

/// A reviewed face's label, as it appears in a face's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub label_source: LabelSource,
    pub corrected_label: PersonLabel,
}

impl Correction {
    pub fn by_person(label: PersonLabel) -> Self {
        Self {
            label_source: LabelSource::Person,
            corrected_label: label,
        }
    }
}

/// Who gave a face its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    Model,
    Person,
}

impl LabelSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Person => "person",
        }
    }
}

impl FaceResult {
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }

    /// The label that counts: a person's where one corrected it, else the
    /// models'. None for a face a person marked as not a face.
    pub fn label(&self) -> Option<Gender> {
        match self.correction {
            Some(c) => c.corrected_label.gender(),
            None => Some(self.gender),
        }
    }

    pub fn label_source(&self) -> LabelSource {
        match self.correction {
            Some(_) => LabelSource::Person,
            None => LabelSource::Model,
        }
    }
}

/// Milliseconds spent on each stage for one photo (not serialised).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimings {
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub align_ms: f64,
    pub classify_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResult {
    /// Position of this photo in the batch's input list (for a server, in
    /// its stream of requests); nothing else.
    pub index: usize,
    /// Written as `path` (text), plus `path_bytes` (base64 of the raw
    /// bytes) when the name is not valid UTF-8, so no name is lost.
    #[serde(flatten, with = "path_field")]
    pub path: PathBuf,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whose fault `error` is; set exactly when `error` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// The largest face's label, so one photo's answer keeps the `/predict` shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// The models that answered for this photo's faces, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    pub faces: Vec<FaceResult>,
    #[serde(skip)]
    pub timings: StageTimings,
    /// Answered from the library, not classified now (the photo had not
    /// changed since).
    #[serde(skip)]
    pub reused: bool,
}

impl ImageResult {
    pub fn failed(index: usize, path: PathBuf, error: PhotoError) -> Self {
        Self {
            index,
            path,
            status: Status::Error,
            error: Some(error.message),
            error_kind: Some(error.kind),
            gender: None,
            score: None,
            uncertain: None,
            age: None,
            width: None,
            height: None,
            models: Vec::new(),
            faces: Vec::new(),
            timings: StageTimings::default(),
            reused: false,
        }
    }

    /// The failure, when this photo has one.
    pub fn failure(&self) -> Option<PhotoError> {
        Some(PhotoError::new(
            self.error_kind.unwrap_or(ErrorKind::Internal),
            self.error.clone()?,
        ))
    }
}

/// A path as JSON: text always, exact bytes too when the text had to
/// replace some (a file name that is not UTF-8).
pub(crate) mod path_field {
    use std::path::{Path, PathBuf};

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path_bytes: Option<String>,
    }

    pub fn serialize<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
        let text = path.to_string_lossy();
        let path_bytes = match path.to_str() {
            Some(_) => None,
            None => Some(STANDARD.encode(raw_bytes(path))),
        };
        Wire {
            path: text.into_owned(),
            path_bytes,
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        match wire.path_bytes {
            Some(encoded) => {
                let bytes = STANDARD
                    .decode(encoded)
                    .map_err(|e| serde::de::Error::custom(format!("path_bytes: {e}")))?;
                Ok(from_raw_bytes(bytes, &wire.path))
            }
            None => Ok(PathBuf::from(wire.path)),
        }
    }

    #[cfg(unix)]
    pub(crate) fn raw_bytes(path: &Path) -> Vec<u8> {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }

    #[cfg(not(unix))]
    pub(crate) fn raw_bytes(path: &Path) -> Vec<u8> {
        path.to_string_lossy().into_owned().into_bytes()
    }

    #[cfg(unix)]
    pub(crate) fn from_raw_bytes(bytes: Vec<u8>, _text: &str) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }

    #[cfg(not(unix))]
    pub(crate) fn from_raw_bytes(_bytes: Vec<u8>, text: &str) -> PathBuf {
        PathBuf::from(text)
    }
}

/// A face with the given label and no more, for tests of the code that
/// counts, shows and exports faces.
#[doc(hidden)]
pub fn labelled_face(gender: Gender, side: f32, uncertain: bool) -> FaceResult {
    FaceResult {
        bbox: [0.0, 0.0, side, side],
        landmarks: [[0.0; 2]; 5],
        detection_score: 0.9,
        gender,
        score: 0.99,
        p_male: if gender == Gender::Male { 0.99 } else { 0.01 },
        uncertain,
        age: None,
        models: Default::default(),
        correction: None,
    }
}

/// A photo's faces counted by the label that counts, a person's correction
/// over the models': what the table shows and the exports carry per photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhotoCounts {
    pub faces: usize,
    pub female: usize,
    pub male: usize,
    /// Faces still in doubt: uncertain and not reviewed by a person.
    pub uncertain: usize,
    /// `female`, `male` or `mixed`; none without a labelled face.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'static str>,
}

impl ImageResult {
    pub fn counts(&self) -> PhotoCounts {
        let count = |g| self.faces.iter().filter(|f| f.label() == Some(g)).count();
        PhotoCounts {
            faces: self.faces.len(),
            female: count(Gender::Female),
            male: count(Gender::Male),
            uncertain: self
                .faces
                .iter()
                .filter(|f| f.uncertain && f.correction.is_none())
                .count(),
            label: photo_label(self.faces.iter().filter_map(|f| f.label())),
        }
    }
}

/// A photo's label as a whole, from its faces' labels: theirs when they
/// agree, `mixed` when they do not, none without faces. The library, the
/// table and sort-into-folders all name group photos this way.
pub fn photo_label(labels: impl IntoIterator<Item = Gender>) -> Option<&'static str> {
    let (mut female, mut male) = (false, false);
    for label in labels {
        match label {
            Gender::Female => female = true,
            Gender::Male => male = true,
        }
    }
    match (female, male) {
        (true, true) => Some("mixed"),
        (true, false) => Some(Gender::Female.as_str()),
        (false, true) => Some(Gender::Male.as_str()),
        (false, false) => None,
    }
}

/// One face's answer from its combined votes. It is uncertain when its
/// label's probability is below `uncertain_below`, or when the models
/// disagree on the label.
pub fn face_result(detection: &Detection, combined: Combined, uncertain_below: f32) -> FaceResult {
    let (gender, score) = if is_male(combined.p_male) {
        (Gender::Male, combined.p_male)
    } else {
        (Gender::Female, 1.0 - combined.p_male)
    };
    FaceResult {
        bbox: detection.bbox,
        landmarks: detection.landmarks,
        detection_score: detection.score,
        gender,
        score,
        p_male: combined.p_male,
        uncertain: score < uncertain_below || combined.disagree,
        age: combined.age,
        models: combined.models,
        correction: None,
    }
}

/// One photo's result as the gateway and the server answer it: the result's
/// own JSON without its place in a batch, which means nothing to a caller.
pub fn answer_json(result: &ImageResult) -> serde_json::Value {
    let mut answer = serde_json::to_value(result).unwrap_or_default();
    if let Some(fields) = answer.as_object_mut() {
        fields.remove("index");
        fields.remove("path");
        fields.remove("path_bytes");
    }
    answer
}

/// Assembles one photo's result; the top-level label is the largest face's.
pub fn image_result(
    index: usize,
    path: PathBuf,
    (width, height): (u32, u32),
    faces: Vec<FaceResult>,
    timings: StageTimings,
) -> ImageResult {
    let largest = faces
        .iter()
        .max_by(|a, b| a.area().total_cmp(&b.area()))
        .cloned();
    let mut models: Vec<String> = faces
        .iter()
        .flat_map(|f| f.models.keys().cloned())
        .collect();
    models.sort();
    models.dedup();
    ImageResult {
        index,
        path,
        status: if faces.is_empty() {
            Status::NoFace
        } else {
            Status::Ok
        },
        error: None,
        error_kind: None,
        gender: largest.as_ref().map(|f| f.gender),
        score: largest.as_ref().map(|f| f.score),
        uncertain: largest.as_ref().map(|f| f.uncertain),
        age: largest.as_ref().and_then(|f| f.age),
        width: Some(width),
        height: Some(height),
        models,
        faces,
        timings,
        reused: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(bbox: [f32; 4]) -> Detection {
        Detection {
            bbox,
            face_box: bbox,
            landmarks: [[0.0; 2]; 5],
            score: 0.9,
        }
    }

    fn combined(p_male: f32, disagree: bool) -> Combined {
        let mut models = BTreeMap::new();
        models.insert(
            "gender-v1".to_string(),
            ModelValues {
                p_male: Some(p_male),
                age: None,
            },
        );
        Combined {
            p_male,
            age: Some(31.4),
            disagree,
            models,
        }
    }

    fn face(bbox: [f32; 4], p_male: f32) -> FaceResult {
        face_result(&detection(bbox), combined(p_male, false), 0.6)
    }

    #[test]
    fn label_score_and_uncertain_band() {
        let sure = face([0.0, 0.0, 1.0, 1.0], 0.97);
        assert_eq!(
            (sure.gender, sure.score, sure.uncertain, sure.age),
            (Gender::Male, 0.97, false, Some(31.4))
        );
        let doubtful = face([0.0, 0.0, 1.0, 1.0], 0.45);
        assert_eq!(doubtful.gender, Gender::Female);
        assert!((doubtful.score - 0.55).abs() < 1e-6);
        assert!(doubtful.uncertain);
        assert_eq!(doubtful.p_male, 0.45);
        let tie = face([0.0, 0.0, 1.0, 1.0], 0.5);
        assert_eq!(tie.gender, Gender::Female, "a tie goes to the first label");
    }

    #[test]
    fn a_confident_face_whose_models_disagree_is_uncertain() {
        let split = face_result(&detection([0.0; 4]), combined(0.9, true), 0.6);
        assert_eq!(split.gender, Gender::Male);
        assert!(split.uncertain);
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_round_trips_through_json() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"photos/caf\xe9.jpg");
        let result = ImageResult::failed(0, PathBuf::from(raw), PhotoError::input("x"));
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["path"], "photos/caf\u{fffd}.jpg");
        assert_eq!(json["path_bytes"], "cGhvdG9zL2NhZukuanBn");
        let back: ImageResult = serde_json::from_value(json).unwrap();
        assert_eq!(back.path.as_os_str(), raw);
        let plain = serde_json::to_value(ImageResult::failed(
            1,
            "a.jpg".into(),
            PhotoError::input("x"),
        ))
        .unwrap();
        assert!(plain.get("path_bytes").is_none());
        assert_eq!(plain["path"], "a.jpg");
    }

    #[test]
    fn top_level_answer_comes_from_the_largest_face() {
        let small = face([0.0, 0.0, 10.0, 10.0], 0.9);
        let large = face([0.0, 0.0, 50.0, 50.0], 0.2);
        let result = image_result(
            3,
            "x.jpg".into(),
            (100, 100),
            vec![small, large],
            StageTimings::default(),
        );
        assert_eq!(result.status, Status::Ok);
        assert_eq!(result.gender, Some(Gender::Female));
        assert!((result.score.unwrap() - 0.8).abs() < 1e-6);
        assert_eq!(result.age, Some(31.4));
        assert_eq!(result.models, ["gender-v1"]);
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["faces"][0]["box"][2], 10.0);
        assert_eq!(json["faces"][0]["age"].as_f64().unwrap() as f32, 31.4);
        let own = &json["faces"][0]["models"]["gender-v1"];
        assert_eq!(own["p_male"].as_f64().unwrap() as f32, 0.9);
        assert!(own.get("age").is_none());
        assert!(json.get("error").is_none());
    }
}
