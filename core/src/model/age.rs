//! dlib's age-v1 over a batch of aligned 64 px chips: probabilities over
//! whole years, turned into the expected age.

use anyhow::Result;
use ort::session::Session;

use super::{ChipSession, output_rows};
use crate::manifest::AgeSpec;

pub struct AgeEstimator {
    session: ChipSession,
    spec: AgeSpec,
}

impl AgeEstimator {
    pub fn new(session: Session, spec: AgeSpec) -> Self {
        let doing = "running the age model";
        Self {
            session: ChipSession::new(session, &spec.input, spec.chip.size, doing),
            spec,
        }
    }

    pub fn session_id(&self) -> usize {
        self.session.id()
    }

    pub fn spec(&self) -> &AgeSpec {
        &self.spec
    }

    /// Probabilities over the manifest's ages for each chip.
    pub fn probabilities(&mut self, chips: &[&[u8]]) -> Result<Vec<Vec<f32>>> {
        if chips.is_empty() {
            return Ok(Vec::new());
        }
        let spec = &self.spec;
        let classes = spec.age_weights.len();
        let outputs = self.session.run(chips)?;
        let values = output_rows(
            &outputs,
            &spec.output.name,
            chips.len(),
            classes,
            &spec.name,
        )?;
        Ok(values.chunks_exact(classes).map(<[f32]>::to_vec).collect())
    }

    /// The expected age in years for each chip.
    pub fn estimate(&mut self, chips: &[&[u8]]) -> Result<Vec<f32>> {
        let rows = self.probabilities(chips)?;
        Ok(rows
            .iter()
            .map(|p| expected_age(p, &self.spec.age_weights))
            .collect())
    }
}

/// Σ weight·p, summed in class order in f32, as dlib's own code sums it, so
/// the same probabilities give the same age to the last bit.
pub fn expected_age(probabilities: &[f32], weights: &[f32]) -> f32 {
    probabilities
        .iter()
        .zip(weights)
        .fold(0.0f32, |sum, (p, w)| sum + w * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_age_weighs_each_year_by_its_probability() {
        let weights: Vec<f32> = std::iter::once(0.25)
            .chain((1..=80).map(|a| a as f32))
            .collect();
        let mut p = vec![0.0; 81];
        p[30] = 0.5;
        p[40] = 0.5;
        assert_eq!(expected_age(&p, &weights), 35.0);
        let mut newborn = vec![0.0; 81];
        newborn[0] = 1.0;
        assert_eq!(
            expected_age(&newborn, &weights),
            0.25,
            "age 0 counts as a quarter year"
        );
    }
}
