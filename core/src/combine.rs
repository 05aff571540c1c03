//! How the models' votes on one face become its answer. The rule is fixed,
//! with nothing tuned:
//!
//! - each model's p(male) is the mean over its inputs (the chip and, where
//!   it ran, the chip's mirror image);
//! - the face's p(male) is the mean of the models' p(male), which with
//!   both models and both mirrors is the mean of four probabilities;
//! - its age is the mean of the models' ages, to one decimal;
//! - the models *disagree* when their p(male) fall on different sides of ½,
//!   and a face whose models disagree is uncertain whatever its score.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::PhotoError;
use crate::model::FaceVotes;
use crate::settings::ModelChoice;

/// One model's own answer for a face, as the JSON `models` map carries it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelValues {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_male: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<f32>,
}

/// The names results use for the models, from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelNames {
    pub gender: String,
    pub age: String,
    pub faceapi: String,
}

impl ModelNames {
    pub fn from_manifest(manifest: &crate::manifest::Manifest) -> Self {
        Self {
            gender: manifest.classifier.name.clone(),
            age: manifest.age.name.clone(),
            faceapi: manifest.faceapi.name.clone(),
        }
    }

    /// The models `choice` runs, in the order they are described.
    pub fn used_by(&self, choice: ModelChoice) -> Vec<&str> {
        let needs = choice.needs();
        let mut names = Vec::new();
        if needs.gender_chip {
            names.push(self.gender.as_str());
        }
        if needs.age_chip {
            names.push(self.age.as_str());
        }
        if needs.faceapi_crop {
            names.push(self.faceapi.as_str());
        }
        names
    }
}

/// One face's combined answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Combined {
    pub p_male: f32,
    /// Years, to one decimal; none when no model that ran estimates age.
    pub age: Option<f32>,
    /// The models that ran label the face differently.
    pub disagree: bool,
    pub models: BTreeMap<String, ModelValues>,
}

pub fn combine(votes: &FaceVotes, names: &ModelNames) -> Result<Combined, PhotoError> {
    let dlib_inputs: Vec<f32> = [votes.dlib_p_male, votes.dlib_p_male_mirrored]
        .into_iter()
        .flatten()
        .collect();
    let dlib_p = mean(&dlib_inputs).map(checked_probability).transpose()?;
    let dlib_age = votes.dlib_age.map(checked_age).transpose()?;
    let (faceapi_p, faceapi_age) = match votes.faceapi {
        Some(answers) => {
            let p = mean(&answers.map(|a| a.p_male)).map(checked_probability);
            let age = mean(&answers.map(|a| a.age)).map(checked_age);
            (p.transpose()?, age.transpose()?)
        }
        None => (None, None),
    };

    let mut models = BTreeMap::new();
    if dlib_p.is_some() {
        let values = ModelValues {
            p_male: dlib_p,
            age: None,
        };
        models.insert(names.gender.clone(), values);
    }
    if let Some(age) = dlib_age {
        let values = ModelValues {
            p_male: None,
            age: Some(one_decimal(age)),
        };
        models.insert(names.age.clone(), values);
    }
    if faceapi_p.is_some() || faceapi_age.is_some() {
        let values = ModelValues {
            p_male: faceapi_p,
            age: faceapi_age.map(one_decimal),
        };
        models.insert(names.faceapi.clone(), values);
    }

    let genders: Vec<f32> = [dlib_p, faceapi_p].into_iter().flatten().collect();
    let Some(p_male) = mean(&genders) else {
        return Err(PhotoError::internal("no gender model ran on this face"));
    };
    let ages: Vec<f32> = [dlib_age, faceapi_age].into_iter().flatten().collect();
    let disagree = match (dlib_p, faceapi_p) {
        (Some(a), Some(b)) => is_male(a) != is_male(b),
        _ => false,
    };
    Ok(Combined {
        p_male,
        age: mean(&ages).map(one_decimal),
        disagree,
        models,
    })
}

/// The label a probability stands for: male above ½, female otherwise (a
/// tie goes to female, as the classifier's first output wins a tie).
pub fn is_male(p_male: f32) -> bool {
    p_male > 0.5
}

/// Ages are estimates; a tenth of a year is all the precision they carry.
pub fn one_decimal(years: f32) -> f32 {
    (years * 10.0).round() / 10.0
}

fn mean(values: &[f32]) -> Option<f32> {
    (!values.is_empty()).then(|| values.iter().sum::<f32>() / values.len() as f32)
}

/// A value that is not a probability means the model or the runtime
/// misbehaved: an internal error, never a NaN score.
fn checked_probability(p: f32) -> Result<f32, PhotoError> {
    if p.is_finite() && (-1e-3..=1.0 + 1e-3).contains(&p) {
        Ok(p.clamp(0.0, 1.0))
    } else {
        Err(PhotoError::internal(format!(
            "a model returned p(male) {p}, which is not a probability"
        )))
    }
}

/// A regression can stray below zero on an odd crop; a negative age is
/// still a very young face, not an error.
fn checked_age(years: f32) -> Result<f32, PhotoError> {
    if years.is_finite() {
        Ok(years.max(0.0))
    } else {
        Err(PhotoError::internal(format!(
            "a model returned age {years}, which is not a number of years"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::model::FaceApiVote;

    fn names() -> ModelNames {
        ModelNames {
            gender: "gender-v1".into(),
            age: "age-v1".into(),
            faceapi: "faceapi-agegender".into(),
        }
    }

    fn faceapi(p: [f32; 2], age: [f32; 2]) -> Option<[FaceApiVote; 2]> {
        Some([
            FaceApiVote {
                p_male: p[0],
                age: age[0],
            },
            FaceApiVote {
                p_male: p[1],
                age: age[1],
            },
        ])
    }

    #[test]
    fn the_ensemble_is_the_mean_of_four_probabilities_and_two_ages() {
        let votes = FaceVotes {
            dlib_p_male: Some(0.9),
            dlib_p_male_mirrored: Some(0.7),
            dlib_age: Some(30.04),
            faceapi: faceapi([0.6, 0.8], [40.0, 42.0]),
        };
        let combined = combine(&votes, &names()).unwrap();
        assert!((combined.p_male - 0.75).abs() < 1e-6, "{combined:?}");
        assert_eq!(combined.age, Some(35.5), "(30.04 + 41) / 2 = 35.52");
        assert!(!combined.disagree);
        let dlib = combined.models["gender-v1"];
        assert!((dlib.p_male.unwrap() - 0.8).abs() < 1e-6);
        assert_eq!(dlib.age, None);
        assert_eq!(combined.models["age-v1"].age, Some(30.0));
        let other = combined.models["faceapi-agegender"];
        assert!((other.p_male.unwrap() - 0.7).abs() < 1e-6);
        assert_eq!(other.age, Some(41.0));
    }

    #[test]
    fn models_on_either_side_of_one_half_disagree() {
        let votes = FaceVotes {
            dlib_p_male: Some(0.95),
            dlib_p_male_mirrored: Some(0.93),
            dlib_age: Some(50.0),
            faceapi: faceapi([0.2, 0.3], [50.0, 50.0]),
        };
        let combined = combine(&votes, &names()).unwrap();
        assert!(combined.disagree);
        assert!(is_male(combined.p_male), "0.595 is still male");
    }

    #[test]
    fn one_model_alone_is_its_own_answer() {
        let dlib = FaceVotes {
            dlib_p_male: Some(0.2),
            dlib_age: Some(25.26),
            ..FaceVotes::default()
        };
        let combined = combine(&dlib, &names()).unwrap();
        assert_eq!((combined.p_male, combined.age), (0.2, Some(25.3)));
        assert_eq!(
            combined.models.keys().collect::<Vec<_>>(),
            ["age-v1", "gender-v1"]
        );
        assert!(!combined.disagree);

        let faceapi_only = FaceVotes {
            faceapi: faceapi([0.1, 0.3], [-3.0, 1.0]),
            ..FaceVotes::default()
        };
        let combined = combine(&faceapi_only, &names()).unwrap();
        assert!((combined.p_male - 0.2).abs() < 1e-6);
        assert_eq!(combined.age, Some(0.0), "a negative estimate counts as 0");
    }

    #[test]
    fn values_that_are_not_probabilities_or_ages_are_internal_errors() {
        for votes in [
            FaceVotes {
                dlib_p_male: Some(f32::NAN),
                ..FaceVotes::default()
            },
            FaceVotes {
                dlib_p_male: Some(3.0),
                ..FaceVotes::default()
            },
            FaceVotes {
                faceapi: faceapi([0.5, 0.5], [f32::INFINITY, 3.0]),
                ..FaceVotes::default()
            },
            FaceVotes::default(),
        ] {
            let error = combine(&votes, &names()).expect_err("refused");
            assert_eq!(error.kind, ErrorKind::Internal);
        }
    }
}
