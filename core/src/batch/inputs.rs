//! Turning the paths a user gives into the list of photos to classify:
//! folders walked recursively, non-images skipped with a reason, symlink
//! loops and missing paths reported, every file listed once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// File extensions taken from folders; files named directly are always tried.
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "bmp", "dib", "tif", "tiff", "gif",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputItem {
    Photo(PathBuf),
    /// A path that cannot be classified; it becomes an `error` result.
    Unusable {
        path: PathBuf,
        reason: String,
    },
}

impl InputItem {
    pub fn path(&self) -> &Path {
        match self {
            Self::Photo(path) | Self::Unusable { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct InputList {
    pub items: Vec<InputItem>,
    pub skipped: Vec<Skipped>,
    /// Canonical paths already listed, so later additions are not queued twice.
    seen: HashSet<PathBuf>,
}

pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Expands `paths` in order. Results keep the order given, folders sorted by name.
pub fn collect_inputs(paths: &[PathBuf]) -> InputList {
    let mut list = InputList::default();
    for path in paths {
        list.add(path);
    }
    list
}

impl InputList {
    /// Adds one more file or folder, skipping what the list already holds
    /// (for photos dropped while a batch runs).
    pub fn add(&mut self, path: &Path) {
        add_path(path, self);
    }
}

fn add_path(path: &Path, list: &mut InputList) {
    let push = |item: InputItem, list: &mut InputList| {
        let key = item
            .path()
            .canonicalize()
            .unwrap_or_else(|_| item.path().to_path_buf());
        if list.seen.insert(key) {
            list.items.push(item);
        }
    };
    match std::fs::metadata(path) {
        Err(e) => push(
            InputItem::Unusable {
                path: path.to_path_buf(),
                reason: describe_io(&e),
            },
            list,
        ),
        Ok(meta) if meta.is_dir() => {
            for entry in WalkDir::new(path).follow_links(true).sort_by_file_name() {
                match entry {
                    Ok(entry) if entry.file_type().is_dir() => {}
                    Ok(entry) if has_image_extension(entry.path()) => {
                        push(InputItem::Photo(entry.into_path()), list)
                    }
                    Ok(entry) => list.skipped.push(Skipped {
                        path: entry.into_path(),
                        reason: "not an image file".into(),
                    }),
                    Err(e) => {
                        let at = e.path().unwrap_or(path).to_path_buf();
                        let reason = match e.loop_ancestor() {
                            Some(ancestor) => format!(
                                "symbolic link loop back to {}; not followed",
                                ancestor.display()
                            ),
                            None => e
                                .io_error()
                                .map(describe_io)
                                .unwrap_or_else(|| e.to_string()),
                        };
                        push(InputItem::Unusable { path: at, reason }, list);
                    }
                }
            }
        }
        Ok(_) => push(InputItem::Photo(path.to_path_buf()), list),
    }
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_walked_sorted_and_non_images_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.JPG", "a.png", "notes.txt", "sub/c.webp"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let list = collect_inputs(&[dir.path().to_path_buf()]);
        let names: Vec<String> = list
            .items
            .iter()
            .map(|i| {
                i.path()
                    .strip_prefix(dir.path())
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.png", "b.JPG", "sub/c.webp"]);
        assert_eq!(list.skipped.len(), 1);
        assert!(list.skipped[0].path.ends_with("notes.txt"));
    }

    #[test]
    fn the_same_file_given_twice_is_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.jpg");
        std::fs::write(&file, b"x").unwrap();
        let list = collect_inputs(&[file.clone(), dir.path().to_path_buf(), file]);
        assert_eq!(list.items.len(), 1);
    }

    #[test]
    fn additions_skip_what_is_already_listed() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.jpg", "b.jpg"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mut list = collect_inputs(&[dir.path().join("a.jpg")]);
        list.add(dir.path());
        assert_eq!(list.items.len(), 2, "{:?}", list.items);
        assert!(list.items[1].path().ends_with("b.jpg"));
    }

    #[test]
    fn missing_paths_become_unusable_items() {
        let list = collect_inputs(&[PathBuf::from("/definitely/not/here.jpg")]);
        assert!(matches!(
            &list.items[0],
            InputItem::Unusable { reason, .. } if reason == "no such file or folder"
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("inner")).unwrap();
        std::fs::write(dir.path().join("inner/a.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("inner/loop")).unwrap();
        let list = collect_inputs(&[dir.path().to_path_buf()]);
        let photos = list
            .items
            .iter()
            .filter(|i| matches!(i, InputItem::Photo(_)))
            .count();
        assert_eq!(photos, 1);
        assert!(
            list.items.iter().any(
                |i| matches!(i, InputItem::Unusable { reason, .. } if reason.contains("loop"))
            )
        );
    }
}
