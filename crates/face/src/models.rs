//! The kiosk's own face models, read behind the Welcome screen.

use std::sync::{Arc, Mutex, OnceLock};

use super::{FaceDetector, FaceMesh};

type Load = Box<dyn FnOnce() -> Loaded + Send>;

#[derive(Default)]
struct Loaded {
    detector: Option<Arc<FaceDetector>>,
    mesh: Option<Arc<FaceMesh>>,
}

/// The face detector (the selfie's guidance, the challenge) and the face mesh (the
/// challenge), read on a thread of their own when the kiosk starts, so that the window does
/// not wait for them. Whoever asks first (a capture screen's analysis, the challenge) waits
/// for that read, long done by then (~20 ms here). Either is `None` when its model is not
/// installed or cannot be read. Clones share the models.
#[derive(Clone)]
pub struct FaceModels(Arc<Models>);

struct Models {
    load: Mutex<Option<Load>>,
    loaded: OnceLock<Loaded>,
}

impl FaceModels {
    /// Models already read (or `None`: not installed).
    pub fn ready(detector: Option<Arc<FaceDetector>>, mesh: Option<Arc<FaceMesh>>) -> Self {
        Self(Arc::new(Models {
            load: Mutex::new(None),
            loaded: OnceLock::from(Loaded { detector, mesh }),
        }))
    }

    /// Starts `load` (the detector, the mesh) on a thread of its own.
    pub fn load_in_background(
        load: impl FnOnce() -> (Option<Arc<FaceDetector>>, Option<Arc<FaceMesh>>) + Send + 'static,
    ) -> Self {
        let load: Load = Box::new(move || {
            let (detector, mesh) = load();
            Loaded { detector, mesh }
        });
        let models = Self(Arc::new(Models {
            load: Mutex::new(Some(load)),
            loaded: OnceLock::new(),
        }));
        let reader = models.clone();
        let started = std::thread::Builder::new()
            .name("face-models".into())
            .spawn(move || {
                reader.loaded();
            });
        if let Err(error) = started {
            // Read by the first to ask instead.
            tracing::warn!("the face models are read when first needed: {error}");
        }
        models
    }

    /// Waits for the read if it is under way (or does it, if nobody has).
    fn loaded(&self) -> &Loaded {
        self.0.loaded.get_or_init(|| {
            let load = self
                .0
                .load
                .lock()
                .unwrap_or_else(|poison| poison.into_inner())
                .take();
            // `None` only after a read that panicked: the models are then missing.
            load.map_or_else(Loaded::default, |load| load())
        })
    }

    /// The detector, once loaded (`None` while loading or when it could not be).
    pub fn detector(&self) -> Option<Arc<FaceDetector>> {
        self.loaded().detector.clone()
    }

    /// The face mesh, once loaded (`None` while loading or when it could not be).
    pub fn mesh(&self) -> Option<Arc<FaceMesh>> {
        self.loaded().mesh.clone()
    }

    /// Whether the read is done (without waiting for it).
    pub fn is_read(&self) -> bool {
        self.0.loaded.get().is_some()
    }
}

impl std::fmt::Debug for FaceModels {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FaceModels")
            .field("read", &self.is_read())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn read_once_behind_the_caller_who_asks_first_waiting_for_it() {
        static READS: AtomicUsize = AtomicUsize::new(0);
        let models = FaceModels::load_in_background(|| {
            std::thread::sleep(Duration::from_millis(200));
            READS.fetch_add(1, Ordering::SeqCst);
            (None, None)
        });
        // Returned at once, not after the read.
        assert!(!models.is_read());
        let asker = models.clone();
        let asked = std::thread::spawn(move || asker.detector().is_none());
        assert!(models.mesh().is_none());
        assert!(asked.join().unwrap());
        assert!(models.is_read());
        assert_eq!(READS.load(Ordering::SeqCst), 1, "one read for every asker");
    }

    #[test]
    fn a_read_that_panics_leaves_the_models_missing_not_the_kiosk_stuck() {
        let models = FaceModels::load_in_background(|| panic!("a model reader's bug"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            if models
                .0
                .load
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none()
            {
                break;
            }
        }
        assert!(models.detector().is_none());
        assert!(models.mesh().is_none());
    }
}
