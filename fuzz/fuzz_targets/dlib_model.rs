//! dlib's model readers (the 5-point shape predictor, the face-recognition ResNet) on any
//! bytes: a model that is not one is refused, never a panic or an allocation it announced.
#![no_main]

use ekyc_face::{FaceNet, ShapePredictor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((which, rest)) if which & 1 == 0 => {
            let _ = ShapePredictor::read(rest);
        }
        Some((_, rest)) => {
            let _ = FaceNet::read(rest);
        }
        None => {}
    }
});
