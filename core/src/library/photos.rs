//! One photo's answer in and out of the `photos`, `faces` and `errors`
//! tables, exactly: what goes in comes back out field for field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::LibraryError;
use super::identity::FileStamp;
use crate::error::ErrorKind;
use crate::export::Provenance;
use crate::labels::{Gender, PersonLabel};
use crate::postprocess::path_field::{from_raw_bytes, raw_bytes};
use crate::postprocess::{Correction, FaceResult, ImageResult, ModelValues, StageTimings, Status};

/// The key a photo is found by: its absolute path's raw bytes, so that
/// names that are not UTF-8 stay distinct.
pub fn path_key(path: &Path) -> Vec<u8> {
    raw_bytes(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

pub fn path_from_key(key: Vec<u8>, text: &str) -> PathBuf {
    from_raw_bytes(key, text)
}

/// What the library holds about a photo's file and answer, without the answer.
pub struct StoredStamp {
    pub id: i64,
    pub stamp: FileStamp,
    pub content_hash: Option<String>,
    pub fingerprint: String,
    pub status: Status,
    pub error_kind: Option<ErrorKind>,
}

pub fn stamp_of(conn: &Connection, key: &[u8]) -> Result<Option<StoredStamp>, LibraryError> {
    let found = conn
        .query_row(
            "SELECT p.id, p.size, p.mtime_ns, p.content_hash, p.fingerprint, p.status, e.kind
             FROM photos p LEFT JOIN errors e ON e.photo_id = p.id
             WHERE p.path_key = ?1 AND p.cleared = 0",
            [key],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((id, size, mtime_ns, content_hash, fingerprint, status, kind)) = found else {
        return Ok(None);
    };
    Ok(Some(StoredStamp {
        id,
        stamp: FileStamp {
            size: u64::try_from(size).unwrap_or(0),
            mtime_ns,
        },
        content_hash,
        fingerprint,
        status: parse_status(&status)?,
        error_kind: kind.as_deref().map(parse_kind).transpose()?,
    }))
}

/// Writes `result` as the photo's current answer, replacing any earlier one
/// (its faces, its error) but keeping its row, so its place in the library
/// and its corrections stay.
pub fn write(
    tx: &Transaction,
    result: &ImageResult,
    stamp: FileStamp,
    content_hash: Option<&str>,
    run_id: i64,
    fingerprint: &str,
) -> Result<i64, LibraryError> {
    let key = path_key(&result.path);
    let text = std::path::absolute(&result.path)
        .unwrap_or_else(|_| result.path.clone())
        .to_string_lossy()
        .into_owned();
    // A different file now at this path: the old corrections labelled other faces.
    let before: Option<(i64, Option<String>)> = tx
        .query_row(
            "SELECT id, content_hash FROM photos WHERE path_key = ?1",
            [&key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    if let Some((id, Some(old_hash))) = &before
        && content_hash.is_some_and(|new| new != old_hash)
    {
        tx.execute("DELETE FROM corrections WHERE photo_id = ?1", [id])?;
    }
    let count = |g: Gender| result.faces.iter().filter(|f| f.gender == g).count() as i64;
    let uncertain_faces = result.faces.iter().filter(|f| f.uncertain).count() as i64;
    let id: i64 = tx.query_row(
        "INSERT INTO photos (path, path_key, size, mtime_ns, content_hash, run_id, fingerprint,
             classified_at, status, width, height, faces, female_faces, male_faces,
             uncertain_faces, label, gender, score, uncertain, age, models, cleared)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?8, ?9, ?10,
             ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, 0)
         ON CONFLICT (path_key) DO UPDATE SET
             path = excluded.path, size = excluded.size, mtime_ns = excluded.mtime_ns,
             content_hash = excluded.content_hash, run_id = excluded.run_id,
             fingerprint = excluded.fingerprint, classified_at = excluded.classified_at,
             status = excluded.status, width = excluded.width, height = excluded.height,
             faces = excluded.faces, female_faces = excluded.female_faces,
             male_faces = excluded.male_faces, uncertain_faces = excluded.uncertain_faces,
             label = excluded.label, gender = excluded.gender, score = excluded.score,
             uncertain = excluded.uncertain, age = excluded.age, models = excluded.models,
             cleared = 0
         RETURNING id",
        params![
            text,
            key,
            i64::try_from(stamp.size).unwrap_or(i64::MAX),
            stamp.mtime_ns,
            content_hash,
            run_id,
            fingerprint,
            result.status.as_str(),
            result.width,
            result.height,
            result.faces.len() as i64,
            count(Gender::Female),
            count(Gender::Male),
            uncertain_faces,
            crate::postprocess::photo_label(result.faces.iter().map(|f| f.gender)),
            result.gender.map(|g| g.as_str()),
            result.score,
            result.uncertain,
            result.age,
            result.models.join("+"),
        ],
        |row| row.get(0),
    )?;
    tx.execute("DELETE FROM faces WHERE photo_id = ?1", [id])?;
    tx.execute("DELETE FROM errors WHERE photo_id = ?1", [id])?;
    // A failure has no faces to follow: the corrections wait, as they were,
    // for the next answer with faces.
    if result.status != Status::Error {
        super::corrections::follow_faces(tx, id, &result.faces)?;
    }
    let mut insert_face = tx.prepare_cached(
        "INSERT INTO faces (photo_id, face, left, top, right, bottom, landmarks, detection_score,
             gender, score, p_male, uncertain, age, models)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for (n, face) in result.faces.iter().enumerate() {
        let [left, top, right, bottom] = face.bbox;
        insert_face.execute(params![
            id,
            n as i64,
            left,
            top,
            right,
            bottom,
            serde_json::to_string(&face.landmarks)?,
            face.detection_score,
            face.gender.as_str(),
            face.score,
            face.p_male,
            face.uncertain,
            face.age,
            serde_json::to_string(&face.models)?,
        ])?;
    }
    if let (Some(kind), Some(message)) = (result.error_kind, &result.error) {
        tx.execute(
            "INSERT INTO errors (photo_id, kind, message) VALUES (?1, ?2, ?3)",
            params![id, kind.as_str(), message],
        )?;
    }
    Ok(id)
}

/// Every photo not cleared, in the order they first entered the library,
/// each with `index` set to that position, and where and by what it was
/// classified (its run's backend and models).
pub fn read_all(conn: &Connection) -> Result<Vec<(ImageResult, Provenance)>, LibraryError> {
    let mut faces = read_faces(conn, None)?;
    let mut statement =
        conn.prepare(&format!("{SELECT_PHOTO} WHERE p.cleared = 0 ORDER BY p.id"))?;
    let rows = statement.query_map([], photo_row)?;
    let mut results = Vec::new();
    for (index, row) in rows.enumerate() {
        let row = row?;
        let provenance = Provenance {
            backend: row.backend.clone().unwrap_or_default(),
            model: row.model.clone().unwrap_or_default(),
        };
        let (id, mut result) = row.build(index)?;
        result.faces = faces.remove(&id).unwrap_or_default();
        results.push((result, provenance));
    }
    Ok(results)
}

/// One photo's stored answer, with `path` as given (not as stored).
pub fn read_one(
    conn: &Connection,
    id: i64,
    index: usize,
    path: &Path,
) -> Result<ImageResult, LibraryError> {
    let row = conn.query_row(&format!("{SELECT_PHOTO} WHERE p.id = ?1"), [id], photo_row)?;
    let (_, mut result) = row.build(index)?;
    result.path = path.to_path_buf();
    result.faces = read_faces(conn, Some(id))?.remove(&id).unwrap_or_default();
    Ok(result)
}

const SELECT_PHOTO: &str = "SELECT p.id, p.path, p.path_key, p.status, p.width, p.height,
    p.gender, p.score, p.uncertain, p.age, p.models, e.kind, e.message, r.backend, r.model
    FROM photos p LEFT JOIN errors e ON e.photo_id = p.id LEFT JOIN runs r ON r.id = p.run_id";

/// A `photos` row as read, before its text is checked.
struct PhotoRow {
    id: i64,
    path: String,
    key: Vec<u8>,
    status: String,
    width: Option<u32>,
    height: Option<u32>,
    gender: Option<String>,
    score: Option<f32>,
    uncertain: Option<bool>,
    age: Option<f32>,
    models: String,
    error_kind: Option<String>,
    error: Option<String>,
    backend: Option<String>,
    model: Option<String>,
}

fn photo_row(row: &Row) -> rusqlite::Result<PhotoRow> {
    Ok(PhotoRow {
        id: row.get(0)?,
        path: row.get(1)?,
        key: row.get(2)?,
        status: row.get(3)?,
        width: row.get(4)?,
        height: row.get(5)?,
        gender: row.get(6)?,
        score: row.get(7)?,
        uncertain: row.get(8)?,
        age: row.get(9)?,
        models: row.get(10)?,
        error_kind: row.get(11)?,
        error: row.get(12)?,
        backend: row.get(13)?,
        model: row.get(14)?,
    })
}

impl PhotoRow {
    fn build(self, index: usize) -> Result<(i64, ImageResult), LibraryError> {
        let path = path_from_key(self.key, &self.path);
        Ok((
            self.id,
            ImageResult {
                index,
                path,
                status: parse_status(&self.status)?,
                error_kind: self.error_kind.as_deref().map(parse_kind).transpose()?,
                error: self.error,
                gender: self.gender.as_deref().map(parse_gender).transpose()?,
                score: self.score,
                uncertain: self.uncertain,
                age: self.age,
                width: self.width,
                height: self.height,
                models: self
                    .models
                    .split('+')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
                faces: Vec::new(),
                timings: StageTimings::default(),
                reused: false,
            },
        ))
    }
}

/// Faces by photo id, in face order: of one photo, or of all.
fn read_faces(
    conn: &Connection,
    photo: Option<i64>,
) -> Result<std::collections::HashMap<i64, Vec<FaceResult>>, LibraryError> {
    let sql = "SELECT f.photo_id, f.left, f.top, f.right, f.bottom, f.landmarks,
        f.detection_score, f.gender, f.score, f.p_male, f.uncertain, f.age, f.models, c.label
        FROM faces f LEFT JOIN corrections c ON c.photo_id = f.photo_id AND c.face = f.face";
    let mut statement = match photo {
        Some(_) => conn.prepare_cached(&format!("{sql} WHERE f.photo_id = ?1 ORDER BY f.face"))?,
        None => conn.prepare_cached(&format!("{sql} ORDER BY f.photo_id, f.face"))?,
    };
    let mut rows = match photo {
        Some(id) => statement.query([id])?,
        None => statement.query([])?,
    };
    let mut faces: std::collections::HashMap<i64, Vec<FaceResult>> = Default::default();
    while let Some(row) = rows.next()? {
        let photo_id: i64 = row.get(0)?;
        let landmarks: String = row.get(5)?;
        let gender: String = row.get(7)?;
        let models: String = row.get(12)?;
        let correction: Option<String> = row.get(13)?;
        let face = FaceResult {
            bbox: [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?],
            landmarks: serde_json::from_str(&landmarks)?,
            detection_score: row.get(6)?,
            gender: parse_gender(&gender)?,
            score: row.get(8)?,
            p_male: row.get(9)?,
            uncertain: row.get(10)?,
            age: row.get(11)?,
            models: serde_json::from_str::<BTreeMap<String, ModelValues>>(&models)?,
            correction: correction
                .map(|label| {
                    PersonLabel::parse(&label)
                        .map(Correction::by_person)
                        .ok_or_else(|| {
                            LibraryError::Damaged(format!("unknown correction {label:?}"))
                        })
                })
                .transpose()?,
        };
        faces.entry(photo_id).or_default().push(face);
    }
    Ok(faces)
}

fn parse_status(text: &str) -> Result<Status, LibraryError> {
    match text {
        "ok" => Ok(Status::Ok),
        "no_face" => Ok(Status::NoFace),
        "error" => Ok(Status::Error),
        other => Err(LibraryError::Damaged(format!("unknown status {other:?}"))),
    }
}

fn parse_kind(text: &str) -> Result<ErrorKind, LibraryError> {
    match text {
        "input" => Ok(ErrorKind::Input),
        "internal" => Ok(ErrorKind::Internal),
        "upstream" => Ok(ErrorKind::Upstream),
        other => Err(LibraryError::Damaged(format!(
            "unknown error kind {other:?}"
        ))),
    }
}

fn parse_gender(text: &str) -> Result<Gender, LibraryError> {
    Gender::parse(text).ok_or_else(|| LibraryError::Damaged(format!("unknown label {text:?}")))
}
