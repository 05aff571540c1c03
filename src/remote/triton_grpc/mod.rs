//! Triton over KServe v2 gRPC (tonic), with the image in `raw_input_contents`
//! as one length-prefixed BYTES element.

#[allow(clippy::all, clippy::pedantic, rustdoc::all, missing_docs)]
mod proto {
    // Generated from the vendored grpc_service.proto by ./regenerate.sh.
    include!("proto/inference.rs");
}
mod servers;

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use proto::grpc_inference_service_client::GrpcInferenceServiceClient;
use proto::model_infer_request::{InferInputTensor, InferRequestedOutputTensor};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

use super::kserve::{self, INPUT, OUTPUT, TensorInfo};
use super::model_setup::{self, ModelSetup};
use super::{
    Check, RemoteAddress, RemoteError, RemoteOptions, Transport, Upload, run_checks, with_steps,
};

pub struct TritonGrpc {
    client: GrpcInferenceServiceClient<Channel>,
    /// With several servers: which of them the balancer holds.
    servers: Option<servers::ServerSet>,
    // Declared after the client so it is dropped after it: the channel's
    // background tasks live on this runtime.
    runtime: tokio::runtime::Runtime,
    base: String,
    model: String,
    version: String,
    token: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    timeout: Duration,
    shape: OnceLock<Vec<i64>>,
}

impl TritonGrpc {
    /// One server, or several balanced by tonic (see [`servers`]).
    pub fn new(addresses: &[RemoteAddress], options: &RemoteOptions) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("genderlens-grpc")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the gRPC client: {e}"))?;
        let first = addresses.first().ok_or("no server address given")?;
        let base = first.base_url();
        let timeout = options.timeout();
        let endpoints = addresses
            .iter()
            .map(|address| Ok((address.to_string(), endpoint(address, timeout)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let token: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> =
            match &options.token {
                Some(token) => Some(
                    format!("Bearer {token}")
                        .parse()
                        .map_err(|_| "the bearer token contains characters a header cannot hold")?,
                ),
                None => None,
            };
        // Connecting lazily lets the app start while the server is down; each
        // request then reports (and retries) its own connection failure.
        let (channel, servers) = match endpoints.as_slice() {
            [(_, one)] => {
                let _context = runtime.enter();
                (one.clone().connect_lazy(), None)
            }
            _ => {
                // A server that vanished without closing its connections
                // (power lost, network cut) is noticed in seconds, not at
                // each request's timeout.
                let endpoints = endpoints
                    .into_iter()
                    .map(|(name, e)| {
                        let e = e
                            .http2_keep_alive_interval(Duration::from_secs(5))
                            .keep_alive_timeout(Duration::from_secs(5))
                            .keep_alive_while_idle(true);
                        (name, e)
                    })
                    .collect();
                let probe_timeout = timeout.min(Duration::from_secs(2));
                let (channel, set) =
                    servers::ServerSet::start(&runtime, endpoints, token.clone(), probe_timeout);
                (channel, Some(set))
            }
        };
        let client = GrpcInferenceServiceClient::new(channel)
            .max_decoding_message_size(REPLY_LIMIT)
            .max_encoding_message_size(usize::MAX);
        Ok(Self {
            client,
            servers,
            runtime,
            base,
            model: options.model.trim().to_string(),
            version: options.model_version.trim().to_string(),
            token,
            timeout,
            shape: OnceLock::new(),
        })
    }

    /// A failure that a server going away explains is worth sending again:
    /// the balancer no longer holds that server. `mark` is the server set's
    /// mark from before the call.
    fn after_failure(&self, error: RemoteError, mark: u64) -> RemoteError {
        let Some(servers) = &self.servers else {
            return error;
        };
        // What a server vanishing under a request looks like: refused, reset,
        // cut off mid-answer, or silent until the timeout.
        let broken = matches!(
            error,
            RemoteError::Connect(_)
                | RemoteError::Unavailable(_)
                | RemoteError::Protocol(_)
                | RemoteError::Server(_)
                | RemoteError::Timeout(_)
        );
        if broken && servers.went_away_since(mark, &self.runtime) && !error.is_retryable() {
            return RemoteError::Connect(format!(
                "a server went away under this request ({error}); {} of {} still serve",
                servers.serving(),
                servers.len()
            ));
        }
        error
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(self.timeout);
        if let Some(token) = &self.token {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        request
    }

    /// Runs one call on the client's runtime, bounded by the timeout even
    /// when the server accepts the connection and then says nothing.
    fn call<F, T>(&self, call: F) -> Result<T, RemoteError>
    where
        F: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        self.runtime.block_on(async {
            match tokio::time::timeout(self.timeout, call).await {
                Ok(Ok(response)) => Ok(response.into_inner()),
                Ok(Err(status)) => Err(status_error(status, self.timeout)),
                Err(_) => Err(RemoteError::Timeout(self.timeout)),
            }
        })
    }

    /// One call; with several servers, sent again at once while a server
    /// that failed it has been taken out, so a call never depends on the
    /// balancer having picked a server that is gone. `attempt` makes each
    /// try's request, and may fail making it.
    fn balanced<T, F, Fut>(&self, attempt: F) -> Result<T, RemoteError>
    where
        F: Fn(GrpcInferenceServiceClient<Channel>) -> Result<Fut, RemoteError>,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let tries = self.servers.as_ref().map_or(1, |s| s.len());
        let mut tried = 1;
        loop {
            let mark = self.servers.as_ref().map_or(0, |s| s.mark());
            match self.call(attempt(self.client.clone())?) {
                Ok(answer) => return Ok(answer),
                Err(e) => {
                    let e = self.after_failure(e, mark);
                    if tried >= tries || !e.is_retryable() {
                        return Err(e);
                    }
                    tried += 1;
                }
            }
        }
    }

    fn metadata(&self) -> Result<(Vec<TensorInfo>, Vec<TensorInfo>), RemoteError> {
        let meta = self.balanced(|mut client| {
            let request = self.request(proto::ModelMetadataRequest {
                name: self.model.clone(),
                version: self.version.clone(),
            });
            Ok(async move { client.model_metadata(request).await })
        })?;
        let convert = |list: Vec<proto::model_metadata_response::TensorMetadata>| {
            list.into_iter()
                .map(|t| TensorInfo {
                    name: t.name,
                    datatype: t.datatype,
                    shape: t.shape,
                })
                .collect()
        };
        Ok((convert(meta.inputs), convert(meta.outputs)))
    }

    fn input_shape(&self) -> Result<Vec<i64>, RemoteError> {
        kserve::learnt_shape(&self.shape, || self.metadata())
    }
}

/// "Server ready" for several servers: passes while one answers, and names
/// those that do not.
fn several_ready(report: &[(String, bool)]) -> Result<String, String> {
    let up = report.iter().filter(|(_, ready)| *ready).count();
    let down: Vec<&str> = report
        .iter()
        .filter(|(_, ready)| !*ready)
        .map(|(uri, _)| uri.as_str())
        .collect();
    let summary = format!("{up} of {} servers are ready", report.len());
    match (up, down.is_empty()) {
        (_, true) => Ok(summary),
        (0, false) => Err(format!("{summary}: none answers ({})", down.join(", "))),
        _ => Ok(format!(
            "{summary}; not answering, left out until they do: {}",
            down.join(", ")
        )),
    }
}

fn endpoint(address: &RemoteAddress, timeout: Duration) -> Result<Endpoint, String> {
    let mut endpoint = Endpoint::from_shared(address.base_url())
        .map_err(|e| format!("`{address}` is not a gRPC address: {e}"))?
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout);
    if address.tls {
        endpoint = endpoint
            .tls_config(ClientTlsConfig::new().with_native_roots())
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
    }
    Ok(endpoint)
}

/// The largest answer this client reads (one photo's result is about a
/// kilobyte a face); tonic refuses a longer message before allocating it.
const REPLY_LIMIT: usize = 16 * 1024 * 1024;

/// tonic's own refusal of an answer above [`REPLY_LIMIT`]: this client's
/// limit, not the server refusing the image.
fn is_reply_too_large(status: &Status) -> bool {
    status.code() == Code::OutOfRange
        && status
            .message()
            .contains("decoded message length too large")
}

fn is_timeout(status: &Status) -> bool {
    std::error::Error::source(status).is_some_and(|e| e.is::<tonic::TimeoutExpired>())
        || status.message() == tonic::TimeoutExpired(()).to_string()
}

fn status_error(status: Status, timeout: Duration) -> RemoteError {
    let message = if status.message().is_empty() {
        format!("gRPC {:?}", status.code())
    } else {
        status.message().to_string()
    };
    match status.code() {
        Code::Unavailable => RemoteError::Connect(message),
        Code::OutOfRange if is_reply_too_large(&status) => RemoteError::Protocol(format!(
            "the answer is larger than the {} MB this client accepts",
            REPLY_LIMIT / (1024 * 1024)
        )),
        Code::DeadlineExceeded => RemoteError::Timeout(timeout),
        // tonic reports its own request timeout as a cancel; any other cancel
        // is the connection failing under the request.
        Code::Cancelled if is_timeout(&status) => RemoteError::Timeout(timeout),
        Code::Cancelled => RemoteError::Protocol(message),
        Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::ResourceExhausted
        | Code::AlreadyExists => RemoteError::Rejected(format!("{:?}: {message}", status.code())),
        Code::NotFound | Code::Unimplemented | Code::PermissionDenied | Code::Unauthenticated => {
            RemoteError::Denied(format!("{:?}: {message}", status.code()))
        }
        Code::Unknown => RemoteError::Protocol(message),
        _ => RemoteError::Server(format!("{:?}: {message}", status.code())),
    }
}

impl TritonGrpc {
    fn infer_request(&self, image: &Upload) -> Result<proto::ModelInferRequest, RemoteError> {
        Ok(proto::ModelInferRequest {
            model_name: self.model.clone(),
            model_version: self.version.clone(),
            id: image.request_id().unwrap_or_default().to_string(),
            parameters: HashMap::new(),
            inputs: vec![InferInputTensor {
                name: INPUT.into(),
                datatype: "BYTES".into(),
                shape: self.input_shape()?,
                parameters: HashMap::new(),
                contents: None,
            }],
            outputs: vec![InferRequestedOutputTensor {
                name: OUTPUT.into(),
                parameters: HashMap::new(),
            }],
            raw_input_contents: vec![image.element()?],
        })
    }
}

impl Transport for TritonGrpc {
    fn infer(&self, image: &Upload) -> Result<Vec<u8>, RemoteError> {
        // The photo is read into the message once; only a try on another
        // server reads it again, rather than every try copying it.
        let first = std::cell::Cell::new(Some(self.infer_request(image)?));
        let response = self.balanced(|mut client| {
            let message = match first.take() {
                Some(message) => message,
                None => self.infer_request(image)?,
            };
            let request = self.request(message);
            Ok(async move { client.model_infer(request).await })
        })?;
        kserve::check_answer_id(image.request_id(), Some(&response.id))?;
        let position = response
            .outputs
            .iter()
            .position(|o| o.name == OUTPUT)
            .ok_or_else(|| RemoteError::Protocol(format!("the answer has no {OUTPUT}")))?;
        if let Some(raw) = response.raw_output_contents.get(position) {
            return Ok(kserve::first_element(raw)?.to_vec());
        }
        response.outputs[position]
            .contents
            .as_ref()
            .and_then(|c| c.bytes_contents.first())
            .cloned()
            .ok_or_else(|| RemoteError::Protocol(format!("{OUTPUT} holds no bytes")))
    }

    fn check(&self) -> Vec<Check> {
        run_checks(
            || {
                if let Some(servers) = &self.servers {
                    return several_ready(&servers.report(&self.runtime));
                }
                let request = self.request(proto::ServerReadyRequest {});
                match self.call(self.client.clone().server_ready(request)) {
                    Ok(answer) if answer.ready => Ok(format!("{} is ready", self.base)),
                    Ok(_) => Err(format!("{} answers but is not ready", self.base)),
                    Err(e) => Err(e.to_string()),
                }
            },
            || {
                let ready = self.balanced(|mut client| {
                    let request = self.request(proto::ModelReadyRequest {
                        name: self.model.clone(),
                        version: self.version.clone(),
                    });
                    Ok(async move { client.model_ready(request).await })
                });
                match ready {
                    Ok(answer) if answer.ready => Ok(format!("model {} is ready", self.model)),
                    outcome => Err(format!(
                        "model {} is not ready or not loaded ({})",
                        self.model,
                        outcome.map_or_else(|e| e.to_string(), |_| "not ready".into())
                    )),
                }
            },
            || kserve::contract_check(self.metadata()),
        )
    }

    fn model_setups(&self) -> Result<Vec<ModelSetup>, RemoteError> {
        let config = |name: &str, version: &str| {
            let answer = self.balanced(|mut client| {
                let request = self.request(proto::ModelConfigRequest {
                    name: name.to_string(),
                    version: version.to_string(),
                });
                Ok(async move { client.model_config(request).await })
            })?;
            Ok(setup_of(name, &answer.config.unwrap_or_default()))
        };
        let model = config(&self.model, &self.version)?;
        with_steps(model, |step| config(step, ""))
    }
}

/// The same summary Triton's HTTP config answer gives, from the gRPC one.
fn setup_of(name: &str, config: &proto::ModelConfig) -> ModelSetup {
    use proto::model_config::SchedulingChoice;
    use proto::model_instance_group::Kind;
    let instances = config
        .instance_group
        .iter()
        .map(|group| {
            let kind = Kind::try_from(group.kind).map_or("", |k| k.as_str_name());
            model_setup::instance_text(i64::from(group.count.max(1)), kind)
        })
        .collect();
    let mut accelerators = Vec::new();
    if let Some(policy) = config
        .optimization
        .as_ref()
        .and_then(|o| o.execution_accelerators.as_ref())
    {
        for (device, list) in [
            ("GPU", &policy.gpu_execution_accelerator),
            ("CPU", &policy.cpu_execution_accelerator),
        ] {
            accelerators.extend(list.iter().map(|a| {
                let precision = a.parameters.get("precision_mode").map(String::as_str);
                model_setup::accelerator_text(&a.name, precision, device)
            }));
        }
    }
    let steps = match &config.scheduling_choice {
        Some(SchedulingChoice::EnsembleScheduling(ensemble)) => {
            ensemble.step.iter().map(|s| s.model_name.clone()).collect()
        }
        _ => Vec::new(),
    };
    ModelSetup {
        model: name.to_string(),
        backend: model_setup::backend_text(&config.platform, &config.backend),
        instances,
        accelerators,
        steps,
    }
}
