//! What each fuzz target checks, shared with the regression test that
//! replays the committed seeds and past findings in the ordinary test suite
//! (`tests/it/fuzz_regressions.rs`). Each check takes any bytes and must
//! not panic; the asserts say what must hold of what it accepts.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::Request;
use genderlens::remote::answer::parse_answer;
use genderlens::remote::kserve;
use genderlens::server::upload::read_upload;
use genderlens::settings_store;
use genderlens_core::export::files::parse_jsonl;
use genderlens_core::preprocess::decode::{DecodeLimits, decode_bytes};
use genderlens_core::preprocess::detect::{RawOutputs, decode_outputs};
use genderlens_core::preprocess::landmarks::{FaceBox, ShapePredictor};
use genderlens_core::preprocess::memory_budget::MemoryBudget;
use std::path::Path;

/// Decoding with EXIF orientation, the megapixel guard and the memory
/// budget, on any bytes: a result or an error, never a panic, and never an
/// image beyond the limits.
pub fn decode(data: &[u8]) {
    let limits = DecodeLimits {
        max_megapixels: 4.0,
        max_file_bytes: 8 << 20,
        budget: Some(MemoryBudget::new(64 << 20)),
        show_truncated: false,
    };
    if let Ok(decoded) = decode_bytes(data, &limits) {
        let (width, height) = decoded.rgb.dimensions();
        assert!(f64::from(width) * f64::from(height) <= 4.0e6 + 1.0);
    }
}

/// The face detector's output decoding on arbitrary shapes and values (the
/// outputs of a damaged or substituted model): faces with finite boxes, or
/// an error, never a panic.
pub fn centerface(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    // Two bytes pick the heatmap's shape, two skew the other outputs' lengths.
    let height = i64::from(data[0] % 9) - 1;
    let width = i64::from(data[1] % 9) - 1;
    let cells = usize::try_from((height * width).max(0)).unwrap_or(0);
    let skew = |b: u8| (b % 4) as usize;
    let floats: Vec<f32> = data[4..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let value = |n: usize| floats.get(n % floats.len().max(1)).copied().unwrap_or(0.5);
    let make = |per: usize, extra: usize| -> Vec<f32> {
        (0..per * cells + extra)
            .map(|n| value(n * 7 + per))
            .collect()
    };
    let heatmap = make(1, skew(data[2]) & 1);
    let scale = make(2, 0);
    let offset = make(2, skew(data[3]) >> 1);
    let landmarks = make(10, 0);
    let shape = [1, 1, height, width];
    let outcome = decode_outputs(
        RawOutputs {
            heat_shape: &shape,
            heatmap: &heatmap,
            scale: &scale,
            offset: &offset,
            landmarks: &landmarks,
        },
        4.0,
        0.5,
        0.3,
    );
    if let Ok(faces) = outcome {
        for face in faces {
            assert!(face.score > 0.5);
            assert!(face.bbox.iter().all(|v| v.is_finite()));
        }
    }
}

/// dlib's shape-predictor format on any bytes: a model or an error; a model
/// it accepts then predicts landmarks on a photo without a panic.
pub fn shape_predictor(data: &[u8]) {
    let Ok(predictor) = ShapePredictor::from_bytes(data) else {
        return;
    };
    let photo = image::RgbImage::from_fn(48, 40, |x, y| image::Rgb([x as u8, y as u8, 128]));
    let face = FaceBox {
        left: 4.0,
        top: 2.0,
        right: 40.0,
        bottom: 38.0,
    };
    let points = predictor.predict(&photo, &face);
    assert_eq!(points.len(), predictor.parts());
}

/// What a Triton server or a gateway answers: KServe v2 model metadata, an
/// inference answer (binary or JSON), a BYTES element and the result JSON.
/// Any bytes give a value or a protocol error, never a panic.
pub fn kserve(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Ok((inputs, outputs)) = kserve::metadata_tensors(body) {
                let _ = kserve::check_contract(&inputs, &outputs);
            }
        }
        1 => {
            // The header length a server announces need not fit its body.
            let announced = body.first().map(|&b| usize::from(b) * 3);
            let header_length = (selector & 4 != 0).then_some(announced).flatten();
            if let Ok(json) = kserve::output_json(header_length, body, Some("gl-1")) {
                let _ = parse_answer(&json, 0, "photo.jpg".into());
            }
        }
        2 => {
            if let Ok(element) = kserve::first_element(body) {
                assert!(element.len() + 4 <= body.len());
            }
        }
        _ => {
            if let Ok(result) = parse_answer(body, 7, "photo.jpg".into()) {
                assert_eq!(result.index, 7);
                assert_eq!(result.error.is_some(), result.error_kind.is_some());
            }
        }
    }
}

const LIMIT: usize = 4096;

/// The gateway's `/predict` form handling on any body and boundary: the
/// image, or a JSON error answer with a 4xx status, never a panic, and never
/// an image beyond the upload limit.
pub fn multipart(data: &[u8]) {
    // The first line is the boundary, the rest the body.
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(0);
    let boundary = String::from_utf8_lossy(&data[..split]).into_owned();
    let body = data.get(split + 1..).unwrap_or_default().to_vec();
    let Ok(request) = Request::builder()
        .method("POST")
        .uri("/predict")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
    else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let Ok(form) = Multipart::from_request(request, &()).await else {
            return;
        };
        match read_upload(form, LIMIT).await {
            Ok((_, bytes)) => assert!(!bytes.is_empty() && bytes.len() <= LIMIT),
            Err(response) => assert!(response.status().is_client_error()),
        }
    });
}

/// The files GenderLens reads back: its settings and its JSON Lines
/// exports. Damaged content gives defaults or skipped lines with a reason,
/// never a panic, and what it accepts is valid.
pub fn readers(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let (settings, _warning) = settings_store::parse(text, Path::new("settings.json"));
        assert!(settings.engine.validate().is_ok());
    }
    let (results, problems) = parse_jsonl(data, "results.jsonl").expect("reading memory");
    let lines = data.split(|&b| b == b'\n').count();
    assert!(results.len() + problems.len() <= lines);
}
