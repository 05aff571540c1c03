//! The bearer token for a remote server, kept out of the settings JSON in a
//! file only its owner can read (mode 0600 on Unix).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// `token` beside the settings file.
pub fn token_path(settings_path: &Path) -> PathBuf {
    settings_path.with_file_name("remote-token")
}

/// The stored token; `None` when there is none or the file is empty.
pub fn load(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Saves (or, for `None`, deletes) the token. The file is created private
/// before the secret is written, so it is never readable by others.
pub fn save(path: &Path, token: Option<&str>) -> Result<()> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        };
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        // A file that already existed keeps its old mode unless told.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(token.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_privately_and_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = token_path(&dir.path().join("settings.json"));
        assert_eq!(load(&path).unwrap(), None);
        save(&path, Some(" s3cret\n")).unwrap();
        assert_eq!(load(&path).unwrap().as_deref(), Some("s3cret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        save(&path, None).unwrap();
        assert!(!path.exists());
    }
}
