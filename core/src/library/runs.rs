//! Batches as the library remembers them: what they were given, how they
//! classified, and how they ended, so one that stopped early can be resumed.

use std::path::PathBuf;

use rusqlite::{Connection, OptionalExtension, params};

use super::LibraryError;
use super::photos::{path_from_key, path_key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(pub i64);

/// How a run ended, as the `runs.state` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Finished,
    Cancelled,
    /// The app quit during it, and the user wants it resumed.
    Interrupted,
    /// A later run took over its inputs.
    Resumed,
    /// The user declined to resume it.
    Dismissed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
            Self::Resumed => "resumed",
            Self::Dismissed => "dismissed",
        }
    }
}

/// What a new run records about itself.
pub struct NewRun<'a> {
    pub inputs: &'a [PathBuf],
    pub backend: &'a str,
    pub model: &'a str,
    pub fingerprint: &'a super::Fingerprint,
}

/// A run that stopped before its end and was not resumed or dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    pub run: RunId,
    pub started_at: String,
    pub inputs: Vec<PathBuf>,
    /// Photos it classified before it stopped.
    pub done: usize,
    /// How it stopped: cancelled, interrupted, or still marked running by a
    /// process that is gone (a crash or a kill).
    pub state: String,
}

pub fn begin(conn: &mut Connection, run: &NewRun) -> Result<RunId, LibraryError> {
    let tx = conn.transaction()?;
    let id: i64 = tx.query_row(
        "INSERT INTO runs (started_at, state, backend, model, fingerprint, settings, pid)
         VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'running', ?1, ?2, ?3, ?4, ?5)
         RETURNING id",
        params![
            run.backend,
            run.model,
            run.fingerprint.hash,
            run.fingerprint.settings,
            std::process::id()
        ],
        |row| row.get(0),
    )?;
    add_inputs_in(&tx, id, run.inputs)?;
    tx.commit()?;
    Ok(RunId(id))
}

pub fn add_inputs(
    conn: &mut Connection,
    run: RunId,
    inputs: &[PathBuf],
) -> Result<(), LibraryError> {
    let tx = conn.transaction()?;
    add_inputs_in(&tx, run.0, inputs)?;
    tx.commit()?;
    Ok(())
}

fn add_inputs_in(
    tx: &rusqlite::Transaction,
    run: i64,
    inputs: &[PathBuf],
) -> Result<(), LibraryError> {
    let next: i64 = tx.query_row(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM run_inputs WHERE run_id = ?1",
        [run],
        |row| row.get(0),
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO run_inputs (run_id, position, path, path_key) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (n, path) in inputs.iter().enumerate() {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        insert.execute(params![
            run,
            next + n as i64,
            absolute.to_string_lossy(),
            path_key(path)
        ])?;
    }
    Ok(())
}

pub fn set_state(conn: &Connection, run: RunId, state: RunState) -> Result<(), LibraryError> {
    let ended = !matches!(state, RunState::Running);
    conn.execute(
        "UPDATE runs SET state = ?2,
             ended_at = CASE WHEN ?3 THEN COALESCE(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) END
         WHERE id = ?1",
        params![run.0, state.as_str(), ended],
    )?;
    Ok(())
}

/// Records how a run ended, unless its owner already decided (a quit that
/// asked to resume later, or not): a batch winding down after that must
/// not overwrite it.
pub fn end(conn: &Connection, run: RunId, state: RunState) -> Result<(), LibraryError> {
    conn.execute(
        "UPDATE runs SET state = ?2, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
         WHERE id = ?1 AND state = 'running'",
        params![run.0, state.as_str()],
    )?;
    Ok(())
}

/// The latest run that stopped early and awaits a decision, if any. A run
/// still marked running counts only when the process that ran it is gone.
pub fn unfinished(conn: &Connection) -> Result<Option<Unfinished>, LibraryError> {
    let mut statement = conn.prepare(
        "SELECT id, started_at, state, pid FROM runs
         WHERE state IN ('running', 'cancelled', 'interrupted') ORDER BY id DESC",
    )?;
    let candidates = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<u32>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, started_at, state, pid) in candidates {
        if state == "running" && pid.is_some_and(process_alive) {
            continue;
        }
        let done: i64 = conn.query_row(
            "SELECT COUNT(*) FROM photos WHERE run_id = ?1",
            [id],
            |row| row.get(0),
        )?;
        return Ok(Some(Unfinished {
            run: RunId(id),
            started_at,
            inputs: inputs(conn, RunId(id))?,
            done: usize::try_from(done).unwrap_or(0),
            state,
        }));
    }
    Ok(None)
}

pub fn inputs(conn: &Connection, run: RunId) -> Result<Vec<PathBuf>, LibraryError> {
    let mut statement =
        conn.prepare("SELECT path, path_key FROM run_inputs WHERE run_id = ?1 ORDER BY position")?;
    let rows = statement.query_map([run.0], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    let mut paths = Vec::new();
    for row in rows {
        let (text, key) = row?;
        paths.push(path_from_key(key, &text));
    }
    Ok(paths)
}

/// Whether a run's process still exists (this very process included).
/// Where that cannot be told, it is taken as gone, so a run is offered for
/// resuming rather than forgotten.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
        let found = unsafe { libc::kill(pid, 0) } == 0;
        // EPERM: it exists, under another user.
        found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The latest run's state, for tests and diagnostics.
pub fn state_of(conn: &Connection, run: RunId) -> Result<Option<String>, LibraryError> {
    Ok(conn
        .query_row("SELECT state FROM runs WHERE id = ?1", [run.0], |row| {
            row.get(0)
        })
        .optional()?)
}
