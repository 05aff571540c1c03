//! "Sort into folders": copies each photo into a folder named after its
//! result. Originals are never moved and existing files never replaced; a
//! photo already there byte for byte (an earlier sort) is not copied again.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::labels::Gender;
use crate::postprocess::{ImageResult, Status};

/// The folder a photo belongs in, or `None` for photos that failed. A
/// person's corrections count over the models' labels: a corrected face is
/// no longer uncertain, and a face marked "not a face" is left out.
pub fn folder_for(result: &ImageResult) -> Option<&'static str> {
    match result.status {
        Status::Error => None,
        Status::NoFace => Some("no_face"),
        Status::Ok => {
            let labels: Vec<Gender> = result.faces.iter().filter_map(|f| f.label()).collect();
            if labels.is_empty() {
                Some("no_face")
            } else if result
                .faces
                .iter()
                .any(|f| f.uncertain && f.correction.is_none())
            {
                Some("uncertain")
            } else {
                // One folder per label when every face agrees, named as the label is.
                crate::postprocess::photo_label(labels)
            }
        }
    }
}

/// File systems allow names of at most this many bytes.
const MAX_NAME_BYTES: usize = 255;

/// `stem` + `suffix` (the numbering and extension), with the stem cut at a
/// character boundary so the whole stays within [`MAX_NAME_BYTES`].
fn fitting_name(stem: &str, suffix: &str) -> String {
    let room = MAX_NAME_BYTES.saturating_sub(suffix.len());
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &stem[..end])
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct SortReport {
    /// Photos copied, per folder name.
    pub copied: BTreeMap<&'static str, usize>,
    /// Photos not copied because an identical file already was there.
    pub already_there: usize,
    /// Photos left out because classifying them failed.
    pub skipped_errors: usize,
    /// Photos that could not be copied, with the reason.
    pub failures: Vec<(PathBuf, String)>,
}

impl SortReport {
    pub fn total_copied(&self) -> usize {
        self.copied.values().sum()
    }
}

pub fn sort_into_folders<'a>(
    results: impl IntoIterator<Item = &'a ImageResult>,
    destination: &Path,
) -> SortReport {
    let mut report = SortReport::default();
    for result in results {
        let Some(folder) = folder_for(result) else {
            report.skipped_errors += 1;
            continue;
        };
        match copy_without_overwriting(&result.path, &destination.join(folder)) {
            Ok(Copy::New(_)) => *report.copied.entry(folder).or_default() += 1,
            Ok(Copy::AlreadyThere(_)) => report.already_there += 1,
            Err(e) => report.failures.push((result.path.clone(), e.to_string())),
        }
    }
    report
}

/// Where a photo ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copy {
    /// Copied to this new file.
    New(PathBuf),
    /// This file already holds the same bytes; nothing was written.
    AlreadyThere(PathBuf),
}

/// Copies `source` into `folder`, adding " (2)", " (3)"… to the name when
/// a different file of that name is already there.
fn copy_without_overwriting(source: &Path, folder: &Path) -> std::io::Result<Copy> {
    std::fs::create_dir_all(folder)?;
    // A label folder that is a link could send the copies anywhere.
    if std::fs::symlink_metadata(folder)?.file_type().is_symlink() {
        return Err(std::io::Error::other(format!(
            "{} is a symbolic link; sorting does not follow it",
            folder.display()
        )));
    }
    let name = source
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = Path::new(name)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let mut input = std::fs::File::open(source)?;
    for n in 1..10_000 {
        let suffix = if n == 1 {
            extension.clone()
        } else {
            format!(" ({n}){extension}")
        };
        let candidate = folder.join(fitting_name(&stem, &suffix));
        // create_new makes "does it exist" and "create it" one step.
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(mut output) => {
                let copied = std::io::copy(&mut input, &mut output).and_then(|_| output.sync_all());
                if let Err(e) = copied {
                    let _ = std::fs::remove_file(&candidate);
                    return Err(e);
                }
                return Ok(Copy::New(candidate));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if same_contents(source, &candidate)? {
                    return Ok(Copy::AlreadyThere(candidate));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many files with this name"))
}

/// Whether two files hold the same bytes: sizes first, then the contents.
fn same_contents(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let (meta_a, meta_b) = (std::fs::metadata(a)?, std::fs::symlink_metadata(b)?);
    if !meta_b.is_file() || meta_a.len() != meta_b.len() {
        return Ok(false);
    }
    let (mut file_a, mut file_b) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut buf_a, mut buf_b) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = file_a.read(&mut buf_a)?;
        if n == 0 {
            return Ok(true);
        }
        file_b.read_exact(&mut buf_b[..n])?;
        if buf_a[..n] != buf_b[..n] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_to_fit_and_keep_their_extension() {
        let stem = "é".repeat(200);
        let name = fitting_name(&stem, " (2).jpeg");
        assert!(name.len() <= MAX_NAME_BYTES, "{}", name.len());
        assert!(name.ends_with("é (2).jpeg"));
        assert_eq!(fitting_name("short", ".png"), "short.png");
    }

    #[cfg(unix)]
    #[test]
    fn a_label_folder_that_is_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, b"x").unwrap();
        let sorted = dir.path().join("sorted");
        std::fs::create_dir(&sorted).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), sorted.join("male")).unwrap();
        let error = copy_without_overwriting(&photo, &sorted.join("male")).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
        let Copy::New(copied) = copy_without_overwriting(&photo, &sorted.join("female")).unwrap()
        else {
            panic!("a first copy is new");
        };
        assert_eq!(std::fs::read(copied).unwrap(), b"x");
    }
}

#[cfg(test)]
mod identical_tests {
    use super::*;

    #[test]
    fn an_identical_file_is_not_copied_again_but_a_different_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("a.jpg");
        std::fs::write(&photo, b"the photo").unwrap();
        let folder = dir.path().join("male");
        let first = copy_without_overwriting(&photo, &folder).unwrap();
        assert_eq!(first, Copy::New(folder.join("a.jpg")));
        let again = copy_without_overwriting(&photo, &folder).unwrap();
        assert_eq!(again, Copy::AlreadyThere(folder.join("a.jpg")));
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);

        // Same name, other bytes (same length too): a numbered copy.
        std::fs::write(&photo, b"new photo").unwrap();
        let other = copy_without_overwriting(&photo, &folder).unwrap();
        assert_eq!(other, Copy::New(folder.join("a (2).jpg")));
        // And that one is found on the next run, past the first name.
        let again = copy_without_overwriting(&photo, &folder).unwrap();
        assert_eq!(again, Copy::AlreadyThere(folder.join("a (2).jpg")));
    }
}
