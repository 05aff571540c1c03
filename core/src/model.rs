//! Step 2 of the pipeline (`gender_model`): the classifier over a batch of
//! aligned chips, one ONNX Runtime run per batch.

use anyhow::{Context, Result, bail};
use ort::AsPointer;
use ort::session::Session;
use ort::value::TensorRef;

use crate::manifest::ClassifierSpec;

pub struct GenderClassifier {
    session: Session,
    spec: ClassifierSpec,
}

impl GenderClassifier {
    pub fn new(session: Session, spec: ClassifierSpec) -> Self {
        Self { session, spec }
    }

    /// Tells this classifier's session apart from any other while both live.
    pub fn session_id(&self) -> usize {
        self.session.ptr() as usize
    }

    pub fn spec(&self) -> &ClassifierSpec {
        &self.spec
    }

    /// Label probabilities for each chip, in the manifest's label order.
    pub fn classify(&mut self, chips: &[&[u8]]) -> Result<Vec<[f32; 2]>> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let size = self.spec.chip.size as usize;
        let input = normalise_chips(chips, &self.spec)?;
        let tensor = TensorRef::from_array_view(([chips.len(), 3, size, size], input.as_slice()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.spec.input.name.as_str() => tensor])
            .context("running the gender classifier")?;
        let name = self.spec.output.name.as_str();
        let (shape, values) = outputs
            .get(name)
            .with_context(|| format!("the classifier has no output {name:?}"))?
            .try_extract_tensor::<f32>()?;
        if shape.len() != 2 || shape[0] as usize != chips.len() || shape[1] != 2 {
            bail!(
                "the classifier returned shape {shape:?} for {} chips",
                chips.len()
            );
        }
        Ok(values.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
    }
}

/// Interleaved RGB chips to the classifier's planar, mean-subtracted input.
pub fn normalise_chips(chips: &[&[u8]], spec: &ClassifierSpec) -> Result<Vec<f32>> {
    let size = spec.chip.size as usize;
    let plane = size * size;
    let norm = &spec.input.normalization;
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
