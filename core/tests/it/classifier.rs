//! Each face model on a fixed input equals python onnxruntime's output,
//! face-api's crop is cut as dlib cuts it, and faces from many photos go
//! through the models in shared runs.

use crate::common;

use genderlens_core::batch::BatchControl;
use std::time::Duration;

use genderlens_core::combine::ModelNames;
use genderlens_core::engine::Staged;
use genderlens_core::engine::classify_stage::ClassifyStage;
use genderlens_core::model::{AgeEstimator, FaceApiNet, FaceModels, GenderClassifier, mirrored};
use genderlens_core::preprocess::align::square_crop;
use genderlens_core::preprocess::detect::{DetectorOptions, FaceDetector};
use genderlens_core::preprocess::{Aligner, decode_limits, decode_photo, detect_and_align};
use genderlens_core::runtime::ModelToLoad;
use genderlens_core::settings::ModelChoice;

fn classifier() -> GenderClassifier {
    let runtime = common::runtime();
    let bundle = common::bundle();
    let spec = bundle.manifest.classifier.clone();
    let settings = common::cpu_settings();
    let (session, report) = runtime
        .session(&ModelToLoad::classifier(&bundle, &settings), &settings)
        .expect("classifier session");
    assert_eq!(report.assignment.primary(), Some("CPUExecutionProvider"));
    GenderClassifier::new(session, spec, bundle.labels)
}

#[test]
fn fixed_chip_matches_python_onnxruntime_within_1e5() {
    let reference = common::reference();
    let chip = image::open(common::fixtures().join(&reference.chip.file))
        .expect("reference chip decodes")
        .into_rgb8();
    assert_eq!(chip.dimensions(), (32, 32));
    let mut classifier = classifier();
    let got = classifier
        .classify(&[chip.as_raw()])
        .expect("classifier runs")[0];
    for (g, want) in got.iter().zip(reference.chip.probabilities) {
        assert!(
            (g - want).abs() <= 1e-5,
            "got {got:?}, python onnxruntime {:?}",
            reference.chip.probabilities
        );
    }
}

#[test]
fn a_batch_gives_the_same_answers_as_single_runs() {
    let reference = common::reference();
    let chip = image::open(common::fixtures().join(&reference.chip.file))
        .unwrap()
        .into_rgb8();
    let flipped = image::imageops::flip_horizontal(&chip);
    let mut classifier = classifier();
    let single_a = classifier.classify(&[chip.as_raw()]).unwrap()[0];
    let single_b = classifier.classify(&[flipped.as_raw()]).unwrap()[0];
    let batch = classifier
        .classify(&[chip.as_raw(), flipped.as_raw(), chip.as_raw()])
        .unwrap();
    for (got, want) in batch.iter().zip([single_a, single_b, single_a]) {
        assert!((got[0] - want[0]).abs() < 1e-5 && (got[1] - want[1]).abs() < 1e-5);
    }
}

#[test]
fn chips_from_many_photos_share_one_classifier_run() {
    let runtime = common::runtime();
    let bundle = common::bundle();
    let settings = common::cpu_settings();
    let spec = bundle.manifest.detector.clone();
    let (session, _) = runtime
        .session(&ModelToLoad::detector(&bundle, &settings), &settings)
        .expect("detector session");
    let mut detector = FaceDetector::new(
        session,
        spec,
        DetectorOptions {
            threshold: 0.5,
            min_face_px: 20.0,
        },
    );
    let aligner = Aligner::new(&bundle, ModelChoice::Dlib.needs()).expect("landmark model loads");
    let names = [
        "obama.jpg",
        "biden.jpg",
        "astronaut.png",
        "obama2.jpg",
        "obama3.jpg",
    ];
    let (tx, rx) = crossbeam_channel::unbounded();
    for (index, name) in names.iter().enumerate() {
        let path = common::photo(name);
        let limits = decode_limits(&settings, None);
        let decoded =
            decode_photo(&path, &limits, &settings, &bundle.manifest).expect("fixture decodes");
        let prepared = detect_and_align(&mut detector, decoded, &aligner).expect("detection runs");
        tx.send(Staged {
            index,
            path,
            outcome: Ok(prepared),
        })
        .unwrap();
    }
    drop(tx);

    let stage = ClassifyStage {
        max_batch: 3,
        linger: Duration::from_millis(10),
        uncertain_below: 0.6,
        names: ModelNames::from_manifest(&bundle.manifest),
    };
    let mut results = Vec::new();
    let mut models = FaceModels {
        choice: ModelChoice::Dlib,
        gender: Some(classifier()),
        age: Some(AgeEstimator::new(
            model_session(ModelToLoad::age(&bundle, &settings)),
            bundle.manifest.age.clone(),
        )),
        faceapi: None,
    };
    let stats = stage.run(&mut models, &rx, &BatchControl::default(), |r| {
        results.push(r)
    });
    assert_eq!(results.len(), names.len());
    assert_eq!(stats.chips, 5, "one face per fixture photo");
    // Five chips with at most three per run: exactly two runs, never one per face.
    assert_eq!(stats.runs, 2, "{stats:?}");
    assert_eq!(stats.largest_batch, 3);
    assert!(
        results
            .iter()
            .all(|r| r.faces.len() == 1 && !r.faces[0].p_male.is_nan() && r.faces[0].age.is_some())
    );
}

fn model_session(model: ModelToLoad<'_>) -> ort::session::Session {
    let settings = common::cpu_settings();
    let (session, report) = common::runtime()
        .session(&model, &settings)
        .expect("model session");
    assert_eq!(report.assignment.primary(), Some("CPUExecutionProvider"));
    session
}

fn fixture_rgb(name: &str, size: u32) -> image::RgbImage {
    let chip = image::open(common::fixtures().join(name))
        .expect("reference chip decodes")
        .into_rgb8();
    assert_eq!(chip.dimensions(), (size, size));
    chip
}

#[test]
fn age_model_on_a_fixed_chip_matches_python_onnxruntime_within_1e5() {
    let reference = common::reference().age_chip;
    let bundle = common::bundle();
    let settings = common::cpu_settings();
    let mut age = AgeEstimator::new(
        model_session(ModelToLoad::age(&bundle, &settings)),
        bundle.manifest.age.clone(),
    );
    let chip = fixture_rgb(&reference.file, 64);
    let got = age.probabilities(&[chip.as_raw()]).expect("age model runs");
    assert_eq!(got[0].len(), 81);
    for (g, want) in got[0].iter().zip(&reference.probabilities) {
        assert!((g - want).abs() <= 1e-5, "{g} vs python {want}");
    }
    let years = age.estimate(&[chip.as_raw()]).unwrap()[0];
    assert!(
        (years - reference.expected_age).abs() <= 1e-4,
        "expected age {years} vs the package's {}",
        reference.expected_age
    );
}

#[test]
fn faceapi_on_a_fixed_crop_and_its_mirror_matches_python_onnxruntime_within_1e5() {
    let reference = common::reference().faceapi_crop;
    let bundle = common::bundle();
    let settings = common::cpu_settings();
    let mut net = FaceApiNet::new(
        model_session(ModelToLoad::faceapi(&bundle, &settings)),
        bundle.manifest.faceapi.clone(),
        bundle.faceapi_labels,
    );
    let crop = fixture_rgb(&reference.file, 112);
    let mirror = mirrored(crop.as_raw(), 112);
    let got = net.run(&[crop.as_raw(), &mirror]).expect("face-api runs");
    for (vote, want) in got.iter().zip([&reference.crop, &reference.mirrored]) {
        // face-api's gender output is [male, female].
        assert!(
            (vote.p_male - want.gender[0]).abs() <= 1e-5,
            "{vote:?} vs {want:?}"
        );
        assert!((vote.age - want.age).abs() <= 1e-4, "{vote:?} vs {want:?}");
    }
}

#[test]
fn the_faceapi_crop_is_the_box_padded_to_a_square_as_dlib_cuts_it() {
    let reference = common::reference().faceapi_crop;
    let photo = image::open(common::photo(&reference.photo))
        .unwrap()
        .into_rgb8();
    let ours = square_crop(&photo, reference.bbox, 112);
    let dlib = fixture_rgb(&reference.file, 112);
    let diffs: Vec<i32> = ours
        .iter()
        .zip(dlib.as_raw())
        .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
        .collect();
    let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
    let max = diffs.iter().max().copied().unwrap_or(0);
    assert!(
        mean < 0.6 && max <= 3,
        "mean |Δ| {mean:.3}, max {max} against dlib's crop"
    );

    // A box that is taller than wide becomes a square about the same centre,
    // and what falls outside the photo is black.
    let tall = square_crop(&photo, [-100.0, 100.0, 0.0, 300.0], 112);
    let pixel = |x: usize, y: usize| &tall[(y * 112 + x) * 3..][..3];
    assert_eq!(pixel(10, 56), [0, 0, 0], "left of the photo");
    assert_ne!(pixel(100, 56), [0, 0, 0], "inside the photo");
}
