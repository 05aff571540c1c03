//! dlib's gender-v1 over a batch of aligned chips, one ONNX Runtime run per batch.

use anyhow::Result;
use ort::session::Session;

use super::{ChipSession, output_rows};
use crate::labels::Labels;
use crate::manifest::ClassifierSpec;

pub struct GenderClassifier {
    session: ChipSession,
    spec: ClassifierSpec,
    labels: Labels,
}

impl GenderClassifier {
    /// `labels` are the manifest's, read and checked once with the bundle.
    pub fn new(session: Session, spec: ClassifierSpec, labels: Labels) -> Self {
        let doing = "running the gender classifier";
        Self {
            session: ChipSession::new(session, &spec.input, spec.chip.size, doing),
            spec,
            labels,
        }
    }

    /// Tells this classifier's session apart from any other while both live.
    pub fn session_id(&self) -> usize {
        self.session.id()
    }

    pub fn spec(&self) -> &ClassifierSpec {
        &self.spec
    }

    /// Label probabilities for each chip, in the manifest's label order.
    pub fn classify(&mut self, chips: &[&[u8]]) -> Result<Vec<[f32; 2]>> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let spec = &self.spec;
        let outputs = self.session.run(chips)?;
        let values = output_rows(&outputs, &spec.output.name, chips.len(), 2, &spec.name)?;
        Ok(values.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
    }

    /// p(male) for each chip.
    pub fn p_male(&mut self, chips: &[&[u8]]) -> Result<Vec<f32>> {
        let male = self.labels.male_output();
        Ok(self.classify(chips)?.into_iter().map(|p| p[male]).collect())
    }
}
