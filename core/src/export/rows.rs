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
    /// The photo's faces, female, male and doubtful, and its label as a
    /// whole (`mixed` for a group of both), repeated on each of its rows.
    pub photo_faces: usize,
    pub photo_female: usize,
    pub photo_male: usize,
    pub photo_uncertain: usize,
    pub photo_label: Option<&'static str>,
}

pub fn csv_rows<'a>(result: &'a ImageResult, provenance: &'a Provenance) -> Vec<CsvRow<'a>> {
    let counts = result.counts();
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
        photo_faces: counts.faces,
        photo_female: counts.female,
        photo_male: counts.male,
        photo_uncertain: counts.uncertain,
        photo_label: counts.label,
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
pub const CSV_HEADER: [&str; 24] = [
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
    "photo_faces",
    "photo_female",
    "photo_male",
    "photo_uncertain",
    "photo_label",
];

/// One JSONL line: the photo's answer, plus its per-photo counts under
/// `photo` when it has faces (reading the line back ignores them).
#[derive(Serialize)]
pub struct JsonLine<'a> {
    #[serde(flatten)]
    pub result: &'a ImageResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::postprocess::PhotoCounts>,
}

impl<'a> JsonLine<'a> {
    pub fn of(result: &'a ImageResult) -> Self {
        Self {
            result,
            photo: (!result.faces.is_empty()).then(|| result.counts()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Gender, PersonLabel};
    use crate::postprocess::{Correction, FaceResult, StageTimings, image_result};

    fn face(gender: Gender, side: f32, uncertain: bool) -> FaceResult {
        crate::postprocess::labelled_face(gender, side, uncertain)
    }

    /// Four women and two men, the largest face a man's, one woman doubtful.
    fn group() -> ImageResult {
        let mut faces: Vec<FaceResult> =
            (0..4).map(|n| face(Gender::Female, 10.0, n == 0)).collect();
        faces.push(face(Gender::Male, 90.0, false));
        faces.push(face(Gender::Male, 10.0, false));
        image_result(0, "g.jpg".into(), (99, 99), faces, StageTimings::default())
    }

    #[test]
    fn every_row_of_a_group_photo_carries_its_counts_and_mixed() {
        let provenance = Provenance {
            backend: "local".into(),
            model: "m".into(),
        };
        let mut photo = group();
        let rows = csv_rows(&photo, &provenance);
        assert_eq!(rows.len(), 6);
        for row in &rows {
            assert_eq!(
                (
                    row.photo_faces,
                    row.photo_female,
                    row.photo_male,
                    row.photo_uncertain,
                    row.photo_label
                ),
                (6, 4, 2, 1, Some("mixed"))
            );
        }
        // A person's labels count: the men relabelled women, the doubt resolved.
        for n in [0, 4, 5] {
            photo.faces[n].correction = Some(Correction::by_person(PersonLabel::Female));
        }
        let row = &csv_rows(&photo, &provenance)[0];
        assert_eq!(
            (
                row.photo_female,
                row.photo_male,
                row.photo_uncertain,
                row.photo_label
            ),
            (6, 0, 0, Some("female"))
        );
    }

    #[test]
    fn a_jsonl_line_has_the_photo_counts_and_reads_back() {
        let photo = group();
        let line = serde_json::to_string(&JsonLine::of(&photo)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            value["photo"],
            serde_json::json!({"faces": 6, "female": 4, "male": 2, "uncertain": 1, "label": "mixed"})
        );
        assert_eq!(
            value["gender"], "male",
            "the top level keeps the largest face's"
        );
        assert_eq!(value["path"], "g.jpg");
        let (read, problems) =
            crate::export::files::parse_jsonl(std::io::Cursor::new(line), "test").unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(read[0].faces.len(), 6);

        let empty = image_result(
            0,
            "e.jpg".into(),
            (9, 9),
            Vec::new(),
            StageTimings::default(),
        );
        let line = serde_json::to_string(&JsonLine::of(&empty)).unwrap();
        assert!(!line.contains("\"photo\""), "{line}");
    }
}
