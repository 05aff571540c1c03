//! Triton over KServe v2 HTTP, with the binary-data extension so the image
//! travels as raw bytes after a small JSON header instead of inside JSON.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use super::kserve::{self, INPUT, OUTPUT, TensorInfo};
use super::{Check, RemoteAddress, RemoteError, RemoteOptions, Transport, run_checks};

const HEADER_LENGTH: &str = "Inference-Header-Content-Length";

pub struct TritonHttp {
    client: Client,
    base: String,
    model_path: String,
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
            token: options.token.clone(),
            timeout: options.timeout(),
            shape: OnceLock::new(),
        })
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.authorised(self.client.get(format!("{}{path}", self.base)))
    }

    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
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
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| RemoteError::Protocol(format!("model metadata is not JSON: {e}")))?;
        let tensors = |key: &str| -> Vec<TensorInfo> {
            value[key]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|t| TensorInfo {
                            name: t["name"].as_str().unwrap_or_default().into(),
                            datatype: t["datatype"].as_str().unwrap_or_default().into(),
                            shape: t["shape"]
                                .as_array()
                                .map(|s| s.iter().filter_map(Value::as_i64).collect())
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok((tensors("inputs"), tensors("outputs")))
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
        RemoteError::Connect(detail)
    } else {
        RemoteError::Protocol(detail)
    }
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

/// `OUTPUT_JSON` from an inference answer, binary or JSON encoded.
fn output_json(header_length: Option<usize>, body: &[u8]) -> Result<Vec<u8>, RemoteError> {
    let split = header_length.unwrap_or(body.len()).min(body.len());
    let (header, mut binary) = body.split_at(split);
    let header: Value = serde_json::from_slice(header)
        .map_err(|e| RemoteError::Protocol(format!("the answer header is not JSON: {e}")))?;
    let outputs = header["outputs"]
        .as_array()
        .ok_or_else(|| RemoteError::Protocol("the answer has no outputs".into()))?;
    for output in outputs {
        let size = output["parameters"]["binary_data_size"]
            .as_u64()
            .map(|n| n as usize);
        if output["name"] == OUTPUT {
            return match size {
                Some(size) => {
                    let raw = binary.get(..size).ok_or_else(|| {
                        RemoteError::Protocol("the answer is shorter than it says".into())
                    })?;
                    Ok(kserve::first_element(raw)?.to_vec())
                }
                None => output["data"][0]
                    .as_str()
                    .map(|s| s.as_bytes().to_vec())
                    .ok_or_else(|| RemoteError::Protocol(format!("{OUTPUT} holds no text"))),
            };
        }
        // Outputs before ours occupy the binary section in order.
        if let Some(size) = size {
            binary = binary.get(size..).unwrap_or_default();
        }
    }
    Err(RemoteError::Protocol(format!(
        "the answer has no {OUTPUT} output"
    )))
}

impl Transport for TritonHttp {
    fn infer(&self, image: &[u8]) -> Result<Vec<u8>, RemoteError> {
        let element = kserve::encode_element(image);
        let header = json!({
            "inputs": [{
                "name": INPUT,
                "shape": self.input_shape()?,
                "datatype": "BYTES",
                "parameters": {"binary_data_size": element.len()},
            }],
            "outputs": [{"name": OUTPUT, "parameters": {"binary_data": true}}],
        })
        .to_string();
        let mut body = Vec::with_capacity(header.len() + element.len());
        body.extend_from_slice(header.as_bytes());
        body.extend_from_slice(&element);
        let request = self
            .client
            .post(format!("{}{}/infer", self.base, self.model_path))
            .header(HEADER_LENGTH, header.len())
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let response = self.send(self.authorised(request))?;
        let header_length = response
            .headers()
            .get(HEADER_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = ok_body(response, INFER_REPLY_LIMIT, self.timeout)?;
        output_json(header_length, &body)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_json_answers_both_give_output_json() {
        let header = br#"{"outputs":[{"name":"OTHER","parameters":{"binary_data_size":3}},{"name":"OUTPUT_JSON","parameters":{"binary_data_size":6}}]}"#;
        let mut body = header.to_vec();
        body.extend_from_slice(b"xyz");
        body.extend_from_slice(&kserve::encode_element(b"{}"));
        assert_eq!(output_json(Some(header.len()), &body).unwrap(), b"{}");
        let json = br#"{"outputs":[{"name":"OUTPUT_JSON","data":["{\"a\":1}"]}]}"#;
        assert_eq!(output_json(None, json).unwrap(), br#"{"a":1}"#);
        assert!(output_json(None, b"<html>").is_err());
    }
}
