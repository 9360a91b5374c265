//! How long a chip takes to read and to check: BAC, EF.COM, EF.SOD, DG1, DG13 and DG2 (the
//! sample card's photo, about 20 KB) over the software chip, with the time the radio link
//! would take added from a model of ISO/IEC 14443 (each byte 9 bits on air with its parity,
//! each frame 3 bytes more for its PCB and CRC, a fixed turnaround per APDU for the card's
//! own work), at 106 and 424 kbit/s; and passive authentication's own time.
//! `cargo bench --bench chip_read`. The link's figures are a model, not a measurement; the
//! software's time (our reader and the software chip together) is measured.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench stops at what it did not expect

#[path = "support/timing.rs"]
mod timing;

use std::time::{Duration, SystemTime};

use ekyc_chip::passive::{authenticate, TrustList};
use ekyc_chip::{read_chip, Card, LinkError, MrzKey};
use ekyc_testchip::pki::TestPki;
use ekyc_testchip::sample;
use ekyc_testchip::SoftChip;

/// The software chip behind a modelled radio link: the time the link would take is
/// counted, not slept.
struct ModelledLink {
    chip: SoftChip,
    bits_per_second: f64,
    turnaround: Duration,
    on_air: Duration,
    apdus: usize,
}

impl Card for ModelledLink {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, LinkError> {
        let answer = self.chip.process(command).ok_or(LinkError::Removed)?;
        let bytes = (command.len() + 3) + (answer.len() + 3);
        self.on_air +=
            Duration::from_secs_f64(bytes as f64 * 9.0 / self.bits_per_second) + self.turnaround;
        self.apdus += 1;
        Ok(answer)
    }
}

fn key() -> MrzKey {
    MrzKey {
        document_number: sample::DOCUMENT.into(),
        birth: sample::BIRTH.into(),
        expiry: sample::EXPIRY.into(),
    }
}

fn main() {
    let Some(rounds) = timing::bench_rounds(10) else {
        return;
    };
    let pki = TestPki::current(1, "Bench CSCA");
    let mut trust = TrustList::default();
    trust.add_bytes(&pki.csca_der()).unwrap();
    let dg2_bytes = ekyc_testchip::lds::data_groups(&sample::holder())[&2].len();
    println!("The sample card: DG2 {dg2_bytes} bytes; {rounds} rounds, medians.\n");
    println!(
        "| link | turnaround per APDU | APDUs | on air (model) | software, both sides (measured) | total |"
    );
    println!("|---|---|---|---|---|---|");
    for (kbits, turnaround_ms) in [(106.0, 5.0), (424.0, 5.0), (424.0, 2.0)] {
        let mut on_air = Vec::new();
        let mut apdus = 0;
        let code_ms = timing::median_ms(rounds, || {
            let mut link = ModelledLink {
                chip: sample::chip(&pki),
                bits_per_second: kbits * 1000.0,
                turnaround: Duration::from_secs_f64(turnaround_ms / 1000.0),
                on_air: Duration::ZERO,
                apdus: 0,
            };
            read_chip(&mut link, key(), &mut |_| {}).unwrap();
            on_air.push(link.on_air.as_secs_f64() * 1000.0);
            apdus = link.apdus;
        });
        on_air.sort_by(f64::total_cmp);
        let air = on_air[on_air.len() / 2];
        println!(
            "| {kbits:.0} kbit/s | {turnaround_ms:.0} ms | {apdus} | {air:.0} ms | {code_ms:.1} ms | {:.2} s |",
            (air + code_ms) / 1000.0
        );
    }
    let read = read_chip(
        &mut ModelledLink {
            chip: sample::chip(&pki),
            bits_per_second: 424_000.0,
            turnaround: Duration::ZERO,
            on_air: Duration::ZERO,
            apdus: 0,
        },
        key(),
        &mut |_| {},
    )
    .unwrap();
    let check_ms = timing::median_ms(rounds.max(20), || {
        let verdict = authenticate(
            &read.files.sod,
            &read.files.groups,
            &trust,
            SystemTime::now(),
        );
        assert_eq!(verdict.status.as_str(), "valid");
    });
    println!(
        "\nPassive authentication (SHA-256 of DG1, DG2, DG13; ECDSA P-256 on the SOD and the \
         Document Signer, once per data group): {check_ms:.2} ms (median)"
    );
}
