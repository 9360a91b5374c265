//! The MRZ parser (three lines of TD1, or TD3) on any text: no panic, no hang.
#![no_main]

use ekyc_reading::mrz::parse_mrz;
use ekyc_reading::CardDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let today = CardDate {
        day: 1,
        month: 12,
        year: 2026,
    };
    if let Ok(mrz) = parse_mrz(&text, today) {
        let _ = mrz.is_valid();
        let _ = mrz.full_name();
    }
});
