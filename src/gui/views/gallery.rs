//! The thumbnail grid: one tile per photo, face boxes with their label and
//! score, badges for no face, errors and doubtful faces. Only visible rows
//! are laid out and only visible thumbnails are requested. Tab reaches the
//! tiles, the arrows move through them, and Enter or a double click opens
//! the photo in the system's viewer.

use egui::{Color32, Sense, Ui, vec2};

use super::{Action, FaceMarks, ViewState, file_name, paint_photo_with_faces, status_badge};
use crate::gui::images::{ImageKind, ImageRequest};
use crate::gui::results::{ResultId, ResultStore, RowMode};
use crate::gui::textures::TextureCache;

const TILE: f32 = 168.0;
const CAPTION: f32 = 20.0;
const GAP: f32 = 8.0;

pub fn show(
    ui: &mut Ui,
    store: &mut ResultStore,
    view: &ViewState,
    textures: &mut TextureCache,
    wanted: &mut Vec<ImageRequest>,
    actions: &mut Vec<Action>,
) {
    let rows = store
        .rows(RowMode::PerImage, &view.filter, view.sort)
        .to_vec();
    if rows.is_empty() {
        ui.centered_and_justified(|ui| ui.label("No photos match the filter."));
        return;
    }
    let per_line = (((ui.available_width() + GAP) / (TILE + GAP)).floor() as usize).max(1);
    let lines = rows.len().div_ceil(per_line);
    let line_height = TILE + CAPTION + GAP;
    let mut area = egui::ScrollArea::vertical().auto_shrink(false);
    let ids: Vec<ResultId> = rows.iter().map(|r| r.image).collect();
    let focused = ui.memory(|m| m.focused());
    // Keys belong to the gallery when nothing has focus or a tile has it;
    // a focused tile is the selected one, since focus selects.
    let tile_focused = focused.is_some_and(|f| view.selected.is_some_and(|s| tile_id(s) == f));
    let ours = !ui.ctx().egui_wants_keyboard_input() || tile_focused;
    if ours
        && let Some(selected) = view.selected
        && ui.input(|i| i.key_pressed(egui::Key::Enter))
        && focused.is_none_or(|f| f == tile_id(selected))
    {
        actions.push(Action::OpenPhoto(selected));
    }
    if let Some(n) = ours
        .then(|| arrow_keys(ui, &ids, view.selected, per_line))
        .flatten()
    {
        actions.push(Action::Select(Some(ids[n])));
        if tile_focused {
            ui.memory_mut(|m| m.request_focus(tile_id(ids[n])));
        }
        // The newly selected tile's line in sight.
        let line = (n / per_line) as f32;
        let target = (line * line_height - ui.available_height() / 2.0 + line_height).max(0.0);
        area = area.vertical_scroll_offset(target);
    }
    area.show_rows(ui, TILE + CAPTION + GAP, lines, |ui, visible| {
        for line in visible {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = GAP;
                let start = line * per_line;
                for row in &rows[start..(start + per_line).min(rows.len())] {
                    tile(ui, store, row.image, view, textures, wanted, actions);
                }
            });
            ui.add_space(GAP);
        }
    });
}

/// The arrow keys move the selection through the tiles (the first key
/// selects the first photo); returns the tile to select.
fn arrow_keys(
    ui: &Ui,
    ids: &[ResultId],
    selected: Option<ResultId>,
    per_line: usize,
) -> Option<usize> {
    if ids.is_empty() {
        return None;
    }
    let last = ids.len() - 1;
    let current = selected.and_then(|id| ids.iter().position(|i| *i == id));
    let pressed = |key| ui.input(|i| i.key_pressed(key));
    let step = |forward: bool, by: usize| match current {
        None => Some(0),
        Some(n) if forward => Some((n + by).min(last)),
        Some(n) => Some(n.saturating_sub(by)),
    };
    if pressed(egui::Key::ArrowRight) {
        step(true, 1)
    } else if pressed(egui::Key::ArrowLeft) {
        step(false, 1)
    } else if pressed(egui::Key::ArrowDown) {
        step(true, per_line)
    } else if pressed(egui::Key::ArrowUp) {
        step(false, per_line)
    } else {
        None
    }
    .filter(|n| Some(*n) != current)
}

fn tile(
    ui: &mut Ui,
    store: &ResultStore,
    id: ResultId,
    view: &ViewState,
    textures: &mut TextureCache,
    wanted: &mut Vec<ImageRequest>,
    actions: &mut Vec<Action>,
) {
    let Some(result) = store.get(id) else {
        return;
    };
    let (rect, _) = ui.allocate_exact_size(vec2(TILE, TILE + CAPTION), Sense::hover());
    // A stable id: focus stays on the photo while the grid scrolls or reflows.
    let response = ui.interact(rect, tile_id(id), Sense::click());
    if response.has_focus() {
        // The gallery moves through tiles with the arrows itself; egui's
        // own arrow navigation would only reach the tiles laid out.
        ui.memory_mut(|m| {
            m.set_focus_lock_filter(
                tile_id(id),
                egui::EventFilter {
                    horizontal_arrows: true,
                    vertical_arrows: true,
                    ..Default::default()
                },
            )
        });
    }
    if response.gained_focus() {
        // Tab onto a tile selects it, as the arrows do.
        if view.selected != Some(id) {
            actions.push(Action::Select(Some(id)));
        }
        response.scroll_to_me(None);
    }
    if response.double_clicked() {
        actions.push(Action::OpenPhoto(id));
    }
    let name = file_name(result);
    let response = response.on_hover_text(match &result.error {
        Some(error) => format!("{}\n{error}", result.path.display()),
        None => format!("{}{}", result.path.display(), faces_summary(result)),
    });
    response.widget_info(|| {
        egui::WidgetInfo::selected(
            egui::Role::Button,
            true,
            view.selected == Some(id),
            format!("Photo {name}"),
        )
    });
    if response.clicked() {
        actions.push(Action::Select(Some(id)));
    }
    if !ui.is_rect_visible(rect) {
        return;
    }
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    let picture_area = egui::Rect::from_min_size(rect.min, vec2(TILE, TILE));
    painter.rect_filled(picture_area, 4.0, visuals.extreme_bg_color);
    if view.selected == Some(id) {
        painter.rect_stroke(
            picture_area,
            4.0,
            egui::Stroke::new(3.0, visuals.selection.stroke.color),
            egui::StrokeKind::Inside,
        );
    } else if response.hovered() {
        painter.rect_stroke(
            picture_area,
            4.0,
            visuals.widgets.hovered.bg_stroke,
            egui::StrokeKind::Inside,
        );
    }
    if response.has_focus() {
        // Keyboard focus: a ring of its own, inside the selection's.
        painter.rect_stroke(
            picture_area.shrink(5.0),
            3.0,
            egui::Stroke::new(2.0, visuals.text_color()),
            egui::StrokeKind::Inside,
        );
    }

    match textures.get(id, ImageKind::Thumbnail) {
        Some(cached) => {
            let size = cached.texture.size_vec2();
            let shown = super::fit(size, picture_area.shrink(4.0).size());
            let picture = egui::Rect::from_center_size(picture_area.center(), shown);
            // A group photo's labels would pile up over its faces: boxes
            // and a count here, each face's label in the tooltip.
            let marks = if result.faces.len() > 1 {
                FaceMarks::Boxes
            } else {
                FaceMarks::Labels
            };
            paint_photo_with_faces(&painter, picture, cached, &result.faces, 11.0, marks);
            if result.faces.len() > 1 {
                let galley = painter.layout_no_wrap(
                    format!("{} faces", result.faces.len()),
                    egui::FontId::proportional(11.0),
                    Color32::WHITE,
                );
                let badge = egui::Rect::from_min_size(
                    picture_area.left_bottom() + vec2(4.0, -galley.size().y - 6.0),
                    galley.size() + vec2(6.0, 2.0),
                );
                painter.rect_filled(badge, 6.0, Color32::from_black_alpha(200));
                painter.galley(badge.min + vec2(3.0, 1.0), galley, Color32::WHITE);
            }
        }
        None => {
            let text = match textures.failure(id, ImageKind::Thumbnail) {
                Some(_) => "no preview",
                None => {
                    if textures.needs(id, ImageKind::Thumbnail) {
                        wanted.push(ImageRequest {
                            id,
                            kind: ImageKind::Thumbnail,
                            path: result.path.clone(),
                            faces: Vec::new(),
                        });
                    }
                    "…"
                }
            };
            painter.text(
                picture_area.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(12.0),
                visuals.weak_text_color(),
            );
        }
    }

    if let Some((badge, colour)) = status_badge(result) {
        let galley = painter.layout_no_wrap(
            badge.to_string(),
            egui::FontId::proportional(11.0),
            Color32::WHITE,
        );
        let badge_rect = egui::Rect::from_min_size(
            picture_area.right_top() + vec2(-galley.size().x - 10.0, 4.0),
            galley.size() + vec2(6.0, 2.0),
        );
        painter.rect_filled(badge_rect, 6.0, colour);
        painter.galley(badge_rect.min + vec2(3.0, 1.0), galley, Color32::WHITE);
    }
    painter.text(
        egui::pos2(rect.min.x + 2.0, rect.max.y - CAPTION / 2.0),
        egui::Align2::LEFT_CENTER,
        truncate(&name, 24),
        egui::FontId::proportional(12.0),
        visuals.text_color(),
    );
}

fn tile_id(id: ResultId) -> egui::Id {
    egui::Id::unique(("gallery_tile", id))
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// One line per face for the tooltip: label, score and age.
fn faces_summary(result: &crate::postprocess::ImageResult) -> String {
    result
        .faces
        .iter()
        .enumerate()
        .map(|(n, face)| {
            let age = face
                .age
                .map(|a| format!(", age {a:.1}"))
                .unwrap_or_default();
            let doubt = if face.uncertain { ", uncertain" } else { "" };
            format!(
                "\nface {}: {} {:.2}{age}{doubt}",
                n + 1,
                face.gender,
                face.score
            )
        })
        .collect()
}
