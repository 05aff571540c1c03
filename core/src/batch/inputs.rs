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
    /// Follow symbolic links that lead out of the folder being walked.
    follow_symlinks: bool,
}

/// Folders of the system that hold no photos and can stall a walk (`/proc`
/// files that never end, devices); never walked, whatever links lead there.
const SYSTEM_FOLDERS: [&str; 3] = ["/proc", "/sys", "/dev"];

fn is_system_folder(path: &Path) -> bool {
    cfg!(unix) && SYSTEM_FOLDERS.iter().any(|dir| path.starts_with(dir))
}

pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Expands `paths` in order. Results keep the order given, folders sorted
/// by name. Links out of a folder are not followed.
pub fn collect_inputs(paths: &[PathBuf]) -> InputList {
    collect_inputs_with(paths, false)
}

/// [`collect_inputs`], following links out of the folders when `follow_symlinks`.
pub fn collect_inputs_with(paths: &[PathBuf], follow_symlinks: bool) -> InputList {
    let mut list = InputList {
        follow_symlinks,
        ..InputList::default()
    };
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
        Ok(_) if is_system_folder(&path.canonicalize().unwrap_or_default()) => {
            list.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: "a system file or folder, not photos; not read".into(),
            });
        }
        Err(e) => push(
            InputItem::Unusable {
                path: path.to_path_buf(),
                reason: describe_io(&e),
            },
            list,
        ),
        Ok(meta) if meta.is_dir() => {
            let root = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
            let follow_symlinks = list.follow_symlinks;
            let mut refused = Vec::new();
            let walk = WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|entry| match link_refusal(entry, &root, follow_symlinks) {
                    Some(reason) => {
                        refused.push(Skipped {
                            path: entry.path().to_path_buf(),
                            reason,
                        });
                        false
                    }
                    None => true,
                });
            for entry in walk {
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
            list.skipped.extend(refused);
        }
        Ok(_) => push(InputItem::Photo(path.to_path_buf()), list),
    }
}

/// Why a link met while walking `root` is not followed, if it is not.
fn link_refusal(entry: &walkdir::DirEntry, root: &Path, follow_symlinks: bool) -> Option<String> {
    if !entry.path_is_symlink() {
        return None;
    }
    // A broken link is reported by the walk itself.
    let target = entry.path().canonicalize().ok()?;
    if is_system_folder(&target) {
        return Some(format!(
            "a link to {}, a system folder; not followed",
            target.display()
        ));
    }
    if !follow_symlinks && !target.starts_with(root) {
        return Some(format!(
            "a link to {}, outside the folder; not followed (--follow-symlinks follows it)",
            target.display()
        ));
    }
    None
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

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_folder_and_into_the_system_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("own.jpg"), b"x").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.jpg"),
            dir.path().join("holiday.jpg"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("own.jpg"), dir.path().join("same.jpg"))
            .unwrap();
        std::os::unix::fs::symlink("/proc", dir.path().join("proc")).unwrap();

        let list = collect_inputs(&[dir.path().to_path_buf()]);
        let names: Vec<String> = list
            .items
            .iter()
            .map(|i| i.path().file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // `same.jpg` leads to `own.jpg`, listed once.
        assert_eq!(names, ["own.jpg"]);
        let reasons: Vec<_> = list.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons
                .iter()
                .filter(|r| r.contains("outside the folder"))
                .count(),
            2,
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("system folder")),
            "{reasons:?}"
        );

        let followed = collect_inputs_with(&[dir.path().to_path_buf()], true);
        assert_eq!(
            followed.items.len(),
            2,
            "own.jpg and the linked secret.jpg, once"
        );
        assert!(
            followed
                .skipped
                .iter()
                .any(|s| s.reason.contains("system folder"))
        );
    }

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
