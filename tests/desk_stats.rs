//! `ekyc-kiosk stats` on a generated attempt log of 1,000 attempts, against the figures
//! this test counts by hand as it makes them; and the log on a disk that fills up.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ekyc_kiosk::flow::KryptonAction;
use ekyc_kiosk::records::attempts::{records_since, AttemptEvent, Picture, Taken};
use ekyc_kiosk::records::{AttemptId, AttemptLog, StateDb};
use ekyc_kiosk::staff::{DecisionKind, RejectReason};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_ekyc-kiosk");
/// 2026-11-02T00:00:00Z and 2026-11-03T00:00:00Z.
const DAY_ONE_MS: u64 = 1_793_577_600_000;
const DAY_TWO_MS: u64 = DAY_ONE_MS + 86_400_000;

/// A small deterministic generator (no dependency, same run every time).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % sides
    }
}

#[derive(Default, Debug)]
struct HandCount {
    funnel: [u64; 6],
    front_retries: u64,
    front_attempts: u64,
    selfie_ms: Vec<u64>,
    live_failed: u64,
    live_evaluated: u64,
    mismatched: u64,
    matched_evaluated: u64,
    approve: u64,
    reject: u64,
    escalate: u64,
    fraud: u64,
    abandoned_at_selfie: u64,
}

fn nearest_rank(values: &[u64], p: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.max(1) - 1]
}

/// 1,000 ENROLL attempts, 500 on each of two days; each goes as far as the dice say.
fn generate(log: &AttemptLog) -> (HandCount, HandCount) {
    let mut dice = Dice(20261201);
    let (mut all, mut day_two) = (HandCount::default(), HandCount::default());
    for index in 0..1000u64 {
        let attempt = AttemptId::random();
        let mut at = if index < 500 { DAY_ONE_MS } else { DAY_TWO_MS } + index * 60_000;
        let mut counts: Vec<&mut HandCount> = vec![&mut all];
        if index >= 500 {
            counts.push(&mut day_two);
        }
        let mut note = |event: AttemptEvent| {
            at += 1000;
            log.record_at(&attempt, at, event);
        };
        note(AttemptEvent::Started {
            journey: KryptonAction::Enroll,
        });
        counts.iter_mut().for_each(|count| count.funnel[0] += 1);
        // 10 % decline.
        if dice.roll(10) == 0 {
            note(AttemptEvent::Abandoned {
                last_screen: "consent".into(),
                why: "declined".into(),
            });
            continue;
        }
        note(AttemptEvent::Consented);
        counts.iter_mut().for_each(|count| count.funnel[1] += 1);
        let mut reached = 1;
        for (stage, picture) in [
            (2, Picture::Front),
            (3, Picture::Back),
            (4, Picture::Selfie),
        ] {
            // 5 % give up at each picture.
            if dice.roll(20) == 0 {
                note(AttemptEvent::Abandoned {
                    last_screen: format!("capture_{}", picture.as_str()),
                    why: "idle".into(),
                });
                if picture == Picture::Selfie {
                    counts
                        .iter_mut()
                        .for_each(|count| count.abandoned_at_selfie += 1);
                }
                break;
            }
            let tries = 1 + dice.roll(3);
            for _ in 0..tries {
                note(AttemptEvent::Captured {
                    picture,
                    taken: if dice.roll(2) == 0 {
                        Taken::Auto
                    } else {
                        Taken::Manual
                    },
                    gate: None,
                });
            }
            let millis = 2000 + dice.roll(20_000);
            note(AttemptEvent::StepDone { picture, millis });
            for count in counts.iter_mut() {
                count.funnel[stage] += 1;
                if picture == Picture::Front {
                    count.front_attempts += 1;
                    count.front_retries += tries - 1;
                }
                if picture == Picture::Selfie {
                    count.selfie_ms.push(millis);
                }
            }
            reached = stage;
        }
        if reached < 4 {
            continue;
        }
        note(AttemptEvent::Submitted {
            ok: true,
            code: None,
            kind: None,
            millis: 1500,
        });
        let live = match dice.roll(4) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        };
        note(AttemptEvent::Liveness {
            live,
            spoof_probability: None,
        });
        let matched = dice.roll(5) != 0;
        note(AttemptEvent::FaceMatch {
            matched: Some(matched),
            similarity: Some(91.5),
            threshold: 80.0,
        });
        note(AttemptEvent::Result {
            verdict: "verified".into(),
        });
        let decision = match dice.roll(6) {
            0 => Some((DecisionKind::Reject, Some(RejectReason::SuspectedFraud))),
            1 => Some((DecisionKind::Escalate, None)),
            2 => None,
            _ => Some((DecisionKind::Approve, None)),
        };
        if let Some((decision, reason)) = decision {
            note(AttemptEvent::Decided { decision, reason });
        }
        note(AttemptEvent::Finished);
        for count in counts.iter_mut() {
            count.funnel[5] += 1;
            if let Some(live) = live {
                count.live_evaluated += 1;
                count.live_failed += u64::from(!live);
            }
            count.matched_evaluated += 1;
            count.mismatched += u64::from(!matched);
            match decision {
                Some((DecisionKind::Approve, _)) => count.approve += 1,
                Some((DecisionKind::Reject, _)) => {
                    count.reject += 1;
                    count.fraud += 1;
                }
                Some((DecisionKind::Escalate, _)) => count.escalate += 1,
                None => {}
            }
        }
    }
    (all, day_two)
}

fn stats(home: &Path, since: Option<&str>) -> Value {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", home)
        .args(["stats", "--json"]);
    if let Some(since) = since {
        command.args(["--since", since]);
    }
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn check(figures: &Value, hand: &HandCount) {
    let funnel: Vec<u64> = figures["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|stage| stage["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(funnel, hand.funnel, "{hand:?}");
    assert_eq!(figures["attempts"], hand.funnel[0]);
    let front = &figures["steps"][0];
    assert_eq!(front["step"], "front");
    assert_eq!(front["attempts"], hand.front_attempts);
    assert_eq!(front["retries"], hand.front_retries);
    let selfie = &figures["steps"][2];
    assert_eq!(selfie["median_ms"], nearest_rank(&hand.selfie_ms, 0.5));
    assert_eq!(selfie["p90_ms"], nearest_rank(&hand.selfie_ms, 0.9));
    assert_eq!(figures["liveness_failures"]["failed"], hand.live_failed);
    assert_eq!(
        figures["liveness_failures"]["evaluated"],
        hand.live_evaluated
    );
    let rate = figures["face_mismatches"]["rate"].as_f64().unwrap();
    assert!((rate - hand.mismatched as f64 / hand.matched_evaluated as f64).abs() < 1e-12);
    let decisions = &figures["decisions"];
    assert_eq!(decisions["approve"], hand.approve);
    assert_eq!(decisions["reject"], hand.reject);
    assert_eq!(decisions["escalate"], hand.escalate);
    assert_eq!(decisions["reject_reasons"]["suspected_fraud"], hand.fraud);
    assert_eq!(
        figures["abandoned"]["capture_selfie"].as_u64().unwrap_or(0),
        hand.abandoned_at_selfie
    );
}

#[test]
fn stats_of_a_thousand_attempts_match_the_figures_counted_by_hand() {
    let home = tempfile::tempdir().unwrap();
    let state = StateDb::at(home.path().join(".local/share/ekyc-kiosk/kiosk.redb"));
    // Retention long enough that nothing generated is purged.
    let log = AttemptLog::start(state, Duration::from_secs(10 * 365 * 86_400));
    let (all, day_two) = generate(&log);
    assert_eq!(log.flush(), 0);
    assert!(
        all.funnel[5] > 300 && all.funnel[5] < all.funnel[1],
        "{all:?}"
    );
    check(&stats(home.path(), None), &all);
    check(&stats(home.path(), Some("2026-11-03")), &day_two);
    // The table a person reads carries the same funnel.
    let output = Command::new(BINARY)
        .env_clear()
        .env("HOME", home.path())
        .arg("stats")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains(&format!("result   {:>6}", all.funnel[5])),
        "{table}"
    );
    let bad = Command::new(BINARY)
        .env_clear()
        .env("HOME", home.path())
        .args(["stats", "--since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
}

#[test]
fn records_past_the_retention_are_deleted_when_the_log_starts() {
    let folder = tempfile::tempdir().unwrap();
    let state = StateDb::at(folder.path().join("kiosk.redb"));
    let old = AttemptLog::start(state.clone(), Duration::from_secs(100 * 365 * 86_400));
    let attempt = AttemptId::random();
    old.record_at(&attempt, 1_000, AttemptEvent::Consented);
    old.record(&attempt, AttemptEvent::Finished);
    assert_eq!(old.flush(), 0);
    assert_eq!(records_since(&state, 0).unwrap().len(), 2);
    drop(old);
    let log = AttemptLog::start(state.clone(), Duration::from_secs(30 * 86_400));
    log.record(&attempt, AttemptEvent::Finished);
    assert_eq!(log.flush(), 0);
    let kept = records_since(&state, 0).unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().all(|record| record.at_ms > 1_000));
}

/// Where the disk-full test runs inside its own small filesystem.
const TMPFS_ENV: &str = "EKYC_TEST_FULL_DISK_DIR";

/// The log on a real filesystem that fills up: a 2 MB tmpfs mounted in a user and mount
/// namespace of its own (`unshare -rm`, no root needed), the test run again inside it.
#[test]
fn a_full_disk_keeps_the_records_in_memory_and_writes_them_once_there_is_room() {
    let Ok(folder) = std::env::var(TMPFS_ENV) else {
        let folder = tempfile::tempdir().unwrap();
        let output = Command::new("unshare")
            .args(["-rm", "sh", "-c"])
            .arg("mount -t tmpfs -o size=2m tmpfs \"$1\" && exec \"$0\" --exact \"$2\" --nocapture")
            .arg(std::env::current_exe().unwrap())
            .arg(folder.path())
            .arg("a_full_disk_keeps_the_records_in_memory_and_writes_them_once_there_is_room")
            .env(TMPFS_ENV, folder.path())
            .output()
            .expect("unshare (util-linux) runs");
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}");
        assert!(text.contains("1 passed"), "the test ran inside: {text}");
        assert!(text.contains("records wait for room"), "{text}");
        eprintln!("{text}");
        return;
    };
    let folder = Path::new(&folder);
    let state = StateDb::at(folder.join("kiosk.redb"));
    let log = AttemptLog::start(state.clone(), Duration::from_secs(365 * 86_400));
    let attempt = AttemptId::random();
    let record = |log: &AttemptLog| {
        log.record(
            &attempt,
            AttemptEvent::Abandoned {
                last_screen: "capture_selfie".into(),
                why: "idle".into(),
            },
        )
    };
    record(&log);
    assert_eq!(log.flush(), 0);
    // Fill the disk.
    let filler = folder.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    // Records go on arriving; at some point the database cannot grow.
    let mut sent = 1;
    let waiting = loop {
        for _ in 0..200 {
            record(&log);
            sent += 1;
        }
        let waiting = log.flush();
        if waiting > 0 || sent > 8000 {
            break waiting;
        }
    };
    assert!(
        waiting > 0,
        "the disk never refused a write ({sent} records)"
    );
    eprintln!("{waiting} of {sent} records wait for room");
    // Room again: the next record brings the waiting ones with it.
    std::fs::remove_file(&filler).unwrap();
    record(&log);
    sent += 1;
    assert_eq!(log.flush(), 0);
    assert_eq!(records_since(&state, 0).unwrap().len(), sent);
}
