//! A bank's engine under load, a replica killed mid-run: `cargo bench --bench bank_load`.
//! The reference deployment on loopback (`packaging/bank-demo`: PostgreSQL, replicas,
//! HAProxy from `packaging/bank/haproxy.cfg`), simulated kiosks sending whole Krypton
//! journeys through the front with the real client code (`Verification`), ENROLL and
//! then AUTH for each customer; when half are done, the replica that served the last one
//! is killed (SIGKILL, as a crash) and started again 5 s later.
//!
//! Prints throughput, p50/p95/p99 of a journey, the 503s HAProxy passed on, the journeys
//! the kill broke off (in flight on the killed replica: the client does not resend a
//! request whose connection broke, as it may have been processed; the kiosk tells the
//! customer, who tries again, here once), and the counts that must be zero: journeys
//! lost (failed even so), enrolments duplicated or lost (rows in PostgreSQL against the
//! customers enrolled). Exit 1 when one of them is not.
//! `EKYC_BANK_KIOSKS` (default 4) kiosks, `EKYC_BANK_JOURNEYS` (default 10) journeys each,
//! `EKYC_BANK_REPLICAS` (default 2). Bounded: loopback only, a few minutes at most.
//!
//! HAProxy sends each request to the replica with the fewest in flight (`balance
//! leastconn`): the sessions are rows of PostgreSQL, so a journey's requests may go to
//! either replica, and the kill takes no session with it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench stops at what it did not expect

#[path = "support/bank_demo.rs"]
mod bank_demo;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_demo::Deployment;
use ekyc_client::RetryPolicy;
use ekyc_contract::KryptonAction;
use ekyc_imaging::{prepare_image_file, ImageLimits, PreparedImage};

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn image(name: &str) -> PreparedImage {
    prepare_image_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/demo")
            .join(name),
        &ImageLimits::default(),
    )
    .unwrap()
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * share).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Only under `cargo bench` (which passes `--bench`): the test runner lists and runs
    // every target, and a deployment of three servers under load is no unit test.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let kiosks = number("EKYC_BANK_KIOSKS", 4);
    let journeys = number("EKYC_BANK_JOURNEYS", 10).max(2) / 2 * 2;
    let replicas = number("EKYC_BANK_REPLICAS", 2).max(2);
    let deployment = Arc::new(Deployment::up(replicas));
    // ENROLL reads the front (its QR code); AUTH sends the selfie alone.
    let (front, selfie) = (image("demo-card-front.png"), image("selfie-astronaut.jpg"));
    let retry = RetryPolicy {
        attempts: 5,
        initial_backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(2),
    };
    let done = Arc::new(AtomicUsize::new(0));
    let total = kiosks * journeys;
    let started = Instant::now();
    // The killer: when half are done, the replica that served the last Krypton session.
    let killer = {
        let (deployment, done) = (deployment.clone(), done.clone());
        tokio::spawn(async move {
            while done.load(Ordering::SeqCst) < total / 2 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let victim = deployment.served("/api/v3/ekyc");
            let number = victim.strip_prefix("replica").unwrap().to_owned();
            let dir = deployment.dir();
            let killed_at = started.elapsed();
            tokio::task::spawn_blocking({
                let deployment = deployment.clone();
                let (dir, number) = (dir.clone(), number.clone());
                move || deployment.script(&["stop-replica", &dir, &number])
            })
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            tokio::task::spawn_blocking(move || {
                deployment.script(&["start-replica", &dir, &number])
            })
            .await
            .unwrap();
            (victim, killed_at)
        })
    };
    let mut tasks = Vec::new();
    for kiosk in 0..kiosks {
        let (deployment, done) = (deployment.clone(), done.clone());
        let (front, selfie) = (front.clone(), selfie.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for journey in 0..journeys {
                let customer = format!("bank-load-{kiosk}-{}", journey / 2);
                let action = if journey % 2 == 0 {
                    KryptonAction::Enroll
                } else {
                    KryptonAction::Auth
                };
                let began = Instant::now();
                let mut result = deployment
                    .verify(action, &customer, front.clone(), selfie.clone(), retry)
                    .await;
                // The back end broke off (the kill): the kiosk says so and the customer
                // presses "try again", once.
                let interrupted =
                    matches!(&result, Err(failure) if failure.error.is_backend_failure());
                if let (true, Err(failure)) = (interrupted, &result) {
                    eprintln!(
                        "kiosk {kiosk}, {action:?} {customer}: interrupted ({}), tried again",
                        failure.error
                    );
                    result = deployment
                        .verify(action, &customer, front.clone(), selfie.clone(), retry)
                        .await;
                }
                let ok = match (&result, action) {
                    (Ok(result), KryptonAction::Enroll) => result.enrolled == Some(true),
                    (Ok(result), _) => result
                        .face_match
                        .as_ref()
                        .is_some_and(|face| face.is_match == Some(true)),
                    (Err(_), _) => false,
                };
                if let Err(failure) = &result {
                    eprintln!("kiosk {kiosk}, {action:?} {customer}: {failure:?}");
                }
                outcomes.push((began.elapsed(), ok, action, interrupted));
                done.fetch_add(1, Ordering::SeqCst);
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let took = started.elapsed();
    let (victim, killed_at) = killer.await.unwrap();
    let mut times: Vec<Duration> = outcomes.iter().map(|(time, ..)| *time).collect();
    times.sort();
    let lost = outcomes.iter().filter(|(_, ok, ..)| !ok).count();
    let interrupted = outcomes.iter().filter(|(.., broke_off)| *broke_off).count();
    let enrolled = outcomes
        .iter()
        .filter(|(_, ok, action, _)| *ok && *action == KryptonAction::Enroll)
        .count();
    let url = deployment.env()["EKYC_DATABASE_URL"].clone();
    let rows: usize = String::from_utf8(
        std::process::Command::new("psql")
            .args([&url, "-Atc", "SELECT count(*) FROM ekyc_enrolments"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .parse()
    .unwrap();
    let log = std::fs::read_to_string(Path::new(&deployment.dir()).join("haproxy.log")).unwrap();
    let busy = log.lines().filter(|line| line.contains(" 503 ")).count();
    let bad_gateway = log.lines().filter(|line| line.contains(" 502 ")).count();
    println!(
        "bank load: {replicas} replicas, {kiosks} kiosks × {journeys} journeys (ENROLL then AUTH per customer), {victim} killed at {:.1} s and started again 5 s later",
        killed_at.as_secs_f64()
    );
    println!(
        "  {total} journeys in {:.1} s: {:.2} a second; a journey p50 {:.2} s, p95 {:.2} s, p99 {:.2} s",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64(),
        percentile(&times, 0.5).as_secs_f64(),
        percentile(&times, 0.95).as_secs_f64(),
        percentile(&times, 0.99).as_secs_f64()
    );
    println!("  HAProxy passed on: {busy} answers 503, {bad_gateway} answers 502 (the kill)");
    // Each replica's own log (kept across its restart): one line per request answered.
    let served: Vec<String> = (1..=replicas)
        .map(|n| format!("replica{n} {}", deployment.answered(n, " POST /")))
        .collect();
    println!("  requests served: {}", served.join(", "));
    println!(
        "  journeys broken off by the kill (in flight on the killed replica; the kiosk said so, tried again once): {interrupted}"
    );
    println!("  must be zero: journeys lost {lost}; enrolments duplicated {}, lost {} ({rows} rows for {enrolled} customers enrolled); reports sent twice: none sent (the engine keeps no outbox)",
        rows.saturating_sub(enrolled),
        enrolled.saturating_sub(rows)
    );
    let failed = lost > 0 || rows != enrolled;
    drop(deployment);
    if failed {
        std::process::exit(1);
    }
}
