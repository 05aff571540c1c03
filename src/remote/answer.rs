//! A remote answer (Triton's `OUTPUT_JSON` or a gateway's `/predict` body)
//! as the same [`ImageResult`] a local run gives.

use std::path::PathBuf;

use serde::Deserialize;

use super::RemoteError;
use crate::error::ErrorKind;
use crate::labels::Gender;
use crate::postprocess::{FaceResult, ImageResult, StageTimings, Status};

#[derive(Deserialize)]
struct Answer {
    status: Option<Status>,
    error: Option<String>,
    error_kind: Option<ErrorKind>,
    gender: Option<Gender>,
    score: Option<f32>,
    uncertain: Option<bool>,
    age: Option<f32>,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    faces: Vec<FaceResult>,
}

pub fn parse_answer(json: &[u8], index: usize, path: PathBuf) -> Result<ImageResult, RemoteError> {
    let answer: Answer = serde_json::from_slice(json).map_err(|e| {
        RemoteError::Protocol(format!(
            "expected a result as JSON, got {} bytes that are not ({e})",
            json.len()
        ))
    })?;
    // A bare gateway answers only `{"gender":..,"score":..}`; that still is a found face.
    let status = answer.status.unwrap_or(if answer.error.is_some() {
        Status::Error
    } else if answer.gender.is_some() {
        Status::Ok
    } else {
        Status::NoFace
    });
    // A failure must carry a message, and whose fault it is; where the
    // server does not say, it is the server's.
    let error = match (status, answer.error) {
        (Status::Error, None) => Some("the server reports a failure without a reason".to_string()),
        (_, error) => error,
    };
    Ok(ImageResult {
        index,
        path,
        status,
        error_kind: error
            .as_ref()
            .map(|_| answer.error_kind.unwrap_or(ErrorKind::Upstream)),
        error,
        gender: answer.gender,
        score: answer.score,
        uncertain: answer.uncertain,
        age: answer.age,
        width: answer.width,
        height: answer.height,
        models: answer.models,
        faces: answer.faces,
        timings: StageTimings::default(),
        reused: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_always_carry_a_message_and_a_kind() {
        let bare = parse_answer(br#"{"error":"boom"}"#, 0, "a".into()).unwrap();
        assert_eq!(bare.status, Status::Error);
        assert_eq!(bare.error_kind, Some(ErrorKind::Upstream));
        let silent = parse_answer(br#"{"status":"error"}"#, 0, "b".into()).unwrap();
        assert!(silent.error.is_some());
        assert_eq!(silent.error_kind, Some(ErrorKind::Upstream));
        let told = parse_answer(
            br#"{"status":"error","error":"damaged","error_kind":"input"}"#,
            0,
            "c".into(),
        )
        .unwrap();
        assert_eq!(told.error_kind, Some(ErrorKind::Input));
        let unknown_label = parse_answer(br#"{"gender":"other","score":0.9}"#, 0, "d".into());
        assert!(
            unknown_label.is_err(),
            "a label outside the model's is refused"
        );
    }

    #[test]
    fn full_and_bare_answers_map_onto_results() {
        let full = br#"{"status":"ok","gender":"female","score":0.9,"uncertain":false,
            "width":10,"height":20,"faces":[{"box":[1,2,3,4],"landmarks":[[0,0],[0,0],[0,0],[0,0],[0,0]],
            "detection_score":0.8,"gender":"female","score":0.9,"p_male":0.1,"uncertain":false,
            "age":31.4,"models":{"gender-v1":{"p_male":0.1},"age-v1":{"age":30.2}}}],
            "age":31.4,"models":["age-v1","gender-v1"]}"#;
        let result = parse_answer(full, 3, "a.jpg".into()).unwrap();
        assert_eq!((result.index, result.status), (3, Status::Ok));
        assert_eq!(result.faces[0].p_male, 0.1);
        assert_eq!((result.age, result.faces[0].age), (Some(31.4), Some(31.4)));
        assert_eq!(result.models, ["age-v1", "gender-v1"]);
        assert_eq!(result.faces[0].models["age-v1"].age, Some(30.2));
        assert_eq!(result.width, Some(10));

        let bare = parse_answer(br#"{"gender":"male","score":0.97}"#, 0, "b".into()).unwrap();
        assert_eq!(bare.status, Status::Ok);
        let none = parse_answer(br#"{"faces":[]}"#, 0, "c".into()).unwrap();
        assert_eq!(none.status, Status::NoFace);
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        let err = parse_answer(b"\x00\x01HTTP", 0, "x".into()).unwrap_err();
        assert!(matches!(err, RemoteError::Protocol(_)), "{err}");
    }
}
