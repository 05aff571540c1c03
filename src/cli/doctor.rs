use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::EngineArgs;
use crate::runtime::diagnosis::{Diagnosis, diagnose};

#[derive(Args)]
pub struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    let report = diagnose(&args.engine.settings());
    let healthy = report.runtime.is_ok()
        && report.models_dir.is_ok()
        && report.sessions.iter().all(|s| s.is_ok());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &Diagnosis) {
    println!("GenderLens {}", env!("CARGO_PKG_VERSION"));
    println!("\nONNX Runtime");
    match &report.runtime {
        Ok(rt) => {
            println!("  library:    {}", rt.path.display());
            println!("  version:    {}", rt.version);
            println!("  found via:  {}", rt.found_via);
            println!("  providers:  {}", rt.compiled_providers.join(", "));
        }
        Err(e) => {
            println!("  NOT AVAILABLE: {e}");
            println!(
                "  Fix: run `genderlens runtime fetch` (CPU) or `genderlens runtime fetch --build gpu`."
            );
            println!(
                "  (Fetching uses Python's pip; without it, download ONNX Runtime 1.31 and set GENDERLENS_ORT_DYLIB.)"
            );
        }
    }
    for skipped in &report.skipped_runtimes {
        println!("  skipped:    {skipped}");
    }

    println!("\nModels");
    match &report.models_dir {
        Ok(dir) => println!("  folder:     {}", dir.display()),
        Err(e) => println!("  NOT AVAILABLE: {e}"),
    }
    for session in &report.sessions {
        match session {
            Ok(s) => {
                let gpu = if s.assignment.uses_gpu() {
                    "GPU"
                } else {
                    "CPU"
                };
                println!(
                    "  {:<11} runs on {gpu}: {}",
                    format!("{}:", s.model),
                    s.assignment
                );
                for f in &s.fallbacks {
                    println!(
                        "  {:<11} {} not used: {}",
                        "",
                        f.provider,
                        f.reason.lines().next().unwrap_or("")
                    );
                }
            }
            Err(e) => println!("  FAILED: {e}"),
        }
    }

    println!("\nGPU libraries (needed by the CUDA and TensorRT providers)");
    for lib in &report.gpu_libraries {
        match &lib.missing {
            None => println!("  {:<12} {:<40} found", lib.group, lib.file),
            Some(_) => println!("  {:<12} {:<40} missing", lib.group, lib.file),
        }
    }

    println!("\nFolders");
    if let Some(dir) = &report.cache_dir {
        println!(
            "  TensorRT engine cache: {}",
            dir.join("tensorrt").display()
        );
    }
    if let Some(dir) = &report.data_dir {
        println!("  downloaded runtimes:   {}", dir.join("runtime").display());
    }
}
