//! Shared set-up for the integration tests of both crates: the real ONNX
//! Runtime, the real models and the committed fixtures. A missing runtime or model fails the
//! test with instructions; nothing is skipped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use genderlens_core::{Engine, EngineSettings, ModelBundle, Runtime};
use serde::Deserialize;

/// The CSV columns as the README documents them; written out here, not taken
/// from the code, so a change to the code's columns fails the tests.
pub const DOCUMENTED_CSV_COLUMNS: [&str; 24] = [
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

/// The committed fixtures at the repository's root, whichever of its crates
/// runs the test.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/fixtures"))
        .find(|dir| dir.is_dir())
        .expect("tests/fixtures is committed at the repository's root")
}

pub fn photos_dir() -> PathBuf {
    fixtures().join("photos")
}

pub fn photo(name: &str) -> PathBuf {
    photos_dir().join(name)
}

/// The real ONNX Runtime; on a fresh machine it is fetched from PyPI first,
/// exactly as the app does on its first start.
pub fn runtime() -> Arc<Runtime> {
    Runtime::init_or_fetch(None, |line| eprintln!("{line}")).unwrap_or_else(|e| {
        panic!(
            "\n\nONNX RUNTIME IS MISSING — these tests need the real library and could not fetch it.\n{e:#}\n\
             Fetch it with `cargo run --release -- runtime fetch`, or point \
             GENDERLENS_ORT_DYLIB at libonnxruntime 1.31+.\n\n"
        )
    })
}

pub fn bundle() -> Arc<ModelBundle> {
    Arc::new(ModelBundle::locate(None).unwrap_or_else(|e| {
        panic!("\n\nTHE MODELS ARE MISSING — these tests need the real models.\n{e:#}\n\n")
    }))
}

pub fn cpu_settings() -> EngineSettings {
    EngineSettings {
        provider: genderlens_core::ProviderChoice::Cpu,
        ..EngineSettings::default()
    }
}

pub fn engine_with(settings: EngineSettings) -> Engine {
    Engine::new(runtime(), bundle(), settings).expect("engine settings are valid")
}

pub fn engine() -> Engine {
    engine_with(cpu_settings())
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub photos: std::collections::BTreeMap<String, Vec<ReferenceFace>>,
    pub chip: ReferenceChip,
    pub age_chip: ReferenceAgeChip,
    pub faceapi_crop: ReferenceCrop,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceAgeChip {
    pub file: String,
    pub probabilities: Vec<f32>,
    pub expected_age: f32,
}

/// face-api's crop of a reference face box, cut by dlib, and the model's
/// answers for it and its mirror image under python onnxruntime.
#[derive(Debug, Deserialize)]
pub struct ReferenceCrop {
    pub file: String,
    pub photo: String,
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub crop: ReferenceFaceApi,
    pub mirrored: ReferenceFaceApi,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceFaceApi {
    /// `[male, female]`.
    pub gender: [f32; 2],
    pub age: f32,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceFace {
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// dlib's 5 landmarks, in dlib's order, integer pixels.
    pub landmarks: Vec<[f64; 2]>,
    pub p_male: f32,
    /// age-v1's expected age on the reference's chip.
    pub age: f32,
}

#[derive(Debug, Deserialize)]
pub struct ReferenceChip {
    pub file: String,
    pub probabilities: [f32; 2],
}

/// What tests/reference/make_reference.py recorded from the reference package.
pub fn reference() -> Reference {
    let text = std::fs::read_to_string(fixtures().join("reference.json"))
        .expect("tests/fixtures/reference.json is committed");
    serde_json::from_str(&text).expect("reference.json parses")
}

/// Every result a batch reports, in input order.
pub fn batch_results(handle: genderlens_core::BatchHandle) -> Vec<genderlens_core::ImageResult> {
    let mut results: Vec<genderlens_core::ImageResult> = handle
        .wait()
        .into_iter()
        .filter_map(|e| match e {
            genderlens_core::EngineEvent::Image(r) => Some(*r),
            _ => None,
        })
        .collect();
    results.sort_by_key(|r| r.index);
    results
}

/// The input indices of the results among `events`.
pub fn result_indices(
    events: &[genderlens_core::EngineEvent],
) -> std::collections::BTreeSet<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            genderlens_core::EngineEvent::Image(r) => Some(r.index),
            _ => None,
        })
        .collect()
}

/// The summary a batch finished with.
pub fn finished_summary(events: &[genderlens_core::EngineEvent]) -> genderlens_core::Summary {
    events
        .iter()
        .find_map(|e| match e {
            genderlens_core::EngineEvent::Finished(s) => Some(s.clone()),
            _ => None,
        })
        .expect("the batch finished")
}

/// A minimal EXIF block (little-endian TIFF) holding only the orientation tag.
pub fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes());
    exif.extend_from_slice(&1u16.to_le_bytes());
    exif.extend_from_slice(&0x0112u16.to_le_bytes());
    exif.extend_from_slice(&3u16.to_le_bytes());
    exif.extend_from_slice(&1u32.to_le_bytes());
    exif.extend_from_slice(&value.to_le_bytes());
    exif.extend_from_slice(&[0, 0]);
    exif.extend_from_slice(&0u32.to_le_bytes());
    exif
}

/// A legal PNG of `side`×`side` grey pixels in `color` and `depth`, with
/// EXIF orientation 6 (rotate to view), streamed to disk row by row: a
/// small file whose decode costs a lot.
pub fn big_png(path: &Path, side: u32, color: png::ColorType, depth: png::BitDepth) {
    use std::io::Write;
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, side, side);
    encoder.set_color(color);
    encoder.set_depth(depth);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_chunk(png::chunk::ChunkType(*b"eXIf"), &exif_orientation(6))
        .unwrap();
    let bytes_per_sample = if depth == png::BitDepth::Sixteen {
        2
    } else {
        1
    };
    let row = vec![0x80u8; side as usize * color.samples() * bytes_per_sample];
    let mut stream = writer.stream_writer().unwrap();
    for _ in 0..side {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
}
