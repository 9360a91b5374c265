//! The report the bank's onboarding system receives for each finished verification: the
//! `submit --json` object, the staff decision, the kiosk and staff ids and the times,
//! signed with HMAC-SHA256.
//!
//! The receiver checks, for each POST to `report.webhook_url`:
//! - `X-Ekyc-Timestamp`: Unix seconds when it was signed (reject one far from now);
//! - `X-Ekyc-Signature`: `sha256=` and the lowercase hex HMAC-SHA256, under the shared key,
//!   of the timestamp, a full stop, and the body's bytes exactly as received;
//! - `Idempotency-Key`: the report's id; a retry carries the same one, so a report is
//!   acted on once however often it arrives.
//!
//! A 2xx answer is the bank's acknowledgement: the report leaves the [`outbox`], where it
//! waited (sealed, retried) until then. Staff can also save a result as one page of PDF
//! ([`pdf`]).

pub mod outbox;
pub mod pdf;

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::staff::Decision;
use ekyc_reading::CardDate;
use ekyc_secrets::check_owner_only;

/// Version of the report's JSON object.
pub const REPORT_SCHEMA: &str = "ekyc-kiosk/report/1";
pub const TIMESTAMP_HEADER: &str = "X-Ekyc-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Ekyc-Signature";
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// A signing key shorter than this is refused (HMAC-SHA256's block is 64 bytes; 32 random
/// bytes is what `openssl rand -hex 32` gives).
pub const MIN_KEY_BYTES: usize = 32;

/// One finished verification, as the bank's system receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    pub schema: String,
    /// Random, unique: also the `Idempotency-Key`.
    pub report_id: String,
    /// `desk.kiosk_id` (else `client_uuid`, else the host's name).
    pub kiosk_id: String,
    /// The member of staff who decided (`staff.id`), when one did.
    pub staff_id: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: Option<String>,
    pub finished_at: String,
    pub decided_at: Option<String>,
    pub decision: Option<Decision>,
    /// The `submit --json` object (schema `ekyc-kiosk/submit/1`).
    pub verification: serde_json::Value,
}

impl VerificationReport {
    pub fn new(kiosk_id: &str, verification: serde_json::Value) -> Self {
        Self {
            schema: REPORT_SCHEMA.into(),
            report_id: uuid::Uuid::new_v4().to_string(),
            kiosk_id: kiosk_id.to_owned(),
            staff_id: None,
            started_at: None,
            finished_at: rfc3339(crate::records::attempts::now_ms()),
            decided_at: None,
            decision: None,
            verification,
        }
    }

    /// The staff decision, stamped now.
    pub fn decided(mut self, decision: Decision, staff_id: Option<String>) -> Self {
        self.decided_at = Some(rfc3339(crate::records::attempts::now_ms()));
        self.decision = Some(decision);
        self.staff_id = staff_id;
        self
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the Unix epoch.
pub fn rfc3339(ms: u64) -> String {
    let seconds = ms / 1000;
    let date = CardDate::from_days_since_epoch((seconds / 86_400) as i64);
    let in_day = seconds % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year,
        date.month,
        date.day,
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        ms % 1000
    )
}

/// The key the reports are signed with, read from a file only its owner can read.
#[derive(Clone)]
pub struct SigningKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Reads `path`: refused when others can read it, when it cannot be read, or when it
    /// holds fewer than [`MIN_KEY_BYTES`] bytes (surrounding white space ignored). The
    /// message says what to do.
    pub fn read(path: &Path) -> Result<Self, String> {
        check_owner_only(path).map_err(|error| error.to_string())?;
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|error| format!("cannot read it: {error}"))?,
        );
        let key = bytes.trim_ascii();
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "it holds {} bytes; a signing key needs at least {MIN_KEY_BYTES} (make one \
                 with `openssl rand -hex 32 > {}` and give the bank the same)",
                key.len(),
                path.display()
            ));
        }
        Ok(Self(Zeroizing::new(key.to_vec())))
    }

    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// `sha256=` and the hex HMAC-SHA256 of `timestamp`, `.` and `body`.
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!(
            "sha256={}",
            ekyc_secrets::lower_hex(&mac.finalize().into_bytes())
        )
    }

    /// Whether `signature` is this key's over `timestamp` and `body` (constant time).
    pub fn verify(&self, timestamp: u64, body: &[u8], signature: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign(timestamp, body);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }
}
ekyc_settings::section! {
    /// The report to the bank's onboarding system.
    pub struct ReportConfig {
        /// Where each finished verification is POSTed: `https://` (the bank's CA is
        /// `network.ca_file`), or `http://` on this machine's loopback only. Unset: no
        /// report.
        #[env = "EKYC_WEBHOOK_URL"]
        pub webhook_url: Option<String> = None,
        /// Allow a plain `http://` webhook beyond loopback: customers' data in clear on
        /// the bank's network (warned at every start). Off: refused.
        #[env = "EKYC_REPORT_INSECURE_HTTP"]
        pub insecure_http: bool = false,
        /// The HMAC-SHA256 signing key, shared with the bank (at least 32 bytes, mode 0600).
        #[env = "EKYC_REPORT_KEY_FILE"]
        pub key_file: Option<std::path::PathBuf> = None,
        /// The first wait after a failed delivery (ms), doubled each time up to
        /// `retry_max_secs`.
        #[env = "EKYC_REPORT_RETRY_FIRST_MS"]
        pub retry_first_ms: u64 = 5000,
        /// The longest wait between two deliveries, in seconds.
        #[env = "EKYC_REPORT_RETRY_MAX_SECS"]
        pub retry_max_secs: u64 = 600,
        /// A report undelivered this many hours alerts staff.
        #[env = "EKYC_REPORT_ALERT_AFTER_HOURS"]
        pub alert_after_hours: u64 = 24,
    }
}

impl ReportConfig {
    /// Checks that a webhook has an address and its key; the key in the error is the
    /// section's own.
    pub fn validate(&self) -> Result<(), ekyc_settings::ConfigError> {
        if let Some(url) = &self.webhook_url {
            if !ekyc_settings::is_http_url(url) {
                return Err(ekyc_settings::ConfigError::invalid(
                    "webhook_url",
                    "must be an https:// address",
                ));
            }
            if plain_http_beyond_loopback(url) && !self.insecure_http {
                return Err(ekyc_settings::ConfigError::invalid(
                    "webhook_url",
                    "must be an https:// address: reports carry customers' data (plain \
                     http:// only to this machine's loopback, or with report.insecure_http = \
                     true)",
                ));
            }
            if self.key_file.is_none() {
                return Err(ekyc_settings::ConfigError::invalid(
                    "key_file",
                    "a webhook needs its signing key file (shared with the bank)",
                ));
            }
        }
        Ok(())
    }

    /// The waits between deliveries.
    pub fn backoff(&self) -> outbox::Backoff {
        outbox::Backoff {
            first: std::time::Duration::from_millis(self.retry_first_ms.max(10)),
            max: std::time::Duration::from_secs(self.retry_max_secs.max(1))
                .max(std::time::Duration::from_millis(self.retry_first_ms)),
        }
    }

    /// The outbox in `state` (sealed under `outbox_key_file`) and where it delivers, over
    /// `client`; `Ok(None)` without `webhook_url`. A signing key file that is missing,
    /// readable by others or too short is refused.
    pub fn outbox(
        &self,
        client: impl FnOnce() -> Result<reqwest::Client, ekyc_settings::ConfigError>,
        state: Option<crate::records::StateDb>,
        outbox_key_file: impl FnOnce(&crate::records::StateDb) -> std::path::PathBuf,
    ) -> Result<Option<(outbox::Outbox, outbox::Webhook)>, ekyc_settings::ConfigError> {
        use ekyc_settings::ConfigError;
        let Some(url) = self.webhook_url.clone() else {
            return Ok(None);
        };
        if plain_http_beyond_loopback(&url) {
            tracing::warn!(
                "INSECURE: reports go to the bank's system in plain HTTP ({url}): customers' \
                 data crosses the network unencrypted (report.insecure_http)"
            );
        }
        let key_path = self.key_file.clone().ok_or(ConfigError::invalid(
            "report.key_file",
            "a webhook needs its signing key file",
        ))?;
        let key =
            SigningKey::read(&key_path).map_err(|why| ConfigError::secret_file(&key_path, why))?;
        let client = client()?;
        let state = state.ok_or(ConfigError::invalid(
            "desk.state_db",
            "no data folder known (HOME unset): set desk.state_db",
        ))?;
        let key_file = outbox_key_file(&state);
        let outbox = outbox::Outbox::open(state, &key_file, self.backoff())
            .map_err(|why| ConfigError::secret_file(&key_file, why))?;
        Ok(Some((outbox, outbox::Webhook { url, client, key })))
    }
}

/// `http://` to anything but this machine's loopback (`127.0.0.0/8`, `::1`, `localhost`).
fn plain_http_beyond_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    !loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_loopback() {
        for url in [
            "http://127.0.0.1:8080/reports",
            "http://[::1]:9/r",
            "http://localhost/reports",
            "https://onboarding.bank.example/r",
        ] {
            assert!(!plain_http_beyond_loopback(url), "{url}");
        }
        for url in [
            "http://onboarding.bank.example/r",
            "http://10.1.2.3:8080/reports",
            "http://127.0.0.1.bank.example/r",
        ] {
            assert!(plain_http_beyond_loopback(url), "{url}");
        }
    }
}
