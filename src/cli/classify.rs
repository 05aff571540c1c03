use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::EngineArgs;
use super::library_args::LibraryArgs;
use super::output::{Format, ResultWriter};
use super::output_file::OutputFile;
use super::remote_args::RemoteArgs;
use crate::batch::{EngineEvent, Summary};
use crate::library::{RunKeeper, RunState};
use crate::postprocess::{ImageResult, Status};

#[derive(Args)]
pub struct ClassifyArgs {
    /// Image files and folders (folders are walked recursively).
    #[arg(required_unless_present = "resume", value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write results here instead of standard output. The file is written
    /// whole at the end (through a temporary file), never over an existing
    /// file unless --force is given, and never over one of the inputs.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the --output file if it exists.
    #[arg(long, requires = "output")]
    force: bool,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    remote: RemoteArgs,
    #[command(flatten)]
    library: LibraryArgs,
}

pub fn run(args: ClassifyArgs) -> Result<ExitCode> {
    // Refused before anything is loaded or classified.
    if let Some(path) = &args.output {
        OutputFile::check(path, &args.paths, args.force)?;
    }
    let backend = super::load_backend(args.engine.settings(), args.remote.chosen()?)?;
    if let Some(remote) = backend.remote() {
        eprintln!(
            "classifying on {} (the photos are sent there)",
            remote.servers()
        );
    }
    let mut provenance = backend.provenance();
    let (inputs, setup) = kept_run(&args, &provenance)?;
    let output = match &args.output {
        Some(path) => Some(OutputFile::prepare(path, &inputs, args.force)?),
        None => None,
    };
    let batch = backend.start_with(inputs, None, setup);
    let out: Box<dyn std::io::Write> = match &output {
        Some(file) => Box::new(std::io::BufWriter::new(file.writer()?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut writer = ResultWriter::new(args.format, out, provenance.clone())?;
    let bar = progress_bar();
    // Ctrl-C stops the batch but still writes what finished and the summary.
    let cancel = batch.canceller();
    if let Err(e) = ctrlc::set_handler(cancel) {
        tracing::warn!("Ctrl-C will stop GenderLens without a summary: {e}");
    }
    let mut summary: Option<Summary> = None;
    let mut errors: Vec<ImageResult> = Vec::new();
    for event in batch.events().iter() {
        match event {
            EngineEvent::Scanning { found } => {
                bar.set_length(found as u64);
                bar.set_message(format!("listing… {found} photos found"));
            }
            EngineEvent::Listed { total, skipped } | EngineEvent::Added { total, skipped } => {
                bar.set_length(total as u64);
                for s in &skipped {
                    bar.suspend(|| eprintln!("skipped {}: {}", s.path.display(), s.reason));
                }
            }
            EngineEvent::Status(message) => bar.suspend(|| eprintln!("{message}")),
            EngineEvent::Warning(message) => bar.suspend(|| eprintln!("warning: {message}")),
            EngineEvent::SessionReady(ref report) => {
                if provenance.observe(&event) {
                    writer.set_provenance(provenance.clone());
                }
                bar.suspend(|| eprintln!("{}", report.summary()));
            }
            EngineEvent::Image(result) => {
                if result.status == Status::Error {
                    errors.push((*result).clone());
                }
                writer.push(*result)?;
            }
            EngineEvent::Progress(p) => {
                bar.set_position(p.done as u64);
                if let Some(current) = &p.current {
                    bar.set_message(
                        current
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    );
                }
            }
            EngineEvent::Finished(s) => summary = Some(s),
            EngineEvent::Failed(message) => {
                bar.finish_and_clear();
                bail!(message);
            }
        }
    }
    bar.finish_and_clear();
    writer.finish()?;
    if let Some(file) = output {
        file.persist()?;
    }
    let summary = summary.context("the batch ended without a summary")?;
    print_summary(&summary, &errors);
    if summary.total == 0 {
        eprintln!("nothing to classify: no image files were found");
        return Ok(ExitCode::FAILURE);
    }
    Ok(if summary.cancelled {
        // The shell convention for a run stopped by Ctrl-C.
        ExitCode::from(130)
    } else if summary.failed == summary.total {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The inputs to classify and where their answers are kept: the paths
/// given, plus with `--resume` those of the library's unfinished batch.
fn kept_run(
    args: &ClassifyArgs,
    provenance: &crate::export::Provenance,
) -> Result<(Vec<PathBuf>, crate::batch::Setup)> {
    let mut inputs = args.paths.clone();
    let Some(library) = args.library.open()? else {
        return Ok((inputs, crate::batch::Setup::default()));
    };
    let resumed = if args.library.resume {
        let unfinished = library.unfinished()?.with_context(|| {
            format!(
                "nothing to resume: {} has no batch that stopped early",
                library.path().display()
            )
        })?;
        eprintln!(
            "resuming the batch started {} ({} photos were done; they are not classified again)",
            unfinished.started_at, unfinished.done
        );
        let mut all = unfinished.inputs.clone();
        all.extend(inputs);
        inputs = all;
        Some(unfinished.run)
    } else {
        None
    };
    let mut keeper = RunKeeper::begin(
        library.clone(),
        &inputs,
        provenance,
        &args.engine.settings(),
    )?;
    if args.library.reclassify {
        keeper = keeper.without_reuse();
    }
    if let Some(run) = resumed {
        library.set_run_state(run, RunState::Resumed)?;
    }
    let setup = crate::batch::Setup {
        keeper: Some(std::sync::Arc::new(keeper)),
        ..Default::default()
    };
    Ok((inputs, setup))
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn print_summary(summary: &Summary, errors: &[ImageResult]) {
    let seconds = summary.elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "{} images: {} ok, {} without a face, {} errors; {} faces; {:.1} images/s classified{}{}",
        summary.total,
        summary.ok,
        summary.no_face,
        summary.failed,
        summary.faces,
        // Answers from the library took no classifying.
        (summary.ok + summary.no_face + summary.failed - summary.reused) as f64 / seconds,
        if summary.skipped > 0 {
            format!("; {} non-image files skipped", summary.skipped)
        } else {
            String::new()
        },
        if summary.cancelled { "; cancelled" } else { "" },
    );
    if summary.reused > 0 {
        eprintln!(
            "{} unchanged since they were last classified: their answers come from the library",
            summary.reused
        );
    }
    if summary.settings_changed > 0 {
        eprintln!(
            "{} classified again: the settings or models changed since last time",
            summary.settings_changed
        );
    }
    if !errors.is_empty() {
        eprintln!("errors:");
        for e in errors {
            eprintln!(
                "  {}: {}",
                super::output::printable(&e.path.to_string_lossy()),
                e.error.as_deref().unwrap_or("")
            );
        }
    }
}
