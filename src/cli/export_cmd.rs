//! `genderlens export`: the library's answers as CSV or JSON Lines.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use crate::export::ExportFormat;
use crate::library::Library;

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The library to export [default: the desktop app's library].
    #[arg(long, value_name = "FILE", env = "GENDERLENS_LIBRARY")]
    library: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Where to write; written whole through a temporary file.
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// Replace --output if it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(args: ExportArgs) -> Result<ExitCode> {
    let path = match args.library {
        Some(path) => path,
        None => Library::default_path()
            .context("this system has no per-user data folder; use --library FILE")?,
    };
    if !path.exists() {
        anyhow::bail!("there is no library at {}", path.display());
    }
    let library = Library::open(&path)?;
    let results = library.load_with_provenance()?;
    let format = match args.format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::Jsonl,
    };
    let rows = crate::export::export_results(
        &args.output,
        format,
        results.iter().map(|(r, p)| (r, p)),
        args.force,
    )?;
    eprintln!(
        "{} photos, {rows} rows written to {}",
        results.len(),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
