//! Result files written through a temporary file in the same folder and then
//! renamed, so a crash or a full disk never leaves half a file behind.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::rows::{Provenance, csv_rows};
use crate::postprocess::ImageResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per face (a photo without faces still gets one row).
    Csv,
    /// One photo per line, in the `/predict` schema.
    Jsonl,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }
}

/// The folder a file is (or will be) in; `.` for a bare name.
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A temporary file in `path`'s folder, to be renamed to `path` once
/// complete (a rename within one folder is atomic).
pub fn temp_file_beside(path: &Path, prefix: &str) -> Result<tempfile::NamedTempFile> {
    let dir = folder_of(path);
    tempfile::Builder::new()
        .prefix(prefix)
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))
}

/// Writes `results` to `path`; refuses to replace an existing file unless
/// `overwrite` is set (the caller asked the user). Returns the rows written.
pub fn export_results<'a>(
    path: &Path,
    format: ExportFormat,
    results: impl IntoIterator<Item = (&'a ImageResult, &'a Provenance)>,
    overwrite: bool,
) -> Result<usize> {
    if !overwrite && path.exists() {
        bail!("{} already exists", path.display());
    }
    let temp = temp_file_beside(path, ".genderlens-export-")?;
    let mut out = BufWriter::new(temp.as_file());
    let rows = match format {
        ExportFormat::Csv => write_csv(&mut out, results)?,
        ExportFormat::Jsonl => write_jsonl(&mut out, results)?,
    };
    out.flush()?;
    drop(out);
    temp.as_file().sync_all()?;
    let persisted = if overwrite {
        temp.persist(path).map_err(|e| e.error)
    } else {
        // Another program may have created the file since the check above.
        temp.persist_noclobber(path).map_err(|e| e.error)
    };
    persisted.with_context(|| format!("cannot save {}", path.display()))?;
    Ok(rows)
}

fn write_csv<'a>(
    out: &mut dyn Write,
    results: impl IntoIterator<Item = (&'a ImageResult, &'a Provenance)>,
) -> Result<usize> {
    let mut csv = csv::Writer::from_writer(out);
    let mut rows = 0;
    for (result, provenance) in results {
        for row in csv_rows(result, provenance) {
            csv.serialize(row)?;
            rows += 1;
        }
    }
    if rows == 0 {
        // Keep the header so an empty export still opens as a table.
        csv.write_record(super::rows::CSV_HEADER)?;
    }
    csv.flush()?;
    Ok(rows)
}

fn write_jsonl<'a>(
    out: &mut dyn Write,
    results: impl IntoIterator<Item = (&'a ImageResult, &'a Provenance)>,
) -> Result<usize> {
    let mut rows = 0;
    for (result, _) in results {
        serde_json::to_writer(&mut *out, &super::rows::JsonLine::of(result))?;
        out.write_all(b"\n")?;
        rows += 1;
    }
    Ok(rows)
}

/// Reads a JSONL export back, e.g. to review an earlier run; a bad line is
/// reported with its number and skipped.
pub fn read_jsonl(path: &Path) -> Result<(Vec<ImageResult>, Vec<String>)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    parse_jsonl(std::io::BufReader::new(file), &path.display().to_string())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Results from JSONL text (`name` labels the problems): every line that
/// holds a result is kept; a line that does not, even one that is not
/// UTF-8, is reported with its number and skipped.
pub fn parse_jsonl(
    mut reader: impl std::io::BufRead,
    name: &str,
) -> std::io::Result<(Vec<ImageResult>, Vec<String>)> {
    let mut results = Vec::new();
    let mut problems = Vec::new();
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<ImageResult>(&line) {
            Ok(result) => results.push(result),
            Err(e) => problems.push(format!("{name} line {n}: {e}")),
        }
    }
    Ok((results, problems))
}
