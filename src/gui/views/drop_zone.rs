//! The empty-window invitation, and the highlight while files hover.

use egui::{Color32, Ui};

use super::Action;
use crate::gui::events::DialogPurpose;

/// The central area before any photo is added.
pub fn empty(ui: &mut Ui, actions: &mut Vec<Action>) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() / 2.0 - 80.0).max(0.0));
        ui.label(
            egui::RichText::new("Drop photos or folders here")
                .size(26.0)
                .strong(),
        );
        ui.add_space(8.0);
        ui.label("JPEG, PNG, WebP, BMP, TIFF and GIF; folders are searched recursively.");
        ui.add_space(12.0);
        ui.horizontal(|ui| {
            let width = 260.0;
            ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
            if ui.button("Add files…").clicked() {
                actions.push(Action::Ask(DialogPurpose::AddFiles));
            }
            if ui.button("Add folder…").clicked() {
                actions.push(Action::Ask(DialogPurpose::AddFolder));
            }
        });
    });
}

/// The central area while the first photos are being listed and classified:
/// not an invitation to drop what was just dropped.
pub fn working(ui: &mut Ui, batch: &crate::gui::state::BatchState) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() / 2.0 - 40.0).max(0.0));
        ui.spinner();
        let total = batch.progress.as_ref().map_or(0, |p| p.total);
        let text = match (&batch.step, total) {
            (Some(step), _) => step.clone(),
            (None, 0) => "Getting the photos ready…".to_string(),
            (None, n) => format!("Classifying {n} photos; the first results appear here"),
        };
        ui.label(egui::RichText::new(text).size(18.0));
    });
}

/// Covers the window while files are dragged over it.
pub fn hover_overlay(ctx: &egui::Context, count: usize) {
    let rect = ctx.content_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop_zone"),
    ));
    let accent = ctx.global_style().visuals.selection.stroke.color;
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(220));
    painter.rect_stroke(
        rect.shrink(12.0),
        12.0,
        egui::Stroke::new(4.0, accent),
        egui::StrokeKind::Inside,
    );
    let text = if count == 1 {
        "Drop to add this item".to_string()
    } else {
        format!("Drop to add these {count} items")
    };
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        text,
        egui::FontId::proportional(28.0),
        Color32::WHITE,
    );
}
