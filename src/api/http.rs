//! What both clients share: the HTTP client, the retry loop (connect errors, timeouts, 429
//! and 5xx only, with bounded exponential backoff), and how a transport failure is named.

use std::future::Future;
use std::time::Duration;

use super::error::ApiError;

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
                    let pause = self.backoff_after(attempt);
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

/// The HTTP client both back-end clients use.
pub fn http_client(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .user_agent(concat!("ekyc-kiosk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| ApiError::InvalidRequest(format!("HTTP client: {error}")))
}

/// Maps a reqwest failure to what happened on the wire.
pub fn transport_error(error: &reqwest::Error, base_url: &str, timeout: Duration) -> ApiError {
    let reason = innermost_cause(error);
    if error.is_timeout() {
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

/// reqwest's own message names the URL and little else; the cause at the bottom of the
/// chain ("Connection refused (os error 111)") is what staff need.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
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
