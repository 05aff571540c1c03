//! CenterFace face detection: run the detector on a letterboxed photo, decode
//! its stride-4 heatmaps into boxes and 5 landmarks, and suppress overlaps.

use anyhow::{Context, Result, bail};
use ort::AsPointer;
use ort::session::Session;
use ort::value::TensorRef;

use super::letterbox::LetterboxedImage;
use crate::manifest::DetectorSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// `[left, top, right, bottom]` in photo pixels, inside the photo.
    pub bbox: [f32; 4],
    /// The same box before clipping to the photo, for aligning faces cut by the edge.
    pub face_box: [f32; 4],
    /// Eye, eye, nose, mouth corner, mouth corner, as the photo shows them left to right.
    pub landmarks: [[f32; 2]; 5],
    pub score: f32,
}

impl Detection {
    /// The same face in an image `by` times the photo's size.
    pub fn scaled(&self, by: f64) -> Self {
        if by == 1.0 {
            return self.clone();
        }
        let by = by as f32;
        Self {
            bbox: self.bbox.map(|v| v * by),
            face_box: self.face_box.map(|v| v * by),
            landmarks: self.landmarks.map(|[x, y]| [x * by, y * by]),
            score: self.score,
        }
    }
}

pub struct DetectorOptions {
    pub threshold: f32,
    pub min_face_px: f32,
}

pub struct FaceDetector {
    session: Session,
    spec: DetectorSpec,
    options: DetectorOptions,
}

impl FaceDetector {
    /// Tells this detector's session apart from any other while both live.
    pub fn session_id(&self) -> usize {
        self.session.ptr() as usize
    }

    pub fn new(session: Session, spec: DetectorSpec, options: DetectorOptions) -> Self {
        Self {
            session,
            spec,
            options,
        }
    }

    /// Faces in a photo of `photo_size` (width, height), best first.
    pub fn detect(
        &mut self,
        input: &LetterboxedImage,
        photo_size: (u32, u32),
    ) -> Result<Vec<Detection>> {
        let shape = [1usize, 3, input.height as usize, input.width as usize];
        let tensor = TensorRef::from_array_view((shape, input.data.as_slice()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.spec.input.name.as_str() => tensor])
            .context("running the face detector")?;
        let names = &self.spec.outputs;
        let output = |name: &str| {
            outputs
                .get(name)
                .with_context(|| format!("the face detector has no output {name:?}"))?
                .try_extract_tensor::<f32>()
                .with_context(|| format!("reading the face detector's output {name:?}"))
        };
        let (heat_shape, heatmap) = output(&names.heatmap)?;
        let (_, scale) = output(&names.scale)?;
        let (_, offset) = output(&names.offset)?;
        let (_, landmarks) = output(&names.landmarks)?;
        detections_in_photo(
            RawOutputs {
                heat_shape,
                heatmap,
                scale,
                offset,
                landmarks,
            },
            &self.spec,
            &self.options,
            input.scale,
            photo_size,
        )
    }
}

/// Faces in a photo of `photo_size` from the detector's raw outputs on its
/// letterboxed input (`scale` detector pixels per photo pixel), best first,
/// without those smaller than the options allow. The server's align step
/// calls this on the outputs of the detector Triton ran.
pub fn detections_in_photo(
    raw: RawOutputs<'_>,
    spec: &DetectorSpec,
    options: &DetectorOptions,
    scale: f32,
    photo_size: (u32, u32),
) -> Result<Vec<Detection>> {
    let kept = decode_outputs(raw, spec.stride as f32, options.threshold, spec.nms_iou)?;
    Ok(kept
        .into_iter()
        .map(|d| to_photo_pixels(d, scale, photo_size))
        .filter(|d| {
            let w = d.bbox[2] - d.bbox[0];
            let h = d.bbox[3] - d.bbox[1];
            w.min(h) >= options.min_face_px
        })
        .collect())
}

/// The detector's four outputs as ONNX Runtime hands them over.
pub struct RawOutputs<'a> {
    pub heat_shape: &'a [i64],
    pub heatmap: &'a [f32],
    pub scale: &'a [f32],
    pub offset: &'a [f32],
    pub landmarks: &'a [f32],
}

/// Faces in detector pixels from the detector's raw outputs, after
/// non-maximum suppression; outputs whose shapes do not fit each other are
/// an error, never a panic.
pub fn decode_outputs(
    raw: RawOutputs<'_>,
    stride: f32,
    threshold: f32,
    nms_iou: f32,
) -> Result<Vec<Detection>> {
    let [1, 1, height, width] = *raw.heat_shape else {
        bail!(
            "the face detector's heatmap has shape {:?}, expected [1, 1, H, W]",
            raw.heat_shape
        );
    };
    let side = |n: i64| usize::try_from(n).ok().filter(|&n| n > 0);
    let (Some(grid_height), Some(grid_width)) = (side(height), side(width)) else {
        bail!("the face detector's heatmap is {height}×{width}");
    };
    let cells = grid_height.checked_mul(grid_width).unwrap_or(0);
    let RawOutputs {
        heatmap,
        scale,
        offset,
        landmarks,
        ..
    } = raw;
    let expected = [(heatmap, 1usize), (scale, 2), (offset, 2), (landmarks, 10)];
    if cells == 0
        || expected
            .iter()
            .any(|(values, per)| Some(values.len()) != per.checked_mul(cells))
    {
        bail!(
            "the face detector's outputs do not match its {height}×{width} heatmap \
             ({}, {}, {} and {} values)",
            heatmap.len(),
            scale.len(),
            offset.len(),
            landmarks.len()
        );
    }
    let grid = Grid {
        height: grid_height,
        width: grid_width,
        stride,
    };
    let raw = decode_heatmaps(
        &grid,
        HeadOutputs {
            heatmap,
            scale,
            offset,
            landmarks,
        },
        threshold,
    );
    Ok(non_max_suppression(raw, nms_iou))
}

pub struct Grid {
    pub height: usize,
    pub width: usize,
    pub stride: f32,
}

pub struct HeadOutputs<'a> {
    pub heatmap: &'a [f32],
    pub scale: &'a [f32],
    pub offset: &'a [f32],
    pub landmarks: &'a [f32],
}

/// Turns every heatmap cell above `threshold` into a candidate, in detector pixels.
pub fn decode_heatmaps(grid: &Grid, out: HeadOutputs<'_>, threshold: f32) -> Vec<Detection> {
    let plane = grid.height * grid.width;
    let at = |channel: usize, cell: usize| channel * plane + cell;
    let mut found = Vec::new();
    for y in 0..grid.height {
        for x in 0..grid.width {
            let cell = y * grid.width + x;
            let score = out.heatmap[cell];
            // A NaN score is no face, whatever the threshold.
            if score.is_nan() || score <= threshold {
                continue;
            }
            let box_h = out.scale[at(0, cell)].exp() * grid.stride;
            let box_w = out.scale[at(1, cell)].exp() * grid.stride;
            let left = (x as f32 + out.offset[at(1, cell)] + 0.5) * grid.stride - box_w / 2.0;
            let top = (y as f32 + out.offset[at(0, cell)] + 0.5) * grid.stride - box_h / 2.0;
            let mut landmarks = [[0.0f32; 2]; 5];
            for (j, point) in landmarks.iter_mut().enumerate() {
                point[0] = out.landmarks[at(2 * j + 1, cell)] * box_w + left;
                point[1] = out.landmarks[at(2 * j, cell)] * box_h + top;
            }
            // Outputs that overflow (a huge scale) give no usable box.
            let finite = [left, top, box_w, box_h]
                .iter()
                .chain(landmarks.iter().flatten())
                .all(|v| v.is_finite());
            if !finite {
                continue;
            }
            found.push(Detection {
                bbox: [left, top, left + box_w, top + box_h],
                face_box: [left, top, left + box_w, top + box_h],
                landmarks,
                score,
            });
        }
    }
    found
}

pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let inter_w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let inter_h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = inter_w * inter_h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Greedy NMS: keeps the best-scoring box of every cluster overlapping above `max_iou`.
pub fn non_max_suppression(mut candidates: Vec<Detection>, max_iou: f32) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        if kept
            .iter()
            .all(|k| iou(&k.bbox, &candidate.bbox) <= max_iou)
        {
            kept.push(candidate);
        }
    }
    kept
}

fn to_photo_pixels(mut d: Detection, scale: f32, (width, height): (u32, u32)) -> Detection {
    for v in d.bbox.iter_mut() {
        *v /= scale;
    }
    for point in d.landmarks.iter_mut() {
        point[0] /= scale;
        point[1] /= scale;
    }
    d.face_box = d.bbox;
    // Boxes are reported inside the photo; landmarks keep their true position
    // so that alignment of faces cut by the edge stays correct.
    d.bbox[0] = d.bbox[0].clamp(0.0, width as f32);
    d.bbox[2] = d.bbox[2].clamp(0.0, width as f32);
    d.bbox[1] = d.bbox[1].clamp(0.0, height as f32);
    d.bbox[3] = d.bbox[3].clamp(0.0, height as f32);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(bbox: [f32; 4], score: f32) -> Detection {
        Detection {
            bbox,
            face_box: bbox,
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes_and_separate_ones() {
        let kept = non_max_suppression(
            vec![
                det([0.0, 0.0, 10.0, 10.0], 0.7),
                det([1.0, 1.0, 11.0, 11.0], 0.9),
                det([50.0, 50.0, 60.0, 60.0], 0.6),
            ],
            0.3,
        );
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.6]);
    }

    #[test]
    fn heatmap_cell_decodes_to_the_documented_box() {
        // One 2x2 grid with a single hot cell at (x=1, y=0).
        let heatmap = [0.1, 0.9, 0.2, 0.3];
        let mut scale = [0.0f32; 8];
        scale[1] = (10.0f32 / 4.0).ln(); // height 10
        scale[4 + 1] = (6.0f32 / 4.0).ln(); // width 6
        let offset = [0.0f32; 8];
        let mut landmarks = [0.0f32; 40];
        landmarks[4 + 1] = 0.5; // landmark 0: x = half the box width from the left edge
        let grid = Grid {
            height: 2,
            width: 2,
            stride: 4.0,
        };
        let found = decode_heatmaps(
            &grid,
            HeadOutputs {
                heatmap: &heatmap,
                scale: &scale,
                offset: &offset,
                landmarks: &landmarks,
            },
            0.5,
        );
        assert_eq!(found.len(), 1);
        let d = &found[0];
        // centre x = (1 + 0.5) * 4 = 6, y = 0.5 * 4 = 2
        assert!((d.bbox[0] - 3.0).abs() < 1e-5, "{:?}", d.bbox);
        assert!((d.bbox[1] - -3.0).abs() < 1e-5, "{:?}", d.bbox);
        assert!((d.bbox[2] - 9.0).abs() < 1e-5);
        assert!((d.bbox[3] - 7.0).abs() < 1e-5);
        assert!((d.landmarks[0][0] - 6.0).abs() < 1e-5, "{:?}", d.landmarks);
        assert!((d.landmarks[0][1] - -3.0).abs() < 1e-5, "{:?}", d.landmarks);
    }
}
