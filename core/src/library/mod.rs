//! The photo library: every answer kept in one SQLite file as it arrives,
//! so that work survives a quit, a crash or a cancel, and a re-run skips
//! the photos that have not changed. One file is one library; the app and
//! the command line share the default one in the data folder.
//!
//! The schema is in [`schema`] and documented in the README.

pub mod corrections;
pub mod identity;
pub mod keeper;
pub mod photos;
pub mod runs;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use identity::{FileStamp, Fingerprint};
pub use keeper::RunKeeper;
pub use runs::{NewRun, RunId, RunState, Unfinished};

use crate::error::ErrorKind;
use crate::postprocess::{ImageResult, Status};

/// The library file's name in the data folder.
pub const DEFAULT_FILE: &str = "library.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot create the library's folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the library {path} cannot be opened: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the library was written by a newer GenderLens (schema {found}; this one reads up to {supported})"
    )]
    Newer { found: i64, supported: i64 },
    #[error("this photo has no face {face} in the library")]
    NoSuchFace { face: usize },
    #[error("this photo is not in the library")]
    NoSuchPhoto,
    #[error("the library is damaged: {0}")]
    Damaged(String),
    #[error("the library: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("the library: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the library: {0}")]
    Io(#[from] std::io::Error),
}

/// What the library knows of a photo about to be classified.
#[derive(Debug)]
pub enum Lookup {
    /// Never classified, changed since, or its last attempt failed for a
    /// reason that was not the photo's (a server down): classify it.
    Classify,
    /// The same file, classified the same way: its answer, ready to reuse.
    Unchanged(Box<ImageResult>),
    /// The same file, classified with other settings or models: classify
    /// it again (and say why).
    SettingsChanged,
}

pub struct Library {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Library {
    /// The library the app and the command line use unless told otherwise.
    pub fn default_path() -> Option<PathBuf> {
        crate::paths::data_dir().map(|dir| dir.join(DEFAULT_FILE))
    }

    /// Opens `path`, creating it (and its folder) when missing.
    pub fn open(path: &Path) -> Result<Self, LibraryError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|source| LibraryError::Folder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let opened = Connection::open(path).and_then(|conn| {
            // Another process (the CLI beside the app) may hold the write
            // lock for a moment; wait rather than fail.
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // Each answer is on disk when its commit returns: a power cut
            // loses at most the photo in flight.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", true)?;
            Ok(conn)
        });
        let conn = opened.map_err(|source| LibraryError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        schema::migrate(&conn)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite itself consistent
        // (the transaction rolls back), so the connection stays usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every photo in the library (except those cleared), in the order they
    /// first entered it.
    pub fn load(&self) -> Result<Vec<ImageResult>, LibraryError> {
        Ok(self
            .load_with_provenance()?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    /// Like [`Library::load`], each photo with where and by what models it
    /// was classified (what exports record).
    pub fn load_with_provenance(
        &self,
    ) -> Result<Vec<(ImageResult, crate::export::Provenance)>, LibraryError> {
        photos::read_all(&self.conn())
    }

    pub fn begin_run(&self, run: &NewRun) -> Result<RunId, LibraryError> {
        runs::begin(&mut self.conn(), run)
    }

    /// Records inputs added to a running batch, so resuming it finds them too.
    pub fn add_inputs(&self, run: RunId, inputs: &[PathBuf]) -> Result<(), LibraryError> {
        runs::add_inputs(&mut self.conn(), run, inputs)
    }

    /// The files and folders a run was given, additions included.
    pub fn run_inputs(&self, run: RunId) -> Result<Vec<PathBuf>, LibraryError> {
        runs::inputs(&self.conn(), run)
    }

    pub fn set_run_state(&self, run: RunId, state: RunState) -> Result<(), LibraryError> {
        runs::set_state(&self.conn(), run, state)
    }

    /// Records how a batch ended, unless its state was already decided.
    pub fn end_run(&self, run: RunId, state: RunState) -> Result<(), LibraryError> {
        runs::end(&self.conn(), run, state)
    }

    pub fn run_state(&self, run: RunId) -> Result<Option<String>, LibraryError> {
        runs::state_of(&self.conn(), run)
    }

    /// The latest batch that stopped before its end (cancelled, quit, or
    /// its process gone) and that nobody resumed or dismissed.
    pub fn unfinished(&self) -> Result<Option<Unfinished>, LibraryError> {
        runs::unfinished(&self.conn())
    }

    /// Whether `path` needs classifying under `fingerprint`, or what the
    /// library already knows of it. `index` is given to a reused answer.
    pub fn lookup(
        &self,
        path: &Path,
        fingerprint: &str,
        index: usize,
    ) -> Result<Lookup, LibraryError> {
        let conn = self.conn();
        let Some(stored) = photos::stamp_of(&conn, &photos::path_key(path))? else {
            return Ok(Lookup::Classify);
        };
        // Only a photo's own fault is worth remembering; a server that was
        // down is asked again.
        if stored.status == Status::Error && stored.error_kind != Some(ErrorKind::Input) {
            return Ok(Lookup::Classify);
        }
        let Ok(now) = FileStamp::of(path) else {
            return Ok(Lookup::Classify);
        };
        if now.size != stored.stamp.size {
            return Ok(Lookup::Classify);
        }
        if now.mtime_ns != stored.stamp.mtime_ns {
            // Touched, copied back or restored: the same bytes are the same photo.
            let same = match (&stored.content_hash, identity::content_hash(path)) {
                (Some(before), Ok(after)) => *before == after,
                _ => false,
            };
            if !same {
                return Ok(Lookup::Classify);
            }
            conn.execute(
                "UPDATE photos SET mtime_ns = ?2 WHERE id = ?1",
                rusqlite::params![stored.id, now.mtime_ns],
            )?;
        }
        if stored.fingerprint != fingerprint {
            return Ok(Lookup::SettingsChanged);
        }
        let mut result = photos::read_one(&conn, stored.id, index, path)?;
        result.reused = true;
        Ok(Lookup::Unchanged(Box::new(result)))
    }

    /// Keeps `result` as its photo's answer, committed before this returns,
    /// and gives its faces the person's labels that still apply to them.
    pub fn record(
        &self,
        run: RunId,
        fingerprint: &str,
        result: &mut ImageResult,
    ) -> Result<(), LibraryError> {
        // A server that failed says nothing about the photo: an answer kept
        // from before is worth more than the failure.
        if result.status == Status::Error && result.error_kind != Some(ErrorKind::Input) {
            let kept = photos::stamp_of(&self.conn(), &photos::path_key(&result.path))?;
            if kept.is_some_and(|stored| stored.status != Status::Error) {
                return Ok(());
            }
        }
        // Read before taking the lock: hashing a large photo should not
        // hold up the lookups of the photos behind it.
        let stamp = FileStamp::of(&result.path).unwrap_or(FileStamp {
            size: 0,
            mtime_ns: 0,
        });
        let hash = identity::content_hash(&result.path).ok();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id = photos::write(&tx, result, stamp, hash.as_deref(), run.0, fingerprint)?;
        corrections::apply(&tx, id, &mut result.faces)?;
        tx.commit()?;
        Ok(())
    }

    /// A person's label for face `face` (0-based) of the photo at `path`;
    /// `None` takes the correction back.
    pub fn correct(
        &self,
        path: &Path,
        face: usize,
        label: Option<crate::labels::PersonLabel>,
    ) -> Result<(), LibraryError> {
        let conn = self.conn();
        let id = photos::stamp_of(&conn, &photos::path_key(path))?
            .ok_or(LibraryError::NoSuchPhoto)?
            .id;
        match label {
            Some(label) => corrections::set(&conn, id, face, label),
            None => corrections::remove(&conn, id, face),
        }
    }

    /// Hides every photo, as Clear in the app does; [`Library::undo_clear`]
    /// brings them back until [`Library::forget_cleared`] deletes them.
    pub fn clear(&self) -> Result<usize, LibraryError> {
        Ok(self
            .conn()
            .execute("UPDATE photos SET cleared = 1 WHERE cleared = 0", [])?)
    }

    pub fn undo_clear(&self) -> Result<usize, LibraryError> {
        Ok(self
            .conn()
            .execute("UPDATE photos SET cleared = 0 WHERE cleared = 1", [])?)
    }

    /// Deletes the cleared photos for good (their faces, errors and
    /// corrections go with them).
    pub fn forget_cleared(&self) -> Result<usize, LibraryError> {
        Ok(self
            .conn()
            .execute("DELETE FROM photos WHERE cleared = 1", [])?)
    }
}

#[cfg(test)]
mod tests;
