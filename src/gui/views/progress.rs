//! The running batch: progress, speed, time left, the current file, and
//! pause, resume and cancel.

use egui::Ui;

use super::Action;
use crate::gui::state::{AppState, BatchState};

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
        match &batch.progress {
            // While paused nothing moves, so no rate and no time left.
            _ if batch.paused => text.push_str("  ·  paused"),
            Some(p) => {
                text.push_str(&format!("  ·  {:.1} images/s", p.images_per_second));
                if let Some(eta) = p.eta {
                    text.push_str(&format!("  ·  {} left", format_duration(eta.as_secs())));
                }
            }
            None => {}
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

/// The window's title: the app's name, and while a batch runs how far it
/// has got, so progress shows in the task bar too.
pub fn window_title(batch: &BatchState) -> String {
    let progress = batch.progress.as_ref().filter(|_| batch.active);
    match progress {
        Some(p) if p.total > 0 => {
            let percent = p.done * 100 / p.total;
            let paused = if batch.paused { ", paused" } else { "" };
            format!("GenderLens – {}/{} ({percent}%{paused})", p.done, p.total)
        }
        _ => "GenderLens".to_string(),
    }
}

pub fn format_duration(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Progress;

    #[test]
    fn the_title_shows_progress_only_while_a_batch_runs() {
        let mut batch = BatchState::default();
        assert_eq!(window_title(&batch), "GenderLens");
        batch.active = true;
        batch.progress = Some(Progress {
            done: 42,
            total: 600,
            failed: 0,
            faces: 40,
            images_per_second: 10.0,
            eta: None,
            current: None,
        });
        assert_eq!(window_title(&batch), "GenderLens – 42/600 (7%)");
        batch.paused = true;
        assert_eq!(window_title(&batch), "GenderLens – 42/600 (7%, paused)");
        batch.active = false;
        assert_eq!(window_title(&batch), "GenderLens");
    }
}
