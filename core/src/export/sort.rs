//! "Sort into folders": copies each photo into a folder named after its
//! result. Originals are never moved and existing files never replaced.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use crate::labels::Gender;
use crate::postprocess::{ImageResult, Status};

/// The folder a photo belongs in, or `None` for photos that failed.
pub fn folder_for(result: &ImageResult) -> Option<&'static str> {
    match result.status {
        Status::Error => None,
        Status::NoFace => Some("no_face"),
        Status::Ok => {
            if result.faces.iter().any(|f| f.uncertain) {
                Some("uncertain")
            } else {
                // One folder per label when every face agrees, named as the label is.
                Gender::ALL
                    .into_iter()
                    .find(|g| result.faces.iter().all(|f| f.gender == *g))
                    .map_or(Some("mixed"), |g| Some(g.as_str()))
            }
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct SortReport {
    /// Photos copied, per folder name.
    pub copied: BTreeMap<&'static str, usize>,
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
            Ok(_) => *report.copied.entry(folder).or_default() += 1,
            Err(e) => report.failures.push((result.path.clone(), e.to_string())),
        }
    }
    report
}

/// Copies `source` into `folder`, adding " (2)", " (3)"… to the name when
/// a file of that name is already there. Returns the new file's path.
fn copy_without_overwriting(source: &Path, folder: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
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
        let candidate = if n == 1 {
            folder.join(name)
        } else {
            folder.join(format!("{stem} ({n}){extension}"))
        };
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
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("too many files with this name"))
}
