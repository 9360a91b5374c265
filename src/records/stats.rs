//! The branch's figures from the attempt log: the funnel, retries and time per step,
//! failure rates and decisions (`ekyc-kiosk stats`, the dashboard).
//!
//! Percentiles are nearest-rank: the p-th of n sorted values is the ⌈p·n⌉-th (the median
//! of 4 values is the 2nd).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::attempts::{AttemptEvent, Picture, Record};
use crate::staff::{DecisionKind, RejectReason};

/// Version of `stats --json`'s object.
pub const STATS_SCHEMA: &str = "ekyc-kiosk/stats/1";

/// The funnel's stages, in order.
pub const STAGES: [&str; 6] = ["started", "consent", "front", "back", "selfie", "result"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub schema: &'static str,
    /// Attempts with at least one record in the period.
    pub attempts: u64,
    /// Attempts per journey (`ENROLL`, `AUTH`, `LIVENESS`).
    pub journeys: BTreeMap<String, u64>,
    /// How many attempts reached each stage (front and back: journeys with a document).
    pub funnel: Vec<Stage>,
    pub steps: Vec<StepFigures>,
    pub submissions: Submissions,
    /// The back end's liveness verdict: not live among those evaluated.
    pub liveness_failures: Rate,
    /// The kiosk's own liveness challenge: failed tries among those judged.
    pub challenge_failures: Rate,
    /// The face match: no match among those evaluated.
    pub face_mismatches: Rate,
    pub decisions: Decisions,
    /// Attempts ended without a result, by the screen they ended on.
    pub abandoned: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub stage: &'static str,
    pub attempts: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFigures {
    pub step: Picture,
    /// Attempts that took at least one picture of this step.
    pub attempts: u64,
    /// Pictures taken, and those beyond each attempt's first.
    pub captures: u64,
    pub retries: u64,
    /// How the pictures were taken: `auto`, `manual`, `file`.
    pub taken: BTreeMap<String, u64>,
    /// Manual pictures taken while this gate held the automatic one back.
    pub gates: BTreeMap<String, u64>,
    /// From the step's screen to Use (each attempt's first), in milliseconds.
    pub median_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Submissions {
    pub count: u64,
    pub failed: u64,
    /// Failures by the contract's code (or the error's kind without one).
    pub codes: BTreeMap<String, u64>,
    pub median_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rate {
    pub failed: u64,
    pub evaluated: u64,
    /// `failed / evaluated`; `None` when nothing was evaluated.
    pub rate: Option<f64>,
}

impl Rate {
    fn add(&mut self, failed: bool) {
        self.evaluated += 1;
        self.failed += u64::from(failed);
        self.rate = Some(self.failed as f64 / self.evaluated as f64);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decisions {
    pub approve: u64,
    pub reject: u64,
    pub escalate: u64,
    pub reject_reasons: BTreeMap<String, u64>,
}

/// Nearest-rank percentile of `values` (sorted here); `None` for none.
pub fn percentile(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}

type Counts = BTreeMap<String, u64>;

#[derive(Default)]
struct Attempt {
    reached: [bool; STAGES.len()],
    captures: HashMap<Picture, u64>,
    step_ms: HashMap<Picture, u64>,
}

/// The figures of `records` (any order; grouped by attempt).
pub fn compute(records: &[Record]) -> Stats {
    let mut attempts: HashMap<&str, Attempt> = HashMap::new();
    let mut journeys = BTreeMap::new();
    // Per picture: how each was taken, and the gates that held the automatic one back.
    let mut steps: HashMap<Picture, (Counts, Counts)> = HashMap::new();
    let mut submissions = Submissions::default();
    let mut submission_ms = Vec::new();
    let (mut liveness, mut challenge, mut face) =
        (Rate::default(), Rate::default(), Rate::default());
    let mut decisions = Decisions::default();
    let mut abandoned = BTreeMap::new();
    let stage = |name: &str| STAGES.iter().position(|stage| *stage == name).unwrap_or(0);
    for record in records {
        let attempt = attempts.entry(record.attempt.as_str()).or_default();
        match &record.event {
            AttemptEvent::Started { journey } => {
                attempt.reached[stage("started")] = true;
                *journeys.entry(journey.as_str().to_owned()).or_insert(0) += 1;
            }
            AttemptEvent::Consented => attempt.reached[stage("consent")] = true,
            AttemptEvent::Captured {
                picture,
                taken,
                gate,
            } => {
                *attempt.captures.entry(*picture).or_insert(0) += 1;
                let (how, gates) = steps.entry(*picture).or_default();
                let taken = serde_json::to_value(taken)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *how.entry(taken).or_insert(0) += 1;
                if let Some(gate) = gate {
                    *gates.entry(gate.clone()).or_insert(0) += 1;
                }
            }
            AttemptEvent::StepDone { picture, millis } => {
                attempt.reached[stage(picture.as_str())] = true;
                attempt.step_ms.entry(*picture).or_insert(*millis);
            }
            AttemptEvent::Challenge { passed, .. } => challenge.add(!passed),
            AttemptEvent::Submitted {
                ok,
                code,
                kind,
                millis,
            } => {
                submissions.count += 1;
                submission_ms.push(*millis);
                if !ok {
                    submissions.failed += 1;
                    let code = code.clone().or_else(|| kind.clone()).unwrap_or_default();
                    *submissions.codes.entry(code).or_insert(0) += 1;
                }
            }
            AttemptEvent::Liveness {
                live: Some(live), ..
            } => liveness.add(!live),
            AttemptEvent::FaceMatch {
                matched: Some(matched),
                ..
            } => face.add(!matched),
            AttemptEvent::Result { .. } => attempt.reached[stage("result")] = true,
            AttemptEvent::Decided { decision, reason } => {
                match decision {
                    DecisionKind::Approve => decisions.approve += 1,
                    DecisionKind::Reject => decisions.reject += 1,
                    DecisionKind::Escalate => decisions.escalate += 1,
                }
                if let Some(reason) = reason {
                    *decisions
                        .reject_reasons
                        .entry(RejectReason::as_str(*reason).to_owned())
                        .or_insert(0) += 1;
                }
            }
            AttemptEvent::Abandoned { last_screen, .. } => {
                *abandoned.entry(last_screen.clone()).or_insert(0) += 1;
            }
            _ => {}
        }
    }
    let funnel = STAGES
        .iter()
        .enumerate()
        .map(|(index, stage)| Stage {
            stage,
            attempts: attempts
                .values()
                .filter(|attempt| attempt.reached[index])
                .count() as u64,
        })
        .collect();
    let steps = Picture::ALL
        .iter()
        .map(|picture| {
            let with: Vec<&Attempt> = attempts
                .values()
                .filter(|attempt| attempt.captures.contains_key(picture))
                .collect();
            let captures: u64 = with.iter().map(|attempt| attempt.captures[picture]).sum();
            let mut times: Vec<u64> = attempts
                .values()
                .filter_map(|attempt| attempt.step_ms.get(picture).copied())
                .collect();
            let (taken, gates) = steps.remove(picture).unwrap_or_default();
            StepFigures {
                step: *picture,
                attempts: with.len() as u64,
                captures,
                retries: captures - with.len() as u64,
                taken,
                gates,
                median_ms: percentile(&mut times, 0.5),
                p90_ms: percentile(&mut times, 0.9),
            }
        })
        .collect();
    submissions.median_ms = percentile(&mut submission_ms, 0.5);
    submissions.p90_ms = percentile(&mut submission_ms, 0.9);
    Stats {
        schema: STATS_SCHEMA,
        attempts: attempts.len() as u64,
        journeys,
        funnel,
        steps,
        submissions,
        liveness_failures: liveness,
        challenge_failures: challenge,
        face_mismatches: face,
        decisions,
        abandoned,
    }
}

fn seconds(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0))
}

fn rate(rate: &Rate) -> String {
    match rate.rate {
        Some(value) => format!(
            "{:.1} % ({} of {})",
            value * 100.0,
            rate.failed,
            rate.evaluated
        ),
        None => "- (none evaluated)".into(),
    }
}

/// The figures as a person reads them.
pub fn render_table(stats: &Stats) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "Attempts: {}", stats.attempts);
    for (journey, count) in &stats.journeys {
        let _ = writeln!(out, "  {journey:<9} {count}");
    }
    let _ = writeln!(out, "\nFunnel");
    let started = stats.funnel.first().map_or(0, |stage| stage.attempts);
    for stage in &stats.funnel {
        let share = if started == 0 {
            String::new()
        } else {
            format!("{:5.1} %", stage.attempts as f64 * 100.0 / started as f64)
        };
        let _ = writeln!(out, "  {:<8} {:>6}  {share}", stage.stage, stage.attempts);
    }
    let _ = writeln!(
        out,
        "\nStep     attempts  retries  per attempt   median      p90"
    );
    for step in &stats.steps {
        let per = if step.attempts == 0 {
            "-".into()
        } else {
            format!("{:.2}", step.retries as f64 / step.attempts as f64)
        };
        let _ = writeln!(
            out,
            "  {:<7} {:>8} {:>8} {:>12} {:>8} {:>8}",
            step.step.as_str(),
            step.attempts,
            step.retries,
            per,
            seconds(step.median_ms),
            seconds(step.p90_ms)
        );
    }
    let submissions = &stats.submissions;
    let _ = writeln!(
        out,
        "\nSubmissions: {} ({} failed), median {}, p90 {}",
        submissions.count,
        submissions.failed,
        seconds(submissions.median_ms),
        seconds(submissions.p90_ms)
    );
    for (code, count) in &submissions.codes {
        let _ = writeln!(out, "  code {code}: {count}");
    }
    let _ = writeln!(out, "Liveness failed:   {}", rate(&stats.liveness_failures));
    let _ = writeln!(
        out,
        "Challenge failed:  {}",
        rate(&stats.challenge_failures)
    );
    let _ = writeln!(out, "Face mismatch:     {}", rate(&stats.face_mismatches));
    let decisions = &stats.decisions;
    let _ = writeln!(
        out,
        "Decisions: approve {}, reject {}, escalate {}",
        decisions.approve, decisions.reject, decisions.escalate
    );
    for (reason, count) in &decisions.reject_reasons {
        let _ = writeln!(out, "  {reason}: {count}");
    }
    if !stats.abandoned.is_empty() {
        let _ = writeln!(out, "Abandoned, by last screen:");
        for (screen, count) in &stats.abandoned {
            let _ = writeln!(out, "  {screen}: {count}");
        }
    }
    out
}
