//! The flags that send photos to a remote server instead of the local models.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::remote::{RemoteOptions, token};

#[derive(Args, Clone, Default)]
pub struct RemoteArgs {
    /// Classify on this server instead of this machine: triton-grpc://HOST:8001,
    /// triton-http://HOST:8000 (triton-grpcs/triton-https for TLS), or a
    /// /predict gateway's http(s)://HOST:PORT. Photos are sent to it.
    /// Several triton-grpc:// servers, separated by commas, share the photos
    /// (a server that stops answering is left out until it is back).
    #[arg(long, value_name = "URL", env = "GENDERLENS_REMOTE")]
    pub remote: Option<String>,
    /// The Triton model to call [default: gender_ensemble].
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    /// The model version (default: the server's choice).
    #[arg(long, value_name = "N", default_value = "")]
    pub model_version: String,
    /// Give up on one remote request after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub remote_timeout: f64,
    /// Most requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_in_flight: usize,
    /// Extra attempts after a connection error or a 503 (never after a 4xx).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
    /// Read a bearer token from this file (default: the token saved by the
    /// app's settings, if any).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

impl RemoteArgs {
    pub fn options(&self, url: &str) -> Result<RemoteOptions> {
        let token = match &self.token_file {
            Some(path) => token::load(path)?
                .with_context(|| format!("{} holds no token", path.display()))
                .map(Some)?,
            None => match crate::settings_store::default_settings_path() {
                Some(settings) => token::load(&token::token_path(&settings))?,
                None => None,
            },
        };
        Ok(RemoteOptions {
            url: url.to_string(),
            model: self
                .model_name
                .clone()
                .unwrap_or_else(|| RemoteOptions::default().model),
            model_version: self.model_version.clone(),
            timeout_secs: self.remote_timeout,
            max_in_flight: self.max_in_flight,
            retries: self.retries,
            token,
        })
    }

    /// The remote server asked for, if any.
    pub fn chosen(&self) -> Result<Option<RemoteOptions>> {
        self.remote
            .as_deref()
            .map(|url| self.options(url))
            .transpose()
    }
}
