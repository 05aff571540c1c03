//! The about box, with the responsible-use note.

use egui::Ui;

pub const RESPONSIBLE_USE: &str = "Predictions are apparent binary gender inferred from appearance, \
for aggregate analysis only: not a person's gender identity, and not for decisions about individuals.";

pub fn show(ui: &mut Ui) {
    ui.heading(format!("GenderLens {}", env!("CARGO_PKG_VERSION")));
    ui.label("Finds the faces in photos and classifies the apparent gender of each, on this computer's GPU or CPU.");
    ui.add_space(6.0);
    ui.label(egui::RichText::new(RESPONSIBLE_USE).strong());
    ui.add_space(6.0);
    ui.label("Face detector: CenterFace (MIT). Landmarks: dlib 5-point shape predictor (CC0). Classifier: gender-v1. Runtime: ONNX Runtime (MIT).");
}
