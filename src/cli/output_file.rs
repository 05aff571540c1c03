//! `classify --output FILE`: the results go to a temporary file beside FILE
//! and take its name only once the batch has ended, so an interrupted run
//! never leaves half a file, and an existing file is never replaced unasked.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::NamedTempFile;

use crate::export::files::{folder_of, temp_file_beside};

pub struct OutputFile {
    path: PathBuf,
    temp: NamedTempFile,
    replace: bool,
}

impl OutputFile {
    /// Refuses an output that exists (unless `force`) or that is one of the
    /// photos to classify (whatever `force` says).
    pub fn check(path: &Path, inputs: &[PathBuf], force: bool) -> Result<()> {
        if is_an_input(path, inputs) {
            bail!(
                "{} is one of the photos to classify; choose another --output",
                path.display()
            );
        }
        if path.exists() && !force {
            bail!(
                "{} already exists; use --force to replace it",
                path.display()
            );
        }
        Ok(())
    }

    pub fn prepare(path: &Path, inputs: &[PathBuf], force: bool) -> Result<Self> {
        Self::check(path, inputs, force)?;
        let temp = temp_file_beside(path, ".genderlens-output-")?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
            replace: force,
        })
    }

    pub fn writer(&self) -> Result<File> {
        self.temp
            .as_file()
            .try_clone()
            .context("opening the output file")
    }

    /// Gives the finished file its name.
    pub fn persist(self) -> Result<()> {
        self.temp.as_file().sync_all()?;
        let persisted = if self.replace {
            self.temp.persist(&self.path).map(drop)
        } else {
            // Another program may have created the file while the batch ran.
            self.temp.persist_noclobber(&self.path).map(drop)
        };
        persisted
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// True when `path` names a file given as an input, or a photo that a
/// folder given as an input would list.
fn is_an_input(path: &Path, inputs: &[PathBuf]) -> bool {
    let Some(target) = canonical_target(path) else {
        return false;
    };
    inputs.iter().any(|input| {
        let Ok(input) = input.canonicalize() else {
            return false;
        };
        if input.is_dir() {
            target.starts_with(&input) && crate::batch::inputs::has_image_extension(&target)
        } else {
            input == target
        }
    })
}

/// Where `path` points, for a file that may not exist yet: its folder
/// resolved, its name kept.
fn canonical_target(path: &Path) -> Option<PathBuf> {
    if let Ok(existing) = path.canonicalize() {
        return Some(existing);
    }
    let name = path.file_name()?;
    Some(folder_of(path).canonicalize().ok()?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_and_existing_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, b"x").unwrap();
        let inputs = [photo.clone()];
        let error = OutputFile::check(&photo, &inputs, true).unwrap_err();
        assert!(error.to_string().contains("one of the photos"), "{error}");
        let folder = [dir.path().to_path_buf()];
        assert!(OutputFile::check(&dir.path().join("new.png"), &folder, true).is_err());
        assert!(OutputFile::check(&dir.path().join("results.csv"), &folder, false).is_ok());

        let existing = dir.path().join("results.csv");
        std::fs::write(&existing, b"kept").unwrap();
        let error = OutputFile::check(&existing, &[], false).unwrap_err();
        assert!(error.to_string().contains("--force"), "{error}");
        assert!(OutputFile::check(&existing, &[], true).is_ok());
    }
}
