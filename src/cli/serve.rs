use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::{EngineArgs, load_engine};
use crate::server::{self, LocalBackend};

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8000", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Largest upload accepted, in megabytes.
    #[arg(long, default_value_t = 20, value_name = "MB")]
    max_upload_mb: usize,
    /// Give up on a request after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let engine = load_engine(args.engine.settings())?;
    let backend = LocalBackend::new(engine.serve(), Duration::from_secs(args.timeout.max(1)));
    server::serve(
        args.listen,
        Arc::new(backend),
        args.max_upload_mb.saturating_mul(1024 * 1024),
    )?;
    Ok(ExitCode::SUCCESS)
}
