//! A phone-sized JPEG decoded reduced in the DCT (a quarter of its size for
//! the detector) gives the same faces and labels as the same pixels decoded
//! whole, and the reduction really happens.

use std::path::{Path, PathBuf};

use genderlens_core::preprocess::decode::{self, DecodeLimits};
use genderlens_core::{ImageResult, Status};
use image::RgbImage;

use crate::common;

/// The fixture upscaled to 4032 pixels on its longer side and saved as a
/// JPEG of quality 90, as a phone camera would; also the same JPEG's pixels
/// decoded whole and saved losslessly (PNG is never decoded reduced).
fn phone_sized(name: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let photo = image::open(common::photo(name)).unwrap().into_rgb8();
    let scale = 4032.0 / f64::from(photo.width().max(photo.height()));
    let (w, h) = (
        (f64::from(photo.width()) * scale).round() as u32,
        (f64::from(photo.height()) * scale).round() as u32,
    );
    let large = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle);
    let jpeg = dir.join(format!("{name}.jpg"));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&large)
        .unwrap();
    std::fs::write(&jpeg, &bytes).unwrap();
    let whole: RgbImage = image::load_from_memory(&bytes).unwrap().into_rgb8();
    let png = dir.join(format!("{name}.png"));
    whole.save(&png).unwrap();
    (jpeg, png)
}

#[test]
fn a_12_megapixel_jpeg_is_decoded_reduced_to_what_the_detector_needs() {
    let dir = tempfile::tempdir().unwrap();
    let (jpeg, _) = phone_sized("obama.jpg", dir.path());
    let limits = DecodeLimits {
        max_megapixels: 50.0,
        max_file_bytes: 64 << 20,
        budget: None,
        show_truncated: false,
    };
    let reduced = decode::decode_file_at_least(&jpeg, &limits, Some(640)).unwrap();
    let whole = decode::decode_file_at_least(&jpeg, &limits, None).unwrap();
    assert_eq!(reduced.full_size, whole.rgb.dimensions());
    assert_eq!(
        reduced.rgb.width(),
        whole.rgb.width().div_ceil(4),
        "a quarter of 4032 still gives the detector its 640"
    );
    assert_eq!(decode::jpeg_reduction((4032, 3024), 640), 4);
    assert_eq!(decode::jpeg_reduction((1600, 1200), 640), 2);
    assert_eq!(decode::jpeg_reduction((800, 600), 640), 1);
}

/// The fixtures as they are: the two JPEGs over 1280 pixels (biden.jpg,
/// obama3.jpg) are decoded at half their size, the rest whole.
#[test]
fn reduced_decoding_keeps_the_fixtures_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut jpegs, mut pngs) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(common::fixtures().join("photos")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jpg") {
            let whole = image::open(&path).unwrap().into_rgb8();
            let png = dir
                .path()
                .join(path.file_name().unwrap())
                .with_extension("png");
            whole.save(&png).unwrap();
            jpegs.push(path);
            pngs.push(png);
        }
    }
    assert_eq!(jpegs.len(), 6);
    assert_eq!(compare(jpegs, pngs, 0.02, 0.02), 6, "one face in each");
}

/// Phone-sized: decoded at a quarter of their size, so the detector sees a
/// shrink of the reduced image rather than of the whole one, and faces this
/// large are cut from the reduced image rather than from dlib's pyramid over
/// the whole one. The faces and labels stay; boxes move up to 5% of their
/// side and p(male) up to 0.1 (measured: 0.075 on astronaut's top edge
/// moving 35 of 4032 pixels, 0.032 on Grace Hopper, under 0.02 on the other two).
#[test]
fn reduced_decoding_finds_the_same_faces_with_the_same_labels_at_12_megapixels() {
    let dir = tempfile::tempdir().unwrap();
    let (mut jpegs, mut pngs) = (Vec::new(), Vec::new());
    for name in [
        "obama.jpg",
        "biden.jpg",
        "grace_hopper.jpg",
        "astronaut.png",
    ] {
        let (jpeg, png) = phone_sized(name, dir.path());
        jpegs.push(jpeg);
        pngs.push(png);
    }
    assert_eq!(compare(jpegs, pngs, 0.06, 0.1), 4);
}

/// A small face in a large photo: too few pixels in the reduced decode for
/// its chips, so the photo is decoded again as fine as the face needs and
/// the answer matches the whole photo's (what is left is the detector's box,
/// found on the reduced image, 2.5 pixels off on a 97-pixel face).
#[test]
fn a_small_face_in_a_large_photo_is_cut_from_a_finer_decode() {
    let dir = tempfile::tempdir().unwrap();
    let face = image::open(common::photo("obama.jpg")).unwrap().into_rgb8();
    let small = image::imageops::resize(&face, 240, 300, image::imageops::FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(4032, 3024, image::Rgb([120, 120, 120]));
    image::imageops::overlay(&mut canvas, &small, 1800, 1300);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&canvas)
        .unwrap();
    let jpeg = dir.path().join("small_face.jpg");
    std::fs::write(&jpeg, &bytes).unwrap();
    let png = dir.path().join("small_face.png");
    image::load_from_memory(&bytes)
        .unwrap()
        .into_rgb8()
        .save(&png)
        .unwrap();
    assert_eq!(compare(vec![jpeg], vec![png], 0.03, 0.03), 1);
}

/// Classifies both sets and checks them photo by photo; returns the faces
/// compared.
fn compare(
    reduced: Vec<PathBuf>,
    whole: Vec<PathBuf>,
    most_box_shift: f32,
    most_delta_p: f32,
) -> usize {
    let engine = common::engine();
    let (reduced, _) = engine.classify_all(reduced).unwrap();
    let (whole, _) = engine.classify_all(whole).unwrap();
    let mut faces = 0;
    for (r, w) in reduced.iter().zip(&whole) {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(
            (r.width, r.height),
            (w.width, w.height),
            "the photo's own size"
        );
        assert_eq!(r.faces.len(), w.faces.len(), "{}", describe(r, w));
        for (a, b) in r.faces.iter().zip(&w.faces) {
            let side = b.bbox[2] - b.bbox[0];
            for (x, y) in a.bbox.iter().zip(&b.bbox) {
                assert!((x - y).abs() <= side * most_box_shift, "{}", describe(r, w));
            }
            assert_eq!(a.gender, b.gender, "{}", describe(r, w));
            assert!(
                (a.p_male - b.p_male).abs() <= most_delta_p,
                "{}",
                describe(r, w)
            );
            faces += 1;
        }
    }
    faces
}

fn describe(reduced: &ImageResult, whole: &ImageResult) -> String {
    let faces = |r: &ImageResult| {
        r.faces
            .iter()
            .map(|f| format!("{:?} {} p(male) {:.4}", f.bbox, f.gender, f.p_male))
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!(
        "{}: reduced [{}] vs whole [{}]",
        reduced.path.display(),
        faces(reduced),
        faces(whole)
    )
}
