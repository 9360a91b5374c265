//! The soak: `cargo bench --bench soak` (`SOAK_COUNT`, default 1,000 verifications per part;
//! figures on stdout). Not part of `./test`; about an hour for the default count here.
//!
//! 1. The kiosk's own verification (`Backend::start` with the local engine in this process,
//!    `Verification::run` as the kiosk's worker runs it), with the demo camera's pictures.
//! 2. `submit` processes against a `serve` process, as a desk would.
//!
//! Outcomes mixed in turn: a match, a mismatch, two faces, a card that is not there (the
//! customer's face shown instead), a session that expires (a second, scripted engine whose `/ocr` answers 403 every time).
//! Reported: RSS, open file descriptors and threads of the process that holds the engine at
//! 100, 500 and the last verification (growth after warm-up must stay under 10 %), p50 and
//! p99 per step. Then every file written meanwhile under the soak's $HOME and XDG folders,
//! /tmp, and the working folders is searched for image bytes, the card's ID and the name:
//! none may hold them (exit 1 otherwise). Run it on a quiet machine: a file anything else
//! writes there meanwhile (an edited source holding the test card's ID) is flagged too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ekyc_client::{ApiError, DocumentType, FptClient, FptSession, FptSettings, OcrRequest};
use ekyc_engine::{EngineSettings, Script};
use ekyc_imaging::{prepare_image_file, ImageLimits, PreparedImage};
use ekyc_kiosk::config::Config;
use ekyc_kiosk::verification::{Backend, Journey, SubmitStep};

const CARD_ID: &str = "079203004512";
const NAMES: [&str; 2] = ["Phạm Thị Hồng Nhung", "PHAM<<THI<HONG"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    Match,
    Mismatch,
    TwoFaces,
    NoCard,
    Expired,
}

const SCENARIOS: [Scenario; 5] = [
    Scenario::Match,
    Scenario::Mismatch,
    Scenario::TwoFaces,
    Scenario::NoCard,
    Scenario::Expired,
];

/// The inputs, as files (for `submit`) and prepared (for the kiosk's verification).
struct Inputs {
    dir: PathBuf,
}

impl Inputs {
    fn make(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (from, to) in [
            ("assets/demo/demo-card-front.png", "front.png"),
            ("assets/demo/demo-card-back.png", "back.png"),
            ("assets/demo/selfie-astronaut.jpg", "match.jpg"),
            (
                "tests/data/face-match/grace-hopper-face.png",
                "mismatch.png",
            ),
        ] {
            std::fs::copy(root.join(from), dir.join(to)).unwrap();
        }
        let one = image::open(root.join("assets/demo/selfie-astronaut.jpg"))
            .unwrap()
            .to_rgb8();
        let other = image::open(root.join("tests/data/face-match/grace-hopper-face.png"))
            .unwrap()
            .to_rgb8();
        let other = image::imageops::resize(
            &other,
            other.width() * one.height() / other.height(),
            one.height(),
            image::imageops::FilterType::Triangle,
        );
        let mut two = image::RgbImage::new(one.width() + other.width(), one.height());
        image::imageops::replace(&mut two, &one, 0, 0);
        image::imageops::replace(&mut two, &other, i64::from(one.width()), 0);
        two.save(dir.join("two-faces.png")).unwrap();
        Self { dir }
    }

    /// Front, back and selfie files for a scenario.
    fn files(&self, scenario: Scenario) -> (PathBuf, PathBuf, PathBuf) {
        let file = |name: &str| self.dir.join(name);
        // A face shown instead of the card, both sides: the engine's code 3.
        let (front, back) = if scenario == Scenario::NoCard {
            (file("match.jpg"), file("match.jpg"))
        } else {
            (file("front.png"), file("back.png"))
        };
        let selfie = match scenario {
            Scenario::Mismatch => file("mismatch.png"),
            Scenario::TwoFaces => file("two-faces.png"),
            _ => file("match.jpg"),
        };
        (front, back, selfie)
    }

    fn prepared(&self, scenario: Scenario) -> (OcrRequest, PreparedImage) {
        let (front, back, selfie) = self.files(scenario);
        let limits = ImageLimits::default();
        let prepare = |path: &Path| prepare_image_file(path, &limits).unwrap();
        (
            OcrRequest::both_sides(DocumentType::Idr, prepare(&front), Some(prepare(&back))),
            prepare(&selfie),
        )
    }
}

/// RSS (MB), open file descriptors and threads of a process.
#[derive(Debug, Clone, Copy)]
struct Vitals {
    rss_mb: f64,
    fds: usize,
    threads: usize,
}

fn vitals(pid: &str) -> Vitals {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Vitals {
        rss_mb: field("VmRSS:") / 1024.0,
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|entries| entries.count())
            .unwrap_or(0),
        threads: field("Threads:") as usize,
    }
}

/// Durations per step name, in ms.
#[derive(Default)]
struct Timings(BTreeMap<String, Vec<f64>>);

impl Timings {
    fn add(&mut self, step: &str, duration: Duration) {
        self.0
            .entry(step.to_owned())
            .or_default()
            .push(duration.as_secs_f64() * 1000.0);
    }

    fn print(&mut self) {
        for (step, values) in &mut self.0 {
            values.sort_by(f64::total_cmp);
            let at = |share: f64| values[((values.len() - 1) as f64 * share).round() as usize];
            println!(
                "    {step:<24} n {:>5}  p50 {:>7.0} ms  p99 {:>7.0} ms",
                values.len(),
                at(0.5),
                at(0.99)
            );
        }
    }
}

fn checkpoints(count: usize) -> Vec<usize> {
    let mut points: Vec<usize> = [100, 500, count]
        .into_iter()
        .filter(|point| *point <= count)
        .collect();
    points.dedup();
    points
}

fn report_vitals(label: &str, samples: &[(usize, Vitals)]) -> bool {
    println!("  {label}:");
    for (at, vitals) in samples {
        println!(
            "    after {at:>5}: RSS {:>6.1} MB, {:>3} file descriptors, {:>3} threads",
            vitals.rss_mb, vitals.fds, vitals.threads
        );
    }
    let (Some((_, warm)), Some((_, last))) = (samples.first(), samples.last()) else {
        return true;
    };
    let growth = (last.rss_mb - warm.rss_mb) / warm.rss_mb * 100.0;
    let flat = growth < 10.0 && last.fds <= warm.fds + 2 && last.threads <= warm.threads + 2;
    println!(
        "    growth after warm-up: RSS {growth:+.1} %, fds {:+}, threads {:+}: {}",
        last.fds as i64 - warm.fds as i64,
        last.threads as i64 - warm.threads as i64,
        if flat { "flat" } else { "NOT FLAT" }
    );
    flat
}

fn outcome_name(result: &Result<(), ApiError>) -> String {
    match result {
        Ok(()) => "accepted".into(),
        Err(error) => format!("{:?}", error.kind()),
    }
}

/// Part 1: the kiosk's own verification, the engine in this process.
fn kiosk_part(count: usize, inputs: &Inputs, home: &Path) -> bool {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let home = home.to_owned();
    let env = move |name: &str| match name {
        "HOME" => Some(home.display().to_string()),
        "XDG_DATA_HOME" => Some(home.join(".local/share").display().to_string()),
        "XDG_CONFIG_HOME" => Some(home.join(".config").display().to_string()),
        _ => None,
    };
    let loaded = Config::load_searching(None, &[], &env, &[]).unwrap();
    let backend = runtime.block_on(Backend::start(&loaded)).unwrap();
    // The session-expired scenario: a scripted engine whose /ocr always answers 403.
    let expiring = runtime.block_on(async {
        ekyc_engine::start(
            "127.0.0.1:0".parse().unwrap(),
            EngineSettings {
                script: Some(
                    Script::from_toml(
                        "[[ocr]]\ntimes = 1000000\nbody = '{\"errorCode\": \"403\", \"errorMessage\": \"expired\"}'\n",
                    )
                    .unwrap(),
                ),
                ..EngineSettings::default()
            },
        )
        .await
        .unwrap()
    });
    let expiring_client = FptClient::new(FptSettings::new(
        expiring.base_url(),
        expiring.api_key().clone(),
    ))
    .unwrap();
    let mut timings = Timings::default();
    let mut outcomes: BTreeMap<(Scenario, String), usize> = BTreeMap::new();
    let mut samples = Vec::new();
    let points = checkpoints(count);
    for index in 0..count {
        let scenario = SCENARIOS[index % SCENARIOS.len()];
        let (request, selfie) = inputs.prepared(scenario);
        let started = Instant::now();
        let marks: Mutex<Vec<(SubmitStep, Instant)>> = Mutex::new(Vec::new());
        let result: Result<(), ApiError> = runtime.block_on(async {
            if scenario == Scenario::Expired {
                let mut session = FptSession::new(expiring_client.clone());
                return session.ocr(request).await.map(|_| ());
            }
            let mut verification = backend.verification(&Journey::default())?;
            verification
                .run(Some(request), &[selfie], None, &|step| {
                    marks.lock().unwrap().push((step, Instant::now()))
                })
                .await
                .map(|_| ())
                .map_err(|failure| failure.error)
        });
        let ended = Instant::now();
        let marks = marks.into_inner().unwrap();
        for (position, (step, at)) in marks.iter().enumerate() {
            let until = marks.get(position + 1).map_or(ended, |(_, next)| *next);
            timings.add(&format!("{step:?}"), until - *at);
        }
        timings.add("whole verification", ended - started);
        *outcomes
            .entry((scenario, outcome_name(&result)))
            .or_default() += 1;
        if points.contains(&(index + 1)) {
            samples.push((index + 1, vitals("self")));
        }
    }
    println!("1. the kiosk's verification, engine in-process: {count} verifications");
    for ((scenario, outcome), n) in &outcomes {
        println!("    {scenario:?} → {outcome}: {n}");
    }
    timings.print();
    let flat = report_vitals("the kiosk's process (kiosk and engine)", &samples);
    drop(backend);
    drop(expiring);
    flat
}

/// Starts `serve` with `extra` arguments: the child (its caller kills and waits for it) and
/// its base URL.
#[allow(clippy::zombie_processes)]
fn serve(binary: &str, home: &Path, log: &Path, extra: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(binary)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(home)
        .args(["serve", "--addr", "127.0.0.1:0", "--api-key", "soak-key"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    loop {
        line.clear();
        let read = std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        assert!(
            read > 0,
            "serve ended before it listened: see {}",
            log.display()
        );
        if let Some(url) = line.trim().strip_prefix("local engine listening on ") {
            let url = url.to_owned();
            // Keep reading in the background so that serve never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            return (child, url);
        }
    }
}

/// Part 2: `submit` processes against `serve`.
fn desk_part(count: usize, inputs: &Inputs, home: &Path) -> bool {
    let binary = env!("CARGO_BIN_EXE_ekyc-kiosk");
    let script = home.join("expiring.toml");
    std::fs::write(
        &script,
        "[[ocr]]\ntimes = 1000000\nbody = '{\"errorCode\": \"403\", \"errorMessage\": \"expired\"}'\n",
    )
    .unwrap();
    let log = home.join("serve.log");
    let (mut server, url) = serve(binary, home, &log, &[]);
    let (mut expiring, expiring_url) = serve(
        binary,
        home,
        &home.join("serve-expiring.log"),
        &["--script", script.to_str().unwrap()],
    );
    let pid = server.id().to_string();
    let mut outcomes: BTreeMap<(Scenario, String), usize> = BTreeMap::new();
    let mut timings = Timings::default();
    let mut samples = Vec::new();
    let points = checkpoints(count);
    for index in 0..count {
        let scenario = SCENARIOS[index % SCENARIOS.len()];
        let (front, back, selfie) = inputs.files(scenario);
        let target = if scenario == Scenario::Expired {
            &expiring_url
        } else {
            &url
        };
        let started = Instant::now();
        let output = Command::new(binary)
            .env_clear()
            .env("HOME", home)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("EKYC_API_KEY", "soak-key")
            .current_dir(home)
            .args(["submit", "--json", "--base-url", target, "--front"])
            .arg(&front)
            .arg("--back")
            .arg(&back)
            .arg("--selfie")
            .arg(&selfie)
            .output()
            .unwrap();
        timings.add("whole submit process", started.elapsed());
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        let outcome = match report["error"]["kind"].as_str() {
            Some(kind) => kind.to_owned(),
            None => report["outcome"].as_str().unwrap_or("no report").to_owned(),
        };
        *outcomes.entry((scenario, outcome)).or_default() += 1;
        if points.contains(&(index + 1)) {
            samples.push((index + 1, vitals(&pid)));
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = expiring.kill();
    let _ = expiring.wait();
    // The engine's own time per endpoint, from its log ("POST /ocr 200 123 ms").
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(at) = words.iter().position(|word| *word == "POST") {
            if let (Some(path), Some(ms)) = (
                words.get(at + 1),
                words.get(at + 3).and_then(|ms| ms.parse::<u64>().ok()),
            ) {
                timings.add(&format!("engine {path}"), Duration::from_millis(ms));
            }
        }
    }
    println!("2. submit against serve: {count} verifications");
    for ((scenario, outcome), n) in &outcomes {
        println!("    {scenario:?} → {outcome}: {n}");
    }
    timings.print();
    report_vitals("the serve process", &samples)
}

/// Files written since `since` under `roots` (but not under `skip`) holding image bytes, the
/// card's ID or the name.
fn leaks(roots: &[PathBuf], skip: &[PathBuf], since: SystemTime) -> Vec<String> {
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("the card's ID", CARD_ID.as_bytes().to_vec()),
        ("the name", NAMES[0].as_bytes().to_vec()),
        ("the name (MRZ)", NAMES[1].as_bytes().to_vec()),
        ("JPEG bytes", vec![0xff, 0xd8, 0xff]),
        ("PNG bytes", b"\x89PNG\r\n\x1a\n".to_vec()),
    ];
    let mut found = Vec::new();
    let mut stack: Vec<PathBuf> = roots.to_vec();
    while let Some(path) = stack.pop() {
        if skip.iter().any(|skipped| path.starts_with(skipped)) {
            continue;
        }
        let Ok(metadata) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|entry| entry.path()));
            }
        } else if metadata.is_file() && metadata.modified().is_ok_and(|modified| modified >= since)
        {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for (what, needle) in &needles {
                if bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_slice())
                {
                    found.push(format!("{}: {what}", path.display()));
                }
            }
        }
    }
    found
}

fn main() {
    // Only under `cargo bench` (which passes `--bench`): the test runner lists every target
    // (`--list`), and a soak of half an hour is no test.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let count: usize = std::env::var("SOAK_COUNT")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1000);
    let since = SystemTime::now() - Duration::from_secs(1);
    let work = std::env::temp_dir().join(format!("ekyc-soak-{}", std::process::id()));
    let home = work.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let inputs = Inputs::make(work.join("inputs"));
    let started = Instant::now();
    let kiosk_flat = kiosk_part(count, &inputs, &home);
    let desk_flat = desk_part(count, &inputs, &home);
    println!(
        "soak of 2 × {count} verifications in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let here = std::env::current_dir().unwrap();
    // This process's own $HOME too (the in-process part ran with it), but for the
    // toolchains in it.
    let real_home = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()));
    let found = leaks(
        &[
            home.clone(),
            std::env::temp_dir(),
            here.clone(),
            real_home.clone(),
        ],
        &[
            inputs.dir.clone(),
            here.join("target"),
            here.join("fuzz"),
            real_home.join(".cargo"),
            real_home.join(".rustup"),
        ],
        since,
    );
    if found.is_empty() {
        println!("no file written under $HOME, the XDG folders, /tmp or the working folders holds image bytes, the ID or the name");
    } else {
        println!("PERSONAL DATA FOUND IN FILES:");
        for leak in &found {
            println!("    {leak}");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if !found.is_empty() || !kiosk_flat || !desk_flat {
        std::process::exit(1);
    }
}
