//! Classifying on another machine: a Triton server running `gender_ensemble`
//! (KServe v2 over HTTP or gRPC) or a gateway serving `POST /predict`.
//!
//! [`Remote`] puts one image through a transport with the user's limits
//! (timeout, requests in flight, retries) and always answers with an
//! [`ImageResult`], so batches, the GUI, the CLI and export treat remote
//! results exactly like local ones.

pub mod address;
pub mod answer;
pub mod batch;
pub mod error;
mod gateway;
pub mod kserve;
mod limiter;
pub mod model_setup;
pub mod token;
mod triton_grpc;
mod triton_http;
pub mod upload;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use address::{Protocol, RemoteAddress};
pub use error::{RemoteError, SetupError};
pub use upload::Upload;

use crate::postprocess::ImageResult;
use limiter::Limiter;

/// Everything needed to reach a remote backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteOptions {
    pub url: String,
    /// The Triton model to call (ignored by a gateway).
    pub model: String,
    /// Empty for the server's choice.
    pub model_version: String,
    pub timeout_secs: f64,
    pub max_in_flight: usize,
    /// Extra attempts after a connection error or a 503.
    pub retries: u32,
    /// Sent as `Authorization: Bearer …`; kept out of the settings JSON, in
    /// its own file readable only by the user (see [`token`]).
    #[serde(skip)]
    pub token: Option<String>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            url: "triton-grpc://localhost:8001".into(),
            model: "gender_ensemble".into(),
            model_version: String::new(),
            timeout_secs: 30.0,
            max_in_flight: 8,
            retries: 2,
            token: None,
        }
    }
}

impl RemoteOptions {
    /// The first server; results and messages name the servers by it.
    pub fn address(&self) -> Result<RemoteAddress, SetupError> {
        self.addresses()?
            .into_iter()
            .next()
            .ok_or(SetupError::NoAddress)
    }

    /// Every server `url` names: one address, or several Triton gRPC
    /// addresses separated by commas or spaces, to be balanced.
    pub fn addresses(&self) -> Result<Vec<RemoteAddress>, SetupError> {
        let addresses = self
            .url
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<RemoteAddress>, _>>()?;
        if let Some(twice) = addresses
            .iter()
            .enumerate()
            .find(|(i, a)| addresses[..*i].contains(a))
        {
            return Err(SetupError::Twice(twice.1.to_string()));
        }
        match addresses.as_slice() {
            [] => Err(SetupError::NoAddress),
            [_] => Ok(addresses),
            several if several.iter().all(|a| a.protocol == Protocol::TritonGrpc) => Ok(addresses),
            _ => Err(SetupError::SeveralNeedGrpc),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs.clamp(0.1, 3600.0))
    }

    pub fn validate(&self) -> Result<(), SetupError> {
        self.addresses()?;
        if self.model.trim().is_empty() {
            return Err(SetupError::EmptyModel);
        }
        if self.timeout_secs.is_nan() || self.timeout_secs <= 0.0 {
            return Err(SetupError::Timeout(self.timeout_secs));
        }
        if self.max_in_flight == 0 || self.max_in_flight > 256 {
            return Err(SetupError::InFlight(self.max_in_flight));
        }
        Ok(())
    }
}

/// One step of "Test connection".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub message: String,
}

impl Check {
    fn pass(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            message: message.into(),
        }
    }

    fn fail(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            ok: false,
            message: message.into(),
        }
    }
}

pub const CHECK_SERVER: &str = "server ready";
pub const CHECK_MODEL: &str = "model ready";
pub const CHECK_CONTRACT: &str = "model contract";

/// How one kind of server is spoken to.
trait Transport: Send + Sync {
    /// One encoded image in, the result JSON out.
    fn infer(&self, image: &Upload) -> Result<Vec<u8>, RemoteError>;
    /// Server ready, model ready, model contract, in that order; later
    /// checks are skipped (failed with a reason) once one fails.
    fn check(&self) -> Vec<Check>;
    /// How the server runs the model and, for an ensemble, each of its
    /// steps; nothing where the server does not say (a gateway).
    fn model_setups(&self) -> Result<Vec<model_setup::ModelSetup>, RemoteError> {
        Ok(Vec::new())
    }
}

/// The model's setup, then each of its steps' when it is an ensemble.
fn with_steps(
    model: model_setup::ModelSetup,
    step: impl Fn(&str) -> Result<model_setup::ModelSetup, RemoteError>,
) -> Result<Vec<model_setup::ModelSetup>, RemoteError> {
    let mut setups = Vec::new();
    for name in &model.steps {
        setups.push(step(name)?);
    }
    setups.insert(0, model);
    Ok(setups)
}

/// A remote backend with the user's limits applied.
pub struct Remote {
    address: RemoteAddress,
    /// Every server, for messages: one address, or several joined by ", ".
    servers: String,
    options: RemoteOptions,
    transport: Box<dyn Transport>,
    limiter: Limiter,
}

impl Remote {
    pub fn connect(options: RemoteOptions) -> Result<Self, SetupError> {
        options.validate()?;
        let address = options.address()?;
        let transport: Box<dyn Transport> = match address.protocol {
            Protocol::TritonHttp => Box::new(
                triton_http::TritonHttp::new(&address, &options).map_err(SetupError::Client)?,
            ),
            Protocol::TritonGrpc => Box::new(
                triton_grpc::TritonGrpc::new(&options.addresses()?, &options)
                    .map_err(SetupError::Client)?,
            ),
            Protocol::Gateway => {
                Box::new(gateway::Gateway::new(&address, &options).map_err(SetupError::Client)?)
            }
        };
        let servers = options
            .addresses()?
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Self {
            limiter: Limiter::new(options.max_in_flight),
            servers,
            address,
            options,
            transport,
        })
    }

    pub fn address(&self) -> &RemoteAddress {
        &self.address
    }

    pub fn options(&self) -> &RemoteOptions {
        &self.options
    }

    /// Every server photos go to, as messages name them.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// What results record as their backend, e.g.
    /// `remote:triton-grpc://gpu:8001/gender_ensemble`, with every server
    /// when there are several (`remote:triton-grpc://a:8001,triton-grpc://b:8001/…`).
    pub fn provenance(&self) -> String {
        let servers = self.options.addresses().map_or_else(
            |_| self.address.to_string(),
            |all| {
                all.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            },
        );
        match self.address.protocol {
            Protocol::Gateway => format!("remote:{servers}"),
            _ => format!("remote:{servers}/{}", self.options.model),
        }
    }

    /// Classifies one image; every failure becomes that image's error result.
    pub fn classify(&self, index: usize, path: PathBuf, image: &Upload) -> ImageResult {
        match self
            .try_classify(image)
            .and_then(|json| answer::parse_answer(&json, index, path.clone()))
        {
            Ok(result) => result,
            Err(e) => ImageResult::failed(index, path, e.into_photo_error(&self.servers)),
        }
    }

    /// The raw result JSON, after retries.
    pub fn try_classify(&self, image: &Upload) -> Result<Vec<u8>, RemoteError> {
        let _slot = self.limiter.acquire();
        let mut attempt = 0;
        loop {
            match self.transport.infer(image) {
                Err(e) if e.is_retryable() && attempt < self.options.retries => {
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    pub fn check(&self) -> Vec<Check> {
        self.transport.check()
    }

    /// How the server runs the model and its steps, as their configs declare it.
    pub fn model_setups(&self) -> Result<Vec<model_setup::ModelSetup>, RemoteError> {
        self.transport.model_setups()
    }
}

/// 0.25 s, 0.5 s, 1 s … capped at 4 s: long enough for a restarting server.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(4))).min(Duration::from_secs(4))
}

/// One step of [`run_checks`]: the message to show, `Ok` when it passed.
type CheckStep<'a> = Box<dyn FnOnce() -> Result<String, String> + 'a>;

/// Runs server ready, model ready and model contract in that order; once one
/// fails, the later ones are reported as not checked. Each step answers with
/// the message to show, as `Ok` when it passed.
fn run_checks(
    server: impl FnOnce() -> Result<String, String>,
    model: impl FnOnce() -> Result<String, String>,
    contract: impl FnOnce() -> Result<String, String>,
) -> Vec<Check> {
    let steps: [(&'static str, CheckStep<'_>); 3] = [
        (CHECK_SERVER, Box::new(server)),
        (CHECK_MODEL, Box::new(model)),
        (CHECK_CONTRACT, Box::new(contract)),
    ];
    let mut checks = Vec::new();
    let mut failed = false;
    for (name, step) in steps {
        checks.push(if failed {
            Check::fail(name, "not checked: an earlier check failed")
        } else {
            match step() {
                Ok(message) => Check::pass(name, message),
                Err(message) => {
                    failed = true;
                    Check::fail(name, message)
                }
            }
        });
    }
    checks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_servers_are_grpc_ones_separated_by_commas_or_spaces() {
        let with = |url: &str| RemoteOptions {
            url: url.into(),
            ..RemoteOptions::default()
        };
        let two = with("triton-grpc://a:8001, triton-grpc://b:9001")
            .addresses()
            .unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].authority, "b:9001");
        assert_eq!(
            with("triton-grpc://a triton-grpc://b")
                .address()
                .unwrap()
                .authority,
            "a:8001"
        );
        assert_eq!(
            with("triton-http://a,triton-http://b").addresses(),
            Err(SetupError::SeveralNeedGrpc)
        );
        assert_eq!(
            with("triton-grpc://a,http://gateway").validate(),
            Err(SetupError::SeveralNeedGrpc)
        );
        assert_eq!(with(" , ").addresses(), Err(SetupError::NoAddress));
        assert_eq!(
            with("triton-grpc://a, triton-grpc://a:8001").addresses(),
            Err(SetupError::Twice("triton-grpc://a:8001".into()))
        );
    }

    #[test]
    fn checks_after_a_failure_are_not_run() {
        let checks = run_checks(
            || Ok("up".into()),
            || Err("model gone".into()),
            || panic!("the contract must not be checked"),
        );
        let summary: Vec<_> = checks.iter().map(|c| (c.name, c.ok)).collect();
        assert_eq!(
            summary,
            [
                (CHECK_SERVER, true),
                (CHECK_MODEL, false),
                (CHECK_CONTRACT, false)
            ]
        );
        assert!(checks[2].message.contains("not checked"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(10), Duration::from_secs(4));
    }

    #[test]
    fn options_are_validated_with_clear_messages() {
        let ok = RemoteOptions::default();
        assert_eq!(ok.validate(), Ok(()));
        let bad = RemoteOptions {
            max_in_flight: 0,
            ..RemoteOptions::default()
        };
        assert_eq!(bad.validate(), Err(SetupError::InFlight(0)));
        let bad = RemoteOptions {
            url: "localhost:8001".into(),
            ..RemoteOptions::default()
        };
        let error = bad.validate().unwrap_err();
        assert_eq!(error, SetupError::UnknownScheme("localhost".into()));
        assert!(error.to_string().contains("triton-grpc://"));
    }
}
