//! The thread that checks the preview: it takes the camera's newest frame (skipping any it
//! had no time for), runs the gates of the current capture screen and keeps the newest
//! result for the UI, which never waits for it. It works only while a capture screen
//! shows, and forgets its last frame when none does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::gates::{check_card, check_other_side, check_selfie, FrameCheck, Thresholds};
use crate::camera::{lock, CaptureTarget, Frame, FrameTap, SceneHint};
use ekyc_face::{FaceDetector, FaceModels};
use ekyc_imaging::card::SideSignature;

/// One checked frame.
pub struct Analysis {
    /// The frame that was checked (a capture takes this one, so the card is where the
    /// check found it).
    pub frame: Arc<Frame>,
    pub target: CaptureTarget,
    pub check: FrameCheck,
    /// How long the check took.
    pub took: Duration,
}

struct Shared {
    latest: Mutex<Option<Arc<Analysis>>>,
    /// The side captured before, for the back's screen ("turn the card over").
    earlier_side: Mutex<Option<SideSignature>>,
    /// The gates' thresholds (staff may change the preset while the kiosk runs).
    thresholds: Mutex<Thresholds>,
    active: AtomicBool,
    stop: AtomicBool,
}

/// The analysis thread. Dropping it stops and joins the thread.
pub struct Analyser {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    faces: FaceModels,
}

impl Analyser {
    /// Starts the thread `frame-analysis`, which takes the face detector from `faces` (it
    /// waits for their read, if under way); without it (the face model is not installed)
    /// selfies are not checked for faces. `on_result` is called after each checked frame
    /// (the UI asks for a repaint there).
    pub fn start(
        frames: FrameTap,
        hint: Arc<SceneHint>,
        faces: FaceModels,
        thresholds: Thresholds,
        on_result: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            latest: Mutex::new(None),
            earlier_side: Mutex::new(None),
            thresholds: Mutex::new(thresholds),
            active: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let thread_faces = faces.clone();
        let thread = std::thread::Builder::new()
            .name("frame-analysis".into())
            .spawn(move || {
                let detector = thread_faces.detector();
                run(
                    &frames,
                    &hint,
                    detector.as_deref(),
                    &thread_shared,
                    &on_result,
                )
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
            faces,
        })
    }

    /// Whether frames are checked (a capture screen shows). Inactive, the last result is
    /// dropped with its frame.
    pub fn set_active(&self, active: bool) {
        self.shared.active.store(active, Ordering::Relaxed);
        if !active {
            lock(&self.shared.latest).take();
        }
    }

    /// The card side captured before the current one (the front, on the back's screen):
    /// a card that looks the same is told to be turned over.
    pub fn set_earlier_side(&self, side: Option<SideSignature>) {
        *lock(&self.shared.earlier_side) = side;
    }

    /// New thresholds for the frames checked from now on (staff's capture preset).
    pub fn set_thresholds(&self, thresholds: Thresholds) {
        *lock(&self.shared.thresholds) = thresholds;
    }

    /// The newest result, if any.
    pub fn latest(&self) -> Option<Arc<Analysis>> {
        lock(&self.shared.latest).clone()
    }

    /// Whether selfies are checked for faces (the face model is installed; asked on a
    /// capture screen, long after the models' read).
    pub fn face_guidance(&self) -> bool {
        self.faces.detector().is_some()
    }
}

impl Drop for Analyser {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checks one frame for `target`; `previous` is the check of the frame before, for the
/// same target; `earlier_side` the side captured before (checked on the back's screen).
pub fn analyse(
    frame: &Frame,
    target: CaptureTarget,
    detector: Option<&FaceDetector>,
    previous: Option<&FrameCheck>,
    earlier_side: Option<&SideSignature>,
    thresholds: &Thresholds,
) -> FrameCheck {
    match target {
        CaptureTarget::Front | CaptureTarget::Back => {
            let mut check = check_card(
                &frame.image,
                previous.and_then(|check| check.card.as_ref()),
                thresholds,
            );
            if let (CaptureTarget::Back, Some(earlier_side)) = (target, earlier_side) {
                check_other_side(&mut check, &frame.image, earlier_side, thresholds);
            }
            check
        }
        CaptureTarget::Selfie => {
            // The thorough pass (full range, over squares of the frame), so that a second
            // person further back is seen here as the engine will see them.
            let faces = detector.map(|detector| match detector.detect_thorough(&frame.image) {
                Ok(faces) => faces,
                Err(error) => {
                    tracing::warn!("{error}");
                    Vec::new()
                }
            });
            let previous_face = previous
                .and_then(|check| check.faces.as_ref())
                .and_then(|faces| faces.first());
            check_selfie(&frame.image, faces, previous_face, thresholds)
        }
    }
}

fn run(
    frames: &FrameTap,
    hint: &SceneHint,
    detector: Option<&FaceDetector>,
    shared: &Shared,
    on_result: &dyn Fn(),
) {
    let idle = Duration::from_millis(10);
    while !shared.stop.load(Ordering::Relaxed) {
        if !shared.active.load(Ordering::Relaxed) {
            std::thread::sleep(idle);
            continue;
        }
        let target = hint.get();
        let previous = lock(&shared.latest).clone();
        let Some(frame) = frames.latest() else {
            std::thread::sleep(idle);
            continue;
        };
        let seen = previous
            .as_ref()
            .is_some_and(|known| known.frame.sequence == frame.sequence && known.target == target);
        if seen {
            std::thread::sleep(idle);
            continue;
        }
        let started = Instant::now();
        let same_target = previous.as_ref().filter(|known| known.target == target);
        let earlier_side = lock(&shared.earlier_side).clone();
        // Copied: the lock is not held while the frame is checked.
        let thresholds = *lock(&shared.thresholds);
        let check = analyse(
            &frame,
            target,
            detector,
            same_target.map(|known| &known.check),
            earlier_side.as_ref(),
            &thresholds,
        );
        let analysis = Analysis {
            frame,
            target,
            check,
            took: started.elapsed(),
        };
        if shared.active.load(Ordering::Relaxed) {
            *lock(&shared.latest) = Some(Arc::new(analysis));
            on_result();
        }
    }
}
