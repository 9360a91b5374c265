//! Face match: is the person in the selfie the one on the card? dlib's public-domain
//! models, run in pure Rust: the 5-point landmarks ([`ShapePredictor`]) on a face box from
//! the detector, the aligned 150×150 chip ([`face_chip`]), and the ResNet's 128-d
//! embedding ([`FaceNet`]). Two embeddings closer than the threshold (dlib's 0.6 by
//! default) are the same person.
//!
//! The models are fetched by `./fetch-models` (not committed; provenance and licence in
//! `assets/models/README.md`). Without them the engine says face match is unavailable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use image::RgbImage;
use rten::ThreadPool;

use super::chip::face_chip;
use super::dlib_format::FormatError;
use super::landmarks::{FaceBox, Landmark, ShapePredictor};
use super::resnet::{FaceNet, EMBEDDING_SIZE};
use super::Face;

/// The landmark model's file name (the 5-point one; not the 68-point model, whose
/// training data does not allow commercial use).
pub const LANDMARK_MODEL_FILE: &str = "shape_predictor_5_face_landmarks.dat";
/// The recognition network's file name.
pub const RECOGNITION_MODEL_FILE: &str = "dlib_face_recognition_resnet_model_v1.dat";
/// dlib's threshold: embeddings closer than this are one person (99.38 % on LFW).
pub const DEFAULT_MATCH_DISTANCE: f32 = 0.6;

/// Why the face matcher is not available.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// No folder holds the models (the folders looked in).
    #[error("face match models not found (looked in {}); run ./fetch-models", list(.0))]
    Missing(Vec<PathBuf>),
    /// A model file that cannot be read or is not dlib's.
    #[error("cannot read {path}: {reason}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The folders searched for the two model files: `dlib/` under each of
/// [`super::model_roots`].
pub fn match_model_dirs() -> Vec<PathBuf> {
    super::model_roots()
        .into_iter()
        .map(|root| root.join("dlib"))
        .collect()
}

/// A face's 128-d embedding. Biometric data: wiped from memory when dropped, never
/// logged (its `Debug` shows nothing of it).
#[derive(Clone, PartialEq)]
pub struct Embedding(pub [f32; EMBEDDING_SIZE]);

impl Embedding {
    /// Euclidean distance; below the threshold means the same person.
    pub fn distance(&self, other: &Embedding) -> f32 {
        super::resnet::distance(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Embedding {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Embedding(…)")
    }
}

impl Drop for Embedding {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The contract's `similarity` (0–100) for a distance, given the match threshold: 80 at
/// the threshold (the kiosk's default `ui.face_match_threshold`, so the percentage and the
/// verdict agree), rising linearly to 100 for identical faces and falling linearly to 0 at
/// twice the threshold. `isMatch` is true exactly when the similarity is above 80. With
/// dlib's 0.6: distance 0.23 → 92.3; 0.60 → 80; 0.69 → 68; 1.2 and beyond → 0.
pub fn similarity(distance: f32, threshold: f32) -> f32 {
    let relative = distance / threshold;
    let score = if relative <= 1.0 {
        100.0 - 20.0 * relative
    } else {
        80.0 - 80.0 * (relative - 1.0)
    };
    score.clamp(0.0, 100.0)
}

/// The two loaded models, run on a thread pool of one thread (so one match never takes
/// both cores of a kiosk PC, and the README's figures are for one core).
pub struct FaceMatcher {
    predictor: ShapePredictor,
    net: FaceNet,
    threads: ThreadPool,
}

impl std::fmt::Debug for FaceMatcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FaceMatcher")
            .field("predictor", &self.predictor)
            .field("net", &self.net)
            .finish()
    }
}

impl FaceMatcher {
    /// Loads both models from `dir`, or from the first of [`match_model_dirs`] that holds
    /// them when `None`.
    pub fn load(dir: Option<&Path>) -> Result<Self, MatcherError> {
        let holds_both = |dir: &Path| {
            dir.join(LANDMARK_MODEL_FILE).is_file() && dir.join(RECOGNITION_MODEL_FILE).is_file()
        };
        let dir = match dir {
            Some(dir) if holds_both(dir) => dir.to_path_buf(),
            Some(dir) => return Err(MatcherError::Missing(vec![dir.to_path_buf()])),
            None => {
                let dirs = match_model_dirs();
                match dirs.iter().find(|dir| holds_both(dir)) {
                    Some(dir) => dir.clone(),
                    None => return Err(MatcherError::Missing(dirs)),
                }
            }
        };
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|error| MatcherError::Load {
                reason: error.to_string(),
                path,
            })
        };
        let invalid = |name: &str, error: FormatError| MatcherError::Load {
            path: dir.join(name),
            reason: error.to_string(),
        };
        let predictor = ShapePredictor::read(&read(LANDMARK_MODEL_FILE)?)
            .map_err(|error| invalid(LANDMARK_MODEL_FILE, error))?;
        if predictor.points() != 5 {
            return Err(MatcherError::Load {
                path: dir.join(LANDMARK_MODEL_FILE),
                reason: format!(
                    "{} landmarks; the 5-point model is needed",
                    predictor.points()
                ),
            });
        }
        let net = FaceNet::read(&read(RECOGNITION_MODEL_FILE)?)
            .map_err(|error| invalid(RECOGNITION_MODEL_FILE, error))?;
        Ok(Self {
            predictor,
            net,
            threads: ThreadPool::with_num_threads(1),
        })
    }

    /// The models from the default places ([`match_model_dirs`]), loaded once per process
    /// and shared (31 MB of weights; every engine in a test run uses the same ones).
    pub fn shared() -> Result<Arc<Self>, MatcherError> {
        static SHARED: Mutex<Option<Arc<FaceMatcher>>> = Mutex::new(None);
        let mut shared = SHARED.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(matcher) = shared.as_ref() {
            return Ok(matcher.clone());
        }
        let matcher = Arc::new(Self::load(None)?);
        *shared = Some(matcher.clone());
        Ok(matcher)
    }

    /// The five landmarks of the face in `face_box` (dlib's order and convention).
    pub fn landmarks(&self, image: &RgbImage, face_box: FaceBox) -> [Landmark; 5] {
        let points = self.predictor.predict(image, face_box);
        std::array::from_fn(|index| points[index])
    }

    /// The aligned 150×150 chip for these landmarks.
    pub fn chip(&self, image: &RgbImage, landmarks: &[Landmark; 5]) -> RgbImage {
        face_chip(image, landmarks)
    }

    /// The embedding of an aligned chip.
    pub fn embed_chip(&self, chip: &RgbImage) -> Embedding {
        Embedding(self.threads.run(|| self.net.embed(chip)))
    }

    /// Landmarks, chip and embedding for the face the detector found.
    pub fn embed_face(&self, image: &RgbImage, face: &Face) -> Embedding {
        let landmarks = self.landmarks(image, dlib_box(face));
        let chip = self.chip(image, &landmarks);
        self.embed_chip(&chip)
    }
}

/// The box dlib's landmark model is given for a face the BlazeFace detector found: the
/// detector's square box, as it is. The model was trained on the boxes of dlib's own HOG
/// detector; on the test photos BlazeFace's box is 0.93–1.12 times the size of dlib's and
/// its centre within 7 px of it, which the cascade absorbs (`tests/face_match.rs` checks
/// that the embedding barely moves between the two boxes).
pub fn dlib_box(face: &Face) -> FaceBox {
    let side = face.width.max(face.height).round().max(1.0) as i64;
    let left = (face.left + face.width / 2.0 - side as f32 / 2.0).round() as i64;
    let top = (face.top + face.height / 2.0 - side as f32 / 2.0).round() as i64;
    FaceBox {
        left,
        top,
        right: left + side - 1,
        bottom: top + side - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_80_at_the_threshold_and_falls_with_distance() {
        assert_eq!(similarity(0.0, 0.6), 100.0);
        assert!((similarity(0.6, 0.6) - 80.0).abs() < 1e-4);
        assert!((similarity(0.3, 0.6) - 90.0).abs() < 1e-4);
        assert!((similarity(0.9, 0.6) - 40.0).abs() < 1e-4);
        assert_eq!(similarity(1.5, 0.6), 0.0);
        // A stricter threshold scores the same distance lower.
        assert!(similarity(0.4, 0.5) < similarity(0.4, 0.6));
    }

    #[test]
    fn missing_models_name_where_they_were_looked_for() {
        let dir = std::env::temp_dir().join("ekyc-no-models-here");
        let error = FaceMatcher::load(Some(&dir)).unwrap_err();
        assert!(matches!(error, MatcherError::Missing(_)));
        assert!(error.to_string().contains("ekyc-no-models-here"), "{error}");
        assert!(error.to_string().contains("./fetch-models"), "{error}");
    }

    #[test]
    fn an_embedding_shows_nothing_in_debug() {
        let embedding = Embedding([0.125; EMBEDDING_SIZE]);
        assert_eq!(format!("{embedding:?}"), "Embedding(…)");
    }
}
