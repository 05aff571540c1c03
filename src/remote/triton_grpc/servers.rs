//! Several Triton servers behind one gRPC channel. tonic's own balancer
//! (tower's power of two choices) spreads the requests; this keeps its list
//! to the servers that answer. A server that fails a readiness probe is
//! taken out and probed again every few seconds until it answers, then put
//! back. A photo whose request failed on a server that went away is sent
//! again by the caller's retries, and lands on one that is still there.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};

use super::proto;
use super::proto::grpc_inference_service_client::GrpcInferenceServiceClient;

/// How often servers are probed when nothing has gone wrong: a server taken
/// out is back this long after it answers again.
const PROBE_EVERY: Duration = Duration::from_secs(2);

pub struct ServerSet {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

struct Inner {
    endpoints: Vec<Endpoint>,
    probes: Vec<GrpcInferenceServiceClient<Channel>>,
    changes: Sender<Change<usize, Endpoint>>,
    /// Which servers the balancer holds now.
    serving: Mutex<Vec<bool>>,
    /// One probe round at a time: a failing request and the timer may both ask.
    round: tokio::sync::Mutex<()>,
    token: Option<MetadataValue<Ascii>>,
    probe_timeout: Duration,
}

impl ServerSet {
    /// The balanced channel over `endpoints`, and the set that keeps it to
    /// the servers that answer. Call within `runtime`'s context.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        endpoints: Vec<Endpoint>,
        token: Option<MetadataValue<Ascii>>,
        probe_timeout: Duration,
    ) -> (Channel, Self) {
        let _context = runtime.enter();
        let (channel, changes) = Channel::balance_channel(endpoints.len().max(1) * 2);
        for (key, endpoint) in endpoints.iter().enumerate() {
            // The channel's buffer holds every first insert.
            let _ = changes.try_send(Change::Insert(key, endpoint.clone()));
        }
        let probes = endpoints
            .iter()
            .map(|e| GrpcInferenceServiceClient::new(e.clone().connect_lazy()))
            .collect();
        let inner = Arc::new(Inner {
            serving: Mutex::new(vec![true; endpoints.len()]),
            endpoints,
            probes,
            changes,
            round: tokio::sync::Mutex::new(()),
            token,
            probe_timeout,
        });
        let watcher = inner.clone();
        let task = runtime.spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                watcher.probe_round().await;
            }
        });
        (channel, Self { inner, task })
    }

    /// Probes every server now (a request failed); true when one is out of
    /// the balancer, which explains the failure and makes the request worth
    /// sending again (several requests may fail on one server going away).
    pub fn recheck(&self, runtime: &tokio::runtime::Runtime) -> bool {
        runtime.block_on(self.inner.probe_round())
    }

    /// Each server's address and whether it answers now, probing them all.
    pub fn report(&self, runtime: &tokio::runtime::Runtime) -> Vec<(String, bool)> {
        runtime.block_on(async {
            let mut report = Vec::new();
            for (key, endpoint) in self.inner.endpoints.iter().enumerate() {
                report.push((endpoint.uri().to_string(), self.inner.ready(key).await));
            }
            report
        })
    }

    pub fn len(&self) -> usize {
        self.inner.endpoints.len()
    }

    /// How many servers the balancer holds now.
    pub fn serving(&self) -> usize {
        self.inner
            .serving
            .lock()
            .map_or(0, |s| s.iter().filter(|&&up| up).count())
    }
}

impl Drop for ServerSet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Inner {
    async fn ready(&self, key: usize) -> bool {
        let mut request = tonic::Request::new(proto::ServerReadyRequest {});
        request.set_timeout(self.probe_timeout);
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        let mut probe = self.probes[key].clone();
        let answer = probe.server_ready(request);
        matches!(
            tokio::time::timeout(self.probe_timeout, answer).await,
            Ok(Ok(response)) if response.get_ref().ready
        )
    }

    /// Takes out the servers that do not answer (never the last one: with
    /// none left, requests fail at once and say why, instead of waiting for
    /// a server) and puts back those that answer again.
    async fn probe_round(&self) -> bool {
        let _round = self.round.lock().await;
        let mut ready = Vec::with_capacity(self.endpoints.len());
        for key in 0..self.endpoints.len() {
            ready.push(self.ready(key).await);
        }
        let before = self.serving.lock().map(|s| s.clone()).unwrap_or_default();
        let mut after = before.clone();
        let any_ready = ready.iter().any(|&r| r);
        for (key, &up) in ready.iter().enumerate() {
            if up && !before[key] {
                after[key] = true;
                let _ = self
                    .changes
                    .send(Change::Insert(key, self.endpoints[key].clone()))
                    .await;
            } else if !up && before[key] && any_ready {
                after[key] = false;
                let _ = self.changes.send(Change::Remove(key)).await;
            }
        }
        let any_out = after.iter().any(|&up| !up);
        if let Ok(mut serving) = self.serving.lock() {
            *serving = after;
        }
        any_out
    }
}
