//! The log panel: every warning and error, newest last.

use egui::Ui;

use super::{ERROR, UNCERTAIN};
use crate::gui::state::{Level, Log};

pub fn show(ui: &mut Ui, log: &Log) {
    let row_height = ui.text_style_height(&egui::TextStyle::Small) + 2.0;
    let lines = log.lines();
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .stick_to_bottom(true)
        .show_rows(ui, row_height, lines.len(), |ui, range| {
            for line in lines.range(range) {
                let text = egui::RichText::new(&line.text).small().monospace();
                match line.level {
                    Level::Info => ui.label(text),
                    Level::Warning => super::coloured(ui, UNCERTAIN, text),
                    Level::Error => super::coloured(ui, ERROR, text),
                };
            }
        });
}

/// The status bar's one-line view of the log.
pub fn status_line(ui: &mut Ui, log: &Log, open: &mut bool) {
    let label = if *open { "Hide log" } else { "Show log" };
    let errors = match log.errors {
        0 => String::new(),
        1 => " (1 error)".into(),
        n => format!(" ({n} errors)"),
    };
    if ui.button(format!("{label}{errors}")).clicked() {
        *open = !*open;
    }
    if let Some(last) = log.last() {
        let text = egui::RichText::new(&last.text).small();
        match last.level {
            Level::Info => ui.label(text),
            Level::Warning => super::coloured(ui, UNCERTAIN, text),
            Level::Error => super::coloured(ui, ERROR, text),
        };
    }
}
