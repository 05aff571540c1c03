//! The review: a grid of face crops (the uncertain ones, or every face the
//! filter shows) that a person labels from the keyboard. Arrow keys move,
//! F and M set the label, 0 marks "not a face", U undoes, Enter opens the
//! photo. Corrections sit beside the models' answers and never replace them.

use egui::{Sense, Ui, vec2};

use super::{Action, ViewState};
use crate::gui::images::{ImageKind, ImageRequest};
use crate::gui::results::{Filter, ResultId, ResultStore, RowMode, Sort};
use crate::gui::textures::TextureCache;
use crate::labels::PersonLabel;

const CHIP: f32 = 112.0;
const CAPTION: f32 = 36.0;
const GAP: f32 = 8.0;

/// Which faces are under review, and where the cursor is.
pub struct ReviewState {
    /// Only the uncertain faces (else every face the filter shows).
    pub uncertain_only: bool,
    pub cursor: usize,
    /// The faces in review order; kept while labels change (a corrected
    /// face stays where it was), made again when the filter or the results
    /// change.
    faces: Vec<(ResultId, usize)>,
    made_for: Option<(Filter, bool, u64)>,
}

impl Default for ReviewState {
    fn default() -> Self {
        Self {
            uncertain_only: true,
            cursor: 0,
            faces: Vec::new(),
            made_for: None,
        }
    }
}

impl ReviewState {
    /// The faces to review, made again only when what they depend on changed.
    pub fn faces(&mut self, store: &mut ResultStore, filter: &Filter) -> &[(ResultId, usize)] {
        let key = (filter.clone(), self.uncertain_only, store.arrivals());
        if self.made_for.as_ref() != Some(&key) {
            // The face under the cursor stays under it, wherever it moves.
            let current = self.faces.get(self.cursor).copied();
            let filter = Filter {
                uncertain_only: self.uncertain_only,
                ..filter.clone()
            };
            self.faces = store
                .rows(RowMode::PerFace, &filter, Sort::default())
                .iter()
                .filter_map(|row| Some((row.image, row.face?)))
                .collect();
            if let Some((id, face)) = current {
                self.point_at(id, face);
            }
            self.cursor = self.cursor.min(self.faces.len().saturating_sub(1));
            self.made_for = Some(key);
        }
        &self.faces
    }

    /// Puts the cursor on a face, where it is in the review.
    pub fn point_at(&mut self, id: ResultId, face: usize) {
        if let Some(n) = self.faces.iter().position(|f| *f == (id, face)) {
            self.cursor = n;
        }
    }
}

pub fn show(
    ui: &mut Ui,
    store: &mut ResultStore,
    view: &mut ViewState,
    textures: &mut TextureCache,
    wanted: &mut Vec<ImageRequest>,
    actions: &mut Vec<Action>,
) {
    let filter = view.filter.clone();
    let faces = view.review.faces(store, &filter).to_vec();
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut view.review.uncertain_only, "Uncertain faces only");
        ui.label(format!(
            "{} faces. Arrow keys move, F female, M male, 0 not a face, U undo, Enter opens the photo.",
            faces.len()
        ));
    });
    ui.separator();
    if faces.is_empty() {
        ui.centered_and_justified(|ui| {
            ui.label(if view.review.uncertain_only {
                "No uncertain faces to review."
            } else {
                "No faces match the filter."
            })
        });
        return;
    }
    let per_line = (((ui.available_width() + GAP) / (CHIP + GAP)).floor() as usize).max(1);
    let moved = keys(ui, view, &faces, per_line, actions);
    let cursor = view.review.cursor;
    let lines = faces.len().div_ceil(per_line);
    let line_height = CHIP + CAPTION + GAP;
    let mut area = egui::ScrollArea::vertical().auto_shrink(false);
    if moved {
        // Keep the cursor in sight: its line near the middle.
        let line = (cursor / per_line) as f32;
        let target = (line * line_height - ui.available_height() / 2.0 + line_height).max(0.0);
        area = area.vertical_scroll_offset(target);
    }
    area.show_rows(ui, line_height, lines, |ui, visible| {
        for line in visible {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = GAP;
                let start = line * per_line;
                let end = (start + per_line).min(faces.len());
                for (n, &(id, face)) in faces.iter().enumerate().take(end).skip(start) {
                    if tile(ui, store, id, face, n == cursor, textures, wanted) {
                        view.review.cursor = n;
                    }
                }
            });
            ui.add_space(GAP);
        }
    });
}

/// Handles the review's keys; true when the cursor moved.
fn keys(
    ui: &Ui,
    view: &mut ViewState,
    faces: &[(ResultId, usize)],
    per_line: usize,
    actions: &mut Vec<Action>,
) -> bool {
    // Typing in the path filter is not reviewing.
    if ui.ctx().egui_wants_keyboard_input() {
        return false;
    }
    let last = faces.len() - 1;
    let cursor = view.review.cursor.min(last);
    let pressed = |key| ui.input(|i| i.key_pressed(key));
    let mut moved_to = None;
    if pressed(egui::Key::ArrowRight) {
        moved_to = Some((cursor + 1).min(last));
    } else if pressed(egui::Key::ArrowLeft) {
        moved_to = Some(cursor.saturating_sub(1));
    } else if pressed(egui::Key::ArrowDown) {
        moved_to = Some((cursor + per_line).min(last));
    } else if pressed(egui::Key::ArrowUp) {
        moved_to = Some(cursor.saturating_sub(per_line));
    }
    let (id, face) = faces[cursor];
    let label = if pressed(egui::Key::F) {
        Some(PersonLabel::Female)
    } else if pressed(egui::Key::M) {
        Some(PersonLabel::Male)
    } else if pressed(egui::Key::Num0) {
        Some(PersonLabel::NotAFace)
    } else {
        None
    };
    if let Some(label) = label {
        actions.push(Action::Correct {
            id,
            face,
            label: Some(label),
        });
        // On to the next face, as a reviewer works through a pile.
        moved_to = Some((cursor + 1).min(last));
    }
    if pressed(egui::Key::U) {
        actions.push(Action::UndoCorrection);
    }
    if pressed(egui::Key::Enter) {
        actions.push(Action::Select(Some(id)));
    }
    match moved_to {
        Some(n) => {
            view.review.cursor = n;
            true
        }
        None => false,
    }
}

/// One face: its crop, the models' label and, when reviewed, the person's.
/// True when clicked.
fn tile(
    ui: &mut Ui,
    store: &ResultStore,
    id: ResultId,
    n: usize,
    selected: bool,
    textures: &mut TextureCache,
    wanted: &mut Vec<ImageRequest>,
) -> bool {
    let Some(result) = store.get(id) else {
        return false;
    };
    let Some(face) = result.faces.get(n) else {
        return false;
    };
    let (rect, response) = ui.allocate_exact_size(vec2(CHIP, CHIP + CAPTION), Sense::click());
    let name = super::file_name(result);
    let reviewed = face
        .correction
        .map(|c| format!(", you: {}", wording(c.corrected_label)))
        .unwrap_or_default();
    let description = format!(
        "Face {} of {name}: {} {:.2}{reviewed}",
        n + 1,
        face.gender,
        face.score
    );
    response.widget_info(|| {
        egui::WidgetInfo::selected(egui::Role::Button, true, selected, &description)
    });
    let response = response.on_hover_text(format!("{}\n{description}", result.path.display()));
    if !ui.is_rect_visible(rect) {
        return response.clicked();
    }
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let picture = egui::Rect::from_min_size(rect.min, vec2(CHIP, CHIP));
    painter.rect_filled(picture, 4.0, visuals.extreme_bg_color);
    let chip = textures
        .get(id, ImageKind::Faces)
        .and_then(|cached| cached.chips.get(n))
        .map(|t| (t.id(), t.size_vec2()));
    match chip {
        Some((texture, size)) => {
            let shown = super::fit(size, picture.shrink(4.0).size());
            let at = egui::Rect::from_center_size(picture.center(), shown);
            painter.image(
                texture,
                at,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        None => {
            if textures.failure(id, ImageKind::Faces).is_none()
                && textures.needs(id, ImageKind::Faces)
            {
                wanted.push(ImageRequest {
                    id,
                    kind: ImageKind::Faces,
                    path: result.path.clone(),
                    faces: result.faces.iter().map(|f| f.bbox).collect(),
                });
            }
        }
    }
    let stroke = if selected {
        egui::Stroke::new(3.0, visuals.selection.stroke.color)
    } else if response.hovered() {
        visuals.widgets.hovered.bg_stroke
    } else {
        egui::Stroke::NONE
    };
    painter.rect_stroke(picture, 4.0, stroke, egui::StrokeKind::Inside);
    let predicted = format!("{} {:.2}", face.gender, face.score);
    let colour = super::readable_on(visuals.panel_fill, super::label_colour(face.gender));
    painter.text(
        egui::pos2(rect.min.x + 2.0, picture.max.y + 9.0),
        egui::Align2::LEFT_CENTER,
        predicted,
        egui::FontId::proportional(12.0),
        if face.correction.is_some() {
            visuals.weak_text_color()
        } else {
            colour
        },
    );
    if let Some(correction) = face.correction {
        painter.text(
            egui::pos2(rect.min.x + 2.0, picture.max.y + 26.0),
            egui::Align2::LEFT_CENTER,
            format!("you: {}", wording(correction.corrected_label)),
            egui::FontId::proportional(13.0),
            visuals.strong_text_color(),
        );
    }
    response.clicked()
}

pub fn wording(label: PersonLabel) -> &'static str {
    match label {
        PersonLabel::Female => "female",
        PersonLabel::Male => "male",
        PersonLabel::NotAFace => "not a face",
    }
}
