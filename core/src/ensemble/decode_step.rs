//! Step 1: an encoded image to the detector's input, decoded no larger than
//! the detector needs, exactly as a local run decodes it.

use image::RgbImage;

use crate::manifest::Manifest;
use crate::preprocess::decode::DecodeError;
use crate::preprocess::letterbox::LetterboxedImage;
use crate::preprocess::{decode_limits, decode_photo_bytes};
use crate::settings::EngineSettings;

pub struct ForDetector {
    /// NCHW float32 RGB, `[1, 3, height, width]`; its `scale` is detector
    /// pixels per pixel of the photo (not of `photo`).
    pub detector_input: LetterboxedImage,
    /// The upright photo as decoded: a JPEG may be reduced in decoding.
    pub photo: RgbImage,
    /// The upright photo's own width and height.
    pub full_size: (u32, u32),
}

pub fn decode_for_detector(
    bytes: &[u8],
    settings: &EngineSettings,
    manifest: &Manifest,
) -> Result<ForDetector, DecodeError> {
    let limits = decode_limits(settings, None);
    let decoded = decode_photo_bytes(bytes, &limits, settings, manifest)?;
    Ok(ForDetector {
        detector_input: decoded.detector_input,
        photo: decoded.rgb,
        full_size: decoded.full_size,
    })
}
