//! A gateway that serves `POST /predict` (multipart field `image`) and
//! `GET /health`: `genderlens serve` or the original FastAPI gateway.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use super::triton_http::{
    INFER_REPLY_LIMIT, JSON_REPLY_LIMIT, bounded_body, http_client, ok_body, transport_error,
};
use super::{Check, RemoteAddress, RemoteError, RemoteOptions, Transport, run_checks};

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

    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn predict(&self, name: &str, image: &[u8]) -> Result<Vec<u8>, RemoteError> {
        let (content_type, body) = multipart_body(name, image);
        let request = self
            .client
            .post(format!("{}/predict", self.base))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
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

/// The `image` form field, encoded in memory. reqwest's blocking multipart
/// streams the body from another thread, and when the server cannot be
/// reached that hides the connection error behind a body error; a complete
/// body reports "connection refused" as it is.
fn multipart_body(name: &str, image: &[u8]) -> (String, Vec<u8>) {
    // The boundary must not occur inside the image.
    let mut boundary = String::from("genderlens-image-boundary-0");
    for n in 1.. {
        if !image
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
        {
            break;
        }
        boundary = format!("genderlens-image-boundary-{n}");
    }
    let filename: String = name
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = Vec::with_capacity(image.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{filename}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A plain grey 64×64 PNG: no face, so a working gateway answers `no_face`.
fn probe_image() -> Vec<u8> {
    let mut png = Vec::new();
    let grey = image::GrayImage::from_pixel(64, 64, image::Luma([128]));
    let _ = grey.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png);
    png
}

impl Transport for Gateway {
    fn infer(&self, image: &[u8]) -> Result<Vec<u8>, RemoteError> {
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
            || match self.predict("probe.png", &probe_image()) {
                Ok(json) => super::answer::parse_answer(&json, 0, "probe.png".into())
                    .map(|_| "POST /predict answers with a result".to_string())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("POST /predict failed: {e}")),
            },
        )
    }
}
