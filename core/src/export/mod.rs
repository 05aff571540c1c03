//! Saving results: CSV and JSONL files written atomically, and copying
//! photos into one folder per label.

pub mod files;
pub mod rows;
pub mod sort;

pub use files::{ExportFormat, export_results, read_jsonl};
pub use rows::{CsvRow, JsonLine, Provenance, csv_rows};
pub use sort::{SortReport, sort_into_folders};
