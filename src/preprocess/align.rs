//! Face alignment: a least-squares similarity transform from the detector's
//! five landmarks to the classifier's template, then a resampled chip, the
//! way dlib's `get_face_chip_details` + `extract_image_chip` cut them.

use image::RgbImage;

use crate::manifest::ChipSpec;

/// `x' = a·x − b·y + tx`, `y' = b·x + a·y + ty`: rotation, uniform scale and
/// translation, never a reflection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    pub fn apply(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        ]
    }

    pub fn scale(&self) -> f64 {
        self.a.hypot(self.b)
    }

    pub fn inverse(&self) -> Similarity {
        let norm = self.a * self.a + self.b * self.b;
        let a = self.a / norm;
        let b = -self.b / norm;
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

/// Least-squares similarity taking `from[i]` onto `to[i]` (Umeyama's method,
/// which in 2-D has this closed form).
pub fn fit_similarity(from: &[[f64; 2]], to: &[[f64; 2]]) -> Similarity {
    let n = from.len().min(to.len()) as f64;
    let mean = |pts: &[[f64; 2]]| {
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
        [sx / n, sy / n]
    };
    let (mf, mt) = (mean(from), mean(to));
    let (mut dot, mut cross, mut var) = (0.0, 0.0, 0.0);
    for (f, t) in from.iter().zip(to) {
        let (fx, fy) = (f[0] - mf[0], f[1] - mf[1]);
        let (tx, ty) = (t[0] - mt[0], t[1] - mt[1]);
        dot += fx * tx + fy * ty;
        cross += fx * ty - fy * tx;
        var += fx * fx + fy * fy;
    }
    if var <= f64::EPSILON {
        return Similarity {
            a: 1.0,
            b: 0.0,
            tx: mt[0] - mf[0],
            ty: mt[1] - mf[1],
        };
    }
    let (a, b) = (dot / var, cross / var);
    Similarity {
        a,
        b,
        tx: mt[0] - (a * mf[0] - b * mf[1]),
        ty: mt[1] - (b * mf[0] + a * mf[1]),
    }
}

/// The template's landmarks in chip pixels.
pub fn template_in_chip_pixels(spec: &ChipSpec) -> [[f64; 2]; 5] {
    let size = f64::from(spec.size);
    let pad = f64::from(spec.padding);
    spec.template.map(|[x, y]| {
        [
            (pad + f64::from(x)) / (1.0 + 2.0 * pad) * size,
            (pad + f64::from(y)) / (1.0 + 2.0 * pad) * size,
        ]
    })
}

/// Cuts the aligned chip for one face: `size × size` RGB, row-major, interleaved.
pub fn extract_chip(photo: &RgbImage, landmarks: &[[f32; 2]; 5], spec: &ChipSpec) -> Vec<u8> {
    let from = landmarks.map(|[x, y]| [f64::from(x), f64::from(y)]);
    let to_chip = fit_similarity(&from, &template_in_chip_pixels(spec));
    let to_photo = to_chip.inverse();
    let size = spec.size as usize;
    let source = BoxFiltered::new(photo, to_photo.scale());
    let mut chip = vec![0u8; size * size * 3];
    for cy in 0..size {
        for cx in 0..size {
            let [px, py] = to_photo.apply([cx as f64, cy as f64]);
            let rgb = source.bilinear(px, py);
            let out = (cy * size + cx) * 3;
            for c in 0..3 {
                chip[out + c] = rgb[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    chip
}

/// The photo as seen after averaging `factor × factor` blocks, evaluated only
/// where sampled: shrinking a face by 2× or more must not alias.
struct BoxFiltered<'a> {
    photo: &'a RgbImage,
    factor: u32,
    width: i64,
    height: i64,
}

impl<'a> BoxFiltered<'a> {
    fn new(photo: &'a RgbImage, chip_to_photo_scale: f64) -> Self {
        let factor = if chip_to_photo_scale >= 2.0 {
            chip_to_photo_scale.floor() as u32
        } else {
            1
        };
        Self {
            photo,
            factor,
            width: i64::from(photo.width() / factor),
            height: i64::from(photo.height() / factor),
        }
    }

    fn pixel(&self, x: i64, y: i64) -> [f64; 3] {
        if x < 0 || y < 0 || x >= self.width || y >= self.height {
            return [0.0; 3];
        }
        let f = self.factor;
        let (x0, y0) = (x as u32 * f, y as u32 * f);
        let mut sum = [0.0f64; 3];
        for yy in y0..y0 + f {
            for xx in x0..x0 + f {
                let p = self.photo.get_pixel(xx, yy);
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
            }
        }
        let n = f64::from(f * f);
        sum.map(|s| s / n)
    }

    /// Bilinear sample at a photo-pixel position, zero outside the photo.
    fn bilinear(&self, photo_x: f64, photo_y: f64) -> [f64; 3] {
        let f = f64::from(self.factor);
        let x = (photo_x + 0.5) / f - 0.5;
        let y = (photo_y + 0.5) / f - 0.5;
        let (x0, y0) = (x.floor(), y.floor());
        let (wx, wy) = (x - x0, y - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let tl = self.pixel(x0, y0);
        let tr = self.pixel(x0 + 1, y0);
        let bl = self.pixel(x0, y0 + 1);
        let br = self.pixel(x0 + 1, y0 + 1);
        let mut out = [0.0; 3];
        for c in 0..3 {
            let top = tl[c] * (1.0 - wx) + tr[c] * wx;
            let bottom = bl[c] * (1.0 - wx) + br[c] * wx;
            out[c] = top * (1.0 - wy) + bottom * wy;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 5.0,
            ty: -2.0,
        };
        let from = [[1.0, 2.0], [10.0, 3.0], [4.0, 8.0], [0.0, 12.0], [9.0, 11.0]];
        let to = from.map(|p| truth.apply(p));
        let fitted = fit_similarity(&from, &to);
        for (got, want) in [fitted.a, fitted.b, fitted.tx, fitted.ty]
            .iter()
            .zip([truth.a, truth.b, truth.tx, truth.ty])
        {
            assert!((got - want).abs() < 1e-9, "{fitted:?}");
        }
        let round_trip = fitted.inverse().apply(fitted.apply([3.0, 4.0]));
        assert!((round_trip[0] - 3.0).abs() < 1e-9 && (round_trip[1] - 4.0).abs() < 1e-9);
    }
}
