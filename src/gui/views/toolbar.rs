//! The top bar: adding photos, exporting, the view switch, settings, about.

use egui::Ui;

use super::{Action, Tab, ViewState};
use crate::gui::events::DialogPurpose;
use crate::gui::state::AppState;

pub fn show(ui: &mut Ui, state: &AppState, view: &mut ViewState, actions: &mut Vec<Action>) {
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Add files…")
            .on_hover_text("Choose photos to classify")
            .clicked()
        {
            actions.push(Action::Ask(DialogPurpose::AddFiles));
        }
        if ui
            .button("Add folder…")
            .on_hover_text("Classify every photo in a folder and its subfolders")
            .clicked()
        {
            actions.push(Action::Ask(DialogPurpose::AddFolder));
        }
        let has_results = !state.store.is_empty();
        // Choosing the scope leaves the menu open for the export itself.
        let stays_open = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        egui::containers::menu::MenuButton::new("Export")
            .config(stays_open)
            .ui(ui, |ui| {
            let filtered = view.filter != crate::gui::results::Filter::default();
            ui.radio_value(
                &mut view.export_scope,
                super::ExportScope::All,
                format!("All {} photos", state.store.len()),
            );
            ui.add_enabled_ui(filtered, |ui| {
                ui.radio_value(
                    &mut view.export_scope,
                    super::ExportScope::Shown,
                    "Only the photos the filter shows",
                )
                .on_disabled_hover_text("The filter shows every photo");
            });
            ui.separator();
            if ui
                .add_enabled(has_results, egui::Button::new("CSV (one row per face)…"))
                .clicked()
            {
                actions.push(Action::Ask(DialogPurpose::ExportCsv));
                ui.close();
            }
            if ui
                .add_enabled(has_results, egui::Button::new("JSONL (one photo per line)…"))
                .clicked()
            {
                actions.push(Action::Ask(DialogPurpose::ExportJsonl));
                ui.close();
            }
            if ui
                .add_enabled(has_results, egui::Button::new("Sort copies into folders…"))
                .on_hover_text(
                    "Copies each photo into female/, male/, mixed/, no_face/ or uncertain/. Originals stay where they are.",
                )
                .clicked()
            {
                actions.push(Action::Ask(DialogPurpose::SortDestination));
                ui.close();
            }
            ui.separator();
            if ui.button("Open results (JSONL)…").clicked() {
                actions.push(Action::Ask(DialogPurpose::OpenResults));
                ui.close();
            }
        });
        super::library::rerun_menu(ui, state, actions);
        if ui
            .add_enabled(
                has_results && !state.batch.active,
                egui::Button::new("Clear"),
            )
            .on_hover_text(
                "Remove all results from the window and the library (photos are not touched); asks first",
            )
            .clicked()
        {
            view.confirm_clear = true;
        }
        ui.separator();
        ui.selectable_value(&mut view.tab, Tab::Gallery, "Gallery");
        ui.selectable_value(&mut view.tab, Tab::Table, "Table");
        ui.selectable_value(&mut view.tab, Tab::Review, "Review")
            .on_hover_text("Label doubtful faces yourself, from the keyboard");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // Each button opens its window, and closes it when it is open.
            if ui.selectable_label(view.about_open, "About").clicked() {
                view.about_open = !view.about_open;
            }
            if ui.selectable_label(view.settings_open, "Settings").clicked() {
                view.settings_open = !view.settings_open;
            }
            backend_badge(ui, state);
        });
    });
}

/// Which backend classifies the photos, always in view.
fn backend_badge(ui: &mut Ui, state: &AppState) {
    if let Some(remote) = state.settings.active_remote() {
        super::coloured(
            ui,
            super::WARNING,
            egui::RichText::new(format!("Remote · {}", remote.url)).strong(),
        )
        .on_hover_text("Photos are sent to this server to be classified.");
        return;
    }
    let text = match state.sessions.values().find_map(|s| s.assignment.primary()) {
        Some(ep) => format!(
            "{} · {}",
            state.settings.backend.label(),
            ep.trim_end_matches("ExecutionProvider")
        ),
        None => state.settings.backend.label().to_string(),
    };
    ui.label(egui::RichText::new(text).strong())
        .on_hover_text("Photos are classified on this computer; nothing is sent anywhere.");
}
