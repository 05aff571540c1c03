//! The notification area: what the user's last actions came to (a batch
//! finished, an export written, photos copied), in the corner above the
//! status bar, in body-size text. Info fades after a few seconds; errors
//! stay until dismissed. The log keeps every line.

use std::time::Instant;

use super::{ERROR, UNCERTAIN};
use crate::gui::state::{Level, Notices};

pub fn show(ctx: &egui::Context, notices: &mut Notices) {
    let now = Instant::now();
    notices.forget_expired(now);
    if let Some(next) = notices.next_expiry(now) {
        ctx.request_repaint_after(next);
    }
    // egui sizes a new area unseen in its first frame; a frame soon after
    // shows it, even when nothing else moves.
    if notices
        .iter()
        .any(|n| now.duration_since(n.since) < std::time::Duration::from_millis(300))
    {
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
    }
    if notices.iter().next().is_none() {
        return;
    }
    let widest = (ctx.content_rect().width() - 24.0).clamp(200.0, 460.0);
    let mut dismissed = None;
    egui::Area::new(egui::Id::unique("notices"))
        .order(egui::Order::Foreground)
        .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -40.0))
        .interactable(true)
        .show(ctx, |ui| {
            ui.set_max_width(widest);
            for (n, notice) in notices.iter().enumerate() {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(widest);
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::TOP), |ui| {
                        if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                            dismissed = Some(n);
                        }
                        ui.with_layout(egui::Layout::left_to_right(egui::Align::TOP), |ui| {
                            // A dot in the level's colour, drawn: the bundled
                            // fonts have no warning signs.
                            let colour = match notice.level {
                                Level::Info => ui.visuals().weak_text_color(),
                                Level::Warning => UNCERTAIN,
                                Level::Error => ERROR,
                            };
                            let (dot, _) = ui.allocate_exact_size(
                                egui::vec2(10.0, ui.text_style_height(&egui::TextStyle::Body)),
                                egui::Sense::hover(),
                            );
                            ui.painter().circle_filled(dot.center(), 4.0, colour);
                            ui.add(egui::Label::new(notice.text.as_str()).wrap());
                        });
                    });
                });
                ui.add_space(4.0);
            }
        });
    if let Some(n) = dismissed {
        notices.dismiss(n);
    }
}
