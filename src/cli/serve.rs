use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::remote_args::RemoteArgs;
use super::{EngineArgs, load_backend};
use crate::server;

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// Largest upload accepted, in megabytes.
    #[arg(long, default_value_t = 20, value_name = "MB")]
    max_upload_mb: usize,
    /// Give up on a request after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
    /// Close a connection that has not sent a whole request head within this
    /// many seconds (this also ends idle keep-alive connections).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    header_timeout: u64,
    /// Answer 408 to an upload whose body has not fully arrived within this
    /// many seconds of its head.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    body_timeout: u64,
    /// Connections served at once; more get 503 and are closed.
    #[arg(long, default_value_t = 512, value_name = "N")]
    max_connections: usize,
    /// Uploads being classified at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 64, value_name = "N")]
    max_pending: usize,
    /// Megabytes of uploads held in memory at once; an upload waits for
    /// its share (up to --timeout) before its body is read.
    #[arg(long, default_value_t = 192, value_name = "MB")]
    max_upload_memory_mb: usize,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish
    /// before they are cut off.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    grace: u64,
    /// Forward to Triton over this protocol instead of classifying here
    /// (with the server at --triton-grpc-url or --triton-http-url).
    #[arg(long, value_enum, env = "TRITON_PROTOCOL", value_name = "PROTOCOL")]
    triton_protocol: Option<TritonProtocol>,
    /// Triton's HTTP endpoint, e.g. `triton:8000`.
    #[arg(
        long,
        env = "TRITON_HTTP_URL",
        default_value = "localhost:8000",
        value_name = "HOST:PORT"
    )]
    triton_http_url: String,
    /// Triton's gRPC endpoint, e.g. `triton:8001`.
    #[arg(
        long,
        env = "TRITON_GRPC_URL",
        default_value = "localhost:8001",
        value_name = "HOST:PORT"
    )]
    triton_grpc_url: String,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TritonProtocol {
    Grpc,
    Http,
}

/// `triton:8001`, `grpc://triton:8001` or `http://triton:8000` as GenderLens writes them.
fn triton_url(protocol: TritonProtocol, given: &str) -> String {
    let given = given.trim();
    let rest = given.split_once("://").map_or(given, |(_, rest)| rest);
    let tls = given.starts_with("https://") || given.starts_with("grpcs://");
    match (protocol, tls) {
        (TritonProtocol::Grpc, false) => format!("triton-grpc://{rest}"),
        (TritonProtocol::Grpc, true) => format!("triton-grpcs://{rest}"),
        (TritonProtocol::Http, false) => format!("triton-http://{rest}"),
        (TritonProtocol::Http, true) => format!("triton-https://{rest}"),
    }
}

impl ServeArgs {
    /// Where to forward, from --remote or the original TRITON_* variables.
    fn forward_to(&self) -> Option<String> {
        if let Some(url) = &self.remote.remote {
            return Some(url.clone());
        }
        self.triton_protocol.map(|protocol| match protocol {
            TritonProtocol::Grpc => triton_url(protocol, &self.triton_grpc_url),
            TritonProtocol::Http => triton_url(protocol, &self.triton_http_url),
        })
    }
}

pub fn run(mut args: ServeArgs) -> Result<ExitCode> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let remote = match args.forward_to() {
        Some(url) => {
            // The original gateway's MODEL_NAME applies when no flag names the model.
            if args.remote.model_name.is_none() {
                args.remote.model_name = std::env::var("MODEL_NAME").ok().filter(|m| !m.is_empty());
            }
            let mut options = args.remote.options(&url)?;
            options.timeout_secs = options.timeout_secs.min(timeout.as_secs_f64());
            Some(options)
        }
        None => None,
    };
    let mut backend = load_backend(args.engine.settings(), remote)?;
    if backend.remote().is_some() {
        eprintln!(
            "GenderLens gateway forwarding to {}",
            backend.provenance().backend
        );
    }
    backend.prepare_to_serve(timeout);
    let backend = Arc::new(backend);
    let seconds = |n: u64| Duration::from_secs(n.max(1));
    let limits = server::ServeLimits {
        connections: server::ConnectionLimits {
            header_timeout: seconds(args.header_timeout),
            max_connections: args.max_connections.max(1),
            grace: Duration::from_secs(args.grace),
        },
        max_upload_bytes: args.max_upload_mb.saturating_mul(1024 * 1024),
        body_timeout: seconds(args.body_timeout),
        max_pending: args.max_pending.max(1),
        upload_memory_mb: args.max_upload_memory_mb.max(1),
        request_timeout: timeout,
    };
    server::serve(args.listen, backend, limits)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_triton_urls_become_remote_addresses() {
        assert_eq!(
            triton_url(TritonProtocol::Grpc, "triton:8001"),
            "triton-grpc://triton:8001"
        );
        assert_eq!(
            triton_url(TritonProtocol::Http, "http://triton:8000"),
            "triton-http://triton:8000"
        );
        assert_eq!(
            triton_url(TritonProtocol::Http, "https://gpu.example:443"),
            "triton-https://gpu.example:443"
        );
    }
}
