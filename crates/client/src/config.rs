//! The clients' configuration: `[fpt]`, `[krypton]` and `[network]`, each checked here,
//! and what they build: the TLS a client trusts and presents ([`NetworkConfig::client_tls`])
//! and its retries ([`NetworkConfig::retry_policy`]).

use std::path::PathBuf;
use std::time::Duration;

use ekyc_settings::{is_http_url, section, ConfigError};

use crate::{ClientTls, RetryPolicy};

section! {
    /// An FPT.AI-contract back end.
    pub struct FptConfig {
        /// Its address (staging: `https://web-ekyc-uat.fpt.ai`), or a branch server running
        /// the local engine.
        #[env = "EKYC_BASE_URL"]
        pub base_url: String = "https://ekyc.fpt.ai".into(),
    }
}

section! {
    /// A Krypton v3 back end.
    pub struct KryptonConfig {
        /// The Krypton server, or the bank's gateway in front of it.
        #[env = "EKYC_KRYPTON_URL"]
        pub url: Option<String> = None,
        /// A file holding the company id (a credential), readable only by its owner.
        /// `EKYC_KRYPTON_COMPANY_ID` wins.
        #[env = "EKYC_KRYPTON_COMPANY_ID_FILE"]
        pub company_id_file: Option<PathBuf> = None,
    }
}

section! {
    /// How the clients reach a back end: timeouts, retries, TLS.
    pub struct NetworkConfig {
        /// Seconds to connect.
        #[env = "EKYC_CONNECT_TIMEOUT_SECS"]
        pub connect_timeout_secs: u64 = 5,
        /// Seconds for a whole request.
        #[env = "EKYC_REQUEST_TIMEOUT_SECS"]
        pub request_timeout_secs: u64 = 30,
        /// Tries in all for a transient failure (connect error, timeout, 429, 5xx), 1–10.
        #[env = "EKYC_RETRIES"]
        pub retries: u32 = 3,
        /// The pause before the second try, doubled before each further one.
        #[env = "EKYC_RETRY_BACKOFF_MS"]
        pub retry_backoff_ms: u64 = 500,
        /// The bank's CA bundle (PEM) for HTTPS back ends.
        #[env = "EKYC_CA_FILE"]
        pub ca_file: Option<PathBuf> = None,
        /// Trust the public web's roots besides `ca_file`; `false`: only the bank's CA.
        #[env = "EKYC_WEB_ROOTS"]
        pub web_roots: bool = true,
        /// This kiosk's certificate chain (PEM) for mutual TLS.
        #[env = "EKYC_CLIENT_CERT"]
        pub client_cert: Option<PathBuf> = None,
        /// Its private key (PEM).
        #[env = "EKYC_CLIENT_KEY"]
        pub client_key: Option<PathBuf> = None,
        /// The back end is the bank's gateway, which adds the FPT.AI API key and the
        /// Krypton company id itself: this kiosk holds neither and sends no credential (it
        /// identifies itself with its client certificate).
        #[env = "EKYC_GATEWAY"]
        pub gateway: bool = false,
    }
}

impl FptConfig {
    /// Checks the address; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !is_http_url(&self.base_url) {
            return Err(ConfigError::invalid(
                "base_url",
                "must start with http:// or https://",
            ));
        }
        Ok(())
    }
}

impl KryptonConfig {
    /// Checks the address; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.url.as_deref().is_some_and(|url| !is_http_url(url)) {
            return Err(ConfigError::invalid(
                "url",
                "must start with http:// or https://",
            ));
        }
        Ok(())
    }
}

impl NetworkConfig {
    /// Checks tries, timeouts and the certificate pair; the key in the error is the
    /// section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| Err(ConfigError::invalid(key, message));
        if !(1..=10).contains(&self.retries) {
            return invalid("retries", "must be between 1 and 10 (tries in all)");
        }
        if self.connect_timeout_secs == 0 || self.request_timeout_secs == 0 {
            return invalid("request_timeout_secs", "timeouts must be at least 1 second");
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return invalid("client_cert", "client_cert and client_key go together");
        }
        Ok(())
    }

    /// The clients' TLS: the bank's CA, this kiosk's certificate.
    pub fn client_tls(&self) -> ClientTls {
        ClientTls {
            ca_file: self.ca_file.clone(),
            web_roots: self.web_roots,
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
        }
    }

    /// Tries and their pauses (the longest pause eight times the first).
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.retries,
            initial_backoff: Duration::from_millis(self.retry_backoff_ms),
            max_backoff: Duration::from_millis(self.retry_backoff_ms.saturating_mul(8)),
        }
    }

    /// The time to connect.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    /// The time for a whole request.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}
