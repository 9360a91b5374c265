//! The attempt log: each step of each customer's attempt, for the branch's statistics
//! (`ekyc-kiosk stats`, the dashboard), with **no personal data**: no name, number, date,
//! picture or free text; screens, gates, codes, durations, verdicts and figures only,
//! keyed by a random attempt id that links to nobody.
//!
//! Records are written by one thread, in order, into the kiosk's state database
//! ([`StateDb`]). When a write fails (a full disk), the records wait in memory (at most
//! [`MAX_WAITING`]), a warning is logged once, and they are written with the next record
//! or within [`RETRY_EVERY`] once the disk has room again: the customer's journey never
//! waits for the log. Records older than the retention are deleted on start and daily.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use super::state::{StateDb, StateError};
use crate::camera::CaptureTarget;
use crate::staff::Decision;
use ekyc_contract::KryptonAction;

/// (milliseconds since the Unix epoch, sequence) → one record as JSON.
const ATTEMPT_LOG: TableDefinition<(u64, u64), &str> = TableDefinition::new("attempt_log");

/// Records kept in memory while the disk refuses them; beyond, the oldest are dropped
/// (and counted in the warning).
pub const MAX_WAITING: usize = 10_000;
/// Records written in one transaction at most, in a burst.
const BATCH: usize = 1000;
/// How often records waiting for a full disk are tried again.
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// A random id for one customer's attempt (128 bits, as 32 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AttemptId(String);

impl AttemptId {
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // Without the OS's randomness the time keeps attempts apart.
            bytes = now_ms()
                .to_le_bytes()
                .repeat(2)
                .try_into()
                .unwrap_or([0; 16]);
        }
        Self(ekyc_secrets::lower_hex(&bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for AttemptId {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

/// The picture a step takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Picture {
    Front,
    Back,
    Selfie,
}

impl From<CaptureTarget> for Picture {
    fn from(target: CaptureTarget) -> Self {
        match target {
            CaptureTarget::Front => Self::Front,
            CaptureTarget::Back => Self::Back,
            CaptureTarget::Selfie => Self::Selfie,
        }
    }
}

impl Picture {
    pub const ALL: [Self; 3] = [Self::Front, Self::Back, Self::Selfie];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
            Self::Selfie => "selfie",
        }
    }
}

/// How a picture was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taken {
    /// By itself, every gate holding.
    Auto,
    /// The Capture button.
    Manual,
    /// Loaded from a file (staff).
    File,
}

/// One thing that happened in an attempt. Never a value the customer gave or showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AttemptEvent {
    /// Start pressed: the journey begun.
    Started { journey: KryptonAction },
    /// A screen shown (its name, no content).
    Entered { screen: String },
    /// The screen left, after `millis`.
    Left { screen: String, millis: u64 },
    /// Consent accepted (declining ends the attempt: [`AttemptEvent::Abandoned`]).
    Consented,
    /// A still taken; `gate`: the first quality gate failing at that moment (a manual
    /// picture taken while the automatic one was held back).
    Captured {
        picture: Picture,
        taken: Taken,
        gate: Option<String>,
    },
    /// The customer refused the still (Retake).
    Retaken { picture: Picture },
    /// The still kept (Use): the step is done, `millis` after its screen first showed.
    StepDone { picture: Picture, millis: u64 },
    /// The liveness challenge judged on the kiosk.
    Challenge {
        passed: bool,
        advice: Option<String>,
    },
    /// One submission to the back end: its contract code when it failed.
    Submitted {
        ok: bool,
        code: Option<String>,
        kind: Option<String>,
        millis: u64,
    },
    /// The back end's liveness verdict (`None`: not evaluated) and its figure.
    Liveness {
        live: Option<bool>,
        spoof_probability: Option<f32>,
    },
    /// The face match's verdict (`None`: not evaluated), similarity and the threshold.
    FaceMatch {
        matched: Option<bool>,
        similarity: Option<f32>,
        threshold: f32,
    },
    /// The card's chip: `read` (with the kiosk's own verdict), a problem's code
    /// (`no_key`, `wrong_key`, `moved_away`, `no_answer`, `pace_only`, `other`),
    /// `no_reader` or `skipped`; at the result, `checked` with the verdict that counts
    /// (`valid`, `invalid`, `untrusted`) and whether the selfie matched the chip's photo.
    Chip {
        outcome: String,
        status: Option<String>,
        matched: Option<bool>,
    },
    /// The result screen reached, with the overall verdict.
    Result { verdict: String },
    /// A member of staff decided (the reason's code; a note is never logged).
    Decided {
        decision: crate::staff::DecisionKind,
        reason: Option<crate::staff::RejectReason>,
    },
    /// The attempt ended without a result: the last screen, and why (`idle`, `declined`,
    /// `start_over`, `closed`).
    Abandoned { last_screen: String, why: String },
    /// Finish pressed on the result.
    Finished,
}

impl From<&Decision> for AttemptEvent {
    fn from(decision: &Decision) -> Self {
        Self::Decided {
            decision: decision.kind(),
            reason: decision.reason(),
        }
    }
}

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub attempt: AttemptId,
    /// Milliseconds since the Unix epoch (UTC).
    pub at_ms: u64,
    #[serde(flatten)]
    pub event: AttemptEvent,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

enum Command {
    Write(Record),
    /// Answered once everything sent before is written (or waiting for the disk).
    Flush(Sender<usize>),
}

/// The writing end of the log: cheap to clone, never blocks the caller.
#[derive(Clone)]
pub struct AttemptLog {
    commands: Sender<Command>,
}

impl std::fmt::Debug for AttemptLog {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("AttemptLog")
    }
}

impl AttemptLog {
    /// A log in `state`, records older than `retention` deleted on start and daily.
    pub fn start(state: StateDb, retention: Duration) -> Self {
        let (commands, receiver) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("attempt-log".into())
            .spawn(move || Writer::new(state, retention).run(receiver));
        if let Err(error) = spawned {
            tracing::warn!("the attempt log is off: no thread for it: {error}");
        }
        Self { commands }
    }

    /// Adds `event` of `attempt`, stamped now.
    pub fn record(&self, attempt: &AttemptId, event: AttemptEvent) {
        self.record_at(attempt, now_ms(), event);
    }

    /// Adds a record with its own time (tests, imports).
    pub fn record_at(&self, attempt: &AttemptId, at_ms: u64, event: AttemptEvent) {
        let _ = self.commands.send(Command::Write(Record {
            attempt: attempt.clone(),
            at_ms,
            event,
        }));
    }

    /// Waits until every record sent before is written; returns how many still wait for
    /// the disk (0 when all are written).
    pub fn flush(&self) -> usize {
        let (answer, wait) = mpsc::channel();
        if self.commands.send(Command::Flush(answer)).is_err() {
            return 0;
        }
        wait.recv_timeout(Duration::from_secs(30)).unwrap_or(0)
    }
}

struct Writer {
    state: StateDb,
    retention: Duration,
    waiting: VecDeque<Record>,
    sequence: u64,
    /// Records dropped while the disk was full (waiting beyond [`MAX_WAITING`]).
    dropped: u64,
    /// A failure was logged and not yet followed by a success.
    failing: bool,
    last_purge: Option<std::time::Instant>,
}

impl Writer {
    fn new(state: StateDb, retention: Duration) -> Self {
        let mut seed = [0u8; 4];
        let _ = getrandom::fill(&mut seed);
        Self {
            state,
            retention,
            waiting: VecDeque::new(),
            // Records written in the same millisecond by two runs stay apart.
            sequence: u64::from(u32::from_le_bytes(seed)) << 32,
            dropped: 0,
            failing: false,
            last_purge: None,
        }
    }

    fn run(mut self, commands: Receiver<Command>) {
        loop {
            let command = if self.waiting.is_empty() {
                commands.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                commands.recv_timeout(RETRY_EVERY)
            };
            let mut flushes = Vec::new();
            match command {
                Ok(Command::Write(record)) => self.hold(record),
                Ok(Command::Flush(answer)) => flushes.push(answer),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.write_waiting();
                    return;
                }
            }
            // Everything already sent goes in the same transaction.
            while let Ok(command) = commands.try_recv() {
                match command {
                    Command::Write(record) => self.hold(record),
                    Command::Flush(answer) => flushes.push(answer),
                }
            }
            self.write_waiting();
            for answer in flushes {
                let _ = answer.send(self.waiting.len());
            }
        }
    }

    fn hold(&mut self, record: Record) {
        // A burst is written in batches; only records the disk refused wait beyond one.
        if self.waiting.len() >= BATCH && !self.failing {
            self.write_waiting();
        }
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.pop_front();
            self.dropped += 1;
        }
        self.waiting.push_back(record);
    }

    fn write_waiting(&mut self) {
        self.purge_daily();
        if self.waiting.is_empty() {
            return;
        }
        let first_sequence = self.sequence;
        let records = &self.waiting;
        let written = self.state.write(|transaction| {
            let mut table = transaction.open_table(ATTEMPT_LOG)?;
            for (offset, record) in records.iter().enumerate() {
                let json = serde_json::to_string(record).unwrap_or_default();
                table.insert(
                    (record.at_ms, first_sequence + offset as u64),
                    json.as_str(),
                )?;
            }
            Ok(())
        });
        match written {
            Ok(()) => {
                self.sequence += self.waiting.len() as u64;
                self.waiting.clear();
                if self.failing {
                    tracing::warn!(
                        dropped = self.dropped,
                        "the attempt log is written again (records kept in memory meanwhile)"
                    );
                    self.failing = false;
                    self.dropped = 0;
                }
            }
            Err(error) => {
                if !self.failing {
                    tracing::warn!(
                        "the attempt log cannot be written ({error}); the kiosk goes on, \
                         records wait in memory and are written once there is room"
                    );
                    self.failing = true;
                }
            }
        }
    }

    fn purge_daily(&mut self) {
        let due = self
            .last_purge
            .is_none_or(|last| last.elapsed() >= Duration::from_secs(86_400));
        if !due {
            return;
        }
        self.last_purge = Some(std::time::Instant::now());
        let cutoff = now_ms().saturating_sub(self.retention.as_millis() as u64);
        match purge_before(&self.state, cutoff) {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "attempt log: old records deleted"),
            Err(error) => tracing::warn!("attempt log: old records not deleted: {error}"),
        }
    }
}

/// Deletes the records before `cutoff_ms`; returns how many.
pub fn purge_before(state: &StateDb, cutoff_ms: u64) -> Result<u64, StateError> {
    // Nothing logged yet (no database, no table, no record): none made just to purge it.
    let has_records = state.read_table(ATTEMPT_LOG, |table| Ok(!table.is_empty()?))?;
    if !has_records {
        return Ok(0);
    }
    state.write(|transaction| {
        let mut table = transaction.open_table(ATTEMPT_LOG)?;
        let old: Vec<(u64, u64)> = table
            .range(..(cutoff_ms, 0))?
            .map(|entry| entry.map(|(key, _)| key.value()))
            .collect::<Result<_, _>>()?;
        for key in &old {
            table.remove(key)?;
        }
        Ok(old.len() as u64)
    })
}

/// The records from `since_ms` on, oldest first. A record that cannot be read (written by
/// a newer version) is skipped.
pub fn records_since(state: &StateDb, since_ms: u64) -> Result<Vec<Record>, StateError> {
    state.read_table(ATTEMPT_LOG, |table| {
        let mut records = Vec::new();
        for entry in table.range((since_ms, 0)..)? {
            let (_, json) = entry?;
            if let Ok(record) = serde_json::from_str::<Record>(json.value()) {
                records.push(record);
            }
        }
        Ok(records)
    })
}
