//! One CSV row per face, shared by `classify --format csv` and the app's export.

use serde::Serialize;

use crate::batch::EngineEvent;
use crate::error::ErrorKind;
use crate::postprocess::ImageResult;

/// Which backend and model produced a row, for exports that mix runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub backend: String,
    pub model: String,
}

impl Provenance {
    /// Learns from a batch's events where the classifier actually runs: a
    /// local backend becomes `local:<execution provider>` once its session
    /// is ready. True when it changed.
    pub fn observe(&mut self, event: &EngineEvent) -> bool {
        let EngineEvent::SessionReady(report) = event else {
            return false;
        };
        let ours = self.model.split('+').any(|name| name == report.model);
        if !ours || !self.backend.starts_with("local") {
            return false;
        }
        let ep = report.assignment.primary().unwrap_or("unknown");
        let backend = format!("local:{ep}");
        let changed = backend != self.backend;
        self.backend = backend;
        changed
    }
}

/// One CSV row; a photo without faces still gets one row, so errors show.
#[derive(Serialize)]
pub struct CsvRow<'a> {
    pub path: String,
    pub face: Option<usize>,
    pub l: Option<f32>,
    pub t: Option<f32>,
    pub r: Option<f32>,
    pub b: Option<f32>,
    pub gender: Option<&'a str>,
    pub score: Option<f32>,
    pub p_male: Option<f32>,
    pub uncertain: Option<bool>,
    pub detection_score: Option<f32>,
    pub status: &'static str,
    pub error: Option<&'a str>,
    pub backend: &'a str,
    pub model: &'a str,
    /// Whose fault `error` is: `input`, `internal` or `upstream`.
    pub error_kind: Option<&'static str>,
    /// Apparent age in years, to one decimal.
    pub age: Option<f32>,
    /// Who gave the face its label: `model`, or `person` after a review.
    pub label_source: Option<&'static str>,
    /// The person's label (`female`, `male`, `not_a_face`); `gender` stays
    /// the models'.
    pub corrected_label: Option<&'static str>,
}

pub fn csv_rows<'a>(result: &'a ImageResult, provenance: &'a Provenance) -> Vec<CsvRow<'a>> {
    let base = || CsvRow {
        path: result.path.display().to_string(),
        face: None,
        l: None,
        t: None,
        r: None,
        b: None,
        gender: None,
        score: None,
        p_male: None,
        uncertain: None,
        detection_score: None,
        status: result.status.as_str(),
        error: result.error.as_deref(),
        backend: &provenance.backend,
        model: &provenance.model,
        error_kind: result.error_kind.map(ErrorKind::as_str),
        age: None,
        label_source: None,
        corrected_label: None,
    };
    if result.faces.is_empty() {
        return vec![base()];
    }
    result
        .faces
        .iter()
        .enumerate()
        .map(|(i, face)| CsvRow {
            face: Some(i),
            l: Some(face.bbox[0]),
            t: Some(face.bbox[1]),
            r: Some(face.bbox[2]),
            b: Some(face.bbox[3]),
            gender: Some(face.gender.as_str()),
            score: Some(face.score),
            p_male: Some(face.p_male),
            uncertain: Some(face.uncertain),
            detection_score: Some(face.detection_score),
            age: face.age,
            label_source: Some(face.label_source().as_str()),
            corrected_label: face.correction.map(|c| c.corrected_label.as_str()),
            ..base()
        })
        .collect()
}

/// The CSV columns, in order (what `CsvRow` serialises to).
pub const CSV_HEADER: [&str; 19] = [
    "path",
    "face",
    "l",
    "t",
    "r",
    "b",
    "gender",
    "score",
    "p_male",
    "uncertain",
    "detection_score",
    "status",
    "error",
    "backend",
    "model",
    "error_kind",
    "age",
    "label_source",
    "corrected_label",
];
