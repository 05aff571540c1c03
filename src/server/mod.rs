//! `genderlens serve`: the `/predict` gateway of the original architecture,
//! in Rust. It answers from the models in this process, or forwards to Triton.

pub mod metrics;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::backend::Backend;

/// Serves until Ctrl-C (or SIGTERM), then finishes the requests in flight.
pub fn serve(listen: SocketAddr, backend: Arc<Backend>, max_upload_bytes: usize) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("genderlens-gateway")
        .build()
        .context("cannot start the server runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        eprintln!("GenderLens gateway listening on http://{address}");
        axum::serve(listener, routes::router(backend, max_upload_bytes))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("the server stopped")
    })
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
    eprintln!("GenderLens gateway: finishing the requests in flight and stopping");
}
