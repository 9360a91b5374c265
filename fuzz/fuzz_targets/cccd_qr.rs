//! The CCCD QR payload parser (`ID|old ID|name|birth|sex|address|issue date`) on any text.
#![no_main]

use ekyc_reading::cccd_qr::parse_cccd_qr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_cccd_qr(&String::from_utf8_lossy(data));
});
