//! The selected photo at full size with its face boxes, each face's chip
//! and scores, and the actions on it. Hovering a face in the list, or
//! clicking it, highlights its numbered box.

use egui::Ui;

use super::{Action, FaceMarks, face_colour, file_name, paint_photo_with_faces};
use crate::gui::images::{ImageKind, ImageRequest};
use crate::gui::results::{ResultId, ResultStore};
use crate::gui::textures::TextureCache;

pub fn show(
    ui: &mut Ui,
    store: &ResultStore,
    id: ResultId,
    textures: &mut TextureCache,
    wanted: &mut Vec<ImageRequest>,
    actions: &mut Vec<Action>,
) {
    let Some(result) = store.get(id) else {
        return;
    };
    ui.horizontal(|ui| {
        ui.heading(file_name(result));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Close")
                .on_hover_text("Close the detail view")
                .clicked()
            {
                actions.push(Action::Select(None));
            }
        });
    });
    ui.label(
        egui::RichText::new(result.path.display().to_string())
            .small()
            .weak(),
    );
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Open")
            .on_hover_text(
                "Open the photo in the system's viewer (Enter, or a double click on its tile)",
            )
            .clicked()
        {
            actions.push(Action::OpenPhoto(id));
        }
        if ui.button("Copy as JSON").clicked() {
            actions.push(Action::CopyJson(id));
        }
        if ui.button("Open containing folder").clicked() {
            actions.push(Action::ShowInFolder(id));
        }
        if ui
            .button("Re-classify")
            .on_hover_text("Classify this photo again with the current settings")
            .clicked()
        {
            actions.push(Action::Rerun(super::Rerun::One(id)));
        }
    });
    if let Some(error) = &result.error {
        super::coloured(ui, super::ERROR, format!("Error: {error}"));
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            let cached = textures.get(id, ImageKind::Detail);
            match cached {
                Some(cached) => {
                    let size = cached.texture.size_vec2();
                    let width = ui.available_width();
                    let shown = super::fit(size, egui::vec2(width, width * 1.5));
                    let (rect, _) = ui.allocate_exact_size(shown, egui::Sense::hover());
                    let painter = ui.painter_at(rect);
                    // The face the pointer is on in the list below (last
                    // frame's), else the one clicked there.
                    let highlight = ui
                        .data(|d| d.get_temp::<usize>(highlight_id()))
                        .or_else(|| pinned(ui, id));
                    paint_photo_with_faces(
                        &painter,
                        rect,
                        cached,
                        &result.faces,
                        13.0,
                        FaceMarks::Numbered { highlight },
                    );
                    let chips: Vec<_> = cached
                        .chips
                        .iter()
                        .map(|t| (t.id(), t.size_vec2()))
                        .collect();
                    faces(ui, id, result, &chips);
                }
                None => {
                    match textures.failure(id, ImageKind::Detail) {
                        // A photo that failed already shows why above.
                        Some(_) if result.error.is_some() => {
                            ui.label(egui::RichText::new("No preview.").weak());
                        }
                        Some(reason) => {
                            super::coloured(
                                ui,
                                super::ERROR,
                                format!("Cannot show this photo: {reason}"),
                            );
                        }
                        None => {
                            if textures.needs(id, ImageKind::Detail) {
                                wanted.insert(
                                    0,
                                    ImageRequest {
                                        id,
                                        kind: ImageKind::Detail,
                                        path: result.path.clone(),
                                        faces: result.faces.iter().map(|f| f.bbox).collect(),
                                    },
                                );
                            }
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label("Loading…");
                            });
                        }
                    }
                    faces(ui, id, result, &[]);
                }
            }
        });
}

fn faces(
    ui: &mut Ui,
    id: ResultId,
    result: &crate::postprocess::ImageResult,
    chips: &[(egui::TextureId, egui::Vec2)],
) {
    if result.faces.is_empty() && result.error.is_none() {
        ui.label("No face found in this photo.");
        return;
    }
    let mut hovered = None;
    for (n, face) in result.faces.iter().enumerate() {
        ui.separator();
        let is_pinned = pinned(ui, id) == Some(n);
        let entry = ui.horizontal(|ui| {
            if let Some((texture, _)) = chips.get(n) {
                ui.add(egui::Image::new((*texture, egui::vec2(72.0, 72.0))));
            }
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    // A click keeps this face's box highlighted; a second
                    // click lets it go.
                    let name = egui::RichText::new(format!("Face {}", n + 1)).strong();
                    if ui
                        .selectable_label(is_pinned, name)
                        .on_hover_text("Keep this face's box highlighted in the picture")
                        .clicked()
                    {
                        let pin = (!is_pinned).then_some(n);
                        ui.data_mut(|d| d.insert_temp(pin_id(id), pin));
                    }
                    super::coloured(
                        ui,
                        face_colour(face),
                        format!("{} {:.3}", face.gender, face.score),
                    );
                    if let Some(age) = face.age {
                        ui.label(format!("age {age:.1}"));
                    }
                    if face.uncertain {
                        super::coloured(ui, super::UNCERTAIN, "uncertain");
                    }
                });
                ui.label(format!(
                    "p(male) {:.3} · detection {:.2}",
                    face.p_male, face.detection_score
                ));
                for (model, values) in &face.models {
                    let mut parts = Vec::new();
                    if let Some(p) = values.p_male {
                        parts.push(format!("p(male) {p:.3}"));
                    }
                    if let Some(age) = values.age {
                        parts.push(format!("age {age:.1}"));
                    }
                    ui.label(
                        egui::RichText::new(format!("{model}: {}", parts.join(" · ")))
                            .small()
                            .weak(),
                    );
                }
                ui.label(
                    egui::RichText::new(format!(
                        "box {:.0}, {:.0} – {:.0}, {:.0}",
                        face.bbox[0], face.bbox[1], face.bbox[2], face.bbox[3]
                    ))
                    .small()
                    .weak(),
                );
            });
        });
        if is_pinned {
            ui.painter().rect_stroke(
                entry.response.rect.expand(2.0),
                3.0,
                ui.visuals().selection.stroke,
                egui::StrokeKind::Outside,
            );
        }
        if entry.response.contains_pointer() {
            hovered = Some(n);
        }
    }
    // Read by the picture above on the next frame; repaint once it changes.
    let id = highlight_id();
    if ui.data(|d| d.get_temp::<usize>(id)) != hovered {
        ui.data_mut(|d| match hovered {
            Some(n) => {
                d.insert_temp(id, n);
            }
            None => d.remove::<usize>(id),
        });
        ui.ctx().request_repaint();
    }
}

/// The face clicked in the list of photo `id`, if any.
fn pinned(ui: &Ui, id: ResultId) -> Option<usize> {
    ui.data(|d| d.get_temp::<Option<usize>>(pin_id(id)).flatten())
}

fn pin_id(id: ResultId) -> egui::Id {
    egui::Id::unique(("detail_face_pinned", id))
}

fn highlight_id() -> egui::Id {
    egui::Id::unique("detail_face_highlight")
}
