//! Several Triton servers behind one gRPC channel. tonic's own balancer
//! (tower's power of two choices; tonic gives every connection the same
//! load, so in effect it picks at random) spreads the requests; this keeps
//! its list to the servers that answer. A server that fails a readiness
//! probe is taken out and probed again every few seconds until it answers,
//! then put back. A request that failed while a server was being taken out
//! is sent again by the caller, and lands on one that is still there.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// What the user wrote for each server, for messages.
    names: Vec<String>,
    endpoints: Vec<Endpoint>,
    probes: Vec<GrpcInferenceServiceClient<Channel>>,
    changes: Sender<Change<usize, Endpoint>>,
    /// Which servers the balancer holds; one probe round at a time changes it.
    serving: tokio::sync::Mutex<Vec<bool>>,
    serving_count: AtomicUsize,
    /// Bumped each time a server is taken out: a request that failed while
    /// it moved may have failed on that server.
    removals: AtomicU64,
    token: Option<MetadataValue<Ascii>>,
    probe_timeout: Duration,
}

impl ServerSet {
    /// The balanced channel over `endpoints` (named `names` in messages),
    /// and the set that keeps it to the servers that answer.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        servers: Vec<(String, Endpoint)>,
        token: Option<MetadataValue<Ascii>>,
        probe_timeout: Duration,
    ) -> (Channel, Self) {
        let _context = runtime.enter();
        let (names, endpoints): (Vec<String>, Vec<Endpoint>) = servers.into_iter().unzip();
        // Room for every server to go and come back between two requests:
        // the balancer reads its changes only when a request comes.
        let (channel, changes) = Channel::balance_channel(endpoints.len().max(1) * 4);
        for (key, endpoint) in endpoints.iter().enumerate() {
            let _ = changes.try_send(Change::Insert(key, endpoint.clone()));
        }
        let probes = endpoints
            .iter()
            .map(|e| GrpcInferenceServiceClient::new(e.clone().connect_lazy()))
            .collect();
        let inner = Arc::new(Inner {
            names,
            serving: tokio::sync::Mutex::new(vec![true; endpoints.len()]),
            serving_count: AtomicUsize::new(endpoints.len()),
            removals: AtomicU64::new(0),
            endpoints,
            probes,
            changes,
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

    pub fn len(&self) -> usize {
        self.inner.endpoints.len()
    }

    /// A mark to hand to [`ServerSet::went_away_since`] after a request.
    pub fn mark(&self) -> u64 {
        self.inner.removals.load(Ordering::SeqCst)
    }

    /// True when a server has been taken out since `mark`, which may be why
    /// a request failed; when none has, probes every server now first. Many
    /// requests failing at once on one server cost one probe round, not one
    /// each: a probe of a frozen server waits out its timeout.
    pub fn went_away_since(&self, mark: u64, runtime: &tokio::runtime::Runtime) -> bool {
        if self.mark() == mark {
            runtime.block_on(self.inner.probe_round_unless_moved(mark));
        }
        self.mark() != mark
    }

    /// Each server as the user wrote it, and whether it answers now.
    pub fn report(&self, runtime: &tokio::runtime::Runtime) -> Vec<(String, bool)> {
        let ready = runtime.block_on(self.inner.probe_all());
        self.inner.names.iter().cloned().zip(ready).collect()
    }

    /// How many servers the balancer holds now.
    pub fn serving(&self) -> usize {
        self.inner.serving_count.load(Ordering::SeqCst)
    }
}

impl Drop for ServerSet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Inner {
    /// Every server's readiness, asked of all at once.
    async fn probe_all(&self) -> Vec<bool> {
        let mut probes = tokio::task::JoinSet::new();
        for (key, probe) in self.probes.iter().enumerate() {
            let mut probe = probe.clone();
            let mut request = tonic::Request::new(proto::ServerReadyRequest {});
            request.set_timeout(self.probe_timeout);
            if let Some(token) = &self.token {
                request
                    .metadata_mut()
                    .insert("authorization", token.clone());
            }
            let timeout = self.probe_timeout;
            probes.spawn(async move {
                let answer = tokio::time::timeout(timeout, probe.server_ready(request)).await;
                (key, matches!(answer, Ok(Ok(r)) if r.get_ref().ready))
            });
        }
        let mut ready = vec![false; self.probes.len()];
        while let Some(outcome) = probes.join_next().await {
            if let Ok((key, up)) = outcome {
                ready[key] = up;
            }
        }
        ready
    }

    /// A probe round, unless a server was taken out since `mark` while this
    /// waited for the round before it.
    async fn probe_round_unless_moved(&self, mark: u64) {
        let serving = self.serving.lock().await;
        if self.removals.load(Ordering::SeqCst) == mark {
            self.probe_round_locked(serving).await;
        }
    }

    async fn probe_round(&self) {
        let serving = self.serving.lock().await;
        self.probe_round_locked(serving).await;
    }

    /// Takes out the servers that do not answer (never the last one: with
    /// none left, requests fail at once and say why, instead of waiting for
    /// a server) and puts back those that answer again. A change the
    /// balancer has no room for yet is left for the next round.
    async fn probe_round_locked(&self, mut serving: tokio::sync::MutexGuard<'_, Vec<bool>>) {
        let ready = self.probe_all().await;
        let any_ready = ready.iter().any(|&up| up);
        for (key, &up) in ready.iter().enumerate() {
            if up && !serving[key] {
                let insert = Change::Insert(key, self.endpoints[key].clone());
                if self.changes.try_send(insert).is_ok() {
                    serving[key] = true;
                }
            } else if !up
                && serving[key]
                && any_ready
                && self.changes.try_send(Change::Remove(key)).is_ok()
            {
                serving[key] = false;
                self.removals.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = serving.iter().filter(|&&up| up).count();
        self.serving_count.store(count, Ordering::SeqCst);
    }
}
