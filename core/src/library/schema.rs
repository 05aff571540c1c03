//! The library's tables. Their names and columns are a public interface
//! (analysts open the file with `sqlite3`, pandas or DuckDB), documented in
//! the README: add columns and tables, never rename or repurpose them.

use rusqlite::Connection;

/// Bumped when a later version adds to the schema; `PRAGMA user_version`
/// holds the version a file was last brought up to.
pub const VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    -- running | finished | cancelled | interrupted | resumed | dismissed
    state       TEXT NOT NULL,
    backend     TEXT NOT NULL,
    model       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    settings    TEXT NOT NULL,
    pid         INTEGER
);
CREATE TABLE IF NOT EXISTS run_inputs (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path     TEXT NOT NULL,
    path_key BLOB NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS photos (
    id              INTEGER PRIMARY KEY,
    path            TEXT NOT NULL,
    path_key        BLOB NOT NULL UNIQUE,
    size            INTEGER NOT NULL,
    mtime_ns        INTEGER NOT NULL,
    content_hash    TEXT,
    run_id          INTEGER REFERENCES runs(id),
    fingerprint     TEXT NOT NULL,
    classified_at   TEXT NOT NULL,
    status          TEXT NOT NULL,
    width           INTEGER,
    height          INTEGER,
    faces           INTEGER NOT NULL,
    female_faces    INTEGER NOT NULL,
    male_faces      INTEGER NOT NULL,
    uncertain_faces INTEGER NOT NULL,
    label           TEXT,
    gender          TEXT,
    score           REAL,
    uncertain       INTEGER,
    age             REAL,
    models          TEXT NOT NULL,
    cleared         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS faces (
    photo_id        INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    face            INTEGER NOT NULL,
    left            REAL NOT NULL,
    top             REAL NOT NULL,
    right           REAL NOT NULL,
    bottom          REAL NOT NULL,
    landmarks       TEXT NOT NULL,
    detection_score REAL NOT NULL,
    gender          TEXT NOT NULL,
    score           REAL NOT NULL,
    p_male          REAL NOT NULL,
    uncertain       INTEGER NOT NULL,
    age             REAL,
    models          TEXT NOT NULL,
    PRIMARY KEY (photo_id, face)
);
CREATE TABLE IF NOT EXISTS errors (
    photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS corrections (
    photo_id         INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
    face             INTEGER NOT NULL,
    -- female | male | not_a_face
    label            TEXT NOT NULL,
    predicted_gender TEXT,
    predicted_p_male REAL,
    -- The face's box when corrected: a re-classified photo's corrections
    -- follow their faces by overlap.
    left             REAL,
    top              REAL,
    right            REAL,
    bottom           REAL,
    corrected_at     TEXT NOT NULL,
    PRIMARY KEY (photo_id, face)
);
CREATE INDEX IF NOT EXISTS photos_by_run ON photos(run_id);
";

/// Brings a file up to [`VERSION`]; a file from a newer GenderLens is refused
/// rather than misread.
pub fn migrate(conn: &Connection) -> Result<(), super::LibraryError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > VERSION {
        return Err(super::LibraryError::Newer {
            found,
            supported: VERSION,
        });
    }
    if found < 1 {
        // One transaction: a file is either fully made or untouched.
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA user_version = {VERSION}; COMMIT;"
        ))?;
    }
    Ok(())
}
