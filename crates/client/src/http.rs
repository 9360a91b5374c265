//! What both clients share: the HTTP client, the retry loop (connect errors, timeouts, 429
//! and 5xx only, with bounded exponential backoff), and how a transport failure is named.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ApiError, CertificateProblem};

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first one included (at least 1).
    pub attempts: u32,
    /// Pause before the second try; doubled before each further one.
    pub initial_backoff: Duration,
    /// Longest pause between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// The pause before try number `attempt + 1`.
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Runs `call` until it succeeds, fails for good, or the tries are used up. `what`
    /// names the call in the log line of each retry.
    pub async fn run<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(error) if error.is_transient() && attempt < self.attempts => {
                    let asked = match &error {
                        ApiError::TooManyRequests { retry_after, .. } => *retry_after,
                        _ => None,
                    };
                    let pause = self.backoff_after(attempt).max(asked.unwrap_or_default());
                    tracing::warn!(
                        endpoint = what,
                        attempt,
                        kind = ?error.kind(),
                        "transient failure, trying again in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Whom the clients trust and how they identify themselves over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// The bank's CA bundle (PEM): servers signed by it are trusted.
    pub ca_file: Option<PathBuf>,
    /// Trust the public web's roots too (Mozilla's, built in). `false` with a `ca_file`:
    /// only the bank's CA.
    pub web_roots: bool,
    /// This kiosk's certificate chain and key (PEM), for servers that ask for one (mutual
    /// TLS).
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key: Option<PathBuf>,
}

impl Default for ClientTls {
    fn default() -> Self {
        Self {
            ca_file: None,
            web_roots: true,
            client_cert: None,
            client_key: None,
        }
    }
}

/// The HTTP client both back-end clients use.
pub fn http_client(
    connect_timeout: Duration,
    request_timeout: Duration,
    tls: &ClientTls,
) -> Result<reqwest::Client, ApiError> {
    let setting = |key: &str, path: &Path, reason: String| {
        ApiError::InvalidRequest(format!("{key} ({}): {reason}", path.display()))
    };
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        // A new connection for every call: a customer's verification makes three, and a
        // connection kept from the last one may be closing on the server's side as the
        // next request goes out on it, which then fails as "connection dropped" (found by
        // the soak: an expired session's new session was lost so in 19 of 30 tries of
        // `cli::an_expired_session_is_always_reported_never_a_dropped_connection`). A
        // handshake on the branch's network costs milliseconds.
        .pool_max_idle_per_host(0)
        .user_agent(concat!("ekyc-kiosk/", env!("CARGO_PKG_VERSION")))
        .tls_built_in_root_certs(tls.web_roots || tls.ca_file.is_none());
    if let Some(path) = &tls.ca_file {
        let pem = std::fs::read(path)
            .map_err(|error| setting("network.ca_file", path, error.to_string()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|error| setting("network.ca_file", path, innermost_cause(&error)))?;
        if certificates.is_empty() {
            return Err(setting(
                "network.ca_file",
                path,
                "no PEM certificate in it".into(),
            ));
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert), Some(key)) => {
            let mut pem = std::fs::read(cert)
                .map_err(|error| setting("network.client_cert", cert, error.to_string()))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key)
                    .map_err(|error| setting("network.client_key", key, error.to_string()))?,
            );
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|error| setting("network.client_cert", cert, innermost_cause(&error)))?;
            pem.iter_mut().for_each(|byte| *byte = 0);
            builder = builder.identity(identity);
        }
        (None, None) => {}
        (Some(path), None) | (None, Some(path)) => {
            return Err(setting(
                "network.client_cert",
                path,
                "client_cert and client_key go together".into(),
            ))
        }
    }
    builder
        .build()
        .map_err(|error| ApiError::InvalidRequest(format!("HTTP client: {error}")))
}

/// The largest answer read: OCR and face answers are a few KB (with crops, a few hundred);
/// a longer one is refused rather than held in memory.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Reads an answer's body up to [`MAX_ANSWER_BYTES`]; a longer one is a malformed answer
/// (not retried), read no further than the limit. HTTP 429, and 503 with a
/// `Retry-After` (a busy back end's queue is full), are [`ApiError::TooManyRequests`] with
/// that wait, whatever the body says.
pub async fn read_answer(
    mut response: reqwest::Response,
    to_error: impl Fn(reqwest::Error) -> ApiError,
) -> Result<Vec<u8>, ApiError> {
    let status = response.status().as_u16();
    let asked = retry_after(&response);
    let too_many = (status == 429 || (status == 503 && asked.is_some())).then_some(asked);
    let too_long = |bytes: &[u8]| ApiError::MalformedResponse {
        reason: format!(
            "the answer is longer than {} MB",
            MAX_ANSWER_BYTES / (1024 * 1024)
        ),
        raw: super::error::RawBody::new(bytes),
    };
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_long(&[]));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(&to_error)? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_long(&bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    match too_many {
        Some(retry_after) => Err(ApiError::TooManyRequests {
            status,
            retry_after,
            raw: super::error::RawBody::new(&bytes),
        }),
        None => Ok(bytes),
    }
}

/// The answer's `Retry-After`, in seconds (an HTTP date is not honoured, as if absent).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Maps a reqwest failure to what happened on the wire.
pub fn transport_error(error: &reqwest::Error, base_url: &str, timeout: Duration) -> ApiError {
    let reason = innermost_cause(error);
    if let Some(problem) = certificate_problem(error) {
        ApiError::Certificate {
            url: base_url.to_owned(),
            problem,
            reason,
        }
    } else if error.is_timeout() {
        ApiError::Timeout(timeout)
    } else if error.is_connect() {
        ApiError::Unreachable {
            url: base_url.to_owned(),
            reason,
        }
    } else {
        ApiError::ConnectionDropped { reason }
    }
}

/// A TLS failure that trying again cannot mend: the server's certificate, or this kiosk's.
pub fn certificate_problem(
    error: &(dyn std::error::Error + 'static),
) -> Option<CertificateProblem> {
    match tls_error_in(error)? {
        rustls::Error::InvalidCertificate(_) => Some(CertificateProblem::ServerNotTrusted),
        rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::CertificateUnknown
            | rustls::AlertDescription::CertificateExpired
            | rustls::AlertDescription::CertificateRevoked
            | rustls::AlertDescription::UnsupportedCertificate
            | rustls::AlertDescription::AccessDenied,
        ) => Some(CertificateProblem::KioskRefused),
        _ => None,
    }
}

/// The rustls error somewhere down the chain. An `io::Error`'s `source()` skips the error it
/// wraps (and reqwest's chain wraps it twice), so those are opened too.
fn tls_error_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return tls_error_in(inner);
    }
    tls_error_in(error.source()?)
}

/// reqwest's own message names the URL and little else; the cause at the bottom of the
/// chain ("Connection refused (os error 111)") is what staff need.
pub fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_bound() {
        let policy = RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let pauses: Vec<_> = (1..=4)
            .map(|attempt| policy.backoff_after(attempt))
            .collect();
        assert_eq!(
            pauses,
            [100, 200, 350, 350].map(Duration::from_millis).to_vec()
        );
    }
}
