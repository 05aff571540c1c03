use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::runtime::fetch::{self, RuntimeBuild};

#[derive(Subcommand)]
pub enum RuntimeCommand {
    /// Download ONNX Runtime from PyPI (with pip) into the GenderLens data folder.
    Fetch {
        /// Which build: cpu (`onnxruntime`) or gpu (`onnxruntime-gpu`, CUDA 13).
        #[arg(long, value_enum, default_value_t = RuntimeBuild::Cpu)]
        build: RuntimeBuild,
        #[arg(long, default_value = fetch::DEFAULT_VERSION)]
        version: String,
    },
}

pub fn run(command: RuntimeCommand) -> Result<ExitCode> {
    match command {
        RuntimeCommand::Fetch { build, version } => {
            let dir = fetch::fetch_runtime(build, &version, |line| eprintln!("{line}"))?;
            println!("{}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
