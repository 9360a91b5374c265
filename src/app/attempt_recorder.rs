//! The attempt log kept as the customer goes: what each event carried before the flow
//! takes it, and the screens it led to (entered, left, how long), the result's figures,
//! the end. Codes and durations only, never personal data.

use std::collections::HashMap;
use std::time::Instant;

use ekyc_client::ApiError;

use crate::camera::CaptureTarget;
use crate::flow::{Event, Flow, Guidance, Screen, Verdict};
use crate::records::attempts::{AttemptEvent, Picture, Taken};
use crate::records::{AttemptId, AttemptLog};
use crate::staff::Decision;

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
        Screen::Chip => "chip".into(),
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
                Guidance::ChallengeFailed(_) => "challenge_failed",
                Guidance::LivenessAskStaff => "liveness_ask_staff",
                Guidance::ChipReaderMissing => "chip_reader_missing",
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

/// The result screen, reached or left by a change of screen: what the report follows.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ResultChange {
    /// The result was left: its report goes to the bank now.
    pub left: bool,
    /// The result showed: its report is made now.
    pub entered: bool,
    /// When the attempt started (ms since the epoch), for the report.
    pub started_ms: Option<u64>,
}

/// The current attempt and its log.
pub(super) struct AttemptRecorder {
    log: Option<AttemptLog>,
    /// The current attempt, and when it started (ms since the epoch).
    attempt: Option<AttemptId>,
    started_ms: Option<u64>,
    /// When each capture screen first showed, when the submission started, and when the
    /// current screen showed.
    step_since: HashMap<CaptureTarget, Instant>,
    submit_since: Option<Instant>,
    screen_since: Instant,
    /// A Capture press waiting for its still: the gate failing at that moment.
    manual: Option<Option<String>>,
}

impl AttemptRecorder {
    pub fn new(log: Option<AttemptLog>) -> Self {
        Self {
            log,
            attempt: None,
            started_ms: None,
            step_since: HashMap::new(),
            submit_since: None,
            screen_since: Instant::now(),
            manual: None,
        }
    }

    /// The log, for the dashboard's figures.
    pub fn log(&self) -> Option<&AttemptLog> {
        self.log.as_ref()
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

    /// Staff decided the result.
    pub fn decided(&self, decision: &Decision) {
        self.note(AttemptEvent::from(decision));
    }

    /// A journey refused before it began (`why`: `auth_tries`): an attempt of its own,
    /// started and abandoned on Welcome.
    pub fn refused(&mut self, journey: crate::flow::KryptonAction, why: &str) {
        let Some(log) = &self.log else {
            return;
        };
        let attempt = AttemptId::random();
        log.record(&attempt, AttemptEvent::Started { journey });
        log.record(
            &attempt,
            AttemptEvent::Abandoned {
                last_screen: screen_name(&Screen::Welcome),
                why: why.to_owned(),
            },
        );
    }

    /// The customer is gone.
    pub fn wipe(&mut self) {
        self.manual = None;
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
            (Screen::Chip, Event::ChipRead(outcome)) => notes.push(AttemptEvent::Chip {
                outcome: "read".into(),
                status: Some(outcome.verdict.status.as_str().into()),
                matched: None,
            }),
            (Screen::Chip | Screen::Consent, Event::NoChipReader) => {
                notes.push(chip_note("no_reader"))
            }
            (Screen::Chip, Event::SkipChip) => notes.push(chip_note("skipped")),
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
    pub fn after(
        &mut self,
        before: Before,
        flow: &Flow,
        face_match_threshold: f32,
        now: Instant,
    ) -> ResultChange {
        for note in before.notes {
            self.note(note);
        }
        self.screen_changed(
            &before.screen,
            flow,
            face_match_threshold,
            before.why_ended,
            now,
        )
    }

    /// The flow moved by itself (the idle wipe).
    pub fn ticked(&mut self, before: &Screen, flow: &Flow, now: Instant) -> ResultChange {
        self.screen_changed(before, flow, 0.0, "idle", now)
    }

    fn screen_changed(
        &mut self,
        before: &Screen,
        flow: &Flow,
        face_match_threshold: f32,
        why_ended: &str,
        now: Instant,
    ) -> ResultChange {
        let after = flow.screen();
        let mut change = ResultChange {
            started_ms: self.started_ms,
            ..ResultChange::default()
        };
        if before == after {
            return change;
        }
        let millis = now.saturating_duration_since(self.screen_since).as_millis() as u64;
        self.screen_since = now;
        if *before != Screen::Welcome {
            self.note(AttemptEvent::Left {
                screen: screen_name(before),
                millis,
            });
        }
        change.left = *before == Screen::Result;
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
                return change;
            }
            Screen::Capture(target) => {
                self.step_since.entry(*target).or_insert(now);
            }
            Screen::Submitting(_) if !matches!(before, Screen::Submitting(_)) => {
                self.submit_since = Some(now);
            }
            Screen::Result => {
                self.result_shown(flow, face_match_threshold);
                change.entered = true;
            }
            _ => {}
        }
        self.note(AttemptEvent::Entered {
            screen: screen_name(after),
        });
        change
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
        if let Some(chip) = &result.chip {
            self.note(AttemptEvent::Chip {
                outcome: "checked".into(),
                status: Some(chip.verdict.status.clone()),
                matched: chip.is_match(),
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
    }
}

/// A chip step's outcome without a verdict.
fn chip_note(outcome: &str) -> AttemptEvent {
    AttemptEvent::Chip {
        outcome: outcome.into(),
        status: None,
        matched: None,
    }
}

impl AttemptRecorder {
    /// A chip read ended without the chip (its problem's code).
    pub fn chip_problem(&mut self, code: &str) {
        self.note(chip_note(code));
    }
}

/// The contract's code of a failed submission (never its message: it may quote a value).
fn error_code(error: &ApiError) -> Option<String> {
    error.code().map(str::to_owned)
}
