//! Our TensorFlow Lite reader (the face-landmark and iris models) on any bytes.
#![no_main]

use ekyc_tflite::TfliteModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = TfliteModel::from_bytes(data) {
        let _ = model.input_shapes();
        let _ = model.output_names();
    }
});
