//! Turning the paths a user gives into the photos to classify: folders
//! walked recursively, non-images skipped with a reason, symlink loops and
//! missing paths reported, every file listed once. [`Lister`] lists lazily,
//! one photo at a time, so a batch can start on the first photos of a huge
//! folder while the rest is still being listed.

use std::collections::{HashSet, VecDeque};
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

/// Everything listed from some paths at once.
#[derive(Debug)]
pub struct InputList {
    pub items: Vec<InputItem>,
    pub skipped: Vec<Skipped>,
    lister: Lister,
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
        items: Vec::new(),
        skipped: Vec::new(),
        lister: Lister::new(Vec::new(), follow_symlinks),
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
        self.lister.push(path.to_path_buf());
        self.items.extend(&mut self.lister);
        self.skipped.extend(self.lister.take_skipped());
    }
}

/// Lists files and folders one photo at a time, in the order given, each
/// folder sorted by name; remembers what it has listed, so a path given
/// again later is not listed twice.
#[derive(Debug)]
pub struct Lister {
    roots: VecDeque<PathBuf>,
    walk: Option<FolderWalk>,
    /// Canonical paths already listed.
    seen: HashSet<PathBuf>,
    skipped: Vec<Skipped>,
    /// Follow symbolic links that lead out of the folder being walked.
    follow_symlinks: bool,
    stop: Option<StopCheck>,
}

/// Asked before every entry; once it says stop, nothing more is listed.
struct StopCheck(Box<dyn Fn() -> bool + Send>);

impl std::fmt::Debug for StopCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StopCheck")
    }
}

/// A folder being walked.
struct FolderWalk {
    entries: walkdir::IntoIter,
    /// The folder as given, for errors without a path of their own.
    given: PathBuf,
    /// Its canonical form: links leading outside it are refused.
    root: PathBuf,
}

impl std::fmt::Debug for FolderWalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderWalk")
            .field("given", &self.given)
            .finish_non_exhaustive()
    }
}

impl Lister {
    pub fn new(paths: Vec<PathBuf>, follow_symlinks: bool) -> Self {
        Self {
            roots: paths.into(),
            walk: None,
            seen: HashSet::new(),
            skipped: Vec::new(),
            follow_symlinks,
            stop: None,
        }
    }

    /// Stops listing, even in the middle of a folder of non-images, once
    /// `stop` says so (a cancelled batch).
    pub fn stop_when(mut self, stop: impl Fn() -> bool + Send + 'static) -> Self {
        self.stop = Some(StopCheck(Box::new(stop)));
        self
    }

    fn stopped(&mut self) -> bool {
        let stopped = self.stop.as_ref().is_some_and(|stop| (stop.0)());
        if stopped {
            self.walk = None;
            self.roots.clear();
        }
        stopped
    }

    /// Queues one more file or folder, listed after those already queued.
    pub fn push(&mut self, path: PathBuf) {
        self.roots.push_back(path);
    }

    /// What was skipped (not images, links not followed) since last asked.
    pub fn take_skipped(&mut self) -> Vec<Skipped> {
        std::mem::take(&mut self.skipped)
    }

    /// `item`, unless its file was listed already.
    fn first_time(&mut self, item: InputItem) -> Option<InputItem> {
        let key = item
            .path()
            .canonicalize()
            .unwrap_or_else(|_| item.path().to_path_buf());
        self.seen.insert(key).then_some(item)
    }

    fn skip(&mut self, path: PathBuf, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path,
            reason: reason.into(),
        });
    }

    /// The next item of the folder being walked; `None` once it is done.
    fn next_in_folder(&mut self) -> Option<InputItem> {
        loop {
            if self.stopped() {
                return None;
            }
            let walk = self.walk.as_mut()?;
            let entry = match walk.entries.next() {
                None => {
                    self.walk = None;
                    return None;
                }
                Some(entry) => entry,
            };
            let item = match entry {
                Ok(entry) => {
                    if let Some(reason) = link_refusal(&entry, &walk.root, self.follow_symlinks) {
                        if entry.file_type().is_dir() {
                            walk.entries.skip_current_dir();
                        }
                        self.skip(entry.into_path(), reason);
                        continue;
                    }
                    if entry.file_type().is_dir() {
                        continue;
                    }
                    if !has_image_extension(entry.path()) {
                        self.skip(entry.into_path(), "not an image file");
                        continue;
                    }
                    InputItem::Photo(entry.into_path())
                }
                Err(e) => {
                    let path = e.path().unwrap_or(&walk.given).to_path_buf();
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
                    InputItem::Unusable { path, reason }
                }
            };
            if let Some(item) = self.first_time(item) {
                return Some(item);
            }
        }
    }

    /// Starts on the next path given: a file is an item of its own, a
    /// folder starts a walk.
    fn start_root(&mut self, path: PathBuf) -> Option<InputItem> {
        match std::fs::metadata(&path) {
            Ok(_) if is_system_folder(&path.canonicalize().unwrap_or_default()) => {
                self.skip(path, "a system file or folder, not photos; not read");
                None
            }
            Err(e) => self.first_time(InputItem::Unusable {
                reason: describe_io(&e),
                path,
            }),
            Ok(meta) if meta.is_dir() => {
                self.walk = Some(FolderWalk {
                    entries: WalkDir::new(&path)
                        .follow_links(true)
                        .sort_by_file_name()
                        .into_iter(),
                    root: path.canonicalize().unwrap_or_else(|_| path.clone()),
                    given: path,
                });
                None
            }
            Ok(_) => self.first_time(InputItem::Photo(path)),
        }
    }
}

impl Iterator for Lister {
    type Item = InputItem;

    fn next(&mut self) -> Option<InputItem> {
        loop {
            if let Some(item) = self.next_in_folder() {
                return Some(item);
            }
            if self.stopped() {
                return None;
            }
            let root = self.roots.pop_front()?;
            if let Some(item) = self.start_root(root) {
                return Some(item);
            }
        }
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
    fn folders_are_listed_lazily_one_photo_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("later")).unwrap();
        std::fs::write(dir.path().join("a.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("later/b.jpg"), b"x").unwrap();
        let mut lister = Lister::new(vec![dir.path().to_path_buf()], false);
        let first = lister.next().unwrap();
        assert!(first.path().ends_with("a.jpg"), "{first:?}");
        // A listing made up front would already hold later/b.jpg.
        std::fs::remove_file(dir.path().join("later/b.jpg")).unwrap();
        std::fs::write(dir.path().join("later/c.jpg"), b"x").unwrap();
        let rest: Vec<_> = lister.collect();
        assert_eq!(rest.len(), 1, "{rest:?}");
        assert!(rest[0].path().ends_with("later/c.jpg"), "{rest:?}");
    }

    #[test]
    fn a_stopped_listing_ends_even_among_non_images() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..1000 {
            std::fs::write(dir.path().join(format!("{n:04}.txt")), b"").unwrap();
        }
        std::fs::write(dir.path().join("zzz.jpg"), b"x").unwrap();
        let checks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = checks.clone();
        let mut lister = Lister::new(vec![dir.path().to_path_buf()], false)
            .stop_when(move || counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 10);
        assert_eq!(lister.next(), None, "stopped before reaching the photo");
        assert!(lister.take_skipped().len() < 20);
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
