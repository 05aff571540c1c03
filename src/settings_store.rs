//! The app's settings, kept as JSON in the user's config folder. A damaged
//! file never stops the app: it starts with defaults and says so.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::remote::{RemoteOptions, SetupError, token};
use crate::settings::{EngineSettings, SettingsError};

/// Where photos are classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackendChoice {
    /// In this process, on this machine's GPU or CPU.
    #[default]
    Local,
    /// On the server in [`AppSettings::remote`]: photos leave this computer.
    Remote,
}

impl BackendChoice {
    pub fn label(self) -> &'static str {
        match self {
            Self::Local => "Local (this computer)",
            Self::Remote => "Remote server",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    pub backend: BackendChoice,
    pub engine: EngineSettings,
    /// Kept when the backend is Local, so switching back finds it filled in.
    pub remote: RemoteOptions,
    pub theme: ThemeChoice,
}

impl AppSettings {
    /// The remote server to use, when the user chose one.
    pub fn active_remote(&self) -> Option<RemoteOptions> {
        (self.backend == BackendChoice::Remote).then(|| self.remote.clone())
    }

    pub fn validate(&self) -> Result<(), SettingsProblem> {
        self.engine.validate()?;
        if self.backend == BackendChoice::Remote {
            self.remote.validate()?;
        }
        Ok(())
    }
}

/// Why settings cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsProblem {
    #[error(transparent)]
    Engine(#[from] SettingsError),
    #[error(transparent)]
    Remote(#[from] SetupError),
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            backend: BackendChoice::Local,
            engine: EngineSettings::default(),
            remote: RemoteOptions::default(),
            theme: ThemeChoice::System,
        }
    }
}

pub fn default_settings_path() -> Option<PathBuf> {
    crate::paths::config_dir().map(|dir| dir.join("settings.json"))
}

/// Reads the settings and the remote server's token; a missing file gives
/// the defaults, a damaged or invalid one gives the defaults plus a warning
/// to show the user.
pub fn load(path: &Path) -> (AppSettings, Option<String>) {
    let (mut settings, mut warning) = load_json(path);
    match token::load(&token::token_path(path)) {
        Ok(stored) => settings.remote.token = stored,
        Err(e) => {
            warning = warning.or(Some(format!(
                "{e:#}; the remote server's token is not set."
            )))
        }
    }
    if settings.backend == BackendChoice::Remote
        && let Err(problem) = settings.remote.validate()
    {
        settings.backend = BackendChoice::Local;
        warning = warning.or(Some(format!(
            "The remote server in the settings is not usable ({problem}); classifying locally until it is fixed."
        )));
    }
    (settings, warning)
}

fn load_json(path: &Path) -> (AppSettings, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (AppSettings::default(), None);
        }
        Err(e) => {
            return (
                AppSettings::default(),
                Some(format!(
                    "Could not read the settings file {} ({e}); using the defaults.",
                    path.display()
                )),
            );
        }
    };
    parse(&text, path)
}

/// Settings from the text of a settings file (named `path` in warnings): a
/// damaged file gives the defaults, an invalid engine value the engine
/// defaults, each with a warning to show the user.
pub fn parse(text: &str, path: &Path) -> (AppSettings, Option<String>) {
    match serde_json::from_str::<AppSettings>(text) {
        Ok(settings) => match settings.engine.validate() {
            Ok(()) => (settings, None),
            Err(problem) => (
                AppSettings {
                    engine: EngineSettings::default(),
                    ..settings
                },
                Some(format!(
                    "The settings file {} has an invalid value ({problem}); the engine settings are back to their defaults.",
                    path.display()
                )),
            ),
        },
        Err(e) => (
            AppSettings::default(),
            Some(format!(
                "The settings file {} is damaged ({e}); using the defaults. It is replaced when you next apply settings.",
                path.display()
            )),
        ),
    }
}

/// Writes the settings atomically, so a crash never leaves a half-written
/// file, and the token to its own private file.
pub fn save(path: &Path, settings: &AppSettings) -> Result<()> {
    save_json(path, settings)?;
    token::save(&token::token_path(path), settings.remote.token.as_deref())
}

fn save_json(path: &Path, settings: &AppSettings) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    serde_json::to_writer_pretty(&mut temp, settings)?;
    temp.write_all(b"\n")?;
    temp.as_file().sync_all()?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot save {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_damaged_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/settings.json");
        assert_eq!(load(&path), (AppSettings::default(), None));

        let mut settings = AppSettings::default();
        settings.engine.max_batch = 7;
        settings.theme = ThemeChoice::Dark;
        save(&path, &settings).unwrap();
        assert_eq!(load(&path), (settings, None));

        std::fs::write(&path, "{ not json").unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(loaded, AppSettings::default());
        assert!(warning.unwrap().contains("damaged"));

        std::fs::write(&path, r#"{"engine": {"detector_size": 33}}"#).unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(loaded.engine.detector_size, 640);
        assert!(warning.unwrap().contains("multiple of 32"));
    }

    #[test]
    fn remote_settings_keep_the_token_out_of_the_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let mut settings = AppSettings {
            backend: BackendChoice::Remote,
            ..AppSettings::default()
        };
        settings.remote.url = "triton-https://gpu.example:8000".into();
        settings.remote.token = Some("s3cret".into());
        save(&path, &settings).unwrap();
        let json = std::fs::read_to_string(&path).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
        assert_eq!(load(&path), (settings, None));

        std::fs::write(
            &path,
            r#"{"backend": {"kind": "remote"}, "remote": {"url": "gpu:8001"}}"#,
        )
        .unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(loaded.backend, BackendChoice::Local);
        assert!(warning.unwrap().contains("not usable"));
    }
}
