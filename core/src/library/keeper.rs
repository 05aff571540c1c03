//! One run's link between the batch runner and the library.

use std::path::Path;
use std::sync::Arc;

use super::{Fingerprint, Library, LibraryError, Lookup, NewRun, RunId, RunState};
use crate::batch::Summary;
use crate::batch::keeper::{Earlier, Keeper};
use crate::postprocess::ImageResult;

pub struct RunKeeper {
    library: Arc<Library>,
    run: RunId,
    fingerprint: String,
    /// False when every photo must be classified again (a re-run asked for).
    reuse: bool,
}

impl RunKeeper {
    pub fn new(library: Arc<Library>, run: RunId, fingerprint: String) -> Self {
        Self {
            library,
            run,
            fingerprint,
            reuse: true,
        }
    }

    /// Records a new run of `inputs` on the backend and models named (as
    /// results' provenance names them), under `settings`.
    pub fn begin(
        library: Arc<Library>,
        inputs: &[std::path::PathBuf],
        provenance: &crate::export::Provenance,
        settings: &crate::settings::EngineSettings,
    ) -> Result<Self, LibraryError> {
        let fingerprint = Fingerprint::new(&provenance.backend, &provenance.model, settings);
        let run = library.begin_run(&NewRun {
            inputs,
            backend: &provenance.backend,
            model: &provenance.model,
            fingerprint: &fingerprint,
        })?;
        Ok(Self::new(library, run, fingerprint.hash))
    }

    /// Classifies every photo again, even unchanged ones (their new answers
    /// replace the kept ones).
    pub fn without_reuse(mut self) -> Self {
        self.reuse = false;
        self
    }

    pub fn library(&self) -> &Arc<Library> {
        &self.library
    }

    pub fn run(&self) -> RunId {
        self.run
    }
}

impl Keeper for RunKeeper {
    fn earlier(&self, path: &Path, index: usize) -> Earlier {
        if !self.reuse {
            return Earlier::Nothing;
        }
        match self.library.lookup(path, &self.fingerprint, index) {
            Ok(Lookup::Unchanged(result)) => Earlier::Unchanged(result),
            Ok(Lookup::SettingsChanged) => Earlier::SettingsChanged,
            // A library that cannot answer costs a re-classification, no more.
            Ok(Lookup::Classify) | Err(_) => Earlier::Nothing,
        }
    }

    fn keep(&self, result: &mut ImageResult) -> Result<(), String> {
        self.library
            .record(self.run, &self.fingerprint, result)
            .map_err(|e| e.to_string())
    }

    fn finish(&self, summary: &Summary) -> Result<(), String> {
        let state = if summary.cancelled {
            RunState::Cancelled
        } else {
            RunState::Finished
        };
        self.library
            .end_run(self.run, state)
            .map_err(|e| e.to_string())
    }
}
