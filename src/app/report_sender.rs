//! The report of each result to the bank's system: made when the result shows, put into
//! the sealed outbox when the customer leaves it (with staff's decision), and delivered
//! by the outbox's courier; how many wait, for staff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::attempt_recorder::ResultChange;
use crate::flow::Flow;
use crate::report::outbox::{Outbox, OutboxStatus, Webhook};
use crate::report::VerificationReport;
use crate::staff::Decision;

/// Where the kiosk reports to, from the configuration (`[report]`, `[desk]`, `[staff]`).
pub struct ReportSetup {
    /// The outbox and the bank's webhook (`report.webhook_url`); `None`: no report.
    pub outbox: Option<(Outbox, Webhook)>,
    /// This kiosk's name in reports.
    pub kiosk_id: String,
    /// The staff id in reports.
    pub staff_id: Option<String>,
    /// A report undelivered this long is an alert for staff.
    pub alert_after: Duration,
}

impl Default for ReportSetup {
    fn default() -> Self {
        Self {
            outbox: None,
            kiosk_id: "kiosk".into(),
            staff_id: None,
            alert_after: Duration::from_secs(24 * 3600),
        }
    }
}

pub(super) struct ReportSender {
    /// The outbox, the courier's wake-up, and the webhook (a report the disk refuses is
    /// sent from memory, once).
    outbox: Option<(Outbox, Arc<tokio::sync::Notify>, Webhook)>,
    runtime: tokio::runtime::Handle,
    kiosk_id: String,
    staff_id: Option<String>,
    alert_after: Duration,
    /// The result as the bank's system will receive it (made when the result showed,
    /// sent when it is left); dropped at the wipe.
    verification: Option<Zeroizing<String>>,
    /// The outbox's figures, and when they were read.
    status: (Option<Instant>, OutboxStatus),
}

impl ReportSender {
    pub fn new(setup: ReportSetup, runtime: &tokio::runtime::Handle) -> Self {
        let outbox = setup.outbox.map(|(outbox, webhook)| {
            let wake = outbox.start_courier(runtime, webhook.clone());
            (outbox, wake, webhook)
        });
        Self {
            outbox,
            runtime: runtime.clone(),
            kiosk_id: setup.kiosk_id,
            staff_id: setup.staff_id,
            alert_after: setup.alert_after,
            verification: None,
            status: (None, OutboxStatus::default()),
        }
    }

    /// This kiosk's name in reports.
    pub fn kiosk_id(&self) -> &str {
        &self.kiosk_id
    }

    /// Follows the result screen: its report is made when it shows and sent, with
    /// `decision`, when it is left.
    pub fn follow(&mut self, change: ResultChange, flow: &Flow, decision: Option<&Decision>) {
        if change.left {
            self.send(change.started_ms, decision);
        }
        if change.entered && self.outbox.is_some() {
            let summary = crate::verification::Summary::of_result(flow.result());
            self.verification = serde_json::to_string(&summary).ok().map(Zeroizing::new);
        }
    }

    /// The report of the result just left, with the decision, into the outbox.
    fn send(&mut self, started_ms: Option<u64>, decision: Option<&Decision>) {
        let (Some((outbox, wake, webhook)), Some(verification)) =
            (&self.outbox, self.verification.take())
        else {
            return;
        };
        let value = serde_json::from_str(&verification).unwrap_or_default();
        let mut report = VerificationReport::new(&self.kiosk_id, value);
        report.started_at = started_ms.map(crate::report::rfc3339);
        if let Some(decision) = decision.cloned() {
            report = report.decided(decision, self.staff_id.clone());
        }
        match outbox.put(&report) {
            Ok(()) => wake.notify_one(),
            Err(error) => {
                // Not kept (a full disk): sent from memory, once, rather than lost.
                tracing::error!(
                    "the report could not be kept in the outbox ({error}): sent once now"
                );
                let webhook = webhook.clone();
                let body = Zeroizing::new(serde_json::to_vec(&report).unwrap_or_default());
                self.runtime.spawn(async move {
                    let delivery =
                        crate::report::outbox::send(&webhook, &report.report_id, &body).await;
                    tracing::warn!(?delivery, "report sent without the outbox");
                });
            }
        }
    }

    /// The customer is gone: their result's report, if not sent, goes with them.
    pub fn wipe(&mut self) {
        self.verification = None;
    }

    /// Reports waiting, and whether one has waited past the alert (read every 5 s).
    pub fn outbox_status(&mut self, now: Instant) -> Option<(OutboxStatus, bool)> {
        let (outbox, _, _) = self.outbox.as_ref()?;
        let fresh = self
            .status
            .0
            .is_some_and(|read| now.saturating_duration_since(read) < Duration::from_secs(5));
        if !fresh {
            if let Ok(status) = outbox.status() {
                self.status = (Some(now), status);
            }
        }
        let status = self.status.1;
        Some((
            status,
            status.overdue(self.alert_after, crate::records::attempts::now_ms()),
        ))
    }

    /// The alert's delay, in hours.
    pub fn alert_hours(&self) -> u64 {
        self.alert_after.as_secs() / 3600
    }
}
