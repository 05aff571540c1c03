//! The classifier on a fixed chip equals python onnxruntime's output, and
//! chips from many photos go through it in shared runs.

use crate::common;

use genderlens_core::batch::BatchControl;
use std::time::Duration;

use genderlens_core::engine::Staged;
use genderlens_core::engine::classify_stage::ClassifyStage;
use genderlens_core::model::GenderClassifier;
use genderlens_core::preprocess::detect::{DetectorOptions, FaceDetector};
use genderlens_core::preprocess::{Aligner, decode_limits, decode_photo, detect_and_align};
use genderlens_core::runtime::ModelToLoad;

fn classifier() -> GenderClassifier {
    let runtime = common::runtime();
    let bundle = common::bundle();
    let spec = bundle.manifest.classifier.clone();
    let settings = common::cpu_settings();
    let (session, report) = runtime
        .session(&ModelToLoad::classifier(&bundle, &settings), &settings)
        .expect("classifier session");
    assert_eq!(report.assignment.primary(), Some("CPUExecutionProvider"));
    GenderClassifier::new(session, spec)
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
    let aligner = Aligner::new(&bundle).expect("landmark model loads");
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
        labels: common::bundle().labels,
    };
    let mut results = Vec::new();
    let stats = stage.run(&mut classifier(), &rx, &BatchControl::default(), |r| {
        results.push(r)
    });
    assert_eq!(results.len(), names.len());
    assert_eq!(stats.chips, 5, "one chip per fixture photo");
    // Five chips with at most three per run: exactly two runs, never one per face.
    assert_eq!(stats.runs, 2, "{stats:?}");
    assert_eq!(stats.largest_batch, 3);
    assert!(
        results
            .iter()
            .all(|r| r.faces.len() == 1 && !r.faces[0].p_male.is_nan())
    );
}
