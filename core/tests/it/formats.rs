//! Decoding: every supported format, sniffed from content rather than the
//! extension, and EXIF orientation applied before detection.

use crate::common;

use std::io::Cursor;

use genderlens_core::Status;
use image::{DynamicImage, ImageEncoder, ImageFormat};

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap_or_else(|e| panic!("encoding {format:?}: {e}"));
    bytes
}

#[test]
fn all_supported_formats_decode_whatever_their_extension() {
    let astronaut = image::open(common::photo("astronaut.png")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Each file carries a misleading extension: the content decides.
    let cases = [
        (ImageFormat::Jpeg, "jpeg_named.png"),
        (ImageFormat::Png, "png_named.jpg"),
        (ImageFormat::WebP, "webp_named.bmp"),
        (ImageFormat::Bmp, "bmp_named.gif"),
        (ImageFormat::Tiff, "tiff_named.webp"),
        (ImageFormat::Gif, "gif_named.tif"),
    ];
    let rgba = DynamicImage::ImageRgba8(astronaut.to_rgba8());
    for (format, name) in cases {
        let source = if format == ImageFormat::Gif {
            &rgba
        } else {
            &astronaut
        };
        std::fs::write(dir.path().join(name), encode(source, format)).unwrap();
    }
    let (results, summary) = common::engine()
        .classify_all(vec![dir.path().to_path_buf()])
        .unwrap();
    assert_eq!(summary.total, cases.len());
    for r in &results {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.gender, Some(genderlens_core::Gender::Female), "{r:?}");
        assert_eq!((r.width, r.height), (Some(512), Some(512)));
    }
}

#[test]
fn exif_orientation_is_applied_and_boxes_are_in_upright_pixels() {
    let upright = image::open(common::photo("obama.jpg")).unwrap().into_rgb8();
    // Stored rotated 90° anticlockwise, with orientation 6 ("rotate 90° clockwise to view").
    let stored = image::imageops::rotate270(&upright);
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
    encoder
        .set_exif_metadata(common::exif_orientation(6))
        .unwrap();
    encoder
        .write_image(
            stored.as_raw(),
            stored.width(),
            stored.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rotated_path = dir.path().join("rotated.jpg");
    std::fs::write(&rotated_path, bytes).unwrap();

    let (results, _) = common::engine()
        .classify_all(vec![common::photo("obama.jpg"), rotated_path])
        .unwrap();
    let (plain, rotated) = (&results[0], &results[1]);
    assert_eq!(
        (rotated.width, rotated.height),
        (plain.width, plain.height),
        "reported upright"
    );
    assert_eq!(rotated.status, Status::Ok, "{rotated:?}");
    let iou =
        genderlens_core::preprocess::detect::iou(&plain.faces[0].bbox, &rotated.faces[0].bbox);
    assert!(
        iou > 0.8,
        "boxes differ: {:?} vs {:?}",
        plain.faces[0].bbox,
        rotated.faces[0].bbox
    );
    assert_eq!(rotated.gender, plain.gender);
}
