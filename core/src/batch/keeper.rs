//! Where a batch keeps its answers, and finds earlier ones: the photo
//! library plugs in here, so the batch runner itself knows no storage.

use std::path::Path;

use super::Summary;
use crate::postprocess::ImageResult;

/// What a keeper knows of a photo before it is classified.
pub enum Earlier {
    /// Nothing usable: classify it.
    Nothing,
    /// The same photo, answered the same way before: report this instead.
    Unchanged(Box<ImageResult>),
    /// The same photo, answered with other settings or models: classify it
    /// again, and count it.
    SettingsChanged,
}

pub trait Keeper: Send + Sync {
    /// Asked for every photo before it is classified; `index` is its place
    /// in the batch.
    fn earlier(&self, path: &Path, index: usize) -> Earlier;
    /// Keeps a new answer; called before the answer is reported, so what
    /// the user sees is already safe. The keeper may add to it what it
    /// holds for the photo (a person's corrections).
    fn keep(&self, result: &mut ImageResult) -> Result<(), String>;
    /// The batch ended (finished or cancelled).
    fn finish(&self, summary: &Summary) -> Result<(), String>;
}
