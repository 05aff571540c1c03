//! A Triton model's `parameters` (all strings) as the engine settings the
//! steps read, refusing unknown keys and unreadable values so a typo in a
//! config fails the model's load instead of being ignored.

use std::collections::BTreeMap;

use crate::settings::EngineSettings;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    #[error("unknown parameter {key:?}; this step reads {}", allowed.join(", "))]
    Unknown {
        key: String,
        allowed: &'static [&'static str],
    },
    #[error("parameter {key:?} is {value:?}, which is not {wanted}")]
    Invalid {
        key: String,
        value: String,
        wanted: &'static str,
    },
}

/// What each step reads; a key another step reads is refused too, since
/// setting it here would change nothing.
pub const DECODE_PARAMETERS: &[&str] = &["detector_size", "max_megapixels"];
pub const ALIGN_PARAMETERS: &[&str] = &[
    "detection_threshold",
    "min_face_px",
    "max_megapixels",
    "max_faces",
];
pub const POSTPROCESS_PARAMETERS: &[&str] = &["uncertain_below"];

/// Twice this many rows reach gender_model and faceapi_model, whose
/// max_batch_size is 512.
const MOST_FACES: usize = 256;

/// The default settings with `parameters` applied, and the most faces one
/// photo may have (`max_faces`, 256 unless set lower).
pub fn step_settings(
    parameters: &BTreeMap<String, String>,
    allowed: &'static [&'static str],
) -> Result<(EngineSettings, usize), ParameterError> {
    let mut settings = EngineSettings::default();
    let mut max_faces = MOST_FACES;
    for (key, value) in parameters {
        if !allowed.contains(&key.as_str()) {
            return Err(ParameterError::Unknown {
                key: key.clone(),
                allowed,
            });
        }
        let invalid = |wanted| ParameterError::Invalid {
            key: key.clone(),
            value: value.clone(),
            wanted,
        };
        let positive = |wanted| {
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| invalid(wanted))
        };
        match key.as_str() {
            "detector_size" => {
                settings.detector_size = value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v >= 32 && v % 32 == 0)
                    .ok_or_else(|| invalid("a multiple of 32 pixels"))?;
            }
            "detection_threshold" => {
                settings.detection_threshold =
                    positive("a score between 0 and 1").and_then(|v| {
                        (v < 1.0)
                            .then_some(v as f32)
                            .ok_or_else(|| invalid("a score between 0 and 1"))
                    })?;
            }
            "min_face_px" => settings.min_face_px = positive("a number of pixels")? as f32,
            "max_megapixels" => settings.max_megapixels = positive("a number of megapixels")?,
            "max_faces" => {
                max_faces = value
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|v| (1..=MOST_FACES).contains(v))
                    .ok_or_else(|| invalid("a count of faces from 1 to 256"))?;
            }
            "uncertain_below" => {
                settings.uncertain_below =
                    positive("a probability between 0.5 and 1").and_then(|v| {
                        (0.5..=1.0)
                            .contains(&v)
                            .then_some(v as f32)
                            .ok_or_else(|| invalid("a probability between 0.5 and 1"))
                    })?;
            }
            _ => {
                return Err(ParameterError::Unknown {
                    key: key.clone(),
                    allowed,
                });
            }
        }
    }
    Ok((settings, max_faces))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn known_parameters_override_the_defaults() {
        const EVERY: &[&str] = &[
            "detector_size",
            "detection_threshold",
            "min_face_px",
            "max_megapixels",
            "max_faces",
            "uncertain_below",
        ];
        let (settings, max_faces) = step_settings(
            &map(&[
                ("detector_size", "480"),
                ("detection_threshold", "0.4"),
                ("min_face_px", "12"),
                ("max_megapixels", "50"),
                ("max_faces", "8"),
                ("uncertain_below", "0.7"),
            ]),
            EVERY,
        )
        .unwrap();
        assert_eq!(settings.detector_size, 480);
        assert_eq!(settings.detection_threshold, 0.4);
        assert_eq!(settings.min_face_px, 12.0);
        assert_eq!(settings.max_megapixels, 50.0);
        assert_eq!(settings.uncertain_below, 0.7);
        assert_eq!(max_faces, 8);
        let (defaults, max_faces) = step_settings(&BTreeMap::new(), DECODE_PARAMETERS).unwrap();
        assert_eq!(
            defaults.detector_size,
            EngineSettings::default().detector_size
        );
        assert_eq!(max_faces, 256);
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        let unknown = step_settings(&map(&[("detector_sise", "640")]), DECODE_PARAMETERS);
        assert!(
            matches!(unknown, Err(ParameterError::Unknown { ref key, .. }) if key == "detector_sise")
        );
        // Another step's key changes nothing here, so it is refused too.
        let elsewhere = step_settings(&map(&[("detector_size", "640")]), ALIGN_PARAMETERS);
        assert!(matches!(elsewhere, Err(ParameterError::Unknown { .. })));
        for (key, value, step) in [
            ("detector_size", "500", DECODE_PARAMETERS),
            ("detection_threshold", "1.5", ALIGN_PARAMETERS),
            ("min_face_px", "-3", ALIGN_PARAMETERS),
            ("max_megapixels", "NaN", DECODE_PARAMETERS),
            ("max_faces", "0", ALIGN_PARAMETERS),
            ("max_faces", "300", ALIGN_PARAMETERS),
            ("uncertain_below", "0.3", POSTPROCESS_PARAMETERS),
        ] {
            let error = step_settings(&map(&[(key, value)]), step).unwrap_err();
            assert!(
                matches!(&error, ParameterError::Invalid { key: k, .. } if k == key),
                "{key}={value}: {error}"
            );
        }
    }
}
