//! The classifier's labels as a type. The manifest names them in the model's
//! output order; everything downstream (counts, colours, filters, sort
//! folders, export) works with [`Gender`], never with the label strings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub const ALL: [Gender; 2] = [Gender::Female, Gender::Male];

    /// The label as the manifest, the exports and the `/predict` answer spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
        }
    }

    pub fn parse(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == label)
    }
}

impl std::fmt::Display for Gender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's label for a face, which takes the model's place without
/// replacing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonLabel {
    Female,
    Male,
    /// The detector found something that is not a face.
    NotAFace,
}

impl PersonLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::NotAFace => "not_a_face",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Female, Self::Male, Self::NotAFace]
            .into_iter()
            .find(|l| l.as_str() == text)
    }

    /// The label as a gender; none for "not a face".
    pub fn gender(self) -> Option<Gender> {
        match self {
            Self::Female => Some(Gender::Female),
            Self::Male => Some(Gender::Male),
            Self::NotAFace => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("the classifier must name exactly two labels, it names {0}")]
    Count(usize),
    #[error("the classifier label {0:?} is neither \"female\" nor \"male\"")]
    Unknown(String),
    #[error("the classifier names {0} twice")]
    Repeated(Gender),
}

/// Which model output means which gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    by_output: [Gender; 2],
}

impl Labels {
    /// Reads the manifest's label list; anything but one female and one male
    /// label is refused rather than guessed.
    pub fn from_manifest(names: &[String]) -> Result<Self, LabelError> {
        let [first, second] = names else {
            return Err(LabelError::Count(names.len()));
        };
        let parse = |name: &String| Gender::parse(name).ok_or(LabelError::Unknown(name.clone()));
        let by_output = [parse(first)?, parse(second)?];
        if by_output[0] == by_output[1] {
            return Err(LabelError::Repeated(by_output[0]));
        }
        Ok(Self { by_output })
    }

    /// The gender of each model output, in output order.
    pub fn by_output(&self) -> [Gender; 2] {
        self.by_output
    }

    /// Where the model puts p(male).
    pub fn male_output(&self) -> usize {
        usize::from(self.by_output[1] == Gender::Male)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn either_output_order_is_read() {
        let labels = Labels::from_manifest(&names(&["female", "male"])).unwrap();
        assert_eq!(labels.male_output(), 1);
        let labels = Labels::from_manifest(&names(&["male", "female"])).unwrap();
        assert_eq!(labels.male_output(), 0);
        assert_eq!(labels.by_output(), [Gender::Male, Gender::Female]);
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(
            Labels::from_manifest(&names(&["female"])),
            Err(LabelError::Count(1))
        );
        assert_eq!(
            Labels::from_manifest(&names(&["woman", "man"])),
            Err(LabelError::Unknown("woman".into()))
        );
        assert_eq!(
            Labels::from_manifest(&names(&["male", "male"])),
            Err(LabelError::Repeated(Gender::Male))
        );
    }

    #[test]
    fn labels_serialise_as_the_manifest_spells_them() {
        assert_eq!(
            serde_json::to_string(&Gender::Female).unwrap(),
            "\"female\""
        );
        assert_eq!(Gender::parse("male"), Some(Gender::Male));
        assert_eq!(Gender::parse("Male"), None);
    }
}
