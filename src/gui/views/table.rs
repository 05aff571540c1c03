//! The results table: one row per face or per photo, sortable by clicking
//! a column header. egui_extras lays out only the visible rows.

use egui::Ui;
use egui_extras::{Column, TableBuilder};

use super::{Action, ViewState, label_colour};
use crate::gui::results::{ResultStore, SortColumn, error_wording};
use crate::postprocess::{PhotoCounts, Status};

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
        .column(Column::auto().at_least(40.0))
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
                ("Age", Some(SortColumn::Age)),
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
                let number = store.number(r.image);
                let Some(image) = store.get(r.image) else {
                    return;
                };
                row.set_selected(view.selected == Some(r.image));
                let face = r.face.and_then(|n| image.faces.get(n));
                let values = store.row_values(r);
                let uncertain = match face {
                    Some(f) => Some(f.uncertain && f.correction.is_none()),
                    None => Some(
                        image
                            .faces
                            .iter()
                            .any(|f| f.uncertain && f.correction.is_none()),
                    ),
                };
                row.col(|ui| {
                    ui.label(number.to_string());
                });
                row.col(|ui| {
                    let path = image.path.display().to_string();
                    let shown =
                        elide_middle(&path, ui.available_width(), |text| text_width(ui, text));
                    let label = ui.label(&shown);
                    if shown != path {
                        label.on_hover_text(&path);
                    }
                });
                // A photo's row speaks for all its faces: how many, of which
                // label, and "mixed" when they differ (not the largest one's).
                let group = match r.face {
                    None if image.faces.len() > 1 => Some(image.counts()),
                    _ => None,
                };
                row.col(|ui| match (r.face, &group) {
                    (Some(n), _) => {
                        ui.label(n.to_string());
                    }
                    (None, Some(group)) => {
                        ui.label(faces_text(group));
                    }
                    (None, None) => {}
                });
                row.col(|ui| match group.as_ref().and_then(mixed) {
                    Some(text) => {
                        ui.label(text);
                    }
                    None => {
                        if let Some(g) = values.gender {
                            super::coloured(ui, label_colour(g), g.as_str());
                        }
                    }
                });
                row.col(|ui| {
                    ui.label(values.score.map(|s| format!("{s:.3}")).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(values.p_male.map(|s| format!("{s:.3}")).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(values.age.map(|a| format!("{a:.1}")).unwrap_or_default());
                });
                row.col(|ui| {
                    if uncertain == Some(true) {
                        super::coloured(ui, super::UNCERTAIN, "uncertain");
                    }
                });
                row.col(|ui| {
                    let (colour, words) = match image.status {
                        Status::Ok => (ui.visuals().text_color(), "ok"),
                        Status::NoFace => (super::NO_FACE, "no face"),
                        Status::Error => (super::ERROR, error_wording(image.error_kind)),
                    };
                    super::coloured(ui, colour, words);
                });
                row.col(|ui| {
                    if let Some(error) = &image.error {
                        // Cut to the column, the label shows its whole text on
                        // hover itself; a tooltip of ours would stack on it.
                        super::coloured(ui, super::ERROR, error);
                    }
                });
                if row.response().clicked() {
                    actions.push(Action::Select(Some(r.image)));
                }
            });
        });
}

/// A group photo's count, as "6 (4 f, 2 m)".
fn faces_text(counts: &PhotoCounts) -> String {
    format!("{} ({} f, {} m)", counts.faces, counts.female, counts.male)
}

/// "mixed" when both labels are among the faces.
fn mixed(counts: &PhotoCounts) -> Option<&'static str> {
    counts.label.filter(|label| *label == "mixed")
}

fn sort_header(ui: &mut Ui, title: &str, column: SortColumn, view: &mut ViewState) {
    let active = view.sort.column == column;
    let clicked = ui
        .add(egui::Button::new(egui::RichText::new(title).strong()).frame(false))
        .on_hover_text("Sort by this column; click again to reverse")
        .clicked();
    if active {
        sort_arrow(ui, view.sort.descending);
    }
    if clicked {
        if active {
            view.sort.descending = !view.sort.descending;
        } else {
            view.sort.column = column;
            view.sort.descending = false;
        }
    }
}

/// A small triangle, up for ascending and down for descending, drawn
/// rather than written: the bundled fonts have no arrow glyphs.
fn sort_arrow(ui: &mut Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(9.0, 9.0), egui::Sense::hover());
    let (top, bottom) = (rect.top() + 1.5, rect.bottom() - 1.5);
    let (tip, base) = if descending {
        (bottom, top)
    } else {
        (top, bottom)
    };
    let points = vec![
        egui::pos2(rect.left() + 0.5, base),
        egui::pos2(rect.right() - 0.5, base),
        egui::pos2(rect.center().x, tip),
    ];
    let colour = ui.visuals().strong_text_color();
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        colour,
        egui::Stroke::NONE,
    ));
}

fn text_width(ui: &Ui, text: &str) -> f32 {
    let font = egui::TextStyle::Body.resolve(ui.style());
    ui.fonts_mut(|fonts| {
        fonts
            .layout_no_wrap(text.to_owned(), font, egui::Color32::WHITE)
            .size()
            .x
    })
}

/// `text` cut in the middle with "…" so that `width` of it fits: a path
/// keeps its start and, what matters most, its file name.
pub fn elide_middle(text: &str, width: f32, measure: impl Fn(&str) -> f32) -> String {
    if measure(text) <= width {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = |keep: usize| -> String {
        let tail = (keep * 2).div_ceil(3).min(chars.len());
        let head = keep.saturating_sub(tail);
        let mut out: String = chars[..head].iter().collect();
        out.push('…');
        out.extend(&chars[chars.len() - tail..]);
        out
    };
    // The most characters that still fit, found by halving.
    let (mut fits, mut too_many) = (0, chars.len());
    while too_many - fits > 1 {
        let middle = (fits + too_many) / 2;
        if measure(&cut(middle)) <= width {
            fits = middle;
        } else {
            too_many = middle;
        }
    }
    cut(fits)
}

#[cfg(test)]
mod tests {
    use super::{elide_middle, faces_text, mixed};

    #[test]
    fn a_group_photo_counts_its_faces_and_is_mixed_when_they_differ() {
        use crate::labels::{Gender, PersonLabel};
        use crate::postprocess::{
            Correction, FaceResult, StageTimings, image_result, labelled_face,
        };
        let face = |gender: Gender, side: f32| labelled_face(gender, side, false);
        // Four women and two men; the largest face is a man's.
        let mut faces: Vec<FaceResult> = (0..4).map(|_| face(Gender::Female, 10.0)).collect();
        faces.push(face(Gender::Male, 90.0));
        faces.push(face(Gender::Male, 10.0));
        let mut group = image_result(0, "g.jpg".into(), (99, 99), faces, StageTimings::default());
        assert_eq!(
            group.gender,
            Some(Gender::Male),
            "the top level stays the largest face's"
        );
        let counts = group.counts();
        assert_eq!(
            (faces_text(&counts), mixed(&counts)),
            ("6 (4 f, 2 m)".into(), Some("mixed"))
        );
        assert_eq!(counts.uncertain, 0);
        // Relabelled by a person, the men are women: no longer mixed.
        for n in [4, 5] {
            group.faces[n].correction = Some(Correction::by_person(PersonLabel::Female));
        }
        assert_eq!(mixed(&group.counts()), None);
    }

    #[test]
    fn long_paths_lose_their_middle_and_keep_the_file_name() {
        let width = |text: &str| text.chars().count() as f32;
        let path = "/home/someone/Pictures/holidays/2024/summer/beach/IMG_20240712_101112.jpg";
        let shown = elide_middle(path, 40.0, width);
        assert_eq!(shown.chars().count(), 40, "{shown}");
        assert!(shown.starts_with("/home/"), "{shown}");
        assert!(shown.ends_with("IMG_20240712_101112.jpg"), "{shown}");
        assert!(shown.contains('…'));
        assert_eq!(elide_middle("short.jpg", 40.0, width), "short.jpg");
        assert_eq!(elide_middle(path, 0.0, width), "…");
    }
}
