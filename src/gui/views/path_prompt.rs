//! Where no file dialog can be shown (no desktop portal, no zenity), the
//! path is typed in the window instead, so no button is a dead end.

use super::{Action, ViewState};
use crate::gui::events::DialogPurpose;

fn what_for(purpose: DialogPurpose) -> &'static str {
    match purpose {
        DialogPurpose::AddFiles => "The photo to add (a file or a folder)",
        DialogPurpose::AddFolder => "The folder of photos to add",
        DialogPurpose::OpenResults => "The results file (JSONL) to open",
        DialogPurpose::ExportCsv => "The CSV file to write",
        DialogPurpose::ExportJsonl => "The JSONL file to write",
        DialogPurpose::SortDestination => "The folder to sort copies into",
    }
}

pub fn show(ctx: &egui::Context, view: &mut ViewState, actions: &mut Vec<Action>) {
    let Some(prompt) = view.path_prompt.as_mut() else {
        return;
    };
    let mut close = false;
    egui::Modal::new(egui::Id::unique("path_prompt")).show(ctx, |ui| {
        ui.heading(what_for(prompt.purpose));
        super::coloured(ui, super::WARNING, format!("{}.", prompt.problem));
        let field = ui.add(
            egui::TextEdit::singleline(&mut prompt.text)
                .hint_text("/home/you/Pictures")
                .desired_width(420.0),
        );
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        field.request_focus();
        ui.horizontal(|ui| {
            let typed = prompt.text.trim();
            let ok = ui
                .add_enabled(!typed.is_empty(), egui::Button::new("OK"))
                .clicked();
            if (ok || entered) && !typed.is_empty() {
                actions.push(Action::TypedPath(prompt.purpose, typed.into()));
                close = true;
            }
            if ui.button("Cancel").clicked() {
                close = true;
            }
        });
    });
    if close {
        view.path_prompt = None;
    }
}
