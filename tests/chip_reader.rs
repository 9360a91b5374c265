//! The chip read through the real PC/SC stack, as a desk reads a card: Debian's `pcscd`
//! started with vsmartcard's virtual reader (`vpcd`) from a temporary folder, the
//! software chip (`ekyc-testchip`) put on that reader, and `ekyc-kiosk chip` reading it
//! through `pcsc` exactly as with a USB reader. `./test` installs `pcscd`,
//! `vsmartcard-vpcd`, `libpcsclite-dev` and `iproute2`.
//!
//! vpcd listens for its card on every interface: pcscd and the card run in a network
//! namespace of their own (only its loopback, nothing reachable from outside); the CLI
//! reaches pcscd through its socket file, which namespaces do not separate. pcscd has one
//! socket (`/run/pcscd`), so these tests take a lock and run one at a time, and refuse to
//! start beside a pcscd they did not start.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// a test stops at what it did not expect
// One call: `unshare(CLONE_NEWNET)` for the thread that starts pcscd and holds the card.
#![allow(unsafe_code)]

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use ekyc_testchip::lds::PhotoType;
use ekyc_testchip::pki::TestPki;
use ekyc_testchip::sample::{self, BIRTH, DOCUMENT, EXPIRY, ID};
use ekyc_testchip::vpcd::VPCD_PORT;
use ekyc_testchip::{Faults, SoftChip};

const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";

/// pcscd with the virtual reader, and the software chip on it.
struct Stack {
    pcscd: Arc<Mutex<Option<Child>>>,
    stop: Arc<AtomicBool>,
    holder: Option<std::thread::JoinHandle<()>>,
    /// The card on the reader (`None`: taken off).
    card: Arc<Mutex<Option<SoftChip>>>,
    folder: tempfile::TempDir,
    _lock: File,
}

impl Stack {
    fn start(chip: SoftChip) -> Self {
        assert!(
            Path::new("/usr/sbin/pcscd").exists() && Path::new(VPCD_DRIVER).exists(),
            "pcscd and vsmartcard-vpcd are needed (./test installs them)"
        );
        let lock = File::create(std::env::temp_dir().join("ekyc-kiosk-pcscd.lock")).unwrap();
        lock.lock().unwrap();
        if let Ok(pid) = std::fs::read_to_string("/run/pcscd/pcscd.pid") {
            let alive = Path::new(&format!("/proc/{}", pid.trim())).exists();
            assert!(
                !alive,
                "a pcscd not started by this test runs (pid {}): stop it first",
                pid.trim()
            );
        }
        let folder = tempfile::tempdir().unwrap();
        let config = folder.path().join("readers");
        std::fs::create_dir(&config).unwrap();
        std::fs::write(
            config.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Test chip reader\"\nDEVICENAME /dev/null:0x{VPCD_PORT:X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{VPCD_PORT:X}\n"
            ),
        )
        .unwrap();
        let log = folder.path().join("pcscd.log");
        let card = Arc::new(Mutex::new(Some(chip)));
        let stop = Arc::new(AtomicBool::new(false));
        let pcscd = Arc::new(Mutex::new(None));
        let (started, outcome) = mpsc::channel();
        let (held, stopped, child) = (card.clone(), stop.clone(), pcscd.clone());
        let holder = std::thread::spawn(move || {
            // This thread, and what it starts, in a network namespace of its own.
            // SAFETY: unshare takes flags only; it changes this thread's namespace.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                let _ = started.send(Err(format!(
                    "unshare(CLONE_NEWNET): {} (the test runs as root)",
                    std::io::Error::last_os_error()
                )));
                return;
            }
            // iproute2's `ip`, where Debian puts it (a PATH without /usr/sbin misses it).
            let ip = ["/usr/sbin/ip", "/sbin/ip", "ip"]
                .into_iter()
                .find(|path| Path::new(path).exists())
                .unwrap_or("ip");
            let up = Command::new(ip).args(["link", "set", "lo", "up"]).status();
            if !up.is_ok_and(|status| status.success()) {
                let _ = started.send(Err("`ip link set lo up` failed (iproute2)".into()));
                return;
            }
            let output = File::create(&log).unwrap();
            let spawned = Command::new("/usr/sbin/pcscd")
                .args(["--foreground", "--debug", "--config"])
                .arg(&config)
                .stdout(Stdio::from(output.try_clone().unwrap()))
                .stderr(Stdio::from(output))
                .spawn();
            match spawned {
                Ok(process) => {
                    *child.lock().unwrap() = Some(process);
                    let _ = started.send(Ok(()));
                }
                Err(error) => {
                    let _ = started.send(Err(format!("pcscd: {error}")));
                    return;
                }
            }
            ekyc_testchip::vpcd::join(VPCD_PORT, &held, &stopped);
        });
        if let Err(error) = outcome.recv().unwrap() {
            panic!("{error}");
        }
        let stack = Self {
            pcscd,
            stop,
            holder: Some(holder),
            card,
            folder,
            _lock: lock,
        };
        stack.wait_for_the_card();
        stack
    }

    /// Until the reader is listed (by the CLI) and pcscd lets a program connect to the
    /// card on its first slot.
    fn wait_for_the_card(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let output = self.kiosk(&["chip", "readers"]).output().unwrap();
            let listed = String::from_utf8_lossy(&output.stdout).contains("Test chip reader");
            if listed && card_connects() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pcscd never showed the card: {}\n{}",
                String::from_utf8_lossy(&output.stderr),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("pcscd.log")).unwrap_or_default()
    }

    fn kiosk(&self, args: &[&str]) -> Command {
        let mut command = common::kiosk_command(self.folder.path());
        command.args(args);
        command
    }
}

/// Whether a program can connect to the card on the test reader's first slot now.
fn card_connects() -> bool {
    let Ok(context) = pcsc::Context::establish(pcsc::Scope::User) else {
        return false;
    };
    let Ok(readers) = context.list_readers_owned() else {
        return false;
    };
    readers
        .iter()
        .filter(|name| name.to_string_lossy().starts_with("Test chip reader 00 00"))
        .any(|name| {
            context
                .connect(name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                .is_ok()
        })
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(mut pcscd) = self.pcscd.lock().unwrap().take() {
            let _ = pcscd.kill();
            let _ = pcscd.wait();
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(holder) = self.holder.take() {
            let _ = holder.join();
        }
        let _ = std::fs::remove_file("/run/pcscd/pcscd.pid");
        let _ = std::fs::remove_file("/run/pcscd/pcscd.comm");
    }
}

/// The sample card (ekyc-testchip's) signed under `pki`, with `faults`. Its MRZ is the
/// one `ekyc-reading` writes for such a card.
fn chip(pki: &TestPki, faults: Faults) -> SoftChip {
    let written = ekyc_reading::mrz::write_vietnamese_td1(ID, BIRTH, 'F', EXPIRY, sample::MRZ_NAME);
    assert_eq!(
        written.map(|mrz| mrz.replace('\n', "")),
        Some(sample::mrz())
    );
    sample::chip(pki).with_faults(faults)
}

/// The sample card with its photo in JPEG 2000 (OpenJPEG's `opj_compress`, lossy, about
/// 15 KB as issuers make them), signed under `pki`.
fn jpeg2000_chip(pki: &TestPki, folder: &Path) -> SoftChip {
    let png = folder.join("photo.png");
    let jp2 = folder.join("photo.jp2");
    image::load_from_memory(&sample::photo())
        .unwrap()
        .save(&png)
        .unwrap();
    let status = Command::new("opj_compress")
        .arg("-i")
        .arg(&png)
        .arg("-o")
        .arg(&jp2)
        .args(["-r", "18", "-I"])
        .stdout(Stdio::null())
        .status()
        .expect("opj_compress (libopenjp2-tools)");
    assert!(status.success());
    let mut holder = sample::holder();
    holder.photo = std::fs::read(&jp2).unwrap();
    holder.photo_type = PhotoType::Jpeg2000;
    let groups = ekyc_testchip::lds::data_groups(&holder);
    SoftChip::new(
        ekyc_testchip::lds::files(&groups, pki.sod(&groups)),
        DOCUMENT,
        BIRTH,
        EXPIRY,
    )
}

/// `chip read` with `args`: it succeeded; its JSON.
fn read_json(stack: &Stack, args: &[&str]) -> serde_json::Value {
    let output = stack.kiosk(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        stack.log()
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn csca_file(folder: &Path, pki: &TestPki, name: &str) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, pki.csca_der()).unwrap();
    path
}

fn read_args<'a>(csca: &'a str, birth: &'a str) -> Vec<&'a str> {
    vec![
        "chip",
        "read",
        "--document-number",
        DOCUMENT,
        "--birth",
        birth,
        "--expiry",
        EXPIRY,
        "--csca",
        csca,
        "--json",
    ]
}

#[test]
fn the_cli_reads_the_software_chip_through_pcscd_and_vpcd() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let stranger = TestPki::current(9, "Another CSCA");
    let stack = Stack::start(chip(&pki, Faults::default()));
    let ours = csca_file(stack.folder.path(), &pki, "csca.der");
    let theirs = csca_file(stack.folder.path(), &stranger, "other.der");

    let report = read_json(&stack, &read_args(ours.to_str().unwrap(), BIRTH));
    assert_eq!(report["access"], "BAC");
    assert_eq!(report["active_authentication"]["status"], "not_offered");
    assert_eq!(report["data_groups"], serde_json::json!([1, 2, 13]));
    assert_eq!(report["mrz"]["document_number"], DOCUMENT);
    assert_eq!(report["mrz"]["birth"], BIRTH);
    assert_eq!(report["dg13"]["full_name"], sample::FULL_NAME);
    assert_eq!(report["dg13"]["id_number"], ID);
    assert_eq!(
        report["passive_authentication"]["status"], "valid",
        "{report}"
    );
    assert!(report["reader"]
        .as_str()
        .unwrap()
        .contains("Test chip reader"));

    // The chip's photo matched with a selfie: the same person, then a stranger (Grace
    // Hopper, tests/data/face-match).
    let selfie = common::selfie_path();
    let stranger_face =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/face-match/grace-hopper-face.png");
    for (face, same) in [(&selfie, true), (&stranger_face, false)] {
        let mut args = read_args(ours.to_str().unwrap(), BIRTH);
        args.extend(["--selfie", face.to_str().unwrap()]);
        let report = read_json(&stack, &args);
        let similarity = report["face_match"]["similarity"]
            .as_f64()
            .unwrap_or_else(|| panic!("{report}"));
        assert_eq!(report["face_match"]["is_match"], same, "{similarity}");
        assert_eq!(similarity > 80.0, same, "{similarity}");
    }

    // A card whose photo is JPEG 2000 (made by OpenJPEG): read, and matched.
    *stack.card.lock().unwrap() = Some(jpeg2000_chip(&pki, stack.folder.path()));
    stack.wait_for_the_card();
    let mut args = read_args(ours.to_str().unwrap(), BIRTH);
    args.extend(["--selfie", selfie.to_str().unwrap()]);
    let report = read_json(&stack, &args);
    assert_eq!(report["photo"]["format"], "jpeg2000");
    assert_eq!(report["passive_authentication"]["status"], "valid");
    assert_eq!(report["face_match"]["is_match"], true, "{report}");

    // A clone of a chip with active authentication: its data still the issuer's, but it
    // cannot sign with DG15's key; the original can.
    for (held, status) in [(6, "failed"), (5, "passed")] {
        *stack.card.lock().unwrap() = Some(sample::chip_with_active_authentication(&pki, 5, held));
        stack.wait_for_the_card();
        let report = read_json(&stack, &read_args(ours.to_str().unwrap(), BIRTH));
        assert_eq!(
            report["active_authentication"]["status"], status,
            "{report}"
        );
        assert_eq!(report["passive_authentication"]["status"], "valid");
    }

    // The same with chip authentication (DG14, ECDH on P-256, AES): a clone agrees no keys.
    for (held, status) in [(8, "failed"), (7, "passed")] {
        *stack.card.lock().unwrap() = Some(sample::chip_with_chip_authentication(
            &pki,
            ekyc_testchip::pace::Curve::P256,
            true,
            7,
            held,
        ));
        stack.wait_for_the_card();
        let report = read_json(&stack, &read_args(ours.to_str().unwrap(), BIRTH));
        assert_eq!(report["chip_authentication"]["status"], status, "{report}");
        assert_eq!(report["passive_authentication"]["status"], "valid");
    }

    // A CSCA list without the card's CSCA: read, but untrusted.
    let report = read_json(&stack, &read_args(theirs.to_str().unwrap(), BIRTH));
    assert_eq!(report["passive_authentication"]["status"], "untrusted");

    // A chip that offers PACE (brainpoolP256r1) and no BAC: opened with PACE, from the
    // MRZ's numbers and from the CAN typed at the desk.
    *stack.card.lock().unwrap() = Some(
        sample::chip(&pki)
            .with_pace(ekyc_testchip::pace::Curve::Brainpool256, Some("123456"))
            .with_faults(Faults {
                no_bac: true,
                ..Faults::default()
            }),
    );
    stack.wait_for_the_card();
    let report = read_json(&stack, &read_args(ours.to_str().unwrap(), BIRTH));
    assert_eq!(report["access"], "PACE", "{report}");
    assert_eq!(report["passive_authentication"]["status"], "valid");
    let ours_text = ours.to_str().unwrap();
    let by_can = [
        "chip", "read", "--can", "123456", "--csca", ours_text, "--json",
    ];
    let report = read_json(&stack, &by_can);
    assert_eq!(report["access"], "PACE", "{report}");
    assert_eq!(report["dg13"]["full_name"], sample::FULL_NAME);
    *stack.card.lock().unwrap() = Some(chip(&pki, Faults::default()));
    stack.wait_for_the_card();

    // A wrong birth date: a sentence about the key, quickly.
    let started = Instant::now();
    let output = stack
        .kiosk(&read_args(ours.to_str().unwrap(), "931106"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("do not open its chip"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_tampered_photo_is_invalid_and_a_card_pulled_away_ends_the_read() {
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    let mut tampered = chip(&pki, Faults::default());
    let mut other = sample::photo();
    other[500] ^= 0x5A;
    tampered.replace_file(
        0x0102,
        ekyc_testchip::lds::dg2(&other, PhotoType::Jpeg, 480, 640),
    );
    let stack = Stack::start(tampered);
    let ours = csca_file(stack.folder.path(), &pki, "csca.der");
    let report = read_json(&stack, &read_args(ours.to_str().unwrap(), BIRTH));
    assert_eq!(report["passive_authentication"]["status"], "invalid");
    let problems = report["passive_authentication"]["problems"].to_string();
    assert!(problems.contains("DG2"), "{problems}");

    // Another card, pulled away while DG2 is read.
    *stack.card.lock().unwrap() = Some(chip(
        &pki,
        Faults {
            pulled_after: Some(40),
            ..Faults::default()
        },
    ));
    stack.wait_for_the_card();
    let started = Instant::now();
    let output = stack
        .kiosk(&read_args(ours.to_str().unwrap(), BIRTH))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("moved away") || stderr.contains("no card"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "no hang");
}

/// Bad input is refused before any reader is asked (exit 2, one line), and without pcscd
/// the readers' listing says what to start (exit 3).
#[test]
fn bad_input_is_refused_before_the_reader_and_a_missing_service_is_named() {
    let lock = File::create(std::env::temp_dir().join("ekyc-kiosk-pcscd.lock")).unwrap();
    lock.lock().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let kiosk = |args: &[&str]| {
        common::kiosk_command(folder.path())
            .args(args)
            .output()
            .unwrap()
    };
    let base = [
        "chip",
        "read",
        "--document-number",
        DOCUMENT,
        "--expiry",
        EXPIRY,
    ];
    for (extra, words) in [
        (vec!["--birth", "931305"], "birth date is not a date"),
        (
            vec!["--birth", BIRTH, "--csca", "/nonexistent/csca.pem"],
            "the CSCA list /nonexistent/csca.pem",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let output = kiosk(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let output = kiosk(&["chip", "read", "--can", "12345"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the CAN is not 6 digits"));

    // Without pcscd (the lock is ours: no test's pcscd runs), unless the machine runs its
    // own (a desktop's socket-activated one): then the listing simply works.
    let output = kiosk(&["chip", "readers"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if Path::new("/run/pcscd/pcscd.comm").exists() {
        assert_eq!(output.status.code(), Some(0), "{stderr}");
    } else {
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("start pcscd"), "{stderr}");
    }
}
