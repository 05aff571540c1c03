//! The landmark model reproduces dlib's own landmarks given dlib's box.

use crate::common;

use genderlens_core::preprocess::landmarks::{FaceBox, ShapePredictor};

#[test]
fn landmarks_equal_dlibs_on_the_reference_boxes() {
    let reference = common::reference();
    let bundle = common::bundle();
    let predictor = ShapePredictor::from_bytes(&bundle.landmarks_bytes).expect("model parses");
    assert_eq!(predictor.parts(), 5);
    let mut compared = 0;
    for (name, faces) in &reference.photos {
        let photo = image::open(common::photo(name)).unwrap().into_rgb8();
        for face in faces {
            let [l, t, r, b] = face.bbox.map(f64::from);
            let found = predictor.predict(
                &photo,
                &FaceBox {
                    left: l,
                    top: t,
                    right: r,
                    bottom: b,
                },
            );
            let worst = found
                .iter()
                .zip(&face.landmarks)
                .map(|(a, b)| (a[0] - b[0]).abs().max((a[1] - b[1]).abs()))
                .fold(0.0, f64::max);
            // PNG pixels are identical everywhere; JPEG decoders differ by a
            // level here and there, which can move a landmark a pixel or two.
            let tolerance = if name.ends_with(".png") { 0.0 } else { 2.0 };
            assert!(
                worst <= tolerance,
                "{name}: {found:?} vs dlib {:?}",
                face.landmarks
            );
            compared += 1;
        }
    }
    assert!(compared >= 7);
}

#[test]
fn the_chip_cut_from_dlibs_landmarks_is_dlibs_chip_exactly() {
    let reference = common::reference();
    let bundle = common::bundle();
    let face = &reference.photos["astronaut.png"][0];
    let photo = image::open(common::photo("astronaut.png"))
        .unwrap()
        .into_rgb8();
    let mut points = [[0.0; 2]; 5];
    points.copy_from_slice(&face.landmarks);
    let chip = genderlens_core::preprocess::align::extract_chip(
        &photo,
        &points,
        &bundle.manifest.classifier.chip,
    );
    let dlib_chip = image::open(common::fixtures().join(&reference.chip.file))
        .unwrap()
        .into_rgb8();
    assert_eq!(chip.as_slice(), dlib_chip.as_raw().as_slice());
}
