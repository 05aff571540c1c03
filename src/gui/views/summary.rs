//! Counts by outcome, the filters, and a histogram of p(male) per face.

use egui::Ui;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::labels::Gender;

use super::{ERROR, FEMALE, MALE, NO_FACE, UNCERTAIN, ViewState};
use crate::gui::results::{HISTOGRAM_BINS, ResultStore, RowMode};

pub fn show(ui: &mut Ui, store: &ResultStore, view: &mut ViewState) {
    let c = store.counts();
    ui.heading("Summary");
    egui::Grid::new("counts")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (label, value, colour) in [
                ("Photos", c.images, None),
                ("Faces", c.faces, None),
                ("Female", c.female, Some(FEMALE)),
                ("Male", c.male, Some(MALE)),
                ("Uncertain", c.uncertain, Some(UNCERTAIN)),
                ("No face", c.no_face, Some(NO_FACE)),
                ("Errors", c.errors, Some(ERROR)),
            ] {
                match colour {
                    Some(colour) => ui.colored_label(colour, label),
                    None => ui.label(label),
                };
                ui.label(value.to_string());
                ui.end_row();
            }
        });

    ui.add_space(8.0);
    ui.heading("Filter");
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut view.filter.female, "Female");
        ui.checkbox(&mut view.filter.male, "Male");
        ui.checkbox(&mut view.filter.no_face, "No face");
        ui.checkbox(&mut view.filter.errors, "Errors");
    });
    ui.checkbox(&mut view.filter.uncertain_only, "Uncertain only");
    ui.horizontal(|ui| {
        let label = ui.label("Path");
        ui.add(
            egui::TextEdit::singleline(&mut view.filter.text)
                .hint_text("contains…")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        ui.label("Table rows:");
        ui.radio_value(&mut view.row_mode, RowMode::PerFace, "per face");
        ui.radio_value(&mut view.row_mode, RowMode::PerImage, "per photo");
    });

    ui.add_space(8.0);
    ui.heading("p(male) per face");
    let [female, male] = store.histogram();
    let width = 1.0 / HISTOGRAM_BINS as f64;
    let bars = |counts: &[u32; HISTOGRAM_BINS]| -> Vec<Bar> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| Bar::new((i as f64 + 0.5) * width, f64::from(*n)).width(width * 0.9))
            .collect()
    };
    Plot::new("p_male_histogram")
        .height(150.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new(Gender::Female.as_str(), bars(female)).color(FEMALE));
            plot.bar_chart(BarChart::new(Gender::Male.as_str(), bars(male)).color(MALE));
        });
}
