//! The outbox: each report waits here, sealed, until the bank's system acknowledged it.
//!
//! - **Durable**: a table of the kiosk's state database ([`StateDb`]), written before any
//!   attempt to send, so a report survives a crash, a power cut or a restart.
//! - **Sealed**: the body (it holds the customer's name and number) is encrypted with
//!   XChaCha20-Poly1305 under the outbox key (`desk.outbox_key_file`, 64 hex digits, only
//!   its owner reads it; made on first use), bound to its report id.
//! - **Retried** with doubling waits (`report.retry_first_secs` up to
//!   `report.retry_max_secs`); every try carries the same `Idempotency-Key` and the same
//!   bytes, so the receiver acts once. Deleted on a 2xx.
//! - A report still here after `report.alert_after_hours` is shown to staff as an alert.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use zeroize::Zeroizing;

use ekyc_secrets::{SealError, Sealer};

use super::{
    SigningKey, VerificationReport, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::records::attempts::now_ms;
use crate::records::state::{StateDb, StateError};

/// Report id → (queued at ms, tries, next try at ms, nonce and sealed body).
const OUTBOX: TableDefinition<&str, (u64, u32, u64, &[u8])> = TableDefinition::new("outbox");

/// The waits between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The wait after the `tries`-th failed try (1, 2, …): first, doubled each time, at
    /// most max.
    pub fn after(&self, tries: u32) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1u32 << tries.saturating_sub(1).min(20));
        doubled.min(self.max)
    }
}

/// Where reports go: the bank's address, the client (the bank's CA, this kiosk's
/// certificate) and the signing key.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub client: reqwest::Client,
    pub key: SigningKey,
}

/// What one try came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A 2xx: the bank has it.
    Acknowledged(u16),
    /// Another status: kept, tried again later.
    Refused(u16),
    /// No answer (down, timeout, TLS): kept, tried again later.
    Failed(String),
}

/// POSTs `body` (a report's JSON) once, signed now.
pub async fn send(webhook: &Webhook, report_id: &str, body: &[u8]) -> Delivery {
    let timestamp = now_ms() / 1000;
    let answer = webhook
        .client
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, webhook.key.sign(timestamp, body))
        .header(IDEMPOTENCY_HEADER, report_id)
        .body(body.to_vec())
        .send()
        .await;
    match answer {
        Ok(answer) if answer.status().is_success() => {
            Delivery::Acknowledged(answer.status().as_u16())
        }
        Ok(answer) => Delivery::Refused(answer.status().as_u16()),
        Err(error) => Delivery::Failed(failure_in_words(&error)),
    }
}

/// Why a report could not be sent, for staff: a certificate problem says what to mend.
fn failure_in_words(error: &reqwest::Error) -> String {
    let cause = ekyc_client::innermost_cause(error);
    match ekyc_client::certificate_problem(error) {
        Some(ekyc_client::CertificateProblem::ServerNotTrusted) => format!(
            "the bank's system's certificate is not trusted by this kiosk: its CA must be the \
             bank's CA given as network.ca_file ({cause})"
        ),
        Some(ekyc_client::CertificateProblem::KioskRefused) => format!(
            "the bank's system refused this kiosk's certificate: check network.client_cert \
             and network.client_key ({cause})"
        ),
        None => cause,
    }
}

/// How the outbox stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    pub waiting: u64,
    /// When the oldest waiting report was queued (ms since the epoch).
    pub oldest_ms: Option<u64>,
    /// When the next try is due.
    pub next_try_ms: Option<u64>,
}

impl OutboxStatus {
    /// A report has waited longer than `limit`.
    pub fn overdue(&self, limit: Duration, now_ms: u64) -> bool {
        self.oldest_ms
            .is_some_and(|oldest| now_ms.saturating_sub(oldest) >= limit.as_millis() as u64)
    }
}

/// One pass over the reports due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub delivered: u64,
    pub failed: u64,
    /// Left in the outbox after the pass.
    pub waiting: u64,
    /// Why the last report not delivered was not (a status, or the sentence of
    /// [`Delivery::Failed`]).
    pub problem: Option<String>,
}

#[derive(Clone)]
pub struct Outbox {
    state: StateDb,
    sealer: Arc<Sealer>,
    backoff: Backoff,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Outbox")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// The outbox in `state`, sealed under the key in `key_file` (made when missing, unless
    /// reports already wait: they could not be opened under a new key).
    pub fn open(state: StateDb, key_file: &Path, backoff: Backoff) -> Result<Self, String> {
        let describe = |message: String| format!("outbox key {}: {message}", key_file.display());
        let outbox_has_reports = !key_file.exists()
            && state
                .read_table(OUTBOX, |table| Ok(table.len()? > 0))
                .map_err(|error| error.to_string())?;
        if outbox_has_reports {
            return Err(describe(
                "it is missing, and reports wait sealed under it: restore it".into(),
            ));
        }
        let key = Zeroizing::new(
            ekyc_secrets::read_or_make_key_file(key_file, "outbox")
                .map_err(|error| describe(error.to_string()))?,
        );
        Ok(Self {
            state,
            sealer: Arc::new(Sealer::new(&key)),
            backoff,
        })
    }

    fn seal(&self, body: &[u8], report_id: &str) -> Result<Vec<u8>, String> {
        self.sealer
            .seal(body, report_id.as_bytes())
            .map_err(|error| match error {
                SealError::Failed => "cannot seal the report".to_owned(),
                other => other.to_string(),
            })
    }

    fn open_sealed(&self, sealed: &[u8], report_id: &str) -> Option<Zeroizing<Vec<u8>>> {
        self.sealer.open(sealed, report_id.as_bytes())
    }

    /// Queues `report`, due now. Its JSON is made once: every try sends the same bytes.
    pub fn put(&self, report: &VerificationReport) -> Result<(), StateError> {
        let body = Zeroizing::new(serde_json::to_vec(report).unwrap_or_default());
        let sealed = self
            .seal(&body, &report.report_id)
            .map_err(|message| StateError {
                path: self.state.path().to_path_buf(),
                message,
            })?;
        let now = now_ms();
        self.state.write(|transaction| {
            let mut table = transaction.open_table(OUTBOX)?;
            table.insert(report.report_id.as_str(), (now, 0, now, sealed.as_slice()))?;
            Ok(())
        })
    }

    pub fn status(&self) -> Result<OutboxStatus, StateError> {
        self.state.read_table(OUTBOX, |table| {
            let mut status = OutboxStatus::default();
            for entry in table.iter()? {
                let (_, value) = entry?;
                let (queued, _, next, _) = value.value();
                status.waiting += 1;
                status.oldest_ms = Some(status.oldest_ms.map_or(queued, |old| old.min(queued)));
                status.next_try_ms = Some(status.next_try_ms.map_or(next, |old| old.min(next)));
            }
            Ok(status)
        })
    }

    /// Tries every report due now (each at most once); deletes the acknowledged ones and
    /// sets the next try of the others.
    pub async fn deliver_due(&self, webhook: &Webhook) -> Result<Round, StateError> {
        self.deliver(webhook, now_ms()).await
    }

    /// Tries every waiting report once, due or not (`outbox deliver`).
    pub async fn deliver_everything_now(&self, webhook: &Webhook) -> Result<Round, StateError> {
        self.deliver(webhook, u64::MAX).await
    }

    async fn deliver(&self, webhook: &Webhook, due_by: u64) -> Result<Round, StateError> {
        let now = now_ms();
        let due = self.state.read_table(OUTBOX, |table| {
            let mut due = Vec::new();
            for entry in table.iter()? {
                let (id, value) = entry?;
                let (_, tries, next, sealed) = value.value();
                if next <= due_by {
                    due.push((id.value().to_owned(), tries, sealed.to_vec()));
                }
            }
            Ok(due)
        })?;
        let mut round = Round::default();
        for (id, tries, sealed) in due {
            let Some(body) = self.open_sealed(&sealed, &id) else {
                tracing::error!(
                    report = %id,
                    "a report in the outbox cannot be opened with the outbox key (another \
                     key, or a damaged file): kept, not sent"
                );
                round.failed += 1;
                continue;
            };
            match send(webhook, &id, &body).await {
                Delivery::Acknowledged(status) => {
                    self.state.write(|transaction| {
                        transaction.open_table(OUTBOX)?.remove(id.as_str())?;
                        Ok(())
                    })?;
                    tracing::info!(report = %id, status, tries = tries + 1, "report delivered");
                    round.delivered += 1;
                }
                failure => {
                    let tries = tries + 1;
                    let next = now_ms() + self.backoff.after(tries).as_millis() as u64;
                    self.state.write(|transaction| {
                        let mut table = transaction.open_table(OUTBOX)?;
                        let queued = table.get(id.as_str())?.map_or(now, |value| value.value().0);
                        table.insert(id.as_str(), (queued, tries, next, sealed.as_slice()))?;
                        Ok(())
                    })?;
                    tracing::warn!(report = %id, tries, ?failure, "report not delivered yet");
                    round.failed += 1;
                    round.problem = Some(match failure {
                        Delivery::Refused(status) => {
                            format!("the bank's system answered HTTP {status}")
                        }
                        Delivery::Failed(why) => why,
                        Delivery::Acknowledged(_) => String::new(),
                    });
                }
            }
        }
        round.waiting = self.status()?.waiting;
        Ok(round)
    }

    /// Delivers in the background for as long as the runtime lives: at once, when woken
    /// (a new report), and when the next try is due.
    pub fn start_courier(
        &self,
        runtime: &tokio::runtime::Handle,
        webhook: Webhook,
    ) -> Arc<tokio::sync::Notify> {
        let wake = Arc::new(tokio::sync::Notify::new());
        let (outbox, woken) = (self.clone(), wake.clone());
        runtime.spawn(async move {
            loop {
                if let Err(error) = outbox.deliver_due(&webhook).await {
                    tracing::warn!("outbox: {error}");
                }
                let wait = match outbox.status() {
                    Ok(OutboxStatus {
                        next_try_ms: Some(next),
                        ..
                    }) => Duration::from_millis(next.saturating_sub(now_ms())),
                    _ => Duration::from_secs(60),
                };
                tokio::select! {
                    () = tokio::time::sleep(wait.clamp(Duration::from_millis(20), Duration::from_secs(60))) => {}
                    () = woken.notified() => {}
                }
            }
        });
        wake
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_the_first_up_to_the_most() {
        let backoff = Backoff {
            first: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        let waits: Vec<u64> = (1..=6)
            .map(|tries| backoff.after(tries).as_secs())
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60]);
        assert_eq!(backoff.after(1000), Duration::from_secs(60));
    }

    #[test]
    fn a_report_waiting_a_day_is_overdue() {
        let day = Duration::from_secs(86_400);
        let queued = 1_000_000_000_000;
        let status = OutboxStatus {
            waiting: 1,
            oldest_ms: Some(queued),
            next_try_ms: Some(queued),
        };
        assert!(!status.overdue(day, queued + 86_399_999));
        assert!(status.overdue(day, queued + 86_400_000));
        assert!(!OutboxStatus::default().overdue(day, queued));
    }

    #[test]
    fn a_sealed_report_opens_only_under_its_own_id_and_key() {
        let folder = tempfile::tempdir().unwrap();
        let state = StateDb::at(folder.path().join("kiosk.redb"));
        let outbox = Outbox::open(
            state.clone(),
            &folder.path().join("a.key"),
            Backoff::default(),
        )
        .unwrap();
        let sealed = outbox.seal(b"{\"name\": \"Nguyen\"}", "report-1").unwrap();
        assert!(!sealed.windows(6).any(|window| window == b"Nguyen"));
        assert_eq!(
            outbox.open_sealed(&sealed, "report-1").unwrap().as_slice(),
            b"{\"name\": \"Nguyen\"}"
        );
        assert!(outbox.open_sealed(&sealed, "report-2").is_none());
        let other = Outbox::open(state, &folder.path().join("b.key"), Backoff::default()).unwrap();
        assert!(other.open_sealed(&sealed, "report-1").is_none());
    }
}
