use std::process::ExitCode;

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::EngineArgs;
use super::remote_args::RemoteArgs;
use crate::remote::Remote;
use crate::runtime::diagnosis::{Diagnosis, diagnose};

#[derive(Args)]
pub struct DoctorArgs {
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
    /// With --remote URL: check that server instead (server ready, model
    /// ready, and the IMAGE_BYTES → OUTPUT_JSON contract).
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn run(args: DoctorArgs) -> Result<ExitCode> {
    if let Some(options) = args.remote.chosen()? {
        return check_remote(&crate::remote::Remote::connect(options)?, args.json);
    }
    let report = diagnose(&args.engine.settings());
    let healthy = report.is_healthy();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report.report())?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(out: &mut dyn Write, report: &Diagnosis) -> std::io::Result<()> {
    writeln!(out, "GenderLens {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "\nONNX Runtime")?;
    match &report.runtime {
        Ok(rt) => {
            writeln!(out, "  library:    {}", rt.path.display())?;
            writeln!(out, "  version:    {}", rt.version)?;
            writeln!(out, "  found via:  {}", rt.found_via)?;
            writeln!(out, "  providers:  {}", rt.compiled_providers.join(", "))?;
        }
        Err(e) => {
            writeln!(out, "  NOT AVAILABLE: {e}")?;
            writeln!(
                out,
                "  Fix: run `genderlens runtime fetch` (CPU) or `genderlens runtime fetch --build gpu`."
            )?;
            writeln!(
                out,
                "  (Fetching uses Python's pip; without it, download ONNX Runtime 1.31 and set GENDERLENS_ORT_DYLIB.)"
            )?;
        }
    }

    writeln!(out, "\nModels")?;
    match &report.models_dir {
        Ok(dir) => writeln!(out, "  folder:     {}", dir.display())?,
        Err(e) => writeln!(out, "  NOT AVAILABLE: {e}")?,
    }
    for session in &report.sessions {
        match session {
            Ok(s) => {
                let gpu = if s.assignment.uses_gpu() {
                    "GPU"
                } else {
                    "CPU"
                };
                writeln!(
                    out,
                    "  {:<11} runs on {gpu}: {}",
                    format!("{}:", s.model),
                    s.assignment
                )?;
                for f in &s.fallbacks {
                    writeln!(
                        out,
                        "  {:<11} {} not used: {}",
                        "",
                        f.provider,
                        f.reason.lines().next().unwrap_or("")
                    )?;
                }
            }
            Err(e) => writeln!(out, "  FAILED: {e}")?,
        }
    }

    writeln!(
        out,
        "\nGPU libraries (needed by the CUDA and TensorRT providers)"
    )?;
    for lib in &report.gpu_libraries {
        match &lib.missing {
            None => writeln!(out, "  {:<12} {:<40} found", lib.group, lib.file)?,
            Some(_) => writeln!(out, "  {:<12} {:<40} missing", lib.group, lib.file)?,
        }
    }

    writeln!(out, "\nFolders")?;
    if let Some(dir) = &report.cache_dir {
        writeln!(
            out,
            "  TensorRT engine cache: {}",
            dir.join("tensorrt").display()
        )?;
    }
    if let Some(dir) = &report.data_dir {
        writeln!(
            out,
            "  downloaded runtimes:   {}",
            dir.join("runtime").display()
        )?;
    }
    Ok(())
}

/// "Test connection" from the command line; fails unless every check passes.
fn check_remote(remote: &Remote, json: bool) -> Result<ExitCode> {
    let checks = remote.check();
    let passed = checks.iter().all(|c| c.ok);
    // Worth asking only of a server that answered; a gateway does not say.
    let setups = passed.then(|| remote.model_setups());
    let mut out = std::io::stdout().lock();
    if json {
        let mut report = serde_json::json!({
            "remote": remote.servers(),
            "protocol": remote.address().protocol,
            "model": remote.options().model,
            "checks": checks,
        });
        match &setups {
            Some(Ok(setups)) if !setups.is_empty() => report["models"] = serde_json::json!(setups),
            Some(Err(e)) => report["models_error"] = serde_json::json!(e.to_string()),
            _ => {}
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "Remote server {} ({})",
            remote.servers(),
            remote.address().protocol.label()
        )?;
        for check in &checks {
            let mark = if check.ok { "ok  " } else { "FAIL" };
            writeln!(out, "  {mark} {}: {}", check.name, check.message)?;
        }
        match &setups {
            Some(Ok(setups)) if !setups.is_empty() => {
                writeln!(out, "Models, as their configs declare them:")?;
                for setup in setups {
                    writeln!(out, "  {}", setup.describe())?;
                }
            }
            Some(Err(e)) => writeln!(out, "Models: the server did not say ({e})")?,
            _ => {}
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
