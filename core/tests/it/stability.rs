//! The stability probe on real photos: every face gets its eight moved
//! boxes, and moving a box changes p(male) a little, never wildly.

use genderlens_core::ModelChoice;
use genderlens_core::stability::{StabilityProbe, StabilityReport, VARIANTS};

use crate::common;

#[test]
fn moved_boxes_change_p_male_a_little() {
    let settings = common::cpu_settings();
    let mut probe = StabilityProbe::new(&common::runtime(), common::bundle(), &settings)
        .expect("the probe loads the models");
    let mut faces = Vec::new();
    for name in ["obama.jpg", "astronaut.png", "biden.jpg"] {
        faces.extend(
            probe
                .photo(&common::photo(name))
                .expect("the photo is probed"),
        );
    }
    assert_eq!(faces.len(), 3, "one face in each photo");
    for choice in ModelChoice::ALL {
        let probes: Vec<_> = faces.iter().map(|f| f.get(choice).clone()).collect();
        assert!(probes.iter().all(|f| f.variants.len() == VARIANTS.len()));
        let report = StabilityReport::from_faces(3, &probes);
        // The boxes really moved: the inputs, and so the answers, changed.
        assert!(report.mean_abs_delta > 0.0, "{choice}: {report:?}");
        // These clear faces keep their labels.
        assert!(report.max_abs_delta < 0.2, "{choice}: {report:?}");
        assert_eq!(report.flips, 0, "{choice}: {report:?}");
    }
    // The ensemble is the mean of its parts, face by face.
    for face in &faces {
        assert_ne!(
            face.dlib.p_male, face.faceapi.p_male,
            "two different models"
        );
        let (low, high) = (
            face.dlib.p_male.min(face.faceapi.p_male),
            face.dlib.p_male.max(face.faceapi.p_male),
        );
        assert!(
            (low - 0.05..=high + 0.05).contains(&face.ensemble.p_male),
            "{face:?}"
        );
    }
}
