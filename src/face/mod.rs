//! Faces: where they are in a picture ([`FaceDetector`], BlazeFace). Used by the selfie's
//! quality gates on the kiosk and by the local engine's `/face/liveness`.

mod detector;

pub use detector::{
    default_model_path, model_search_paths, DetectorError, Face, FaceDetector, Point,
    FACE_MODEL_FILE,
};
