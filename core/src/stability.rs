//! How steady the answers are when a face box moves a little. A detector
//! does not give the same box twice to the pixel (another photo size,
//! another backend), so a label that flips when its box moves by one pixel
//! cannot be trusted. `genderlens bench --stability` reports these figures.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::combine::{ModelNames, combine};
use crate::manifest::ModelBundle;
use crate::model::{FaceModels, FaceVotes};
use crate::preprocess::detect::{Detection, DetectorOptions, FaceDetector};
use crate::preprocess::{Aligner, decode_limits, decode_photo};
use crate::runtime::{ModelToLoad, Runtime};
use crate::settings::{EngineSettings, ModelChoice};

/// One small change of a face box: a shift in pixels and a scale about its centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxChange {
    pub dx: f32,
    pub dy: f32,
    pub scale: f32,
}

/// Every box is tried moved by ±1 px along each axis, scaled by ±2%, and
/// both together along the diagonal: eight variants.
pub const VARIANTS: [BoxChange; 8] = [
    BoxChange {
        dx: -1.0,
        dy: 0.0,
        scale: 1.0,
    },
    BoxChange {
        dx: 1.0,
        dy: 0.0,
        scale: 1.0,
    },
    BoxChange {
        dx: 0.0,
        dy: -1.0,
        scale: 1.0,
    },
    BoxChange {
        dx: 0.0,
        dy: 1.0,
        scale: 1.0,
    },
    BoxChange {
        dx: 0.0,
        dy: 0.0,
        scale: 0.98,
    },
    BoxChange {
        dx: 0.0,
        dy: 0.0,
        scale: 1.02,
    },
    BoxChange {
        dx: -1.0,
        dy: -1.0,
        scale: 0.98,
    },
    BoxChange {
        dx: 1.0,
        dy: 1.0,
        scale: 1.02,
    },
];

/// `detection` with its box changed; what the aligner reads is the
/// unclipped `face_box`, so both boxes move.
pub fn moved(detection: &Detection, change: BoxChange) -> Detection {
    let apply = |[l, t, r, b]: [f32; 4]| {
        let (cx, cy) = ((l + r) / 2.0 + change.dx, (t + b) / 2.0 + change.dy);
        let (hw, hh) = ((r - l) / 2.0 * change.scale, (b - t) / 2.0 * change.scale);
        [cx - hw, cy - hh, cx + hw, cy + hh]
    };
    Detection {
        bbox: apply(detection.bbox),
        face_box: apply(detection.face_box),
        ..detection.clone()
    }
}

/// p(male) of one face as found, and under each of [`VARIANTS`].
#[derive(Debug, Clone, PartialEq)]
pub struct FaceProbe {
    pub p_male: f32,
    pub variants: Vec<f32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StabilityReport {
    pub photos: usize,
    pub faces: usize,
    pub variants: usize,
    /// Mean and largest |Δp(male)| between a face and its variants.
    pub mean_abs_delta: f64,
    pub max_abs_delta: f64,
    /// Variants whose label (p(male) above ½: male) differs from the face's.
    pub flips: usize,
    /// Faces with at least one such variant.
    pub faces_flipped: usize,
}

impl StabilityReport {
    pub fn from_faces(photos: usize, faces: &[FaceProbe]) -> Self {
        let male = crate::combine::is_male;
        let mut report = Self {
            photos,
            faces: faces.len(),
            ..Self::default()
        };
        let mut total = 0.0;
        for face in faces {
            let mut flipped = false;
            for &variant in &face.variants {
                let delta = f64::from((variant - face.p_male).abs());
                total += delta;
                report.max_abs_delta = report.max_abs_delta.max(delta);
                report.variants += 1;
                if male(variant) != male(face.p_male) {
                    report.flips += 1;
                    flipped = true;
                }
            }
            report.faces_flipped += usize::from(flipped);
        }
        report.mean_abs_delta = total / report.variants.max(1) as f64;
        report
    }
}

/// One face probed under each model choice, from the same model runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelProbes {
    pub dlib: FaceProbe,
    pub faceapi: FaceProbe,
    pub ensemble: FaceProbe,
}

impl ModelProbes {
    pub fn get(&self, choice: ModelChoice) -> &FaceProbe {
        match choice {
            ModelChoice::Dlib => &self.dlib,
            ModelChoice::Faceapi => &self.faceapi,
            ModelChoice::Ensemble => &self.ensemble,
        }
    }
}

/// The local models, run face by face on moved boxes. Every model runs on
/// every input, so each choice's answer comes from the same runs: dlib alone
/// is gender-v1 on the chip, face-api alone is its crop and mirror, the
/// ensemble is the combination of all of them.
pub struct StabilityProbe {
    detector: FaceDetector,
    aligner: Aligner,
    models: FaceModels,
    names: ModelNames,
    settings: EngineSettings,
    bundle: std::sync::Arc<ModelBundle>,
}

impl StabilityProbe {
    pub fn new(
        runtime: &Runtime,
        bundle: std::sync::Arc<ModelBundle>,
        settings: &EngineSettings,
    ) -> Result<Self> {
        let settings = EngineSettings {
            model: ModelChoice::Ensemble,
            ..settings.clone()
        };
        let load = |model: ModelToLoad<'_>| runtime.session(&model, &settings).map(|(s, _)| s);
        let manifest = &bundle.manifest;
        let models = FaceModels::load(&bundle, &settings, ModelChoice::Ensemble, load)?;
        Ok(Self {
            detector: FaceDetector::new(
                load(ModelToLoad::detector(&bundle, &settings))?,
                manifest.detector.clone(),
                DetectorOptions {
                    threshold: settings.detection_threshold,
                    min_face_px: settings.min_face_px,
                },
            ),
            aligner: Aligner::new(&bundle, ModelChoice::Ensemble.needs())?,
            models,
            names: ModelNames::from_manifest(manifest),
            settings,
            bundle,
        })
    }

    /// Every face of the photo at `path`, with its variants; all inputs of
    /// the photo go through each model in one run.
    pub fn photo(&mut self, path: &Path) -> Result<Vec<ModelProbes>> {
        let limits = decode_limits(&self.settings, None);
        let decoded = decode_photo(path, &limits, &self.settings, &self.bundle.manifest)?;
        let detections = self
            .detector
            .detect(&decoded.detector_input, decoded.full_size)?;
        let source = crate::preprocess::source_for_chips(decoded, &detections, &self.aligner);
        let per_face = 1 + VARIANTS.len();
        let inputs: Vec<_> = detections
            .iter()
            .flat_map(|d| {
                std::iter::once(d.clone()).chain(VARIANTS.iter().map(|&change| moved(d, change)))
            })
            .map(|d| {
                self.aligner
                    .inputs(&source.rgb, &d.scaled(source.reduction))
            })
            .collect();
        let refs: Vec<_> = inputs.iter().collect();
        let votes = self.models.run(&refs)?;
        let answers = votes
            .iter()
            .map(|v| self.answers(v))
            .collect::<Result<Vec<_>>>()?;
        Ok(answers
            .chunks(per_face)
            .map(|face| {
                let probe = |pick: fn(&[f32; 3]) -> f32| FaceProbe {
                    p_male: pick(&face[0]),
                    variants: face[1..].iter().map(pick).collect(),
                };
                ModelProbes {
                    dlib: probe(|a| a[0]),
                    faceapi: probe(|a| a[1]),
                    ensemble: probe(|a| a[2]),
                }
            })
            .collect())
    }

    /// p(male) of dlib alone, face-api alone and the ensemble.
    fn answers(&self, votes: &FaceVotes) -> Result<[f32; 3]> {
        let dlib = FaceVotes {
            dlib_p_male: votes.dlib_p_male,
            ..FaceVotes::default()
        };
        let faceapi = FaceVotes {
            faceapi: votes.faceapi,
            ..FaceVotes::default()
        };
        let p = |v: &FaceVotes| {
            combine(v, &self.names)
                .map(|c| c.p_male)
                .map_err(|e| anyhow::anyhow!(e.message))
        };
        Ok([p(&dlib)?, p(&faceapi)?, p(votes)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detection(bbox: [f32; 4]) -> Detection {
        Detection {
            bbox,
            face_box: bbox,
            landmarks: [[0.0; 2]; 5],
            score: 0.9,
        }
    }

    #[test]
    fn boxes_move_and_scale_about_their_centre() {
        let d = detection([10.0, 20.0, 110.0, 220.0]);
        let shifted = moved(&d, VARIANTS[1]);
        assert_eq!(shifted.face_box, [11.0, 20.0, 111.0, 220.0]);
        let grown = moved(&d, VARIANTS[5]);
        assert_eq!(grown.bbox, [9.0, 18.0, 111.0, 222.0]);
        assert_eq!(grown.landmarks, d.landmarks);
    }

    #[test]
    fn flips_and_deltas_are_counted_against_the_face_as_found() {
        let faces = [
            FaceProbe {
                p_male: 0.55,
                variants: vec![0.45, 0.6],
            },
            FaceProbe {
                p_male: 0.1,
                variants: vec![0.1, 0.3],
            },
        ];
        let report = StabilityReport::from_faces(2, &faces);
        assert_eq!((report.faces, report.variants), (2, 4));
        assert_eq!((report.flips, report.faces_flipped), (1, 1));
        assert!((report.max_abs_delta - 0.2).abs() < 1e-6);
        assert!((report.mean_abs_delta - 0.0875).abs() < 1e-6, "{report:?}");
    }
}
