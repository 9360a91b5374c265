//! The report to the bank's system, headless: `submit` with `report.webhook_url`, the
//! signature, the durable outbox (receiver down, process killed), the signing key's file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::receiver::Receiver;
use common::*;
use ekyc_kiosk::records::StateDb;
use ekyc_kiosk::report::outbox::{Backoff, Outbox, Webhook};
use ekyc_kiosk::report::{SigningKey, VerificationReport};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_ekyc-kiosk");
const KEY: &str = "4f1c0a9d2b7e6f5a3c8d1e0b9a7f6e5d4c3b2a1908f7e6d5c4b3a2918f7e6d5c";

/// A folder with the signing key (0600) and a config naming it and the webhook.
fn desk_home(webhook_url: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    write_key(&home.path().join("report.key"), KEY, 0o600);
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[report]\nwebhook_url = \"{webhook_url}\"\nkey_file = \"{}\"\nretry_first_ms = 50\n\
             [desk]\nkiosk_id = \"branch-7-desk-2\"\n",
            home.path().join("report.key").display()
        ),
    )
    .unwrap();
    home
}

fn write_key(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn command(home: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--config")
        .arg(home.join("config.toml"));
    command
}

struct Images {
    _dir: tempfile::TempDir,
    front: PathBuf,
    back: PathBuf,
}

fn images() -> Images {
    let dir = tempfile::tempdir().unwrap();
    let front = write_file(dir.path(), "front.jpg", &jpeg(&card_with_qr(CARD_PAYLOAD)));
    let back = write_file(dir.path(), "back.png", &png(&plain_card()));
    Images {
        _dir: dir,
        front,
        back,
    }
}

fn submit(home: &Path, images: &Images) -> Command {
    let mut command = command(home);
    command
        .args(["submit", "--json", "--front"])
        .arg(&images.front)
        .arg("--back")
        .arg(&images.back)
        .arg("--selfie")
        .arg(selfie_path());
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The state database of a `desk_home`.
fn state_db(home: &Path) -> PathBuf {
    home.join(".local/share/ekyc-kiosk/kiosk.redb")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn submit_sends_a_signed_report_the_bank_can_verify() {
    let receiver = Receiver::start(0, false);
    let home = desk_home(&receiver.url());
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("delivered"), "{}", stderr(&output));
    let posts = receiver.received();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let post = &posts[0];
    // The bank checks the signature with the shared key, over the bytes received.
    let key = SigningKey::from_bytes(KEY.as_bytes());
    let timestamp: u64 = post.timestamp.parse().unwrap();
    assert!(
        key.verify(timestamp, &post.body, &post.signature),
        "{post:?}"
    );
    assert!(!key.verify(timestamp + 1, &post.body, &post.signature));
    let mut tampered = post.body.clone();
    tampered[10] ^= 1;
    assert!(!key.verify(timestamp, &tampered, &post.signature));
    let wrong = SigningKey::from_bytes(&[b'x'; 32]);
    assert!(!wrong.verify(timestamp, &post.body, &post.signature));

    let report: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(report["schema"], "ekyc-kiosk/report/1");
    assert_eq!(report["report_id"], post.idempotency_key.as_str());
    assert_eq!(report["kiosk_id"], "branch-7-desk-2");
    assert_eq!(report["decision"], Value::Null);
    assert!(report["started_at"].as_str().unwrap() <= report["finished_at"].as_str().unwrap());
    // The same object `submit --json` printed.
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verification"], printed);
    assert_eq!(report["verification"]["fields"][0]["value"], CARD_ID);
    // Delivered: nothing waits.
    let status = command(home.path())
        .args(["outbox", "status"])
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", stderr(&status));
}

#[test]
fn a_report_the_receiver_refuses_three_times_arrives_on_the_fourth_try_once() {
    let receiver = Receiver::start(3, false);
    let folder = tempfile::tempdir().unwrap();
    let state = StateDb::at(folder.path().join("kiosk.redb"));
    let backoff = Backoff {
        first: Duration::from_millis(20),
        max: Duration::from_millis(80),
    };
    let outbox = Outbox::open(state, &folder.path().join("outbox.key"), backoff).unwrap();
    let webhook = Webhook {
        url: receiver.url(),
        client: reqwest::Client::new(),
        key: SigningKey::from_bytes(KEY.as_bytes()),
    };
    let report = VerificationReport::new("kiosk-1", serde_json::json!({"fields": []}));
    outbox.put(&report).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _wake = outbox.start_courier(runtime.handle(), webhook);
    let deadline = Instant::now() + Duration::from_secs(20);
    while outbox.status().unwrap().waiting > 0 {
        assert!(Instant::now() < deadline, "{:?}", receiver.received());
        std::thread::sleep(Duration::from_millis(20));
    }
    let posts = receiver.received();
    assert_eq!(
        posts.iter().map(|post| post.status).collect::<Vec<_>>(),
        [503, 503, 503, 200]
    );
    // Every try: the same report id and the same bytes; acted on once.
    assert!(posts
        .iter()
        .all(|post| post.idempotency_key == report.report_id && post.body == posts[0].body));
    assert_eq!(receiver.acted_on().len(), 1);
    // Nothing more is sent once acknowledged.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.received().len(), 4);
}

#[test]
fn a_report_survives_the_process_being_killed_and_is_delivered_once_after() {
    // The bank's system hangs: `submit` waits on it with the report already in the outbox.
    let hanging = Receiver::start(0, true);
    let home = desk_home(&hanging.url());
    let images = images();
    let mut child = submit(home.path(), &images)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while hanging.received().is_empty() {
        assert!(Instant::now() < deadline, "the report never left");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Killed mid-delivery (a power cut): no chance to tidy up.
    child.kill().unwrap();
    child.wait().unwrap();

    let waiting = command(home.path())
        .args(["outbox", "status"])
        .output()
        .unwrap();
    assert_eq!(waiting.status.code(), Some(4), "{}", stderr(&waiting));
    assert!(String::from_utf8_lossy(&waiting.stdout).contains("1 report(s) waiting"));
    // The outbox holds the customer's data sealed: neither the card's number nor the
    // name is in the file.
    let file = std::fs::read(state_db(home.path())).unwrap();
    assert!(!contains(&file, CARD_ID));
    assert!(!contains(&file, CARD_NAME));
    assert!(!contains(&file, "Nhung"));

    // After the restart the bank is back (at a new address: the config is read again).
    let receiver = Receiver::start(0, false);
    std::fs::write(
        home.path().join("config.toml"),
        std::fs::read_to_string(home.path().join("config.toml"))
            .unwrap()
            .replace(&hanging.url(), &receiver.url()),
    )
    .unwrap();
    let delivered = command(home.path())
        .args(["outbox", "deliver"])
        .output()
        .unwrap();
    assert_eq!(delivered.status.code(), Some(0), "{}", stderr(&delivered));
    let again = command(home.path())
        .args(["outbox", "deliver"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let posts = receiver.received();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let report: Value = serde_json::from_slice(&posts[0].body).unwrap();
    assert_eq!(
        report["verification"]["fields"][0]["value"], CARD_ID,
        "{report}"
    );
    // The same report the killed process tried to send.
    assert_eq!(
        posts[0].idempotency_key,
        hanging.received()[0].idempotency_key
    );
}

#[test]
fn a_signing_key_file_others_can_read_or_too_short_is_refused_before_any_request() {
    let receiver = Receiver::start(0, false);
    let home = desk_home(&receiver.url());
    let key = home.path().join("report.key");
    write_key(&key, KEY, 0o644);
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("chmod 600"), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "no verification ran");

    write_key(&key, "short-key", 0o600);
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("at least 32"),
        "{}",
        stderr(&output)
    );
    std::fs::remove_file(&key).unwrap();
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("report.key"),
        "{}",
        stderr(&output)
    );
    assert!(receiver.received().is_empty());
}

/// `desk_home`'s config with `sections` added at its end.
fn add_sections(home: &Path, sections: &str) {
    let path = home.join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}{sections}")).unwrap();
}

#[test]
fn a_webhook_in_plain_http_beyond_loopback_is_refused_unless_insecure_http_is_set() {
    let home = desk_home("http://onboarding.bank.example/reports");
    let output = command(home.path())
        .args(["outbox", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("report.webhook_url") && stderr(&output).contains("https://"),
        "{}",
        stderr(&output)
    );
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "refused before any verification"
    );

    // Allowed when IT says so, and then warned at every start.
    let text = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        text.replace("[report]\n", "[report]\ninsecure_http = true\n"),
    )
    .unwrap();
    let output = command(home.path())
        .args(["outbox", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("INSECURE"), "{}", stderr(&output));
}

#[test]
fn an_https_webhook_with_the_banks_ca_is_delivered_and_one_from_another_ca_is_refused_in_words() {
    let certificates = tempfile::tempdir().unwrap();
    let bank = common::tls::Authority::new("the bank's CA");
    let bank_ca = bank.write(certificates.path(), "bank-ca");
    let (cert, key) = bank.issue(certificates.path(), "onboarding");
    let stranger = common::tls::Authority::new("another CA");
    let stranger_ca = stranger.write(certificates.path(), "other-ca");

    let receiver = Receiver::start_https(&cert, &key);
    assert!(receiver.url().starts_with("https://"));
    let trusting = |ca: &Path| {
        let home = desk_home(&receiver.url());
        add_sections(
            home.path(),
            &format!(
                "[network]\nca_file = \"{}\"\nweb_roots = false\n",
                ca.display()
            ),
        );
        home
    };

    // The bank's CA given as network.ca_file: delivered, signed, once.
    let home = trusting(&bank_ca);
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("delivered"), "{}", stderr(&output));
    let posts = receiver.received();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let timestamp: u64 = posts[0].timestamp.parse().unwrap();
    assert!(SigningKey::from_bytes(KEY.as_bytes()).verify(
        timestamp,
        &posts[0].body,
        &posts[0].signature
    ));

    // Another CA: the kiosk does not trust the bank's system, says so in words staff can
    // act on, and keeps the report.
    let home = trusting(&stranger_ca);
    let output = submit(home.path(), &images()).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "the verification itself ran");
    assert!(
        stderr(&output).contains("not delivered yet")
            && stderr(&output).contains("certificate is not trusted by this kiosk")
            && stderr(&output).contains("network.ca_file"),
        "{}",
        stderr(&output)
    );
    let delivered = command(home.path())
        .args(["outbox", "deliver"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&delivered.stdout);
    assert_eq!(delivered.status.code(), Some(4), "{said}");
    assert!(
        said.contains(
            "Not delivered: the bank's system's certificate is not trusted by this kiosk"
        ) && said.contains("network.ca_file")
            && said.contains("1 report(s) waiting"),
        "{said}"
    );
    assert_eq!(receiver.received().len(), 1, "nothing reached the bank");
}
