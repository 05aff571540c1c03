//! The flags that choose where `classify` keeps its answers.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use crate::library::Library;

#[derive(Args, Clone, Default)]
pub struct LibraryArgs {
    /// Keep answers in this library file, and answer photos unchanged since
    /// from it [default: the desktop app's library in the data folder].
    #[arg(long, value_name = "FILE", env = "GENDERLENS_LIBRARY")]
    library: Option<PathBuf>,
    /// A one-off run: classify every photo and keep nothing (over --library
    /// and GENDERLENS_LIBRARY).
    #[arg(long, conflicts_with_all = ["resume", "reclassify"])]
    no_library: bool,
    /// Resume the library's last batch that stopped early (cancelled, or
    /// its process killed), with any PATHs given added to it.
    #[arg(long)]
    pub resume: bool,
    /// Classify every photo again, even those unchanged since; their new
    /// answers replace the kept ones.
    #[arg(long)]
    pub reclassify: bool,
}

impl LibraryArgs {
    /// The library to use, or none for `--no-library`.
    pub fn open(&self) -> Result<Option<Arc<Library>>> {
        if self.no_library {
            return Ok(None);
        }
        let path = match &self.library {
            Some(path) => path.clone(),
            None => Library::default_path().context(
                "this system has no per-user data folder; use --library FILE or --no-library",
            )?,
        };
        Ok(Some(Arc::new(Library::open(&path)?)))
    }
}
