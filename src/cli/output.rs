//! Result writers for `classify`: table, CSV (one row per face), JSONL (one
//! photo per line) and JSON (one array).

use std::collections::BTreeMap;
use std::io::Write;

use crate::export::rows::{JsonLine, Provenance, csv_rows};
use crate::postprocess::{ImageResult, Status};
use anyhow::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Jsonl,
    Json,
}

/// Writes results in input order as they arrive (out-of-order ones wait briefly).
pub struct ResultWriter {
    format: Format,
    out: Box<dyn Write>,
    csv: Option<csv::Writer<Box<dyn Write>>>,
    waiting: BTreeMap<usize, ImageResult>,
    next_index: usize,
    json_items: usize,
    provenance: Provenance,
}

impl ResultWriter {
    pub fn new(format: Format, out: Box<dyn Write>, provenance: Provenance) -> Result<Self> {
        let mut writer = Self {
            format,
            out,
            csv: None,
            waiting: BTreeMap::new(),
            next_index: 0,
            json_items: 0,
            provenance,
        };
        match format {
            Format::Csv => {
                let out = std::mem::replace(&mut writer.out, Box::new(std::io::sink()));
                writer.csv = Some(csv::Writer::from_writer(out));
            }
            Format::Json => writer.out.write_all(b"[\n")?,
            Format::Table => writeln!(
                writer.out,
                "{:<40} {:<8} {:>4} {:<7} {:>6} {:<9} BOX",
                "PATH", "STATUS", "FACE", "GENDER", "SCORE", "UNCERTAIN"
            )?,
            Format::Jsonl => {}
        }
        Ok(writer)
    }

    pub fn set_provenance(&mut self, provenance: Provenance) {
        self.provenance = provenance;
    }

    pub fn push(&mut self, result: ImageResult) -> Result<()> {
        self.waiting.insert(result.index, result);
        while let Some(result) = self.waiting.remove(&self.next_index) {
            self.write_one(&result)?;
            self.next_index += 1;
        }
        Ok(())
    }

    /// Writes whatever is still waiting (gaps from a cancelled batch) and closes the format.
    pub fn finish(mut self) -> Result<()> {
        for (_, result) in std::mem::take(&mut self.waiting) {
            self.write_one(&result)?;
        }
        if let Some(csv) = self.csv.as_mut() {
            csv.flush()?;
        }
        if self.format == Format::Json {
            self.out.write_all(b"\n]\n")?;
        }
        self.out.flush()?;
        Ok(())
    }

    fn write_one(&mut self, result: &ImageResult) -> Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, &JsonLine::of(result))?;
                self.out.write_all(b"\n")?;
            }
            Format::Json => {
                if self.json_items > 0 {
                    self.out.write_all(b",\n")?;
                }
                serde_json::to_writer_pretty(&mut self.out, &JsonLine::of(result))?;
                self.json_items += 1;
            }
            Format::Csv => {
                if let Some(csv) = self.csv.as_mut() {
                    for row in csv_rows(result, &self.provenance) {
                        csv.serialize(row)?;
                    }
                }
            }
            Format::Table => write_table_rows(&mut self.out, result)?,
        }
        Ok(())
    }
}

/// A name for the table: a newline or other control character in a file
/// name is shown escaped, so it cannot start a row of its own.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

fn write_table_rows(out: &mut dyn Write, result: &ImageResult) -> Result<()> {
    let path = printable(&result.path.to_string_lossy());
    match result.status {
        Status::Ok => {
            for (i, face) in result.faces.iter().enumerate() {
                writeln!(
                    out,
                    "{:<40} {:<8} {:>4} {:<7} {:>6.3} {:<9} [{:.0}, {:.0}, {:.0}, {:.0}]",
                    path,
                    "ok",
                    i,
                    face.gender,
                    face.score,
                    if face.uncertain { "yes" } else { "" },
                    face.bbox[0],
                    face.bbox[1],
                    face.bbox[2],
                    face.bbox[3]
                )?;
            }
        }
        Status::NoFace => writeln!(out, "{path:<40} no_face")?,
        Status::Error => writeln!(
            out,
            "{path:<40} error    {}",
            printable(result.error.as_deref().unwrap_or(""))
        )?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_names_are_escaped() {
        assert_eq!(printable("a\nb\tc.jpg"), "a\\nb\\tc.jpg");
        assert_eq!(printable("café.jpg"), "café.jpg");
    }
}
