//! The desktop app. The UI thread only draws and hands work to background
//! threads: the engine host (ONNX Runtime, batches), the picture loaders,
//! and short-lived threads for dialogs and file tasks.

pub mod app;
pub mod dialogs;
pub mod engine_host;
pub mod events;
pub mod frame_stats;
pub mod images;
pub mod listing;
pub mod results;

pub mod state;
pub mod tasks;
pub mod textures;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, anyhow};

use crate::settings_store;

pub use app::{AppConfig, GenderLensApp};

const ICON_PNG: &[u8] = include_bytes!("../../assets/icons/genderlens-256.png");

/// What the command line passes to the app.
#[derive(Debug, Default, Clone)]
pub struct LaunchOptions {
    pub paths: Vec<PathBuf>,
    pub open_results: Option<PathBuf>,
    pub settings_file: Option<PathBuf>,
    pub frame_stats: Option<PathBuf>,
    pub exit_when_done: bool,
    pub start_tab: views::Tab,
    /// The library to open; none keeps answers for this session only.
    pub library: Option<PathBuf>,
    /// Resume the library's batch that stopped early, without asking.
    pub resume: bool,
}

pub fn icon() -> egui::IconData {
    match image::load_from_memory_with_format(ICON_PNG, image::ImageFormat::Png) {
        Ok(icon) => {
            let rgba = icon.to_rgba8();
            egui::IconData {
                width: rgba.width(),
                height: rgba.height(),
                rgba: rgba.into_raw(),
            }
        }
        Err(_) => egui::IconData::default(),
    }
}

/// Opens the window and runs until it is closed.
pub fn run(options: LaunchOptions) -> Result<()> {
    let settings_path = options
        .settings_file
        .clone()
        .or_else(settings_store::default_settings_path);
    let (settings, settings_warning) = match &settings_path {
        Some(path) => settings_store::load(path),
        None => (
            settings_store::AppSettings::default(),
            Some("No settings folder could be found; settings will not be saved.".into()),
        ),
    };
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("GenderLens")
            .with_app_id("genderlens")
            .with_inner_size([1200.0, 780.0])
            .with_min_inner_size([640.0, 420.0])
            .with_drag_and_drop(true)
            .with_icon(Arc::new(icon())),
        // Window size and position are kept between runs.
        persist_window: true,
        ..Default::default()
    };
    let config = AppConfig {
        settings,
        settings_path,
        settings_warning,
        initial_paths: options.paths,
        open_results: options.open_results,
        dialogs: Arc::new(dialogs::NativeDialogs),
        frame_stats_path: options.frame_stats,
        exit_when_done: options.exit_when_done,
        start_tab: options.start_tab,
        library: options.library,
        resume: options.resume,
    };
    eframe::run_native(
        "GenderLens",
        native,
        Box::new(move |cc| Ok(Box::new(GenderLensApp::new(&cc.egui_ctx, config)))),
    )
    .map_err(|e| anyhow!("the window could not open: {e}"))
}
