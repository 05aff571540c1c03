//! Step 2 of the pipeline (`gender_model`): the face models, each run once
//! per batch of faces gathered across photos.
//!
//! - [`GenderClassifier`]: dlib's gender-v1 on the aligned 32 px chip;
//! - [`AgeEstimator`]: dlib's age-v1 on the aligned 64 px chip;
//! - [`FaceApiNet`]: face-api.js's AgeGenderNet on a square crop of the box.
//!
//! [`FaceModels`] runs whichever of them the chosen [`ModelChoice`] needs
//! and hands back each face's raw [`FaceVotes`]; combining them is the
//! postprocess step's business.

pub mod age;
pub mod faceapi;
pub mod gender;

use anyhow::{Context, Result, bail};
use ort::AsPointer;
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;

pub use age::AgeEstimator;
pub use faceapi::FaceApiNet;
pub use gender::GenderClassifier;

use crate::manifest::{ClassifierInput, ModelBundle, Normalization};
use crate::preprocess::FaceInputs;
use crate::runtime::ModelToLoad;
use crate::settings::{EngineSettings, ModelChoice};

/// What every model said about one face, before they are combined.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaceVotes {
    /// gender-v1's p(male) on the aligned chip, and on its mirror image.
    pub dlib_p_male: Option<f32>,
    pub dlib_p_male_mirrored: Option<f32>,
    /// age-v1's expected age in years.
    pub dlib_age: Option<f32>,
    /// face-api on the square crop, and on its mirror image.
    pub faceapi: Option<[FaceApiVote; 2]>,
}

/// face-api's answer for one crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceApiVote {
    pub p_male: f32,
    pub age: f32,
}

/// The models a [`ModelChoice`] needs, loaded.
pub struct FaceModels {
    pub choice: ModelChoice,
    pub gender: Option<GenderClassifier>,
    pub age: Option<AgeEstimator>,
    pub faceapi: Option<FaceApiNet>,
}

impl FaceModels {
    /// Loads the models `choice` needs from `bundle`, each session made by
    /// `session` (which may report progress or keep the runtime's report).
    pub fn load(
        bundle: &ModelBundle,
        settings: &EngineSettings,
        choice: ModelChoice,
        mut session: impl FnMut(ModelToLoad<'_>) -> Result<Session>,
    ) -> Result<Self> {
        let needs = choice.needs();
        let manifest = &bundle.manifest;
        let mut gender = None;
        if needs.gender_chip {
            let loaded = session(ModelToLoad::classifier(bundle, settings))?;
            let spec = manifest.classifier.clone();
            gender = Some(GenderClassifier::new(loaded, spec, bundle.labels));
        }
        let mut age = None;
        if needs.age_chip {
            let loaded = session(ModelToLoad::age(bundle, settings))?;
            age = Some(AgeEstimator::new(loaded, manifest.age.clone()));
        }
        let mut faceapi = None;
        if needs.faceapi_crop {
            let loaded = session(ModelToLoad::faceapi(bundle, settings))?;
            let spec = manifest.faceapi.clone();
            faceapi = Some(FaceApiNet::new(loaded, spec, bundle.faceapi_labels));
        }
        Ok(Self {
            choice,
            gender,
            age,
            faceapi,
        })
    }

    /// Identifies the loaded sessions, so a test can tell reused ones from rebuilt ones.
    pub fn session_ids(&self) -> Vec<usize> {
        let gender = self.gender.as_ref().map(|m| m.session_id());
        let age = self.age.as_ref().map(|m| m.session_id());
        let faceapi = self.faceapi.as_ref().map(|m| m.session_id());
        [gender, age, faceapi].into_iter().flatten().collect()
    }

    /// Every needed model, once each, over these faces; mirrored inputs ride
    /// in the same run as the originals.
    pub fn run(&mut self, faces: &[&FaceInputs]) -> Result<Vec<FaceVotes>> {
        let mut votes = vec![FaceVotes::default(); faces.len()];
        if faces.is_empty() {
            return Ok(votes);
        }
        let needs = self.choice.needs();
        if let Some(gender) = self.gender.as_mut() {
            let chips = inputs_of(faces, |f| f.chip.as_deref(), "aligned chip")?;
            let size = gender.spec().chip.size as usize;
            let p = if needs.mirrored_gender_chip {
                gender.p_male(&as_slices(&originals_then_mirrors(&chips, size)))?
            } else {
                gender.p_male(&chips)?
            };
            for (i, face) in votes.iter_mut().enumerate() {
                face.dlib_p_male = Some(p[i]);
                face.dlib_p_male_mirrored = p.get(faces.len() + i).copied();
            }
        }
        if let Some(age) = self.age.as_mut() {
            let chips = inputs_of(faces, |f| f.age_chip.as_deref(), "age chip")?;
            for (face, years) in votes.iter_mut().zip(age.estimate(&chips)?) {
                face.dlib_age = Some(years);
            }
        }
        if let Some(faceapi) = self.faceapi.as_mut() {
            let crops = inputs_of(faces, |f| f.crop.as_deref(), "square crop")?;
            let size = faceapi.spec().crop.size as usize;
            let answers = faceapi.run(&as_slices(&originals_then_mirrors(&crops, size)))?;
            for (i, face) in votes.iter_mut().enumerate() {
                face.faceapi = Some([answers[i], answers[faces.len() + i]]);
            }
        }
        Ok(votes)
    }
}

pub(crate) fn inputs_of<'a>(
    faces: &[&'a FaceInputs],
    pick: impl Fn(&'a FaceInputs) -> Option<&'a [u8]>,
    what: &str,
) -> Result<Vec<&'a [u8]>> {
    faces
        .iter()
        .map(|f| pick(f).ok_or_else(|| anyhow::anyhow!("a face has no {what}")))
        .collect()
}

/// Every chip, then every chip's mirror image in the same order, so one run
/// answers for both and face `i`'s mirror is row `n + i`.
pub(crate) fn originals_then_mirrors(chips: &[&[u8]], size: usize) -> Vec<Vec<u8>> {
    let originals = chips.iter().map(|c| c.to_vec());
    let mirrors = chips.iter().map(|c| mirrored(c, size));
    originals.chain(mirrors).collect()
}

pub(crate) fn as_slices(chips: &[Vec<u8>]) -> Vec<&[u8]> {
    chips.iter().map(Vec::as_slice).collect()
}

/// The chip seen in a mirror: each row reversed, pixels kept whole.
pub fn mirrored(chip: &[u8], size: usize) -> Vec<u8> {
    let row = size * 3;
    let mut out = Vec::with_capacity(chip.len());
    for line in chip.chunks_exact(row) {
        for pixel in line.chunks_exact(3).rev() {
            out.extend_from_slice(pixel);
        }
    }
    out
}

/// Interleaved RGB chips to a model's planar, mean-subtracted input.
pub fn normalise_chips(chips: &[&[u8]], size: usize, norm: &Normalization) -> Result<Vec<f32>> {
    let plane = size * size;
    let mut input = vec![0.0f32; chips.len() * 3 * plane];
    for (n, chip) in chips.iter().enumerate() {
        if chip.len() != plane * 3 {
            bail!("a chip has {} bytes, expected {}", chip.len(), plane * 3);
        }
        let base = n * 3 * plane;
        for (i, rgb) in chip.chunks_exact(3).enumerate() {
            for c in 0..3 {
                input[base + c * plane + i] = (f32::from(rgb[c]) - norm.means[c]) * norm.scale;
            }
        }
    }
    Ok(input)
}

/// A session whose one input is a batch of normalised square chips.
pub(crate) struct ChipSession {
    session: Session,
    input: String,
    size: usize,
    norm: Normalization,
    /// What the model is called in an error ("running the age model").
    doing: &'static str,
}

impl ChipSession {
    pub(crate) fn new(
        session: Session,
        input: &ClassifierInput,
        size: u32,
        doing: &'static str,
    ) -> Self {
        Self {
            session,
            input: input.name.clone(),
            size: size as usize,
            norm: input.normalization.clone(),
            doing,
        }
    }

    pub(crate) fn id(&self) -> usize {
        self.session.ptr() as usize
    }

    pub(crate) fn run(&mut self, chips: &[&[u8]]) -> Result<SessionOutputs<'_>> {
        let values = normalise_chips(chips, self.size, &self.norm)?;
        let shape = [chips.len(), 3, self.size, self.size];
        let tensor = TensorRef::from_array_view((shape, values.as_slice()))?;
        self.session
            .run(ort::inputs![self.input.as_str() => tensor])
            .map_err(anyhow::Error::from)
            .context(self.doing)
    }
}

/// One output as `[rows, width]` f32 values, refusing any other shape.
pub(crate) fn output_rows<'a>(
    outputs: &'a SessionOutputs<'_>,
    name: &str,
    rows: usize,
    width: usize,
    model: &str,
) -> Result<&'a [f32]> {
    let Some(value) = outputs.get(name) else {
        bail!("{model} has no output {name:?}");
    };
    let (shape, values) = value.try_extract_tensor::<f32>()?;
    let width_ok = match shape.len() {
        2 => shape[1] as usize == width,
        1 => width == 1,
        _ => false,
    };
    if shape.first().map(|&n| n as usize) != Some(rows) || !width_ok {
        bail!("{model} returned shape {shape:?} for {rows} inputs");
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_reverses_each_row_and_keeps_pixels_whole() {
        // Two rows of two pixels: [a b / c d] becomes [b a / d c].
        let chip = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        assert_eq!(mirrored(&chip, 2), [4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
        assert_eq!(mirrored(&mirrored(&chip, 2), 2), chip);
    }
}
