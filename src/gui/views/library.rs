//! The library's questions and offers: resume a batch that stopped early,
//! confirm Clear (and undo it), confirm quitting during a batch, and re-run
//! photos with the current settings.

use egui::Ui;

use super::{Action, Rerun, ViewState};
use crate::gui::state::AppState;

/// "Re-run": classify again photos that failed, the ones shown, or all.
pub fn rerun_menu(ui: &mut Ui, state: &AppState, actions: &mut Vec<Action>) {
    let idle = !state.batch.active;
    let counts = state.store.counts();
    ui.add_enabled_ui(idle && !state.store.is_empty(), |ui| {
        ui.menu_button("Re-run", |ui| {
            if ui
                .add_enabled(
                    counts.errors > 0,
                    egui::Button::new(format!("Retry failed photos ({})", counts.errors)),
                )
                .clicked()
            {
                actions.push(Action::Rerun(Rerun::Failed));
                ui.close();
            }
            if ui
                .button("Re-classify the photos shown")
                .on_hover_text("The photos the current filter shows, with the current settings")
                .clicked()
            {
                actions.push(Action::Rerun(Rerun::Shown));
                ui.close();
            }
            if ui
                .button(format!("Re-classify all ({})", state.store.len()))
                .on_hover_text("Every photo again with the current settings, even unchanged ones")
                .clicked()
            {
                actions.push(Action::Rerun(Rerun::All));
                ui.close();
            }
        })
        .response
        .on_disabled_hover_text("Available when no batch is running");
    });
}

/// The offer to resume a batch that stopped early, and the undo of a Clear.
pub fn banners(ui: &mut Ui, state: &AppState, actions: &mut Vec<Action>) {
    if let Some(unfinished) = state.unfinished.as_ref().filter(|_| !state.batch.active) {
        ui.horizontal_wrapped(|ui| {
            let how = match unfinished.state.as_str() {
                "cancelled" => "was cancelled",
                "interrupted" => "was stopped when GenderLens quit",
                _ => "stopped unexpectedly",
            };
            super::coloured(
                ui,
                super::WARNING,
                format!(
                    "The batch started {} {how} after {} photos.",
                    started(&unfinished.started_at),
                    unfinished.done
                ),
            );
            if ui
                .button("Resume")
                .on_hover_text("Classify the rest; photos already done are not classified again")
                .clicked()
            {
                actions.push(Action::ResumeUnfinished(unfinished.run));
            }
            if ui.button("Dismiss").clicked() {
                actions.push(Action::DismissUnfinished(unfinished.run));
            }
        });
    }
    if let Some(cleared) = &state.cleared {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{} results cleared. You can undo this until the next batch starts.",
                cleared.len()
            ));
            if ui.button("Undo clear").clicked() {
                actions.push(Action::UndoClear);
            }
        });
    }
}

/// A run's start time as people read it: "2026-12-02 13:02 UTC".
fn started(timestamp: &str) -> String {
    match timestamp.get(..16) {
        Some(minutes) => format!("{} UTC", minutes.replace('T', " ")),
        None => timestamp.to_string(),
    }
}

/// The questions asked before work could be lost.
pub fn confirmations(
    ctx: &egui::Context,
    state: &AppState,
    view: &mut ViewState,
    actions: &mut Vec<Action>,
) {
    if view.confirm_clear {
        egui::Modal::new(egui::Id::unique("confirm_clear")).show(ctx, |ui| {
            ui.heading("Clear all results?");
            ui.label(format!(
                "{} results leave the window and the library. The photos themselves are not touched. You can undo this until the next batch starts.",
                state.store.len()
            ));
            ui.horizontal(|ui| {
                if ui.button("Clear all").clicked() {
                    view.confirm_clear = false;
                    actions.push(Action::ClearResults);
                }
                if ui.button("Cancel").clicked() {
                    view.confirm_clear = false;
                }
            });
        });
    }
    if view.confirm_quit {
        let (done, total) = state
            .batch
            .progress
            .as_ref()
            .map(|p| (p.done, p.total))
            .unwrap_or((0, 0));
        egui::Modal::new(egui::Id::unique("confirm_quit")).show(ctx, |ui| {
            ui.heading("A batch is running");
            ui.label(format!(
                "{done} of {total} photos are done, and their results are saved in the library."
            ));
            ui.horizontal(|ui| {
                if ui
                    .button("Quit and resume next time")
                    .on_hover_text(
                        "The rest is classified when you start GenderLens again and choose Resume",
                    )
                    .clicked()
                {
                    view.confirm_quit = false;
                    actions.push(Action::Quit { resume_later: true });
                }
                if ui.button("Quit now").clicked() {
                    view.confirm_quit = false;
                    actions.push(Action::Quit {
                        resume_later: false,
                    });
                }
                if ui.button("Keep running").clicked() {
                    view.confirm_quit = false;
                }
            });
        });
    }
}
