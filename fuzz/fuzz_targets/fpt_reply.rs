//! The clients' readers of a back end's JSON answer: OCR, face/liveness, a code and message
//! in either shape, Krypton's session answer.
#![no_main]

use ekyc_contract::{
    FaceResult, KryptonSessionReply, OcrResult, SessionInitReply, Shape, StatusReply,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = OcrResult::from_json(&body);
    let _ = FaceResult::from_json(&body);
    let _ = StatusReply::from_json(Shape::Code, &body);
    let _ = StatusReply::from_json(Shape::ErrorCode, &body);
    let _ = SessionInitReply::from_json(&body);
    let _ = serde_json::from_value::<KryptonSessionReply>(body);
});
