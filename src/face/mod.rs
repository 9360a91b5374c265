//! Faces: where they are in a picture ([`FaceDetector`], BlazeFace), used by the selfie's
//! quality gates on the kiosk and by the local engine's `/face/liveness`; and whether two
//! pictures show one person ([`FaceMatcher`], dlib's landmark and ResNet models read and
//! run in pure Rust), used by the engine's face match.

mod chip;
mod detector;
mod dlib_format;
mod landmarks;
mod matcher;
mod resnet;

pub use detector::{
    default_model_path, model_search_paths, DetectorError, Face, FaceDetector, Point,
    FACE_MODEL_FILE,
};
pub use dlib_format::FormatError;
pub use landmarks::{FaceBox, Landmark};
pub use matcher::{
    dlib_box, match_model_dirs, similarity, Embedding, FaceMatcher, MatcherError,
    DEFAULT_MATCH_DISTANCE, LANDMARK_MODEL_FILE, RECOGNITION_MODEL_FILE,
};
pub use resnet::EMBEDDING_SIZE;
