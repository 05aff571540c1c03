//! A gateway that serves `POST /predict` (multipart field `image`) and
//! `GET /health`: `genderlens serve` or the original FastAPI gateway.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use super::triton_http::{
    INFER_REPLY_LIMIT, JSON_REPLY_LIMIT, bounded_body, http_client, ok_body, transport_error,
};
use super::{Check, RemoteAddress, RemoteError, RemoteOptions, Transport, Upload, run_checks};

pub struct Gateway {
    client: Client,
    base: String,
    token: Option<String>,
    timeout: Duration,
}

impl Gateway {
    pub fn new(address: &RemoteAddress, options: &RemoteOptions) -> Result<Self, String> {
        Ok(Self {
            client: http_client(options.timeout())?,
            base: address.base_url(),
            token: options.token.clone(),
            timeout: options.timeout(),
        })
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

    fn predict(&self, name: &str, image: &Upload) -> Result<Vec<u8>, RemoteError> {
        let form = Form::new(name);
        let mut request = self
            .client
            .post(format!("{}/predict", self.base))
            .header(reqwest::header::CONTENT_TYPE, form.content_type())
            .body(image.http_body(form.head(), form.tail())?);
        if let Some(id) = image.request_id() {
            request = request.header(crate::server::request_id::HEADER, id);
        }
        let response = self
            .authorised(request)
            .send()
            .map_err(|e| transport_error(e, self.timeout))?;
        if response.status() == reqwest::StatusCode::GATEWAY_TIMEOUT {
            return Err(RemoteError::Timeout(self.timeout));
        }
        ok_body(response, INFER_REPLY_LIMIT, self.timeout)
    }
}

/// The `image` form field around a photo, written by hand so the photo can
/// stream from disk between its head and tail. (reqwest's blocking
/// multipart streams from another thread, which hides a connection error
/// behind a body error.)
struct Form {
    boundary: String,
    filename: String,
}

impl Form {
    fn new(name: &str) -> Self {
        // A random boundary: the photo is not scanned for it, since it may
        // not be in memory. 128 random bits do not occur in it by chance.
        let random = || {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        };
        let filename = name
            .chars()
            .map(|c| if c == '"' || c.is_control() { '_' } else { c })
            .collect();
        Self {
            boundary: format!("genderlens-{:016x}{:016x}", random(), random()),
            filename,
        }
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn head(&self) -> Vec<u8> {
        format!(
            "--{}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            self.boundary, self.filename
        )
        .into_bytes()
    }

    fn tail(&self) -> Vec<u8> {
        format!("\r\n--{}--\r\n", self.boundary).into_bytes()
    }
}

/// A plain grey 64×64 PNG: no face, so a working gateway answers `no_face`.
fn probe_image() -> Vec<u8> {
    let mut png = Vec::new();
    let grey = image::GrayImage::from_pixel(64, 64, image::Luma([128]));
    let _ = grey.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png);
    png
}

impl Transport for Gateway {
    fn infer(&self, image: &Upload) -> Result<Vec<u8>, RemoteError> {
        self.predict("image", image)
    }

    fn check(&self) -> Vec<Check> {
        let health = self
            .authorised(self.client.get(format!("{}/health", self.base)))
            .send()
            .map_err(|e| transport_error(e, self.timeout))
            .map(|response| {
                let status = response.status();
                let body: Value = bounded_body(response, JSON_REPLY_LIMIT, self.timeout)
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Value::Null);
                (status, body)
            });
        let backend_ready = |(status, body): &(reqwest::StatusCode, Value)| {
            let detail = body["backend"]["detail"].as_str().unwrap_or_default();
            if status.is_success() {
                Ok(format!("the gateway's backend is ready {detail}")
                    .trim()
                    .to_string())
            } else {
                Err(format!("the gateway's backend is not ready: {detail}"))
            }
        };
        run_checks(
            || match &health {
                // 503 still proves the gateway is there; its backend is the next check.
                Ok((status, _))
                    if status.is_success()
                        || *status == reqwest::StatusCode::SERVICE_UNAVAILABLE =>
                {
                    Ok(format!("{} answers /health", self.base))
                }
                Ok((status, _)) => Err(format!("{}/health answered HTTP {status}", self.base)),
                Err(e) => Err(e.to_string()),
            },
            || {
                health
                    .as_ref()
                    .map_err(|e| e.to_string())
                    .and_then(backend_ready)
            },
            || match Upload::memory(probe_image(), u64::MAX)
                .map_err(|e| RemoteError::Unreadable(e.message))
                .and_then(|probe| self.predict("probe.png", &probe))
            {
                Ok(json) => super::answer::parse_answer(&json, 0, "probe.png".into())
                    .map(|_| "POST /predict answers with a result".to_string())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("POST /predict failed: {e}")),
            },
        )
    }
}
