//! Drawing the app. Views read the state and return what the user asked
//! for as [`Action`]s; they never change results or start work themselves.

pub mod about;
pub mod detail;
pub mod drop_zone;
pub mod gallery;
pub mod library;
pub mod log;
pub mod notices;
pub mod path_prompt;
pub mod progress;
pub mod review;
pub mod settings;
pub mod summary;
pub mod table;
pub mod toolbar;

use std::path::PathBuf;

use egui::Color32;

use super::events::DialogPurpose;
use super::results::{Filter, ResultId, RowMode, Sort, error_wording};
use crate::labels::Gender;
use crate::postprocess::{FaceResult, ImageResult, Status};
use crate::settings_store::AppSettings;

/// What the user asked for this frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Ask(DialogPurpose),
    AddPaths(Vec<PathBuf>),
    Pause,
    Resume,
    Cancel,
    /// Clear, after the user confirmed it.
    ClearResults,
    UndoClear,
    /// Classify photos again, even unchanged ones.
    Rerun(Rerun),
    ResumeUnfinished(crate::library::RunId),
    DismissUnfinished(crate::library::RunId),
    /// Close the window during a batch, as the user chose in the question.
    Quit {
        resume_later: bool,
    },
    Select(Option<ResultId>),
    /// A person's label for a face (none takes it back).
    Correct {
        id: ResultId,
        face: usize,
        label: Option<crate::labels::PersonLabel>,
    },
    /// Takes back the latest correction.
    UndoCorrection,
    CopyJson(ResultId),
    ShowInFolder(ResultId),
    /// Opens the photo in the system's image viewer.
    OpenPhoto(ResultId),
    ApplySettings(Box<AppSettings>),
    CheckRuntime,
    /// Check that a remote server is ready and serves the right model.
    TestConnection(Box<crate::remote::RemoteOptions>),
    /// The answer to "replace the existing file?".
    ConfirmOverwrite(bool),
    /// A path typed where no file dialog could be shown.
    TypedPath(DialogPurpose, PathBuf),
    RetryEngine,
}

/// The in-app stand-in for a file dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct PathPrompt {
    pub purpose: DialogPurpose,
    pub problem: String,
    pub text: String,
}

/// What Export and Sort take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportScope {
    #[default]
    All,
    /// The photos the current filter shows.
    Shown,
}

/// Which photos a re-run classifies again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// Those that failed (a server that was down, a file since fixed).
    Failed,
    /// Those the current filter shows.
    Shown,
    All,
    One(ResultId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Gallery,
    Table,
    Review,
}

/// How the results are shown: purely presentation, never saved with results.
pub struct ViewState {
    pub tab: Tab,
    pub row_mode: RowMode,
    pub filter: Filter,
    pub sort: Sort,
    pub selected: Option<ResultId>,
    pub settings_open: bool,
    /// The settings being edited, applied only on "Apply".
    pub settings_draft: Option<AppSettings>,
    pub settings_error: Option<String>,
    pub about_open: bool,
    pub log_open: bool,
    /// An export waiting for the user to allow replacing an existing file.
    pub confirm_overwrite: Option<(DialogPurpose, PathBuf)>,
    /// "Clear all results?" is asked.
    pub confirm_clear: bool,
    /// No file dialog could be shown: the path is typed here instead.
    pub path_prompt: Option<PathPrompt>,
    /// "Quit during the batch?" is asked.
    pub confirm_quit: bool,
    pub review: review::ReviewState,
    pub export_scope: ExportScope,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            tab: Tab::Gallery,
            row_mode: RowMode::PerFace,
            filter: Filter::default(),
            sort: Sort::default(),
            selected: None,
            settings_open: false,
            settings_draft: None,
            settings_error: None,
            about_open: false,
            log_open: false,
            confirm_overwrite: None,
            confirm_clear: false,
            path_prompt: None,
            confirm_quit: false,
            review: review::ReviewState::default(),
            export_scope: ExportScope::default(),
        }
    }
}

impl ViewState {
    /// What Esc closes: the window on top (About, then Settings), else the
    /// detail view.
    pub fn close_topmost(&mut self) {
        if self.confirm_clear || self.confirm_quit || self.path_prompt.is_some() {
            // Esc answers a question with its harmless choice.
            self.confirm_clear = false;
            self.confirm_quit = false;
            self.path_prompt = None;
        } else if self.about_open {
            self.about_open = false;
        } else if self.settings_open {
            self.settings_open = false;
        } else {
            self.selected = None;
        }
    }
}

pub const FEMALE: Color32 = Color32::from_rgb(214, 84, 170);
pub const MALE: Color32 = Color32::from_rgb(52, 140, 230);
pub const UNCERTAIN: Color32 = Color32::from_rgb(232, 160, 32);
pub const ERROR: Color32 = Color32::from_rgb(220, 60, 60);
pub const NO_FACE: Color32 = Color32::from_rgb(140, 140, 140);
pub const WARNING: Color32 = Color32::from_rgb(226, 132, 20);
pub const OK: Color32 = Color32::from_rgb(60, 160, 80);

/// Coloured text that stays readable: the colour is darkened on a light
/// background, or lightened on a dark one, until it reaches WCAG's 4.5:1
/// contrast for normal text.
pub fn coloured(
    ui: &mut egui::Ui,
    colour: Color32,
    text: impl Into<egui::RichText>,
) -> egui::Response {
    let readable = readable_on(ui.visuals().panel_fill, colour);
    ui.colored_label(readable, text)
}

pub const MIN_TEXT_CONTRAST: f32 = 4.5;

/// `colour`, moved toward black or white in small steps until its contrast
/// with `background` reaches [`MIN_TEXT_CONTRAST`].
pub fn readable_on(background: Color32, colour: Color32) -> Color32 {
    let target = if relative_luminance(background) > 0.5 {
        Color32::BLACK
    } else {
        Color32::WHITE
    };
    let mut shade = colour;
    for step in 1..=20 {
        if contrast(background, shade) >= MIN_TEXT_CONTRAST {
            break;
        }
        shade = colour.lerp_to_gamma(target, step as f32 / 20.0);
    }
    shade
}

/// WCAG 2 contrast ratio, 1 to 21.
pub fn contrast(a: Color32, b: Color32) -> f32 {
    let (la, lb) = (relative_luminance(a), relative_luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn relative_luminance(colour: Color32) -> f32 {
    let linear = |c: u8| {
        let c = f32::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(colour.r()) + 0.7152 * linear(colour.g()) + 0.0722 * linear(colour.b())
}

pub fn label_colour(gender: Gender) -> Color32 {
    match gender {
        Gender::Male => MALE,
        Gender::Female => FEMALE,
    }
}

/// A face's colour: its label's (a person's over the models'), amber while
/// the models are unsure and nobody reviewed it, grey for "not a face".
pub fn face_colour(face: &FaceResult) -> Color32 {
    match face.label() {
        None => NO_FACE,
        Some(_) if face.uncertain && face.correction.is_none() => UNCERTAIN,
        Some(label) => label_colour(label),
    }
}

/// A short badge for a photo's state, if it needs one.
pub fn status_badge(result: &ImageResult) -> Option<(&'static str, Color32)> {
    match result.status {
        Status::Error => Some((error_wording(result.error_kind), ERROR)),
        Status::NoFace => Some(("no face", NO_FACE)),
        Status::Ok
            if result
                .faces
                .iter()
                .any(|f| f.uncertain && f.correction.is_none()) =>
        {
            Some(("uncertain", UNCERTAIN))
        }
        Status::Ok => None,
    }
}

pub fn file_name(result: &ImageResult) -> String {
    result
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| result.path.display().to_string())
}

/// How faces are marked on a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaceMarks {
    /// Each box with its label and score (a one-face tile).
    Labels,
    /// Each box with its number, as the detail view's list numbers them;
    /// `highlight` (0-based) is drawn bolder.
    Numbered { highlight: Option<usize> },
    /// Boxes only (a group photo's tile: labels would cover the faces).
    Boxes,
}

/// Draws a photo filling `rect`, then its faces' boxes marked as asked.
pub fn paint_photo_with_faces(
    painter: &egui::Painter,
    rect: egui::Rect,
    photo: &crate::gui::textures::CachedImage,
    faces: &[FaceResult],
    font_size: f32,
    marks: FaceMarks,
) {
    let whole = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    painter.image(photo.texture.id(), rect, whole, Color32::WHITE);
    paint_faces(painter, rect, photo.source_size, faces, font_size, marks);
}

/// Draws face boxes, with what `marks` asks for, over a picture drawn in `rect`.
fn paint_faces(
    painter: &egui::Painter,
    rect: egui::Rect,
    source_size: [u32; 2],
    faces: &[FaceResult],
    font_size: f32,
    marks: FaceMarks,
) {
    let scale = rect.width() / source_size[0].max(1) as f32;
    for (n, face) in faces.iter().enumerate() {
        let colour = face_colour(face);
        let b = egui::Rect::from_min_max(
            rect.min + egui::vec2(face.bbox[0], face.bbox[1]) * scale,
            rect.min + egui::vec2(face.bbox[2], face.bbox[3]) * scale,
        );
        let highlighted = matches!(marks, FaceMarks::Numbered { highlight: Some(h) } if h == n);
        let width = if highlighted { 4.0 } else { 2.0 };
        painter.rect_stroke(
            b,
            2.0,
            egui::Stroke::new(width, colour),
            egui::StrokeKind::Outside,
        );
        let text = match marks {
            FaceMarks::Boxes => continue,
            FaceMarks::Labels => format!("{} {:.2}", face.gender, face.score),
            FaceMarks::Numbered { .. } => (n + 1).to_string(),
        };
        let galley =
            painter.layout_no_wrap(text, egui::FontId::proportional(font_size), Color32::WHITE);
        let label_min = egui::pos2(
            b.min.x - 2.0,
            (b.min.y - galley.size().y - 2.0).max(rect.min.y),
        );
        let label = egui::Rect::from_min_size(label_min, galley.size() + egui::vec2(4.0, 0.0));
        painter.rect_filled(label, 2.0, colour);
        painter.galley(label.min + egui::vec2(2.0, 0.0), galley, Color32::WHITE);
    }
}

/// A picture's size when fitted inside `available`, keeping its aspect ratio.
pub fn fit(size: egui::Vec2, available: egui::Vec2) -> egui::Vec2 {
    let scale = (available.x / size.x).min(available.y / size.y);
    size * scale
}

#[cfg(test)]
mod contrast_tests {
    use super::*;

    #[test]
    fn every_text_colour_is_readable_in_both_themes() {
        for visuals in [egui::Visuals::light(), egui::Visuals::dark()] {
            let background = visuals.panel_fill;
            for colour in [FEMALE, MALE, UNCERTAIN, ERROR, NO_FACE, WARNING, OK] {
                let shown = readable_on(background, colour);
                let ratio = contrast(background, shown);
                assert!(
                    ratio >= MIN_TEXT_CONTRAST,
                    "{colour:?} as {shown:?} on {background:?}: {ratio:.2}:1"
                );
            }
        }
        // The light theme is where the raw colours fail: amber on white.
        let white = egui::Visuals::light().panel_fill;
        assert!(contrast(white, UNCERTAIN) < MIN_TEXT_CONTRAST);
        assert_eq!(readable_on(egui::Visuals::dark().panel_fill, MALE), MALE);
    }
}
