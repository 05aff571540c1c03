//! Counts by outcome, the filters, and histograms of p(male) and age per face.

use egui::Ui;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::labels::Gender;

use super::{ERROR, FEMALE, MALE, NO_FACE, UNCERTAIN, ViewState};
use crate::gui::results::{
    AGE_BIN_YEARS, AGE_BINS, AGE_FILTER_MAX, HISTOGRAM_BINS, ResultStore, RowMode,
};

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
                ("Corrected", c.corrected, None),
            ] {
                match colour {
                    Some(colour) => super::coloured(ui, colour, label),
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
    age_range(ui, view);
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
    histogram(
        ui,
        "p_male_histogram",
        female,
        male,
        1.0 / HISTOGRAM_BINS as f64,
    );

    ui.add_space(8.0);
    ui.heading("Age per face");
    let [female, male] = store.age_histogram();
    let plot = histogram(ui, "age_histogram", female, male, f64::from(AGE_BIN_YEARS));
    plot.on_hover_text(format!(
        "Apparent age in bins of {AGE_BIN_YEARS} years; the last bin holds {}+",
        AGE_BIN_YEARS as usize * (AGE_BINS - 1)
    ));
}

/// "Age from … to …": faces outside the range are hidden; at its top the
/// range has no upper bound, so the full range hides nothing.
fn age_range(ui: &mut Ui, view: &mut ViewState) {
    let filter = &mut view.filter;
    ui.horizontal(|ui| {
        let label = ui.label("Age");
        ui.add(
            egui::DragValue::new(&mut filter.age_from)
                .range(0..=AGE_FILTER_MAX)
                .suffix(" y"),
        )
        .labelled_by(label.id)
        .on_hover_text("youngest age shown");
        let to = ui.label("to");
        ui.add(
            egui::DragValue::new(&mut filter.age_to)
                .range(0..=AGE_FILTER_MAX)
                .custom_formatter(|n, _| {
                    if n >= f64::from(AGE_FILTER_MAX) {
                        "any".to_string()
                    } else {
                        format!("{n:.0} y")
                    }
                })
                .custom_parser(parse_age_limit),
        )
        .labelled_by(to.id)
        .on_hover_text("oldest age shown");
        if !filter.ages_all() && ui.small_button("all ages").clicked() {
            filter.age_from = 0;
            filter.age_to = AGE_FILTER_MAX;
        }
    });
    // Dragging one end past the other moves both, so the range never empties.
    if filter.age_from > filter.age_to {
        filter.age_to = filter.age_from;
    }
}

/// What a person types into the top of the age range: "35", "35 y", or
/// "any" (no upper end). The field shows "any" when open, and typing after
/// it gives "any35", which means 35.
fn parse_age_limit(text: &str) -> Option<f64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        let open = text.trim().eq_ignore_ascii_case("any");
        return open.then_some(f64::from(AGE_FILTER_MAX));
    }
    digits.parse::<f64>().ok()
}

/// Faces per bin as bars, male stacked on female in each bin, so a bin
/// with both shows both.
fn histogram<const N: usize>(
    ui: &mut Ui,
    id: &str,
    female: &[u32; N],
    male: &[u32; N],
    width: f64,
) -> egui::Response {
    let bars = |counts: &[u32; N], below: Option<&[u32; N]>| -> Vec<Bar> {
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| {
                let bar = Bar::new((i as f64 + 0.5) * width, f64::from(*n)).width(width * 0.9);
                match below {
                    Some(below) => bar.base_offset(f64::from(below[i])),
                    None => bar,
                }
            })
            .collect()
    };
    Plot::new(id)
        .height(150.0)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_x(0.0)
        .include_x(width * N as f64)
        .include_y(0.0)
        .show(ui, |plot| {
            let female_bars = bars(female, None);
            let male_bars = bars(male, Some(female));
            plot.bar_chart(BarChart::new(Gender::Female.as_str(), female_bars).color(FEMALE));
            plot.bar_chart(BarChart::new(Gender::Male.as_str(), male_bars).color(MALE));
        })
        .response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_the_age_range_reads_what_its_field_shows() {
        assert_eq!(parse_age_limit("59"), Some(59.0));
        assert_eq!(parse_age_limit(" 59 y "), Some(59.0));
        assert_eq!(parse_age_limit("Any"), Some(f64::from(AGE_FILTER_MAX)));
        assert_eq!(parse_age_limit("any59"), Some(59.0));
        assert_eq!(parse_age_limit("old"), None);
        assert_eq!(parse_age_limit(""), None);
    }
}
