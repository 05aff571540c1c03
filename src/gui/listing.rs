//! Listing dropped folders in the background: what is found is handed to
//! the engine host in chunks, so a huge folder's first photos are classified
//! while the rest is still being listed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::batch::Skipped;
use crate::batch::inputs::{InputItem, Lister};

/// A chunk of what a background listing found.
pub struct Found {
    pub generation: u64,
    pub items: Vec<InputItem>,
    pub skipped: Vec<Skipped>,
    /// Photos this listing has found so far.
    pub so_far: usize,
    pub done: bool,
}

/// How often a listing hands over what it found (the first photo at once).
const CHUNK_EVERY: Duration = Duration::from_millis(200);
const CHUNK_MAX: usize = 1024;

/// Lists `paths` and hands over what it finds in chunks: the first photo at
/// once, then every [`CHUNK_EVERY`] or [`CHUNK_MAX`] photos, so a huge
/// folder's first photos are classified while the rest is still listed.
/// Stops when `deliver` refuses a chunk or `stop` says so.
pub fn list_in_chunks(
    paths: Vec<PathBuf>,
    follow_symlinks: bool,
    mut deliver: impl FnMut(Vec<InputItem>, Vec<Skipped>, usize, bool) -> bool,
    stop: impl Fn() -> bool,
) {
    let mut lister = Lister::new(paths, follow_symlinks);
    let mut chunk = Vec::new();
    let mut so_far = 0;
    let mut last_delivery: Option<Instant> = None;
    while !stop() {
        let next = lister.next();
        let done = next.is_none();
        if let Some(item) = next {
            chunk.push(item);
            so_far += 1;
        }
        let due =
            last_delivery.is_none_or(|at| at.elapsed() >= CHUNK_EVERY) || chunk.len() >= CHUNK_MAX;
        if done || (due && !chunk.is_empty()) {
            let items = std::mem::take(&mut chunk);
            if !deliver(items, lister.take_skipped(), so_far, done) || done {
                return;
            }
            last_delivery = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dropped folder's first photo is handed over at once, before the
    /// rest is listed: the folder listed last, deleted on the first chunk,
    /// is never found.
    #[test]
    fn a_dropped_folder_is_handed_over_while_it_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        for f in 0..100 {
            let folder = dir.path().join(format!("{f:03}"));
            std::fs::create_dir(&folder).unwrap();
            for n in 0..50 {
                std::fs::write(folder.join(format!("{n:02}.jpg")), b"").unwrap();
            }
        }
        let mut chunks: Vec<(usize, usize, bool)> = Vec::new();
        list_in_chunks(
            vec![dir.path().to_path_buf()],
            false,
            |items, _, so_far, done| {
                if chunks.is_empty() {
                    std::fs::remove_dir_all(dir.path().join("099")).unwrap();
                }
                chunks.push((items.len(), so_far, done));
                true
            },
            || false,
        );
        let (first, _, first_done) = chunks[0];
        assert!(first >= 1 && !first_done, "{chunks:?}");
        let total: usize = chunks.iter().map(|c| c.0).sum();
        // 99 folders of 50 photos, and the folder that vanished as one error.
        assert_eq!(total, 99 * 50 + 1, "{chunks:?}");
        assert_eq!(chunks.last().map(|c| (c.1, c.2)), Some((total, true)));
    }

    #[test]
    fn a_listing_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..10 {
            std::fs::write(dir.path().join(format!("{n}.jpg")), b"").unwrap();
        }
        let delivered = std::cell::Cell::new(0);
        list_in_chunks(
            vec![dir.path().to_path_buf()],
            false,
            |items, _, _, _| {
                delivered.set(delivered.get() + items.len());
                true
            },
            || delivered.get() > 0,
        );
        assert_eq!(
            delivered.get(),
            1,
            "only the first photo, handed over at once"
        );
    }
}
