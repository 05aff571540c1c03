//! The results table: one row per face or per photo, sortable by clicking
//! a column header. egui_extras lays out only the visible rows.

use egui::Ui;
use egui_extras::{Column, TableBuilder};

use super::{Action, ViewState, label_colour};
use crate::gui::results::{ResultStore, SortColumn};
use crate::postprocess::Status;

pub fn show(ui: &mut Ui, store: &mut ResultStore, view: &mut ViewState, actions: &mut Vec<Action>) {
    let rows = store.rows(view.row_mode, &view.filter, view.sort).to_vec();
    ui.label(egui::RichText::new(format!("{} rows", rows.len())).weak());
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    TableBuilder::new(ui)
        .striped(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::auto().at_least(36.0))
        .column(Column::remainder().at_least(160.0).clip(true))
        .column(Column::auto().at_least(36.0))
        .column(Column::auto().at_least(64.0))
        .column(Column::auto().at_least(52.0))
        .column(Column::auto().at_least(52.0))
        .column(Column::auto().at_least(72.0))
        .column(Column::auto().at_least(64.0))
        .column(Column::initial(220.0).clip(true))
        .header(row_height + 4.0, |mut header| {
            for (title, column) in [
                ("#", Some(SortColumn::Added)),
                ("Path", Some(SortColumn::Path)),
                ("Face", None),
                ("Gender", Some(SortColumn::Gender)),
                ("Score", Some(SortColumn::Score)),
                ("p(male)", Some(SortColumn::PMale)),
                ("Uncertain", None),
                ("Status", Some(SortColumn::Status)),
                ("Error", None),
            ] {
                header.col(|ui| match column {
                    Some(column) => sort_header(ui, title, column, view),
                    None => {
                        ui.strong(title);
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, rows.len(), |mut row| {
                let r = rows[row.index()];
                let Some(image) = store.get(r.image) else {
                    return;
                };
                row.set_selected(view.selected == Some(r.image));
                let face = r.face.and_then(|n| image.faces.get(n));
                let (gender, score, p_male) = store.row_values(r);
                let uncertain = match face {
                    Some(f) => Some(f.uncertain),
                    None => image.uncertain,
                };
                row.col(|ui| {
                    ui.label(r.image.to_string());
                });
                row.col(|ui| {
                    ui.label(image.path.display().to_string());
                });
                row.col(|ui| {
                    ui.label(r.face.map(|n| n.to_string()).unwrap_or_default());
                });
                row.col(|ui| {
                    if let Some(g) = gender {
                        ui.colored_label(label_colour(g), g.as_str());
                    }
                });
                row.col(|ui| {
                    ui.label(score.map(|s| format!("{s:.3}")).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(p_male.map(|s| format!("{s:.3}")).unwrap_or_default());
                });
                row.col(|ui| {
                    if uncertain == Some(true) {
                        ui.colored_label(super::UNCERTAIN, "uncertain");
                    }
                });
                row.col(|ui| {
                    let colour = match image.status {
                        Status::Ok => ui.visuals().text_color(),
                        Status::NoFace => super::NO_FACE,
                        Status::Error => super::ERROR,
                    };
                    ui.colored_label(colour, image.status.as_str());
                });
                row.col(|ui| {
                    if let Some(error) = &image.error {
                        ui.colored_label(super::ERROR, error).on_hover_text(error);
                    }
                });
                if row.response().clicked() {
                    actions.push(Action::Select(Some(r.image)));
                }
            });
        });
}

fn sort_header(ui: &mut Ui, title: &str, column: SortColumn, view: &mut ViewState) {
    let active = view.sort.column == column;
    let arrow = match (active, view.sort.descending) {
        (false, _) => "",
        (true, false) => " ^",
        (true, true) => " v",
    };
    let clicked = ui
        .add(
            egui::Button::new(egui::RichText::new(format!("{title}{arrow}")).strong()).frame(false),
        )
        .on_hover_text("Sort by this column; click again to reverse")
        .clicked();
    if clicked {
        if active {
            view.sort.descending = !view.sort.descending;
        } else {
            view.sort.column = column;
            view.sort.descending = false;
        }
    }
}
