//! Fitting a photo into the detector's input: scaled down (never up) so the
//! longer side fits, padded right and bottom to a multiple of the stride.

use image::RgbImage;

/// The detector's input tensor for one photo, NCHW float32 RGB in 0..255.
pub struct LetterboxedImage {
    pub data: Vec<f32>,
    pub width: u32,
    pub height: u32,
    /// Detector pixels per photo pixel.
    pub scale: f32,
}

pub fn letterbox(rgb: &RgbImage, max_side: u32, multiple: u32) -> LetterboxedImage {
    let (w, h) = rgb.dimensions();
    let longest = w.max(h).max(1);
    let scale = (max_side as f32 / longest as f32).min(1.0);
    let scaled_w = ((w as f32 * scale).round() as u32).clamp(1, max_side);
    let scaled_h = ((h as f32 * scale).round() as u32).clamp(1, max_side);
    let resized;
    let source = if (scaled_w, scaled_h) == (w, h) {
        rgb
    } else {
        resized = shrink(rgb, scaled_w, scaled_h);
        &resized
    };
    let pad_w = scaled_w.div_ceil(multiple) * multiple;
    let pad_h = scaled_h.div_ceil(multiple) * multiple;
    let plane = (pad_w * pad_h) as usize;
    let mut data = vec![0.0f32; plane * 3];
    for (x, y, pixel) in source.enumerate_pixels() {
        let offset = (y * pad_w + x) as usize;
        data[offset] = f32::from(pixel[0]);
        data[plane + offset] = f32::from(pixel[1]);
        data[2 * plane + offset] = f32::from(pixel[2]);
    }
    LetterboxedImage {
        data,
        width: pad_w,
        height: pad_h,
        scale: scaled_w as f32 / w as f32,
    }
}

/// Area-averaging shrink (no aliasing), SIMD-accelerated: on large photos this
/// costs more than decoding if done naively.
fn shrink(rgb: &RgbImage, width: u32, height: u32) -> RgbImage {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let fast = || -> Option<RgbImage> {
        let src = ImageRef::new(rgb.width(), rgb.height(), rgb.as_raw(), PixelType::U8x3).ok()?;
        let mut dst = Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        Resizer::new().resize(&src, &mut dst, &options).ok()?;
        RgbImage::from_raw(width, height, dst.into_vec())
    };
    fast().unwrap_or_else(|| image::imageops::thumbnail(rgb, width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_photo_is_shrunk_and_padded_to_the_multiple() {
        let img = RgbImage::from_pixel(1000, 700, image::Rgb([10, 20, 30]));
        let lb = letterbox(&img, 640, 32);
        assert_eq!((lb.width, lb.height), (640, 448));
        assert!((lb.scale - 0.64).abs() < 1e-6);
        // Padding stays zero below the scaled content (448 rows, 700*0.64 = 448).
        assert_eq!(lb.data[0], 10.0);
        assert_eq!(lb.data[(640 * 448) + 5], 20.0);
    }

    #[test]
    fn small_photo_is_not_upscaled() {
        let img = RgbImage::from_pixel(100, 50, image::Rgb([255, 0, 0]));
        let lb = letterbox(&img, 640, 32);
        assert_eq!((lb.width, lb.height), (128, 64));
        assert_eq!(lb.scale, 1.0);
        assert_eq!(lb.data[99], 255.0);
        assert_eq!(lb.data[100], 0.0, "right padding is zero");
    }
}
