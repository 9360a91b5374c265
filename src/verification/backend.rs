//! The back end a verification runs against, set up once from the configuration for the
//! kiosk and for `submit` alike: the local engine started in-process on a free loopback
//! port, or an FPT.AI-contract back end with the configured key.

use std::net::SocketAddr;

use serde::Serialize;

use std::time::Duration;

use super::{Journey, Verification};
use crate::config::{BackendKind, LoadedConfig};
use ekyc_client::{ApiError, FptClient, KryptonClient};
use ekyc_contract::Secret;
use ekyc_engine::{EngineError, EngineHandle};

/// Where verifications go (`submit --json`'s `backend`).
#[derive(Debug, Clone, Serialize)]
pub struct BackendInfo {
    /// `local` (an engine started in-process), `fpt` or `krypton`.
    pub kind: &'static str,
    pub base_url: String,
}

/// A back end ready for verifications. Holds the in-process engine, when there is one:
/// dropping the `Backend` stops it.
#[derive(Debug)]
pub struct Backend {
    pub client: FptClient,
    /// Opens Krypton sessions (AUTH, LIVENESS, ENROLL keeping a face): the local engine's
    /// own, or the configured Krypton server's; `None` for an FPT.AI back end.
    pub krypton: Option<KryptonClient>,
    /// Every verification goes through a Krypton session (`backend = "krypton"`).
    pub krypton_only: bool,
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
    /// `backend = "krypton"` with no company id.
    #[error(
        "no Krypton company id: set EKYC_KRYPTON_COMPANY_ID or krypton.company_id_file in \
         the configuration"
    )]
    NoCompanyId,
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
        matches!(self, Self::Config(_) | Self::NoApiKey | Self::NoCompanyId)
    }
}

impl Backend {
    /// The configured back end.
    pub async fn start(loaded: &LoadedConfig) -> Result<Self, BackendError> {
        let config_error =
            |error: crate::config::ConfigError| BackendError::Config(error.to_string());
        let network = &loaded.config.network;
        let gateway = network.gateway;
        let krypton_client = |url: &str, company_id: Secret| {
            KryptonClient::new(
                url,
                company_id,
                Duration::from_secs(network.connect_timeout_secs),
                Duration::from_secs(network.request_timeout_secs),
                loaded.retry_policy(),
                &loaded.client_tls(),
            )
            .map(|client| client.through_gateway(gateway))
        };
        let (engine, info, api_key, krypton) = match loaded.config.backend {
            BackendKind::Local => {
                let settings = loaded
                    .engine_settings_without_models(&[])
                    .map_err(config_error)?;
                let handle = ekyc_engine::start_loading(
                    SocketAddr::from(([127, 0, 0, 1], 0)),
                    settings,
                    loaded.engine_models(),
                )
                .await?;
                let info = BackendInfo {
                    kind: "local",
                    base_url: handle.base_url().to_owned(),
                };
                let key = handle.api_key().clone();
                let krypton = krypton_client(handle.base_url(), handle.company_id().clone())?;
                (Some(handle), info, key, Some(krypton))
            }
            BackendKind::Fpt => {
                let key = match loaded.api_key().map_err(config_error)? {
                    Some(key) => key,
                    // The gateway adds it; nothing is sent.
                    None if gateway => Secret::new(""),
                    None => return Err(BackendError::NoApiKey),
                };
                let info = BackendInfo {
                    kind: "fpt",
                    base_url: loaded.config.fpt.base_url.clone(),
                };
                (None, info, key, None)
            }
            BackendKind::Krypton => {
                // Validation made sure there is a URL.
                let url = loaded.config.krypton.url.clone().unwrap_or_default();
                let company_id = match loaded.krypton_company_id().map_err(config_error)? {
                    Some(id) => id,
                    // The gateway fills `companyId` in (sent empty).
                    None if gateway => Secret::new(""),
                    None => return Err(BackendError::NoCompanyId),
                };
                // The FPT.AI-shaped calls go to the session's krPath, with the API key
                // when one is configured (a gateway may add it instead).
                let key = loaded
                    .api_key()
                    .map_err(config_error)?
                    .unwrap_or_else(|| Secret::new(""));
                let info = BackendInfo {
                    kind: "krypton",
                    base_url: url.clone(),
                };
                (None, info, key, Some(krypton_client(&url, company_id)?))
            }
        };
        let krypton_only = loaded.config.backend == BackendKind::Krypton;
        let mut settings = loaded.fpt_settings(&info.base_url, api_key);
        // The in-process engine is no gateway: it checks the key it made.
        settings.gateway = gateway && engine.is_none();
        let client = FptClient::new(settings)?;
        Ok(Self {
            client,
            krypton,
            krypton_only,
            info,
            engine,
        })
    }

    /// A verification of `journey` on this back end; refused with the reason when the
    /// back end cannot do it (AUTH on an FPT.AI back end).
    pub fn verification(&self, journey: &Journey) -> Result<Verification, ApiError> {
        Verification::for_journey(
            self.client.clone(),
            self.krypton.as_ref(),
            journey,
            self.krypton_only,
        )
    }
}
