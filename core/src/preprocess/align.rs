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
        let (sx, sy) = pts
            .iter()
            .fold((0.0, 0.0), |(sx, sy), p| (sx + p[0], sy + p[1]));
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
    let pad = spec.padding;
    spec.template.map(|[x, y]| {
        [
            (pad + x) / (1.0 + 2.0 * pad) * size,
            (pad + y) / (1.0 + 2.0 * pad) * size,
        ]
    })
}

/// Cuts the aligned chip for one face: `size × size` RGB, row-major, interleaved.
pub fn extract_chip(photo: &RgbImage, landmarks: &[[f64; 2]; 5], spec: &ChipSpec) -> Vec<u8> {
    let to_photo = fit_similarity(&template_in_chip_pixels(spec), landmarks);
    sample_chip(photo, &to_photo, spec.size as usize)
}

/// face-api's input: the face box padded to a square about its centre and
/// resampled to `size × size` as dlib's `extract_image_chip` resamples the
/// `drectangle` of that square (its corner pixels land on the square's
/// corners; zero outside the photo).
pub fn square_crop(photo: &RgbImage, face_box: [f32; 4], size: usize) -> Vec<u8> {
    let [left, top, right, bottom] = face_box.map(f64::from);
    let side = (right - left).max(bottom - top);
    if !(side.is_finite() && side > 0.0) || size == 0 {
        return vec![0; size * size * 3];
    }
    let (cx, cy) = ((left + right) / 2.0, (top + bottom) / 2.0);
    // `sample_chip` spans `size` pixels of `scale` each, corner centre to
    // corner centre, so the square's side is one pixel short of that span.
    let scale = (side + 1.0) / size as f64;
    let half = scale * size as f64 / 2.0;
    let crop_to_photo = Similarity {
        a: scale,
        b: 0.0,
        tx: cx - half,
        ty: cy - half,
    };
    sample_chip(photo, &crop_to_photo, size)
}

/// Cuts a `size × size` chip the way dlib's `extract_image_chip` does: the
/// chip's corner pixels span the rotated chip rectangle, and large faces are
/// first shrunk through dlib's 5-tap Gaussian pyramid, cropped to the same
/// bounding box dlib crops to, so the filter's phase matches too.
pub fn sample_chip(photo: &RgbImage, chip_to_photo: &Similarity, size: usize) -> Vec<u8> {
    let n = size as f64;
    let scale = chip_to_photo.scale();
    let angle = chip_to_photo.b.atan2(chip_to_photo.a);
    let centre = chip_to_photo.apply([n / 2.0, n / 2.0]);
    let chip_rect = Rect::centred(centre, n * scale, n * scale);
    let chip_area = n * n;

    let mut depth = 0;
    let mut grow = 2.0;
    let mut shrunk = chip_rect.down();
    while shrunk.area() > chip_area {
        shrunk = shrunk.down();
        depth += 1;
        grow = grow * 2.0 + 2.0;
    }
    let rotated = chip_rect.rotated_bounds(angle);
    let photo_rect = Rect {
        left: 0.0,
        top: 0.0,
        right: f64::from(photo.width()) - 1.0,
        bottom: f64::from(photo.height()) - 1.0,
    };
    let crop = rotated.grown(grow).intersect(&photo_rect).rounded();
    if crop.right < crop.left || crop.bottom < crop.top {
        return vec![0; size * size * 3];
    }
    let mut level = Plane::crop(photo, &crop);
    let mut rect = chip_rect.translated(-crop.left, -crop.top);
    for _ in 0..depth {
        if rect.down().area() <= chip_area {
            break;
        }
        rect = rect.down();
        level = level.pyramid_down();
    }

    let c = rect.centre();
    let corner = |p: [f64; 2]| rotate(c, p, angle);
    let tl = corner([rect.left, rect.top]);
    let tr = corner([rect.right, rect.top]);
    let bl = corner([rect.left, rect.bottom]);
    let last = n - 1.0;
    let mut chip = vec![0u8; size * size * 3];
    for cy in 0..size {
        for cx in 0..size {
            let (u, v) = (cx as f64 / last, cy as f64 / last);
            let px = tl[0] + u * (tr[0] - tl[0]) + v * (bl[0] - tl[0]);
            let py = tl[1] + u * (tr[1] - tl[1]) + v * (bl[1] - tl[1]);
            if let Some(rgb) = level.bilinear(px, py) {
                chip[(cy * size + cx) * 3..][..3].copy_from_slice(&rgb);
            }
        }
    }
    chip
}

fn rotate(centre: [f64; 2], p: [f64; 2], angle: f64) -> [f64; 2] {
    let (sin, cos) = angle.sin_cos();
    let (dx, dy) = (p[0] - centre[0], p[1] - centre[1]);
    [
        cos * dx - sin * dy + centre[0],
        sin * dx + cos * dy + centre[1],
    ]
}

/// dlib's `drectangle`: inclusive edges, so width is `right − left + 1`.
#[derive(Debug, Clone, Copy)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn centred(c: [f64; 2], width: f64, height: f64) -> Self {
        let (hw, hh) = ((width - 1.0) / 2.0, (height - 1.0) / 2.0);
        Self {
            left: c[0] - hw,
            top: c[1] - hh,
            right: c[0] + hw,
            bottom: c[1] + hh,
        }
    }

    fn area(&self) -> f64 {
        if self.right < self.left || self.bottom < self.top {
            return 0.0;
        }
        (self.right - self.left + 1.0) * (self.bottom - self.top + 1.0)
    }

    fn centre(&self) -> [f64; 2] {
        [
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        ]
    }

    /// Coordinates one level down dlib's 2:1 pyramid.
    fn down(&self) -> Self {
        Self {
            left: self.left / 2.0 - 1.25,
            top: self.top / 2.0 - 0.75,
            right: self.right / 2.0 - 1.25,
            bottom: self.bottom / 2.0 - 0.75,
        }
    }

    fn rotated_bounds(&self, angle: f64) -> Self {
        let c = self.centre();
        let corners = [
            [self.left, self.top],
            [self.right, self.top],
            [self.left, self.bottom],
            [self.right, self.bottom],
        ]
        .map(|p| rotate(c, p, angle));
        Self {
            left: corners.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
            top: corners.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min),
            right: corners
                .iter()
                .map(|p| p[0])
                .fold(f64::NEG_INFINITY, f64::max),
            bottom: corners
                .iter()
                .map(|p| p[1])
                .fold(f64::NEG_INFINITY, f64::max),
        }
    }

    fn grown(&self, by: f64) -> Self {
        Self {
            left: self.left - by,
            top: self.top - by,
            right: self.right + by,
            bottom: self.bottom + by,
        }
    }

    fn intersect(&self, other: &Rect) -> Self {
        Self {
            left: self.left.max(other.left),
            top: self.top.max(other.top),
            right: self.right.min(other.right),
            bottom: self.bottom.min(other.bottom),
        }
    }

    fn rounded(&self) -> Self {
        let r = |v: f64| (v + 0.5).floor();
        Self {
            left: r(self.left),
            top: r(self.top),
            right: r(self.right),
            bottom: r(self.bottom),
        }
    }

    fn translated(&self, dx: f64, dy: f64) -> Self {
        Self {
            left: self.left + dx,
            top: self.top + dy,
            right: self.right + dx,
            bottom: self.bottom + dy,
        }
    }
}

/// An RGB image as plain rows, for cropping and pyramid levels.
struct Plane {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Plane {
    fn crop(photo: &RgbImage, r: &Rect) -> Self {
        let (x0, y0) = (r.left as u32, r.top as u32);
        let width = (r.right - r.left + 1.0) as usize;
        let height = (r.bottom - r.top + 1.0) as usize;
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height as u32 {
            for x in 0..width as u32 {
                rgb.extend_from_slice(&photo.get_pixel(x0 + x, y0 + y).0);
            }
        }
        Self { width, height, rgb }
    }

    /// dlib's `pyramid_down<2>`: a [1 4 6 4 1] filter in each direction, every
    /// other pixel kept, sums divided by 256 with truncation.
    fn pyramid_down(&self) -> Self {
        if self.width <= 8 || self.height <= 8 {
            return Self {
                width: 0,
                height: 0,
                rgb: Vec::new(),
            };
        }
        let tw = (self.width - 3) / 2;
        let mut rows = vec![0u32; self.height * tw * 3];
        for r in 0..self.height {
            for c in 0..tw {
                for ch in 0..3 {
                    let at = |k: usize| u32::from(self.rgb[(r * self.width + 2 * c + k) * 3 + ch]);
                    rows[(r * tw + c) * 3 + ch] = at(0) + 4 * at(1) + 6 * at(2) + 4 * at(3) + at(4);
                }
            }
        }
        let (width, height) = (tw, (self.height - 3) / 2);
        let mut rgb = vec![0u8; width * height * 3];
        let mut dr = 0;
        let mut r = 2;
        while r + 2 < self.height && dr < height {
            for c in 0..width {
                for ch in 0..3 {
                    let at = |rr: usize| rows[(rr * tw + c) * 3 + ch];
                    let sum = at(r - 2) + 4 * at(r - 1) + 6 * at(r) + 4 * at(r + 1) + at(r + 2);
                    rgb[(dr * width + c) * 3 + ch] = (sum / 256) as u8;
                }
            }
            dr += 1;
            r += 2;
        }
        Self { width, height, rgb }
    }

    /// dlib's `interpolate_bilinear`: no value unless all four neighbours exist.
    fn bilinear(&self, x: f64, y: f64) -> Option<[u8; 3]> {
        let (left, top) = (x.floor(), y.floor());
        if left < 0.0
            || top < 0.0
            || left + 1.0 >= self.width as f64
            || top + 1.0 >= self.height as f64
        {
            return None;
        }
        let (l, t) = (left as usize, top as usize);
        let (fx, fy) = (x - left, y - top);
        let px =
            |xx: usize, yy: usize, ch: usize| f64::from(self.rgb[(yy * self.width + xx) * 3 + ch]);
        let mut out = [0u8; 3];
        for (ch, v) in out.iter_mut().enumerate() {
            let top_row = (1.0 - fx) * px(l, t, ch) + fx * px(l + 1, t, ch);
            let bottom_row = (1.0 - fx) * px(l, t + 1, ch) + fx * px(l + 1, t + 1, ch);
            *v = ((1.0 - fy) * top_row + fy * bottom_row).clamp(0.0, 255.0) as u8;
        }
        Some(out)
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
        let from = [
            [1.0, 2.0],
            [10.0, 3.0],
            [4.0, 8.0],
            [0.0, 12.0],
            [9.0, 11.0],
        ];
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
