//! dlib's 5-point face landmark model (an ensemble of regression trees),
//! read from dlib's own serialisation and evaluated the way dlib does, so
//! chips are aligned exactly like the reference pipeline's.

use anyhow::{Context, Result, bail, ensure};
use image::RgbImage;

use super::align::{Similarity, fit_similarity};
use crate::manifest::BoxFromDetection;

struct Split {
    idx1: usize,
    idx2: usize,
    thresh: f32,
}

struct RegressionTree {
    splits: Vec<Split>,
    leaf_values: Vec<Vec<f32>>,
}

impl RegressionTree {
    fn leaf(&self, features: &[f32]) -> &[f32] {
        let mut i = 0;
        while i < self.splits.len() {
            let s = &self.splits[i];
            i = if features[s.idx1] - features[s.idx2] > s.thresh {
                2 * i + 1
            } else {
                2 * i + 2
            };
        }
        &self.leaf_values[i - self.splits.len()]
    }
}

/// A box in whole photo pixels with dlib's inclusive right/bottom edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl FaceBox {
    /// The square box the predictor expects, derived from a detector box
    /// (which is taller and starts higher, at the hairline).
    pub fn from_detection(bbox: [f32; 4], rule: &BoxFromDetection) -> Self {
        let width = bbox[2] - bbox[0];
        let height = bbox[3] - bbox[1];
        let side = (width * rule.side_per_width).round().max(1.0);
        let cx = (bbox[0] + bbox[2]) / 2.0;
        let cy = (bbox[1] + bbox[3]) / 2.0 + height * rule.centre_shift_per_height;
        let left = (cx - side / 2.0).round();
        let top = (cy - side / 2.0).round();
        Self {
            left: f64::from(left),
            top: f64::from(top),
            right: f64::from(left + side - 1.0),
            bottom: f64::from(top + side - 1.0),
        }
    }

    fn photo_point(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        [
            self.left + x * (self.right - self.left),
            self.top + y * (self.bottom - self.top),
        ]
    }
}

pub struct ShapePredictor {
    initial_shape: Vec<f32>,
    forests: Vec<Vec<RegressionTree>>,
    anchor_idx: Vec<Vec<usize>>,
    deltas: Vec<Vec<[f32; 2]>>,
}

impl ShapePredictor {
    pub fn parts(&self) -> usize {
        self.initial_shape.len() / 2
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.int()?;
        ensure!(
            version == 1,
            "unsupported shape predictor version {version}"
        );
        let initial_shape = r.column()?;
        let forests = r.vec(|r| {
            r.vec(|r| {
                Ok(RegressionTree {
                    splits: r.vec(|r| {
                        Ok(Split {
                            idx1: r.int()? as usize,
                            idx2: r.int()? as usize,
                            thresh: r.float()?,
                        })
                    })?,
                    leaf_values: r.vec(|r| r.column())?,
                })
            })
        })?;
        let anchor_idx = r.vec(|r| r.vec(|r| Ok(r.int()? as usize)))?;
        let deltas = r.vec(|r| r.vec(|r| Ok([r.float()?, r.float()?])))?;
        ensure!(
            r.pos == bytes.len(),
            "trailing bytes after the shape predictor"
        );
        let parts = initial_shape.len() / 2;
        ensure!(
            forests.len() == anchor_idx.len() && forests.len() == deltas.len(),
            "inconsistent cascade lengths"
        );
        for (level, trees) in forests.iter().enumerate() {
            let features = deltas[level].len();
            ensure!(
                anchor_idx[level].len() == features,
                "inconsistent feature count"
            );
            ensure!(
                anchor_idx[level].iter().all(|&a| a < parts),
                "anchor out of range"
            );
            for tree in trees {
                ensure!(
                    tree.splits
                        .iter()
                        .all(|s| s.idx1 < features && s.idx2 < features),
                    "split feature out of range"
                );
                ensure!(
                    tree.leaf_values.len() == tree.splits.len() + 1
                        && tree
                            .leaf_values
                            .iter()
                            .all(|l| l.len() == initial_shape.len()),
                    "malformed regression tree"
                );
            }
        }
        Ok(Self {
            initial_shape,
            forests,
            anchor_idx,
            deltas,
        })
    }

    /// The landmarks of the face in `face`, in photo pixels (rounded, as dlib reports them).
    pub fn predict(&self, photo: &RgbImage, face: &FaceBox) -> Vec<[f64; 2]> {
        let mut shape = self.initial_shape.clone();
        let mut features = Vec::new();
        for (level, trees) in self.forests.iter().enumerate() {
            let tform = shape_transform(&self.initial_shape, &shape);
            features.clear();
            features.extend(self.anchor_idx[level].iter().zip(&self.deltas[level]).map(
                |(&anchor, delta)| {
                    let dx = f64::from(delta[0]);
                    let dy = f64::from(delta[1]);
                    let x = f64::from(shape[2 * anchor]) + tform.a * dx - tform.b * dy;
                    let y = f64::from(shape[2 * anchor + 1]) + tform.b * dx + tform.a * dy;
                    intensity(photo, face.photo_point([x, y]))
                },
            ));
            for tree in trees {
                for (s, d) in shape.iter_mut().zip(tree.leaf(&features)) {
                    *s += d;
                }
            }
        }
        (0..self.parts())
            .map(|i| {
                let [x, y] =
                    face.photo_point([f64::from(shape[2 * i]), f64::from(shape[2 * i + 1])]);
                [round_half_up(x), round_half_up(y)]
            })
            .collect()
    }
}

/// The rotation and scale taking the mean shape onto the current estimate.
fn shape_transform(from: &[f32], to: &[f32]) -> Similarity {
    let pts = |s: &[f32]| -> Vec<[f64; 2]> {
        s.chunks_exact(2)
            .map(|p| [f64::from(p[0]), f64::from(p[1])])
            .collect()
    };
    fit_similarity(&pts(from), &pts(to))
}

fn round_half_up(v: f64) -> f64 {
    (v + 0.5).floor()
}

/// dlib's grey level of an RGB pixel, zero outside the photo.
fn intensity(photo: &RgbImage, [x, y]: [f64; 2]) -> f32 {
    let (x, y) = (round_half_up(x), round_half_up(y));
    if x < 0.0 || y < 0.0 || x >= f64::from(photo.width()) || y >= f64::from(photo.height()) {
        return 0.0;
    }
    let p = photo.get_pixel(x as u32, y as u32);
    ((u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])) / 3) as f32
}

/// dlib's portable serialisation: variable-length integers and floats as
/// (mantissa, exponent) integer pairs.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .bytes
            .get(self.pos)
            .context("the shape predictor file ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn int(&mut self) -> Result<i64> {
        let control = self.byte()?;
        let len = usize::from(control & 0x0F);
        ensure!(len <= 8, "corrupt integer in the shape predictor file");
        let mut magnitude = 0u64;
        for i in 0..len {
            magnitude |= u64::from(self.byte()?) << (8 * i);
        }
        let value = i64::try_from(magnitude)
            .ok()
            .context("corrupt integer in the shape predictor file")?;
        Ok(if control & 0x80 != 0 { -value } else { value })
    }

    fn float(&mut self) -> Result<f32> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        if exponent >= i64::from(i16::MAX) - 2 {
            bail!("non-finite value in the shape predictor file");
        }
        Ok((mantissa as f64 * 2f64.powi(exponent as i32)) as f32)
    }

    /// A `matrix<float,0,1>`; dlib writes negated dimensions in its newer format.
    fn column(&mut self) -> Result<Vec<f32>> {
        let rows = self.int()?.unsigned_abs();
        let cols = self.int()?.unsigned_abs();
        let count = rows
            .checked_mul(cols)
            .filter(|&n| n < 1 << 20)
            .context("implausible matrix size")?;
        (0..count).map(|_| self.float()).collect()
    }

    fn vec<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let len = self.int()?;
        ensure!((0..1 << 24).contains(&len), "implausible list length {len}");
        (0..len).map(|_| item(self)).collect()
    }
}
