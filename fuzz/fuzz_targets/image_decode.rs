//! Image decoding with the kiosk's limits (any JPEG or PNG a customer's file or an upload
//! may be): refused with a sentence, never a panic, never a huge allocation.
#![no_main]

use ekyc_imaging::decode_upright;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = decode_upright(data) {
        assert!(image.width() > 0 && image.height() > 0);
    }
});
