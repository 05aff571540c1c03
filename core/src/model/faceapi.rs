//! face-api.js's AgeGenderNet over a batch of 112 px square crops: gender
//! probabilities and an age from one run.

use anyhow::Result;
use ort::session::Session;

use super::{ChipSession, FaceApiVote, output_rows};
use crate::labels::Labels;
use crate::manifest::FaceApiSpec;

pub struct FaceApiNet {
    session: ChipSession,
    spec: FaceApiSpec,
    labels: Labels,
}

impl FaceApiNet {
    /// `labels` are the manifest's, read and checked once with the bundle.
    pub fn new(session: Session, spec: FaceApiSpec, labels: Labels) -> Self {
        let doing = "running face-api's age and gender model";
        Self {
            session: ChipSession::new(session, &spec.input, spec.crop.size, doing),
            spec,
            labels,
        }
    }

    pub fn session_id(&self) -> usize {
        self.session.id()
    }

    pub fn spec(&self) -> &FaceApiSpec {
        &self.spec
    }

    /// p(male) and age for each crop.
    pub fn run(&mut self, crops: &[&[u8]]) -> Result<Vec<FaceApiVote>> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let spec = &self.spec;
        let outputs = self.session.run(crops)?;
        let n = crops.len();
        let gender = output_rows(&outputs, &spec.outputs.gender, n, 2, &spec.name)?;
        let age = output_rows(&outputs, &spec.outputs.age, n, 1, &spec.name)?;
        let male = self.labels.male_output();
        Ok(gender
            .chunks_exact(2)
            .zip(age)
            .map(|(p, &age)| FaceApiVote {
                p_male: p[male],
                age,
            })
            .collect())
    }
}
