//! The back end a verification runs against, set up once from the configuration for the
//! kiosk and for `submit` alike: the local engine started in-process on a free loopback
//! port, or an FPT.AI-contract back end with the configured key.

use std::net::SocketAddr;

use serde::Serialize;

use crate::api::{ApiError, FptClient};
use crate::config::{Backend as BackendKind, LoadedConfig};
use crate::engine::{self, EngineError, EngineHandle};

/// Where verifications go (`submit --json`'s `backend`).
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// `local` (an engine started in-process) or `fpt`.
    pub kind: &'static str,
    pub base_url: String,
}

/// A back end ready for verifications. Holds the in-process engine, when there is one:
/// dropping the `Backend` stops it.
#[derive(Debug)]
pub struct Backend {
    pub client: FptClient,
    pub info: BackendInfo,
    pub engine: Option<EngineHandle>,
}

/// The back end cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The configuration does not allow it (an unreadable key file, …).
    #[error("{0}")]
    Config(String),
    /// `backend = "fpt"` with no key.
    #[error(
        "no API key for the FPT.AI back end: set EKYC_API_KEY or api_key_file in the configuration"
    )]
    NoApiKey,
    /// `backend = "krypton"`: it only opens sessions.
    #[error(
        "verifications speak the FPT.AI contract (OCR and face); Krypton v3 only opens \
         sessions (see `ekyc-kiosk krypton-session`). Set backend to \"local\" or \"fpt\" \
         (or give `submit` a --base-url)"
    )]
    KryptonOnlyOpensSessions,
    /// The in-process engine did not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The HTTP client could not be made.
    #[error(transparent)]
    Client(#[from] ApiError),
}

impl BackendError {
    /// The configuration is at fault (staff must change it), not the machine.
    pub fn is_bad_configuration(&self) -> bool {
        matches!(
            self,
            Self::Config(_) | Self::NoApiKey | Self::KryptonOnlyOpensSessions
        )
    }
}

impl Backend {
    /// The configured back end.
    pub async fn start(loaded: &LoadedConfig) -> Result<Self, BackendError> {
        let (engine, info, api_key) = match loaded.config.backend {
            BackendKind::Local => {
                let settings = loaded
                    .engine_settings(&[])
                    .map_err(|error| BackendError::Config(error.to_string()))?;
                let handle = engine::start(SocketAddr::from(([127, 0, 0, 1], 0)), settings).await?;
                let info = BackendInfo {
                    kind: "local",
                    base_url: handle.base_url().to_owned(),
                };
                let key = handle.api_key().clone();
                (Some(handle), info, key)
            }
            BackendKind::Fpt => {
                let key = loaded
                    .api_key()
                    .map_err(|error| BackendError::Config(error.to_string()))?
                    .ok_or(BackendError::NoApiKey)?;
                let info = BackendInfo {
                    kind: "fpt",
                    base_url: loaded.config.fpt.base_url.clone(),
                };
                (None, info, key)
            }
            BackendKind::Krypton => return Err(BackendError::KryptonOnlyOpensSessions),
        };
        let client = FptClient::new(loaded.fpt_settings(&info.base_url, api_key))?;
        Ok(Self {
            client,
            info,
            engine,
        })
    }
}
