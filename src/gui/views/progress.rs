//! The running batch: progress, speed, time left, the current file, and
//! pause, resume and cancel.

use egui::Ui;

use super::Action;
use crate::gui::state::AppState;

pub fn show(ui: &mut Ui, state: &AppState, actions: &mut Vec<Action>) {
    let batch = &state.batch;
    if let Some(step) = &batch.step {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(step);
        });
    }
    if !batch.active {
        return;
    }
    ui.horizontal(|ui| {
        let (done, total) = batch
            .progress
            .as_ref()
            .map_or((0, 0), |p| (p.done, p.total));
        let fraction = if total > 0 {
            done as f32 / total as f32
        } else {
            0.0
        };
        let mut text = format!("{done} / {total}");
        if let Some(p) = &batch.progress {
            text.push_str(&format!("  ·  {:.1} images/s", p.images_per_second));
            if let Some(eta) = p.eta {
                text.push_str(&format!("  ·  {} left", format_duration(eta.as_secs())));
            }
        }
        if batch.paused {
            text.push_str("  ·  paused");
        }
        let bar_width = (ui.available_width() - 200.0).max(120.0);
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(bar_width)
                .text(text),
        );
        if batch.paused {
            if ui.button("Resume").clicked() {
                actions.push(Action::Resume);
            }
        } else if ui.button("Pause").clicked() {
            actions.push(Action::Pause);
        }
        if ui
            .add_enabled(!batch.cancelling, egui::Button::new("Cancel"))
            .clicked()
        {
            actions.push(Action::Cancel);
        }
    });
    if let Some(current) = batch.progress.as_ref().and_then(|p| p.current.as_ref()) {
        ui.label(
            egui::RichText::new(format!("Last: {}", current.display()))
                .small()
                .weak(),
        );
    }
}

pub fn format_duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}
