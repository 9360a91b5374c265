//! The kiosk's staff desk: the attempt log kept as the customer goes, staff mode behind
//! its PIN (and its time-out), the review's decision, and the report to the bank.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::config::UiMode;
use crate::flow::{CaptureTarget, Event, Flow, Guidance, Screen, Verdict};
use crate::records::attempts::{AttemptEvent, Picture, Taken};
use crate::records::{AttemptId, AttemptLog};
use crate::report::outbox::{Outbox, OutboxStatus, Webhook};
use crate::report::VerificationReport;
use crate::staff::pin::{PinGuard, PinOutcome};
use crate::staff::Decision;
use crate::ui::staff::{DecisionDraft, DeskView, PinKey, PinPadView};
use ekyc_client::ApiError;

/// What the desk needs, from the configuration.
pub struct DeskSetup {
    pub mode: UiMode,
    pub attempt_log: Option<AttemptLog>,
    pub pin: PinGuard,
    /// Staff mode closes after this long without a touch.
    pub staff_exit: Duration,
    /// The outbox and the bank's webhook (`report.webhook_url`).
    pub reporting: Option<(Outbox, Webhook)>,
    pub kiosk_id: String,
    pub staff_id: Option<String>,
    /// A report undelivered this long is an alert for staff.
    pub alert_after: Duration,
    /// Where the attempt log is read for the dashboard.
    pub state: Option<crate::records::StateDb>,
    /// The capture preset in force (staff may change it).
    pub preset: crate::quality::Preset,
}

impl Default for DeskSetup {
    fn default() -> Self {
        Self {
            mode: UiMode::Kiosk,
            attempt_log: None,
            pin: PinGuard::new(None, 5, Duration::from_secs(300)),
            staff_exit: Duration::from_secs(120),
            reporting: None,
            kiosk_id: "kiosk".into(),
            staff_id: None,
            alert_after: Duration::from_secs(24 * 3600),
            state: None,
            preset: crate::quality::Preset::Normal,
        }
    }
}

/// A screen's name in the attempt log: what it is, never what it shows.
pub fn screen_name(screen: &Screen) -> String {
    let picture = |target: &CaptureTarget| Picture::from(*target).as_str();
    match screen {
        Screen::Welcome => "welcome".into(),
        Screen::Identify => "identify".into(),
        Screen::Consent => "consent".into(),
        Screen::DocumentChoice => "document_choice".into(),
        Screen::Capture(target) => format!("capture_{}", picture(target)),
        Screen::Still(target) => format!("still_{}", picture(target)),
        Screen::Review => "review".into(),
        Screen::Challenge => "challenge".into(),
        Screen::Submitting(_) => "submitting".into(),
        Screen::Result => "result".into(),
        Screen::BackendUnavailable => "backend_unavailable".into(),
        Screen::Guidance(guidance) => format!(
            "guidance_{}",
            match guidance {
                Guidance::CardNotFound => "card_not_found",
                Guidance::FaceMismatchRetakeSelfie => "face_mismatch",
                Guidance::RestartFromDocument => "restart_from_document",
                Guidance::OnlyOnePerson => "only_one_person",
                Guidance::Rejected { .. } => "rejected",
                Guidance::KioskNotSetUp => "kiosk_not_set_up",
                Guidance::CertificateRefused(_) => "certificate_refused",
                Guidance::NotEnrolled => "not_enrolled",
                Guidance::ChallengeFailed(_) => "challenge_failed",
                Guidance::LivenessAskStaff => "liveness_ask_staff",
            }
        ),
    }
}

/// What an event says that the flow will consume: noted before it is handled.
pub(super) struct Before {
    screen: Screen,
    notes: Vec<AttemptEvent>,
    why_ended: &'static str,
}

pub(super) struct Desk {
    mode: UiMode,
    log: Option<AttemptLog>,
    pin: PinGuard,
    staff_exit: Duration,
    /// The outbox, the courier's wake-up, and the webhook (a report the disk refuses is
    /// sent from memory, once).
    outbox: Option<(Outbox, Arc<tokio::sync::Notify>, Webhook)>,
    runtime: tokio::runtime::Handle,
    /// When the current attempt started (ms since the epoch), for its report.
    started_ms: Option<u64>,
    kiosk_id: String,
    staff_id: Option<String>,
    alert_after: Duration,
    /// The current attempt: its id, when each capture screen first showed, when the
    /// submission started, and when the current screen showed.
    attempt: Option<AttemptId>,
    step_since: HashMap<CaptureTarget, Instant>,
    submit_since: Option<Instant>,
    screen_since: Instant,
    /// A Capture press waiting for its still: the gate failing at that moment.
    manual: Option<Option<String>>,
    /// The result as the bank's system will receive it (made when the result showed,
    /// sent when it is left); dropped at the wipe.
    verification: Option<Zeroizing<String>>,
    pub draft: DecisionDraft,
    pub decision: Option<Decision>,
    /// Staff mode: open, since the last touch.
    pub staff_mode: bool,
    staff_touched: Instant,
    /// The PIN pad, while it shows: the digits typed (zeroed when it closes).
    pin_pad: Option<(Zeroizing<String>, Option<String>)>,
    outbox_status: (Option<Instant>, OutboxStatus),
    state: Option<crate::records::StateDb>,
    /// Staff mode's dashboard, while open: today's figures and when they were read.
    dashboard: Option<(Instant, crate::records::stats::Stats)>,
    /// Staff mode's settings are open.
    pub settings_open: bool,
    pub preset: crate::quality::Preset,
}

impl Desk {
    pub fn new(setup: DeskSetup, runtime: &tokio::runtime::Handle) -> Self {
        let outbox = setup.reporting.map(|(outbox, webhook)| {
            let wake = outbox.start_courier(runtime, webhook.clone());
            (outbox, wake, webhook)
        });
        let now = Instant::now();
        Self {
            mode: setup.mode,
            log: setup.attempt_log,
            pin: setup.pin,
            staff_exit: setup.staff_exit,
            outbox,
            runtime: runtime.clone(),
            started_ms: None,
            kiosk_id: setup.kiosk_id,
            staff_id: setup.staff_id,
            alert_after: setup.alert_after,
            attempt: None,
            step_since: HashMap::new(),
            submit_since: None,
            screen_since: now,
            manual: None,
            verification: None,
            draft: DecisionDraft::default(),
            decision: None,
            staff_mode: false,
            staff_touched: now,
            pin_pad: None,
            outbox_status: (None, OutboxStatus::default()),
            state: setup.state,
            dashboard: None,
            settings_open: false,
            preset: setup.preset,
        }
    }

    fn note(&self, event: AttemptEvent) {
        if let (Some(log), Some(attempt)) = (&self.log, &self.attempt) {
            log.record(attempt, event);
        }
    }

    /// The Capture button was pressed; `gate`: the first failing gate then.
    pub fn manual_capture(&mut self, gate: Option<String>) {
        self.manual = Some(gate);
    }

    /// Notes what `event` carries, before the flow takes it.
    pub fn before(&mut self, flow: &Flow, event: &Event, now: Instant) -> Before {
        let screen = flow.screen().clone();
        let mut notes = Vec::new();
        let mut why_ended = "start_over";
        match (&screen, event) {
            (Screen::Welcome, Event::Start | Event::StartJourney(_)) => {
                self.attempt = Some(AttemptId::random());
                self.started_ms = Some(crate::records::attempts::now_ms());
                self.step_since.clear();
                let journey = match event {
                    Event::StartJourney(action) => *action,
                    _ => flow.offered()[0],
                };
                notes.push(AttemptEvent::Started { journey });
            }
            (Screen::Consent, Event::Accept) => notes.push(AttemptEvent::Consented),
            (Screen::Consent, Event::Decline) => why_ended = "declined",
            (Screen::Capture(target), Event::Captured(capture)) => {
                let taken = if capture.from_file {
                    Taken::File
                } else if self.manual.is_some() {
                    Taken::Manual
                } else {
                    Taken::Auto
                };
                notes.push(AttemptEvent::Captured {
                    picture: (*target).into(),
                    taken,
                    gate: self.manual.take().flatten(),
                });
            }
            (Screen::Still(target), Event::Retake) => notes.push(AttemptEvent::Retaken {
                picture: (*target).into(),
            }),
            (Screen::Still(target), Event::UseCapture) => {
                let since = self.step_since.get(target).copied().unwrap_or(now);
                notes.push(AttemptEvent::StepDone {
                    picture: (*target).into(),
                    millis: now.saturating_duration_since(since).as_millis() as u64,
                });
            }
            (Screen::Challenge, Event::ChallengeDone(outcome)) => {
                let (passed, advice) = match outcome {
                    crate::flow::ChallengeOutcome::Passed(_) => (true, None),
                    crate::flow::ChallengeOutcome::Failed(advice) => {
                        (false, Some(format!("{advice:?}")))
                    }
                };
                notes.push(AttemptEvent::Challenge { passed, advice });
            }
            (Screen::Submitting(_), Event::Finished(outcome)) => {
                let millis = self.submit_since.take().map_or(0, |since| {
                    now.saturating_duration_since(since).as_millis() as u64
                });
                let (code, kind) = match outcome {
                    Ok(_) => (None, None),
                    Err(error) => (error_code(error), Some(format!("{:?}", error.kind()))),
                };
                notes.push(AttemptEvent::Submitted {
                    ok: outcome.is_ok(),
                    code,
                    kind,
                    millis,
                });
            }
            _ => {}
        }
        Before {
            screen,
            notes,
            why_ended,
        }
    }

    /// Notes what the event led to: screens left and entered, the result, the end.
    pub fn after(&mut self, before: Before, flow: &Flow, face_match_threshold: f32, now: Instant) {
        for note in before.notes {
            self.note(note);
        }
        self.screen_changed(
            &before.screen,
            flow,
            face_match_threshold,
            before.why_ended,
            now,
        );
    }

    /// The flow moved by itself (the idle wipe).
    pub fn ticked(&mut self, before: &Screen, flow: &Flow, now: Instant) {
        self.screen_changed(before, flow, 0.0, "idle", now);
    }

    fn screen_changed(
        &mut self,
        before: &Screen,
        flow: &Flow,
        face_match_threshold: f32,
        why_ended: &str,
        now: Instant,
    ) {
        let after = flow.screen();
        if before == after {
            return;
        }
        let millis = now.saturating_duration_since(self.screen_since).as_millis() as u64;
        self.screen_since = now;
        if *before != Screen::Welcome {
            self.note(AttemptEvent::Left {
                screen: screen_name(before),
                millis,
            });
        }
        if *before == Screen::Result {
            self.send_report();
        }
        match after {
            Screen::Welcome => {
                if *before == Screen::Result {
                    self.note(AttemptEvent::Finished);
                } else if *before != Screen::Welcome {
                    self.note(AttemptEvent::Abandoned {
                        last_screen: screen_name(before),
                        why: why_ended.to_owned(),
                    });
                }
                self.attempt = None;
                self.started_ms = None;
                return;
            }
            Screen::Capture(target) => {
                self.step_since.entry(*target).or_insert(now);
            }
            Screen::Submitting(_) if !matches!(before, Screen::Submitting(_)) => {
                self.submit_since = Some(now);
            }
            Screen::Result => self.result_shown(flow, face_match_threshold),
            _ => {}
        }
        self.note(AttemptEvent::Entered {
            screen: screen_name(after),
        });
    }

    fn result_shown(&mut self, flow: &Flow, face_match_threshold: f32) {
        let result = flow.result();
        self.note(AttemptEvent::Liveness {
            live: result.is_live(),
            spoof_probability: result
                .liveness
                .as_ref()
                .and_then(|liveness| liveness.spoof_prob),
        });
        if result.action != Some(crate::flow::KryptonAction::Liveness) {
            self.note(AttemptEvent::FaceMatch {
                matched: result.face_match.as_ref().and_then(|face| face.is_match),
                similarity: result.face_match.as_ref().and_then(|face| face.similarity),
                threshold: face_match_threshold,
            });
        }
        let verdict = match result.verdict() {
            Verdict::Verified => "verified",
            Verdict::Rejected => "rejected",
            Verdict::NotEvaluated { .. } => "not_evaluated",
        };
        self.note(AttemptEvent::Result {
            verdict: verdict.into(),
        });
        if self.outbox.is_some() {
            let report = crate::verification::summary::Summary::of_result(result);
            self.verification = serde_json::to_string(&report).ok().map(Zeroizing::new);
        }
    }

    /// The report of the result just left, with the decision, into the outbox.
    fn send_report(&mut self) {
        let (Some((outbox, wake, webhook)), Some(verification)) =
            (&self.outbox, self.verification.take())
        else {
            return;
        };
        let value = serde_json::from_str(&verification).unwrap_or_default();
        let mut report = VerificationReport::new(&self.kiosk_id, value);
        report.started_at = self.started_ms.map(crate::report::rfc3339);
        if let Some(decision) = self.decision.clone() {
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

    /// The decision is shown on the result: always in desk mode, in staff mode too.
    pub fn view(&self) -> Option<DeskView<'_>> {
        (self.mode == UiMode::Desk || self.staff_mode).then(|| DeskView {
            draft: &self.draft,
            decided: self.decision.as_ref(),
            required: self.mode == UiMode::Desk,
            kiosk_id: &self.kiosk_id,
        })
    }

    /// Finish is refused in desk mode before a decision.
    pub fn may_finish(&self) -> bool {
        self.mode != UiMode::Desk || self.decision.is_some()
    }

    pub fn decide(&mut self, decision: Decision) {
        self.note(AttemptEvent::from(&decision));
        tracing::info!(decision = decision.kind().as_str(), "staff decision");
        self.decision = Some(decision);
    }

    /// The customer is gone: nothing of theirs stays.
    pub fn wipe(&mut self) {
        self.verification = None;
        self.draft = DecisionDraft::default();
        self.decision = None;
        self.manual = None;
    }

    /// Ctrl+Alt+S or a long press on the title: the PIN pad, or leaving staff mode.
    pub fn staff_chord(&mut self) {
        if self.staff_mode {
            self.leave_staff_mode("asked");
        } else {
            self.open_pin_pad();
        }
    }

    pub fn open_pin_pad(&mut self) {
        if !self.staff_mode && self.pin_pad.is_none() {
            self.pin_pad = Some((Zeroizing::new(String::new()), None));
        }
    }

    pub fn leave_staff_mode(&mut self, why: &str) {
        if self.staff_mode {
            self.staff_mode = false;
            self.settings_open = false;
            self.dashboard = None;
            tracing::info!(why, "staff mode closed");
        }
    }

    /// Any touch while staff mode is open; it closes after `staff_exit` without one.
    pub fn staff_tick(&mut self, touched: bool, now: Instant) -> Option<Duration> {
        if !self.staff_mode {
            return None;
        }
        if touched {
            self.staff_touched = now;
        }
        let idle = now.saturating_duration_since(self.staff_touched);
        if idle >= self.staff_exit {
            self.leave_staff_mode("no touch");
            return None;
        }
        Some(self.staff_exit - idle)
    }

    pub fn pin_pad_open(&self) -> bool {
        self.pin_pad.is_some()
    }

    pub fn pin_pad(&self, lang: ekyc_contract::Lang, now: Instant) -> Option<PinPadView> {
        let (typed, message) = self.pin_pad.as_ref()?;
        let locked = self.pin.locked_until(now);
        let message = if !self.pin.is_set() {
            Some(crate::ui::text(lang, "staff-pin-not-set"))
        } else if let Some(until) = locked {
            let minutes = until.saturating_duration_since(now).as_secs().div_ceil(60);
            Some(crate::ui::text_with(
                lang,
                "staff-pin-locked",
                &[("minutes", minutes.to_string())],
            ))
        } else {
            message.clone()
        };
        Some(PinPadView {
            typed: typed.len(),
            message,
            locked: locked.is_some() || !self.pin.is_set(),
        })
    }

    pub fn pin_key(&mut self, key: PinKey, lang: ekyc_contract::Lang, now: Instant) {
        let Some((typed, message)) = &mut self.pin_pad else {
            return;
        };
        match key {
            PinKey::Digit(digit) if typed.len() < 12 && digit < 10 => {
                typed.push(char::from(b'0' + digit));
            }
            PinKey::Digit(_) => {}
            PinKey::Erase => {
                typed.pop();
            }
            PinKey::Close => self.pin_pad = None,
            PinKey::Enter => match self.pin.try_pin(typed, now) {
                PinOutcome::Accepted => {
                    self.pin_pad = None;
                    self.staff_mode = true;
                    self.staff_touched = now;
                }
                PinOutcome::Wrong { left } => {
                    *typed = Zeroizing::new(String::new());
                    *message = Some(crate::ui::text_with(
                        lang,
                        "staff-pin-wrong",
                        &[("left", left.to_string())],
                    ));
                }
                PinOutcome::Locked { .. } => {
                    *typed = Zeroizing::new(String::new());
                    *message = None;
                }
            },
        }
    }

    /// Reports waiting, and whether one has waited past the alert (read every 5 s).
    pub fn outbox_status(&mut self, now: Instant) -> Option<(OutboxStatus, bool)> {
        let (outbox, _, _) = self.outbox.as_ref()?;
        let fresh = self
            .outbox_status
            .0
            .is_some_and(|read| now.saturating_duration_since(read) < Duration::from_secs(5));
        if !fresh {
            if let Ok(status) = outbox.status() {
                self.outbox_status = (Some(now), status);
            }
        }
        let status = self.outbox_status.1;
        Some((
            status,
            status.overdue(self.alert_after, crate::records::attempts::now_ms()),
        ))
    }

    pub fn show_dashboard(&mut self, open: bool) {
        self.dashboard = None;
        if open && self.staff_mode {
            self.dashboard = Some((Instant::now(), self.today()));
        }
    }

    /// Today's figures (UTC), the log's last records written first.
    fn today(&self) -> crate::records::stats::Stats {
        if let Some(log) = &self.log {
            log.flush();
        }
        let midnight = crate::records::attempts::now_ms() / 86_400_000 * 86_400_000;
        let records = self
            .state
            .as_ref()
            .map(|state| crate::records::attempts::records_since(state, midnight))
            .transpose()
            .unwrap_or_else(|error| {
                tracing::warn!("dashboard: {error}");
                None
            })
            .unwrap_or_default();
        crate::records::stats::compute(&records)
    }

    /// The dashboard's figures while it is open in staff mode (read again every 10 s).
    pub fn dashboard(&mut self, now: Instant) -> Option<&crate::records::stats::Stats> {
        if !self.staff_mode {
            self.dashboard = None;
        }
        let stale = self.dashboard.as_ref().is_some_and(|(read, _)| {
            now.saturating_duration_since(*read) >= Duration::from_secs(10)
        });
        if stale {
            self.dashboard = Some((now, self.today()));
        }
        self.dashboard.as_ref().map(|(_, stats)| stats)
    }

    pub fn alert_hours(&self) -> u64 {
        self.alert_after.as_secs() / 3600
    }
}

/// The contract's code of a failed submission (never its message: it may quote a value).
fn error_code(error: &ApiError) -> Option<String> {
    error.code().map(str::to_owned)
}
