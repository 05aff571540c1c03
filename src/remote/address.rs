//! Where a remote backend lives, written as one URL whose scheme says how to
//! talk to it: `triton-grpc://host:8001`, `triton-http://host:8000` (with
//! `triton-grpcs`/`triton-https` for TLS), or a gateway's own
//! `http(s)://host:port` that serves `POST /predict`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::SetupError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    TritonHttp,
    TritonGrpc,
    Gateway,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Self::TritonHttp => "Triton (HTTP)",
            Self::TritonGrpc => "Triton (gRPC)",
            Self::Gateway => "/predict gateway",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAddress {
    pub protocol: Protocol,
    pub tls: bool,
    /// `host:port`, the port filled in from the scheme's default.
    pub authority: String,
    /// A gateway mounted below the root, e.g. `/genderlens`; empty otherwise.
    pub path: String,
}

pub const SCHEMES: &str = "triton-grpc://, triton-grpcs://, triton-http://, triton-https://, \
                           http:// or https:// (a /predict gateway)";

impl FromStr for RemoteAddress {
    type Err = SetupError;

    fn from_str(text: &str) -> Result<Self, SetupError> {
        let url = reqwest::Url::parse(text.trim()).map_err(|e| SetupError::NotAnAddress {
            text: text.to_string(),
            reason: e.to_string(),
        })?;
        let (protocol, tls, default_port) = match url.scheme() {
            "triton-grpc" => (Protocol::TritonGrpc, false, 8001),
            "triton-grpcs" => (Protocol::TritonGrpc, true, 8001),
            "triton-http" => (Protocol::TritonHttp, false, 8000),
            "triton-https" => (Protocol::TritonHttp, true, 8000),
            "http" => (Protocol::Gateway, false, 80),
            "https" => (Protocol::Gateway, true, 443),
            other => return Err(SetupError::UnknownScheme(other.to_string())),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| SetupError::NoHost(text.to_string()))?;
        let port = url.port().unwrap_or(default_port);
        let path = match protocol {
            Protocol::Gateway => url
                .path()
                .trim_end_matches('/')
                .trim_end_matches("/predict")
                .to_string(),
            _ => String::new(),
        };
        Ok(Self {
            protocol,
            tls,
            authority: format!("{host}:{port}"),
            path,
        })
    }
}

impl RemoteAddress {
    /// The plain http(s) base the transport connects to.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.path)
    }
}

impl fmt::Display for RemoteAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match (self.protocol, self.tls) {
            (Protocol::TritonGrpc, false) => "triton-grpc",
            (Protocol::TritonGrpc, true) => "triton-grpcs",
            (Protocol::TritonHttp, false) => "triton-http",
            (Protocol::TritonHttp, true) => "triton-https",
            (Protocol::Gateway, false) => "http",
            (Protocol::Gateway, true) => "https",
        };
        write!(f, "{scheme}://{}{}", self.authority, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_pick_protocol_tls_and_default_port() {
        let grpc: RemoteAddress = "triton-grpc://gpu-box".parse().unwrap();
        assert_eq!(
            (grpc.protocol, grpc.tls, grpc.authority.as_str()),
            (Protocol::TritonGrpc, false, "gpu-box:8001")
        );
        let https: RemoteAddress = "triton-https://10.0.0.5:9000".parse().unwrap();
        assert_eq!(https.base_url(), "https://10.0.0.5:9000");
        let gateway: RemoteAddress = "https://lens.example.org/api/predict".parse().unwrap();
        assert_eq!(gateway.protocol, Protocol::Gateway);
        assert_eq!(gateway.base_url(), "https://lens.example.org:443/api");
        assert_eq!(gateway.to_string(), "https://lens.example.org:443/api");
    }

    #[test]
    fn unknown_scheme_and_garbage_say_what_is_accepted() {
        let err = "ftp://host".parse::<RemoteAddress>().unwrap_err();
        assert_eq!(err, SetupError::UnknownScheme("ftp".into()));
        assert!(err.to_string().contains("triton-grpc://"), "{err}");
        let err = "host:8001".parse::<RemoteAddress>().unwrap_err();
        assert!(matches!(err, SetupError::UnknownScheme(_)), "{err}");
        assert!(err.to_string().contains("triton-grpc://"), "{err}");
        let err = "not a url".parse::<RemoteAddress>().unwrap_err();
        assert!(matches!(err, SetupError::NotAnAddress { .. }), "{err}");
    }
}
