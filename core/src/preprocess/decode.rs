//! Reading and decoding one image file: format sniffed from the content,
//! EXIF orientation applied, decompression bombs refused before decoding.

use std::io::{Cursor, Read};
use std::path::Path;

use std::sync::Arc;

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use super::memory_budget::{MemoryBudget, Reservation};

/// A decoded photo, upright, in 8-bit RGB; a JPEG possibly smaller than
/// the file (see [`decode_bytes_at_least`]).
pub struct DecodedImage {
    pub rgb: RgbImage,
    /// The upright photo's size in the file, which `rgb` may be a
    /// reduction of.
    pub full_size: (u32, u32),
    /// What `rgb` holds of the decode budget, given back with it.
    pub memory: Option<Reservation>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot read file: {0}")]
    Read(std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size_mb} MB, above the {limit_mb} MB limit")]
    TooLarge { size_mb: u64, limit_mb: u64 },
    #[error("not a recognised image format (JPEG, PNG, WebP, BMP, TIFF or GIF)")]
    UnknownFormat,
    #[error(
        "the image is {width}x{height} ({megapixels:.1} megapixels), above the {limit} megapixel limit"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        megapixels: f64,
        limit: f64,
    },
    #[error("damaged image: the file ends early (truncated)")]
    Truncated,
    #[error(
        "decoding this image takes {needed_mb} MB ({width}x{height}), above the {limit_mb} MB decoding memory limit"
    )]
    TooCostly {
        width: u32,
        height: u32,
        needed_mb: u64,
        limit_mb: u64,
    },
    #[error("damaged or unsupported image: {0}")]
    Corrupt(image::ImageError),
}

#[derive(Clone)]
pub struct DecodeLimits {
    pub max_megapixels: f64,
    pub max_file_bytes: u64,
    /// Memory decoding may hold, shared with other decodes; none: no limit
    /// beyond the pixel count.
    pub budget: Option<Arc<MemoryBudget>>,
    /// Decodes a JPEG that ends early, its missing part grey. For a
    /// preview only: a half photo is never classified as if it were whole.
    pub show_truncated: bool,
}

/// The formats GenderLens decodes.
pub const SUPPORTED_FORMATS: [ImageFormat; 6] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
    ImageFormat::Gif,
];

/// The image format `bytes` start with, if GenderLens decodes it: a look at
/// the content, whatever the file is called, before anything is decoded or
/// sent anywhere.
pub fn sniff_format(bytes: &[u8]) -> Result<ImageFormat, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    image::guess_format(bytes)
        .ok()
        .filter(|format| SUPPORTED_FORMATS.contains(format))
        .ok_or(DecodeError::UnknownFormat)
}

pub fn decode_file(path: &Path, limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    decode_file_at_least(path, limits, None)
}

pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, DecodeError> {
    let metadata = std::fs::metadata(path).map_err(DecodeError::Read)?;
    if !metadata.is_file() {
        return Err(DecodeError::NotAFile);
    }
    if metadata.len() > max_bytes {
        return Err(DecodeError::TooLarge {
            size_mb: metadata.len() / (1024 * 1024),
            limit_mb: max_bytes / (1024 * 1024),
        });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(DecodeError::Read)?;
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(bytes)
}

pub fn decode_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    decode_bytes_at_least(bytes, limits, None)
}

/// Reads `path` and decodes it no larger than the work needs: a JPEG whose
/// longer side is at least `long_side` after the reduction.
pub fn decode_file_at_least(
    path: &Path,
    limits: &DecodeLimits,
    long_side: Option<u32>,
) -> Result<DecodedImage, DecodeError> {
    let bytes = read_bounded(path, limits.max_file_bytes)?;
    decode_bytes_at_least(&bytes, limits, long_side)
}

/// JPEG's DCT can be decoded straight to 1/2, 1/4 or 1/8 of the size, at a
/// fraction of the cost and memory of decoding it whole and shrinking it.
/// The largest reduction that keeps the longer side at `long_side` or more.
pub fn jpeg_reduction(full: (u32, u32), long_side: u32) -> u32 {
    let longest = full.0.max(full.1);
    [8, 4, 2]
        .into_iter()
        .find(|k| longest.div_ceil(*k) >= long_side)
        .unwrap_or(1)
}

/// Decodes `bytes`; a JPEG is decoded reduced in the DCT, as far as leaves
/// its longer side at `long_side` or more, when one is given. Other formats
/// are decoded whole. The limits apply to the photo's full size.
pub fn decode_bytes_at_least(
    bytes: &[u8],
    limits: &DecodeLimits,
    long_side: Option<u32>,
) -> Result<DecodedImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    // An upload is held to the same file-size limit as a file on disk.
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(DecodeError::TooLarge {
            size_mb: bytes.len() as u64 / (1024 * 1024),
            limit_mb: limits.max_file_bytes / (1024 * 1024),
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DecodeError::Read)?;
    let format = reader.format();
    match format {
        None => return Err(DecodeError::UnknownFormat),
        // The JPEG decoder fills a cut-off scan with grey rather than failing;
        // a half photo must not be classified as if it were whole.
        Some(ImageFormat::Jpeg) if !limits.show_truncated && !jpeg_has_end_marker(bytes) => {
            return Err(DecodeError::Truncated);
        }
        Some(_) => {}
    }
    let max_pixels = (limits.max_megapixels * 1e6) as u64;
    // The allocation cap backs up the pixel check for decoders that allocate
    // more than the final buffer (16-bit TIFF, GIF frame compositing).
    let mut decode_limits = Limits::default();
    decode_limits.max_alloc = Some(max_pixels.saturating_mul(8).max(64 << 20));
    reader.limits(decode_limits);

    let mut decoder = reader.into_decoder().map_err(DecodeError::Corrupt)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            megapixels: pixels as f64 / 1e6,
            limit: limits.max_megapixels,
        });
    }
    let orientation = decoder.orientation().map_err(DecodeError::Corrupt)?;
    let upright = if matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    ) {
        (height, width)
    } else {
        (width, height)
    };
    let reduction = match (format, long_side) {
        (Some(ImageFormat::Jpeg), Some(side)) => jpeg_reduction((width, height), side),
        _ => 1,
    };
    if reduction > 1 {
        // The reduced buffer and its upright copy, reserved before decoding.
        let reduced_bytes =
            u64::from(width.div_ceil(reduction)) * u64::from(height.div_ceil(reduction)) * 3;
        let mut memory = match &limits.budget {
            Some(budget) => Some(reserve(budget, reduced_bytes * 2, width, height)?),
            None => None,
        };
        if let Some(reduced) = decode_jpeg_reduced(bytes, (width, height), reduction, orientation) {
            if let Some(memory) = &mut memory {
                memory.shrink_to(reduced_bytes);
            }
            return Ok(DecodedImage {
                rgb: reduced,
                full_size: upright,
                memory,
            });
        }
    }
    let cost = DecodeCost::of(&decoder, orientation);
    let mut memory = match &limits.budget {
        Some(budget) => Some(reserve(budget, cost.peak, width, height)?),
        None => None,
    };
    let mut image = DynamicImage::from_decoder(decoder).map_err(DecodeError::Corrupt)?;
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    if let Some(memory) = &mut memory {
        memory.shrink_to(cost.kept);
    }
    Ok(DecodedImage {
        full_size: rgb.dimensions(),
        rgb,
        memory,
    })
}

fn reserve(
    budget: &Arc<MemoryBudget>,
    bytes: u64,
    width: u32,
    height: u32,
) -> Result<Reservation, DecodeError> {
    budget.reserve(bytes).ok_or(DecodeError::TooCostly {
        width,
        height,
        needed_mb: bytes.div_ceil(1 << 20),
        limit_mb: budget.limit() >> 20,
    })
}

/// A JPEG decoded at 1/`reduction` of its size in the DCT, upright, in RGB.
/// None when this decoder cannot (CMYK, 16-bit), so the caller decodes it
/// whole instead.
fn decode_jpeg_reduced(
    bytes: &[u8],
    (width, height): (u32, u32),
    reduction: u32,
    orientation: Orientation,
) -> Option<RgbImage> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().ok()?;
    let wanted = |side: u32| u16::try_from(side.div_ceil(reduction)).ok();
    let (w, h) = decoder.scale(wanted(width)?, wanted(height)?).ok()?;
    let pixels = decoder.decode().ok()?;
    let format = decoder.info()?.pixel_format;
    let (w, h) = (u32::from(w), u32::from(h));
    let image = match format {
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?)
        }
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, pixels)?)
        }
        jpeg_decoder::PixelFormat::L16 | jpeg_decoder::PixelFormat::CMYK32 => return None,
    };
    let mut image = image;
    image.apply_orientation(orientation);
    Some(image.into_rgb8())
}

/// What decoding one image costs, known from its header before any pixel
/// is allocated.
struct DecodeCost {
    /// The most held at once: the decoded buffer plus a rotated or an RGB copy.
    peak: u64,
    /// What stays: the upright 8-bit RGB photo.
    kept: u64,
}

impl DecodeCost {
    fn of(decoder: &impl ImageDecoder, orientation: Orientation) -> Self {
        let (width, height) = decoder.dimensions();
        let decoded = decoder.total_bytes();
        let rgb = u64::from(width) * u64::from(height) * 3;
        let rotated = if orientation == Orientation::NoTransforms {
            0
        } else {
            decoded
        };
        let converted = if decoder.color_type() == ColorType::Rgb8 {
            0
        } else {
            rgb
        };
        Self {
            peak: decoded + rotated.max(converted),
            kept: rgb,
        }
    }
}

/// Whether the last scan (after the last start-of-scan marker) is followed by
/// an end-of-image marker. Entropy-coded data escapes 0xFF, so neither marker
/// can appear inside it by chance.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let Some(last_scan) = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_end_marker_check() {
        assert!(jpeg_has_end_marker(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0x00, 0xFF, 0xD9
        ]));
        assert!(!jpeg_has_end_marker(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0x00
        ]));
        // An embedded thumbnail's end marker before the main scan does not count.
        assert!(!jpeg_has_end_marker(&[
            0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2
        ]));
    }
}
