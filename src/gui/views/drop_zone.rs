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
