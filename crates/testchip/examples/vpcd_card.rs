//! The sample card on vsmartcard's virtual reader, for the real kiosk to read (the
//! window walk `tests/atspi/chip-walk`, or a person trying the chip step by hand with
//! Debian's pcscd and vpcd):
//!
//!     vpcd_card CSCA_OUT [--when FILE] [--port N]
//!
//! writes the test CSCA's certificate (DER) to CSCA_OUT for the kiosk's `chip.csca` and
//! the engine's `engine.csca`, waits until FILE exists (when given: "the customer lays the
//! card down"), then holds the card on the reader until killed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a tool for tests: stops at the unexpected

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ekyc_testchip::pki::TestPki;
use ekyc_testchip::sample;
use ekyc_testchip::vpcd::{join, VPCD_PORT};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(csca_out) = args.next() else {
        eprintln!("usage: vpcd_card CSCA_OUT [--when FILE] [--port N]");
        std::process::exit(2);
    };
    let (mut when, mut port) = (None, VPCD_PORT);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--when" => when = args.next(),
            "--port" => {
                port = args
                    .next()
                    .and_then(|text| text.parse().ok())
                    .expect("--port N")
            }
            other => {
                eprintln!("unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    // The same seed gives the same keys each run: a CSCA written by one run signs the
    // card of the next.
    let pki = TestPki::current(1, "Test CSCA Viet Nam");
    std::fs::write(&csca_out, pki.csca_der()).expect("CSCA_OUT written");
    if let Some(when) = when {
        while !std::path::Path::new(&when).exists() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!("the sample card is on vpcd's reader (port {port}) until this is stopped");
    let chip = Arc::new(Mutex::new(Some(sample::chip(&pki))));
    join(port, &chip, &AtomicBool::new(false));
}
