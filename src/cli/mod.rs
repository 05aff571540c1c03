//! The `genderlens` command line.

mod bench;
mod classify;
mod doctor;
mod export_cmd;
mod library_args;
mod output;
mod output_file;
mod remote_args;
mod runtime_cmd;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::engine::Engine;
use crate::settings::{EngineSettings, ModelChoice, ProviderChoice};

#[derive(Parser)]
#[command(
    name = "genderlens",
    version,
    about = "Finds the faces in photos and classifies the apparent gender of each.",
    long_about = "Finds the faces in photos and classifies the apparent gender of each, \
                  locally, on an NVIDIA GPU through TensorRT or CUDA, or on the CPU.\n\n\
                  Predictions are apparent binary gender from appearance, for aggregate \
                  analysis, not for decisions about individuals."
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    app: AppArgs,
}

/// Without a command, GenderLens opens its window.
#[derive(Args)]
struct AppArgs {
    /// Photos and folders to classify as soon as the window opens.
    paths: Vec<PathBuf>,
    /// Show the results saved in this JSONL file.
    #[arg(long, value_name = "FILE")]
    open_results: Option<PathBuf>,
    /// Read and save settings in this file instead of the user's config folder.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Write the UI thread's frame-cost statistics (JSON) here on exit.
    #[arg(long, value_name = "FILE", hide = true)]
    frame_stats: Option<PathBuf>,
    /// Close the window once the photos given are classified and shown.
    #[arg(long, hide = true)]
    exit_when_done: bool,
    /// Show the results table first instead of the gallery.
    #[arg(long)]
    table: bool,
    /// Open this library (answers are kept in it) instead of the default one
    /// in the data folder.
    #[arg(long, value_name = "FILE", env = "GENDERLENS_LIBRARY")]
    library: Option<PathBuf>,
    /// Keep answers for this session only: no library is opened or written.
    #[arg(long, conflicts_with = "resume")]
    no_library: bool,
    /// Resume the library's last batch that stopped early (cancelled, quit
    /// or killed) as the window opens, without asking.
    #[arg(long)]
    resume: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Classify the faces in image files and folders.
    Classify(classify::ClassifyArgs),
    /// Write the library's answers (with any corrections) as CSV or JSON Lines.
    Export(export_cmd::ExportArgs),
    /// Show which ONNX Runtime, providers, GPU libraries and caches GenderLens uses.
    Doctor(doctor::DoctorArgs),
    /// Measure throughput and per-stage time on a folder of photos.
    Bench(bench::BenchArgs),
    /// Serve `POST /predict`, `GET /health`, `GET /metrics` and an upload page over HTTP.
    Serve(serve::ServeArgs),
    /// Manage the ONNX Runtime library.
    #[command(subcommand)]
    Runtime(runtime_cmd::RuntimeCommand),
    /// Print the manual page (roff) on standard output; the .deb installs it.
    #[command(hide = true)]
    Man,
}

/// Options shared by every command that runs the models.
#[derive(Args, Clone)]
pub struct EngineArgs {
    /// Which models classify each face: ensemble (dlib's and face-api's
    /// together, the default), dlib or faceapi alone.
    #[arg(long, value_enum, default_value_t = ModelChoice::Ensemble)]
    model: ModelChoice,
    /// Execution provider: auto tries TensorRT, then CUDA, then CPU.
    #[arg(long, value_enum, default_value_t = ProviderChoice::Auto)]
    provider: ProviderChoice,
    /// Most faces per model run.
    #[arg(long = "batch", value_name = "N")]
    max_batch: Option<usize>,
    /// Longest side of the detector input in pixels (a multiple of 32).
    #[arg(long, value_name = "N")]
    detector_size: Option<u32>,
    /// Ignore faces smaller than this many pixels.
    #[arg(long = "min-face", value_name = "PX")]
    min_face: Option<f32>,
    /// Face detection score threshold (0-1).
    #[arg(long, value_name = "SCORE")]
    detection_threshold: Option<f32>,
    /// Report faces whose label probability is below this as uncertain.
    #[arg(long, value_name = "P")]
    uncertain_below: Option<f32>,
    /// Refuse images above this many megapixels.
    #[arg(long, value_name = "MP")]
    max_megapixels: Option<f64>,
    /// Refuse files above this many megabytes, before reading them (locally
    /// and before sending them to a remote server).
    #[arg(long, value_name = "MB")]
    max_file_mb: Option<u64>,
    /// Memory all decoding may hold at once, in megabytes (default 512);
    /// an image that alone needs more is refused.
    #[arg(long, value_name = "MB")]
    max_decode_memory_mb: Option<u64>,
    /// Follow symbolic links that lead out of the folders given (links into
    /// /proc, /sys and /dev are never followed).
    #[arg(long)]
    follow_symlinks: bool,
    /// Detection workers, each with its own detector session (default: one per CPU core, at most 4).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Decoding workers (default: one per two CPU cores).
    #[arg(long, value_name = "N")]
    decode_workers: Option<usize>,
    /// ONNX Runtime threads per session (default: CPU cores divided by detection workers).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Build TensorRT engines in half precision (faster; scores shift slightly).
    #[arg(long)]
    fp16: bool,
    /// Use this ONNX Runtime library instead of searching for one.
    #[arg(long, value_name = "FILE")]
    ort_dylib: Option<PathBuf>,
    /// Use the models in this folder.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
}

impl EngineArgs {
    pub fn settings(&self) -> EngineSettings {
        let mut s = EngineSettings {
            model: self.model,
            provider: self.provider,
            fp16: self.fp16,
            ort_dylib: self.ort_dylib.clone(),
            models_dir: self.models.clone(),
            follow_symlinks: self.follow_symlinks,
            ..EngineSettings::default()
        };
        if let Some(v) = self.max_batch {
            s.max_batch = v;
        }
        if let Some(v) = self.detector_size {
            s.detector_size = v;
        }
        if let Some(v) = self.min_face {
            s.min_face_px = v;
        }
        if let Some(v) = self.detection_threshold {
            s.detection_threshold = v;
        }
        if let Some(v) = self.uncertain_below {
            s.uncertain_below = v;
        }
        if let Some(v) = self.max_megapixels {
            s.max_megapixels = v;
        }
        if let Some(v) = self.max_file_mb {
            s.max_file_mb = v;
        }
        if let Some(v) = self.max_decode_memory_mb {
            s.max_decode_memory_mb = v;
        }
        if let Some(v) = self.threads {
            s.threads_per_session = v;
        }
        if let Some(v) = self.workers {
            s.detect_workers = v;
        }
        if let Some(v) = self.decode_workers {
            s.decode_workers = v;
        }
        s
    }
}

/// Loads the runtime (fetching the CPU build on a fresh machine) and the
/// models, telling the terminal about slow steps.
pub fn load_engine(settings: EngineSettings) -> Result<Engine> {
    crate::engine::load_engine(settings, |line| eprintln!("{line}"))
}

/// The backend a command classifies on: the remote server when one is
/// given, else the local engine.
pub fn load_backend(
    settings: EngineSettings,
    remote: Option<crate::remote::RemoteOptions>,
) -> Result<crate::backend::Backend> {
    crate::backend::Backend::load(settings, remote, |line| eprintln!("{line}"))
}

#[cfg(feature = "gui")]
fn run_window(app: AppArgs) -> Result<ExitCode> {
    crate::gui::run(crate::gui::LaunchOptions {
        paths: app.paths,
        open_results: app.open_results,
        settings_file: app.settings,
        frame_stats: app.frame_stats,
        exit_when_done: app.exit_when_done,
        start_tab: if app.table {
            crate::gui::views::Tab::Table
        } else {
            crate::gui::views::Tab::Gallery
        },
        library: if app.no_library {
            None
        } else {
            app.library.or_else(crate::library::Library::default_path)
        },
        resume: app.resume,
    })
    .map(|()| ExitCode::SUCCESS)
}

#[cfg(not(feature = "gui"))]
fn run_window(_: AppArgs) -> Result<ExitCode> {
    anyhow::bail!("this build of GenderLens has no desktop window; use a subcommand (see --help)")
}

pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GENDERLENS_LOG")
                // The gateway's one line per request is its access log.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,ort=error,genderlens::gateway=info")
                }),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => run_window(cli.app),
        Some(Command::Classify(args)) => classify::run(args),
        Some(Command::Export(args)) => export_cmd::run(args),
        Some(Command::Doctor(args)) => doctor::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Runtime(cmd)) => runtime_cmd::run(cmd),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::Man) => print_manual(),
    };
    match outcome {
        Ok(code) => code,
        // The reader went away (`genderlens ... | head`): nothing left to say.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_manual() -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
    Ok(ExitCode::SUCCESS)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}
