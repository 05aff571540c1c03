//! Triton over KServe v2 HTTP, with the binary-data extension so the image
//! travels as raw bytes after a small JSON header instead of inside JSON.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::json;

use super::kserve::{self, INPUT, OUTPUT, TensorInfo};
use super::model_setup::ModelSetup;
use super::{
    Check, RemoteAddress, RemoteError, RemoteOptions, Transport, Upload, run_checks, with_steps,
};

const HEADER_LENGTH: &str = "Inference-Header-Content-Length";

pub struct TritonHttp {
    client: Client,
    base: String,
    model_path: String,
    model: String,
    token: Option<String>,
    timeout: Duration,
    /// The input shape the model's metadata asks for, learnt on first use.
    shape: OnceLock<Vec<i64>>,
}

impl TritonHttp {
    pub fn new(address: &RemoteAddress, options: &RemoteOptions) -> Result<Self, String> {
        let client = http_client(options.timeout())?;
        let model_path = match options.model_version.trim() {
            "" => format!("/v2/models/{}", options.model.trim()),
            version => format!("/v2/models/{}/versions/{version}", options.model.trim()),
        };
        Ok(Self {
            client,
            base: address.base_url(),
            model_path,
            model: options.model.trim().to_string(),
            token: options.token.clone(),
            timeout: options.timeout(),
            shape: OnceLock::new(),
        })
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.authorised(self.client.get(format!("{}{path}", self.base)))
    }

    /// The request with the token, and with the timeout as a deadline for
    /// the whole exchange: the client's own timeout applies to each read
    /// alone, so an answer dripping in a byte at a time would never end.
    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.timeout(self.timeout);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn send(&self, request: RequestBuilder) -> Result<Response, RemoteError> {
        request.send().map_err(|e| transport_error(e, self.timeout))
    }

    fn metadata(&self) -> Result<(Vec<TensorInfo>, Vec<TensorInfo>), RemoteError> {
        let response = self.send(self.get(&self.model_path))?;
        let body = ok_body(response, JSON_REPLY_LIMIT, self.timeout)?;
        kserve::metadata_tensors(&body)
    }

    fn input_shape(&self) -> Result<Vec<i64>, RemoteError> {
        kserve::learnt_shape(&self.shape, || self.metadata())
    }
}

pub fn http_client(timeout: Duration) -> Result<Client, String> {
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("GenderLens/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTP: {e}"))
}

/// Sorts reqwest's failures: refused or unreachable is retryable, too slow is not.
pub fn transport_error(error: reqwest::Error, timeout: Duration) -> RemoteError {
    if error.is_timeout() {
        return RemoteError::Timeout(timeout);
    }
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail = format!("{detail}: {cause}");
        source = cause.source();
    }
    if error.is_connect() {
        return RemoteError::Connect(detail);
    }
    if error.is_body() {
        // Only a photo streamed from disk gets here (a large one): either the
        // file failed us, or the server stopped taking it. A server that is
        // down shows up the same way, so this cannot tell it from one that
        // refuses files this large; neither is worth sending again.
        let unreadable = std::iter::successors(std::error::Error::source(&error), |e| e.source())
            .any(|e| e.is::<super::upload::FileChanged>() || e.is::<std::io::Error>());
        return if unreadable {
            RemoteError::Unreadable(detail)
        } else {
            RemoteError::Server(format!(
                "the connection closed while the photo was being sent; the server may be down, \
                 or refuse files this large ({detail})"
            ))
        };
    }
    RemoteError::Protocol(detail)
}

/// The most a JSON answer (metadata, health, an error body) may hold.
pub const JSON_REPLY_LIMIT: usize = 4 * 1024 * 1024;
/// The most an inference answer may hold: one photo's result JSON, which
/// is about a kilobyte a face.
pub const INFER_REPLY_LIMIT: usize = 16 * 1024 * 1024;

/// Reads a reply's body, but never more than `limit` bytes: a server that
/// announces or sends more gets an error, not the memory.
pub fn bounded_body(
    mut response: Response,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, RemoteError> {
    let too_large = || {
        RemoteError::Protocol(format!(
            "the answer is larger than the {} MB this client accepts",
            limit / (1024 * 1024)
        ))
    };
    if response
        .content_length()
        .is_some_and(|announced| announced > limit as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    (&mut response)
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| read_error(e, timeout))?;
    if body.len() > limit {
        return Err(too_large());
    }
    Ok(body)
}

/// A body that stopped arriving: too slow is a timeout, anything else a
/// broken answer.
fn read_error(error: std::io::Error, timeout: Duration) -> RemoteError {
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<reqwest::Error>());
    if error.kind() == std::io::ErrorKind::TimedOut || inner.is_some_and(|e| e.is_timeout()) {
        RemoteError::Timeout(timeout)
    } else {
        RemoteError::Protocol(format!("the answer broke off: {error}"))
    }
}

/// The body of a successful answer, or the server's error sorted by status.
pub fn ok_body(
    response: Response,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, RemoteError> {
    let status = response.status();
    let body = bounded_body(response, limit, timeout)?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(RemoteError::from_http_status(
            status.as_u16(),
            super::error::error_message(&body),
        ))
    }
}

impl Transport for TritonHttp {
    fn infer(&self, image: &Upload) -> Result<Vec<u8>, RemoteError> {
        let element_size = 4 + image.len();
        let mut header = json!({
            "inputs": [{
                "name": INPUT,
                "shape": self.input_shape()?,
                "datatype": "BYTES",
                "parameters": {"binary_data_size": element_size},
            }],
            "outputs": [{"name": OUTPUT, "parameters": {"binary_data": true}}],
        });
        if let Some(id) = image.request_id() {
            header["id"] = json!(id);
        }
        let header = header.to_string();
        let header_length = header.len();
        // Triton reads the image as a BYTES element right after the JSON
        // header: its length first, then the bytes.
        let mut head = header.into_bytes();
        let length = u32::try_from(image.len()).map_err(|_| {
            RemoteError::Unreadable("the file is larger than a BYTES tensor can hold".into())
        })?;
        head.extend_from_slice(&length.to_le_bytes());
        let request = self
            .client
            .post(format!("{}{}/infer", self.base, self.model_path))
            .header(HEADER_LENGTH, header_length)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(image.http_body(head, Vec::new())?);
        let response = self.send(self.authorised(request))?;
        let header_length = response
            .headers()
            .get(HEADER_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = ok_body(response, INFER_REPLY_LIMIT, self.timeout)?;
        kserve::output_json(header_length, &body, image.request_id())
    }

    fn check(&self) -> Vec<Check> {
        let ready = |path: &str| self.send(self.get(path)).map(|r| r.status());
        run_checks(
            || match ready("/v2/health/ready") {
                Ok(status) if status.is_success() => Ok(format!("{} is ready", self.base)),
                Ok(status) => Err(format!(
                    "{} answers but is not ready (HTTP {status})",
                    self.base
                )),
                Err(e) => Err(e.to_string()),
            },
            || match ready(&format!("{}/ready", self.model_path)) {
                Ok(status) if status.is_success() => Ok(format!("{} is ready", self.model_path)),
                outcome => Err(format!(
                    "{} is not ready or not loaded ({})",
                    self.model_path,
                    outcome.map_or_else(|e| e.to_string(), |status| format!("HTTP {status}"))
                )),
            },
            || kserve::contract_check(self.metadata()),
        )
    }

    fn model_setups(&self) -> Result<Vec<ModelSetup>, RemoteError> {
        let config = |path: &str, name: &str| {
            let response = self.send(self.get(&format!("{path}/config")))?;
            let body = ok_body(response, JSON_REPLY_LIMIT, self.timeout)?;
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| RemoteError::Protocol(format!("{name}'s config is not JSON ({e})")))?;
            Ok(ModelSetup::from_json(name, &value))
        };
        let model = config(&self.model_path, &self.model)?;
        with_steps(model, |step| config(&format!("/v2/models/{step}"), step))
    }
}
