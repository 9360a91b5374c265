//! Faces: where they are in a picture ([`FaceDetector`], BlazeFace), used by the selfie's
//! quality gates on the kiosk and by the local engine's `/face/liveness`; and whether two
//! pictures show one person ([`FaceMatcher`], dlib's landmark and ResNet models read and
//! run in pure Rust), used by the engine's face match; the face's mesh and irises
//! ([`FaceMesh`], MediaPipe's models on `ekyc-tflite`) for liveness.
//!
//! It may use `ekyc-imaging` and `ekyc-tflite`; the engine, liveness, reading and the
//! kiosk use it.
#![warn(missing_docs)]

mod canonical;
mod chip;
mod detector;
mod dlib_format;
mod landmarks;
mod matcher;
mod mesh;
mod models;
mod resnet;

pub use canonical::{CanonicalFace, CanonicalFaceError, CANONICAL_FACE_FILE};
pub use detector::{
    default_model_path, full_range_search_paths, model_search_paths, DetectorError, Face,
    FaceDetector, Point, FACE_MODEL_FILE, FULL_RANGE_MODEL_FILE,
};
pub use dlib_format::FormatError;
pub use landmarks::{FaceBox, Landmark, ShapePredictor};
pub use matcher::{
    dlib_box, match_model_dirs, similarity, Embedding, FaceMatcher, MatcherError,
    DEFAULT_MATCH_DISTANCE, LANDMARK_MODEL_FILE, RECOGNITION_MODEL_FILE,
};
pub use mesh::{Eye, FaceMesh, Mesh, MeshError, IRIS_MODEL_FILE, MESH_MODEL_FILE};
pub use models::FaceModels;
pub use resnet::{FaceNet, EMBEDDING_SIZE};

/// Where the app looks for its models, in order: next to the installed binary
/// (`<prefix>/share/ekyc-engine/models`, so `/usr/share/…` for the Debian package
/// `ekyc-engine`, which the kiosk's package depends on), then
/// `/usr/share/ekyc-engine/models`, then the source tree's `assets/models` (a developer's
/// checkout, where `./fetch-models` puts them). Each model lives in a folder of its own
/// below these.
pub fn model_roots() -> Vec<std::path::PathBuf> {
    use std::path::Path;
    let mut roots = Vec::new();
    if let Some(prefix) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().and_then(Path::parent).map(Path::to_path_buf))
    {
        roots.push(prefix.join("share/ekyc-engine/models"));
    }
    roots.push(Path::new("/usr/share/ekyc-engine/models").to_path_buf());
    // This crate is `crates/face` in the source tree.
    if let Some(tree) = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2) {
        roots.push(tree.join("assets/models"));
    }
    roots.dedup();
    roots
}
