//! A person's labels for faces, kept beside the models' answers and never
//! over them.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::LibraryError;
use crate::labels::PersonLabel;
use crate::postprocess::FaceResult;

/// Sets the label of face `face` (0-based) of photo `photo`, recording what
/// the models had predicted for it.
pub fn set(
    conn: &Connection,
    photo: i64,
    face: usize,
    label: PersonLabel,
) -> Result<(), LibraryError> {
    let predicted = conn
        .query_row(
            "SELECT gender, p_male, left, top, right, bottom FROM faces
             WHERE photo_id = ?1 AND face = ?2",
            params![photo, face as i64],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, f64>(1)?,
                    [
                        row.get::<_, f64>(2)?,
                        row.get::<_, f64>(3)?,
                        row.get::<_, f64>(4)?,
                        row.get::<_, f64>(5)?,
                    ],
                ))
            },
        )
        .optional()?;
    let Some((gender, p_male, [left, top, right, bottom])) = predicted else {
        return Err(LibraryError::NoSuchFace { face });
    };
    conn.execute(
        "INSERT INTO corrections (photo_id, face, label, predicted_gender, predicted_p_male,
             left, top, right, bottom, corrected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT (photo_id, face) DO UPDATE SET label = excluded.label,
             corrected_at = excluded.corrected_at",
        params![
            photo,
            face as i64,
            label.as_str(),
            gender,
            p_male,
            left,
            top,
            right,
            bottom
        ],
    )?;
    Ok(())
}

pub fn remove(conn: &Connection, photo: i64, face: usize) -> Result<(), LibraryError> {
    conn.execute(
        "DELETE FROM corrections WHERE photo_id = ?1 AND face = ?2",
        params![photo, face as i64],
    )?;
    Ok(())
}

/// After a photo is classified again, moves each of its corrections to the
/// new face that overlaps the corrected one most (at least half, by
/// intersection over union); one no face overlaps that much is dropped, as
/// what it labelled is no longer found.
pub fn follow_faces(
    tx: &Transaction,
    photo: i64,
    faces: &[FaceResult],
) -> Result<(), LibraryError> {
    let mut statement = tx.prepare_cached(
        "SELECT face, label, predicted_gender, predicted_p_male, left, top, right, bottom,
             corrected_at
         FROM corrections WHERE photo_id = ?1",
    )?;
    let kept = statement
        .query_map([photo], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<f64>>(3)?,
                [
                    row.get::<_, Option<f64>>(4)?,
                    row.get::<_, Option<f64>>(5)?,
                    row.get::<_, Option<f64>>(6)?,
                    row.get::<_, Option<f64>>(7)?,
                ],
                row.get::<_, String>(8)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if kept.is_empty() {
        return Ok(());
    }
    tx.execute("DELETE FROM corrections WHERE photo_id = ?1", [photo])?;
    let mut taken = vec![false; faces.len()];
    for (_, label, gender, p_male, corners, at) in kept {
        let [Some(l), Some(t), Some(r), Some(b)] = corners else {
            continue;
        };
        let old = [l as f32, t as f32, r as f32, b as f32];
        let best = faces
            .iter()
            .enumerate()
            .filter(|(n, _)| !taken[*n])
            .map(|(n, f)| (n, iou(old, f.bbox)))
            .filter(|(_, overlap)| *overlap >= 0.5)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((n, _)) = best {
            taken[n] = true;
            let [l, t, r, b] = faces[n].bbox;
            tx.execute(
                "INSERT INTO corrections (photo_id, face, label, predicted_gender,
                     predicted_p_male, left, top, right, bottom, corrected_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![photo, n as i64, label, gender, p_male, l, t, r, b, at],
            )?;
        }
    }
    Ok(())
}

fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: [f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

/// Puts the photo's kept corrections on its faces (after they followed a
/// re-classification).
pub fn apply(conn: &Connection, photo: i64, faces: &mut [FaceResult]) -> Result<(), LibraryError> {
    let mut statement =
        conn.prepare_cached("SELECT face, label FROM corrections WHERE photo_id = ?1")?;
    let rows = statement
        .query_map([photo], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (face, label) in rows {
        let label = PersonLabel::parse(&label)
            .ok_or_else(|| LibraryError::Damaged(format!("unknown correction {label:?}")))?;
        if let Some(target) = usize::try_from(face).ok().and_then(|n| faces.get_mut(n)) {
            target.correction = Some(crate::postprocess::Correction::by_person(label));
        }
    }
    Ok(())
}
