//! `genderlens serve`: the `/predict` gateway of the original architecture,
//! in Rust. It answers from the models in this process, or forwards to Triton.

pub mod answer_page;
pub mod listen;
pub mod metrics;
pub mod page;
pub mod request_id;
pub mod routes;
pub mod upload;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::backend::Backend;
pub use listen::ConnectionLimits;

/// Everything that bounds what clients can make the gateway do.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub connections: ConnectionLimits,
    pub max_upload_bytes: usize,
    /// To receive a request's whole body once its head has arrived.
    pub body_timeout: Duration,
    /// Uploads being classified at once; more are answered `503` with
    /// `Retry-After` rather than queued without bound.
    pub max_pending: usize,
    /// Megabytes of uploads held in memory at once; an upload waits for its
    /// share before its body is read.
    pub upload_memory_mb: usize,
    /// How long a request may wait for that share (and for its answer).
    pub request_timeout: Duration,
}

/// Serves until Ctrl-C (or SIGTERM), then finishes the requests in flight
/// within the grace period.
pub fn serve(listen: SocketAddr, backend: Arc<Backend>, limits: ServeLimits) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("genderlens-gateway")
        .build()
        .context("cannot start the server runtime")?;
    let served = runtime.block_on(async move {
        let listener = listen::bind(listen).await?;
        let address = listener.local_addr()?;
        eprintln!("GenderLens gateway listening on http://{address}");
        let router = routes::router(backend, &limits);
        listen::run(listener, router, limits.connections, shutdown_signal()).await
    });
    // Classifications still running for requests that were cut off are not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
