//! The camera: a [`FrameSource`] (a real webcam through nokhwa, or the demo source)
//! read on a named thread that hands over only the newest frame. A source that fails
//! (missing, busy, unplugged) is reopened by the thread itself, once a second, until it
//! works again.

mod demo;
mod device;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Pacer};
use ekyc_liveness::DotPath;

pub use demo::{
    demo_challenge_frame, demo_image, make_head as make_demo_head, DemoSource,
    FRAME_INTERVAL as DEMO_FRAME_INTERVAL,
};
pub use device::{
    camera_names, decode_frame, list_cameras, CameraDescription, CameraSelector, DeviceSource,
};

/// One decoded camera frame.
pub struct Frame {
    pub image: RgbImage,
    /// Counts up with every frame: the UI uploads a texture only when it changes.
    pub sequence: u64,
    pub taken_at: Instant,
}

/// What a capture screen is taking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureTarget {
    /// The document's front side (the side with the photo and the QR code).
    Front,
    /// The document's back side (not for a passport).
    Back,
    /// The customer's face.
    Selfie,
}

/// Why a camera cannot give frames; each is a sentence for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// No camera with that index or name.
    #[error("no camera found: {0}")]
    NotFound(String),
    /// The camera exists but could not be opened (in use by another program, no
    /// permission, no usable format).
    #[error("the camera could not be opened: {0}")]
    CannotOpen(String),
    /// A frame could not be read: the camera was unplugged or stopped.
    #[error("the camera stopped giving pictures: {0}")]
    Stopped(String),
    /// A frame arrived in a format this app cannot decode.
    #[error("a camera picture could not be decoded: {0}")]
    Decode(String),
    /// The camera kept giving the very same picture (a frozen driver or device): a real
    /// sensor's noise makes every frame differ.
    #[error("the camera keeps giving the same picture (frozen) for {0:?}")]
    Frozen(Duration),
}

/// Where frames come from. `next_frame` blocks until the next frame (a real camera paces
/// itself; the demo source names its pace, [`Self::frame_interval`], and the camera thread
/// waits), so the camera thread never spins. A source lives on
/// the camera thread (nokhwa's camera cannot move between threads): it is made there, by a
/// [`SourceFactory`].
pub trait FrameSource {
    /// What the screen calls it ("Demo camera", a device name).
    fn name(&self) -> String;
    /// The demo source is labelled as such on screen.
    fn is_demo(&self) -> bool {
        false
    }
    fn open(&mut self) -> Result<(), CameraError>;
    fn next_frame(&mut self) -> Result<RgbImage, CameraError>;
    /// When the frame [`Self::next_frame`] just gave was taken, when the source knows
    /// better than "when it was handed over" (the demo source: when it read the scene it
    /// drew, before drawing it). A frame counts as taken on a screen only if it was taken
    /// after the screen appeared.
    fn taken_at(&self) -> Option<Instant> {
        None
    }
    /// A source that gives its frames at once (the demo source) names its pace: the camera
    /// thread waits this long between frames, by the kiosk's clock (a test's clock, when
    /// the test drives it). `None`: `next_frame` waits by itself (a real camera).
    fn frame_interval(&self) -> Option<Duration> {
        None
    }
    /// Waits for the next frame and drops it undecoded: while no screen shows the preview,
    /// the device's queue is kept drained (the first frame shown later is a new one, never
    /// one queued while the previous customer stood there) at almost no cost.
    fn skip_frame(&mut self) -> Result<(), CameraError> {
        self.next_frame().map(|_| ())
    }
    /// Releases the device (before a reopen).
    fn close(&mut self) {}
}

/// Makes the source, on the camera thread, reading the kiosk's clock.
pub type SourceFactory = Box<dyn FnOnce(&Clock) -> Box<dyn FrameSource> + Send>;

/// The source for the `camera.device` setting: `demo`, an index, part of a name, or
/// `auto` (the first camera the system lists; the demo camera when there is none).
pub fn camera_source(device: &str, hint: Arc<SceneHint>) -> SourceFactory {
    let device = device.trim().to_owned();
    Box::new(move |clock| make_source(&device, hint, clock))
}

fn make_source(device: &str, hint: Arc<SceneHint>, clock: &Clock) -> Box<dyn FrameSource> {
    match device {
        "demo" => Box::new(DemoSource::new(hint, clock.clone())),
        "" | "auto" => match list_cameras() {
            Ok(cameras) if !cameras.is_empty() => {
                Box::new(DeviceSource::new(CameraSelector::Index(0)))
            }
            Ok(_) => {
                tracing::info!("no camera found: using the demo camera");
                Box::new(DemoSource::new(hint, clock.clone()))
            }
            Err(error) => {
                tracing::info!("cameras cannot be listed ({error}): using the demo camera");
                Box::new(DemoSource::new(hint, clock.clone()))
            }
        },
        _ => match device.parse::<u32>() {
            Ok(index) => Box::new(DeviceSource::new(CameraSelector::Index(index))),
            Err(_) => Box::new(DeviceSource::new(CameraSelector::Name(device.to_owned()))),
        },
    }
}

/// What the camera thread is doing, for the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraStatus {
    /// Opening the source.
    Starting,
    /// Frames are arriving.
    Running {
        /// The source's name.
        name: String,
        /// The demo source, not a real camera.
        demo: bool,
    },
    /// No frames; the thread retries by itself.
    Unavailable(CameraError),
}

/// What the customer is presenting, as a hint to the demo source (a real camera ignores
/// it): the capture screen's target, and the liveness challenge while it runs.
#[derive(Debug, Default)]
pub struct SceneHint {
    target: AtomicU8,
    challenge: Mutex<Option<ChallengeScene>>,
    demo_face: DemoFace,
}

/// The challenge on screen: the dot's path, and when it started moving.
#[derive(Debug, Clone)]
pub struct ChallengeScene {
    pub path: DotPath,
    pub started: Instant,
}

/// What the demo camera shows during the challenge (`camera.demo_face`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DemoFace {
    /// A synthetic head (the demo photo given depth) that follows the dot a little late.
    #[default]
    Live,
    /// The same photo as a flat print, turned exactly as the head would be: the attack.
    Print,
    /// The same photo printed and bent about a vertical axis (radius 0.3 of its width),
    /// turned likewise: the attack a "not flat" check alone lets through.
    Bent,
}

ekyc_settings::text_setting!(DemoFace);

ekyc_settings::section! {
    /// Which camera the kiosk uses.
    pub struct CameraConfig {
        /// `auto` (the first camera, else the demo camera), `demo`, an index (`0`) or part
        /// of a camera's name.
        #[env = "EKYC_CAMERA"]
        pub device: String = "auto".into(),
        /// What the demo camera shows during the liveness challenge: `live` (a synthetic
        /// head that follows the dot), `print` (the same photo as a flat print moved the
        /// same way: the attack the kiosk must refuse) or `bent` (that print bent in the
        /// hand about a vertical axis).
        #[env = "EKYC_DEMO_FACE"]
        pub demo_face: DemoFace = DemoFace::Live,
    }
}

impl SceneHint {
    /// A hint for a demo source that plays `demo_face` during the challenge.
    pub fn new(demo_face: DemoFace) -> Self {
        Self {
            demo_face,
            ..Self::default()
        }
    }

    pub fn set(&self, target: CaptureTarget) {
        let value = match target {
            CaptureTarget::Front => 0,
            CaptureTarget::Back => 1,
            CaptureTarget::Selfie => 2,
        };
        self.target.store(value, Ordering::Relaxed);
    }

    pub fn get(&self) -> CaptureTarget {
        match self.target.load(Ordering::Relaxed) {
            0 => CaptureTarget::Front,
            1 => CaptureTarget::Back,
            _ => CaptureTarget::Selfie,
        }
    }

    /// The challenge started (`Some`) or ended (`None`).
    pub fn set_challenge(&self, challenge: Option<ChallengeScene>) {
        *self
            .challenge
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = challenge;
    }

    pub fn challenge(&self) -> Option<ChallengeScene> {
        self.challenge
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn demo_face(&self) -> DemoFace {
        self.demo_face
    }
}

struct Shared {
    latest: Mutex<Option<Arc<Frame>>>,
    status: Mutex<CameraStatus>,
    stop: AtomicBool,
    /// Cuts the pause before the next reopen short ("Try again" on screen).
    retry_now: AtomicBool,
    /// A screen shows the preview: frames are decoded and published; otherwise skipped.
    wanted: AtomicBool,
    /// Handed every published frame first, with its key ([`FrameTap::subscribe`]).
    listener: Mutex<Option<(u64, Listener)>>,
    next_listener: AtomicU64,
}

/// Told of each new frame on the camera thread; `false` when it wants no more.
pub type Listener = Box<dyn FnMut(&Arc<Frame>) -> bool + Send>;

/// Pause before reopening a failed source.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// Frames that all fail to decode, or all repeat the same picture, for this long: the
/// camera is closed, reported and opened again (one bad frame is skipped quietly).
const STUCK_AFTER: Duration = Duration::from_secs(3);

/// What the camera thread watches for in the frames themselves: a stream of undecodable
/// frames, or one picture repeated exactly (never by a real sensor; the demo source is
/// exempt: its stills repeat by design).
#[derive(Default)]
struct Stuck {
    undecodable_since: Option<Instant>,
    last_fingerprint: Option<u64>,
    same_since: Option<Instant>,
}

impl Stuck {
    /// A frame could not be decoded; the error once that has lasted too long.
    fn undecodable(&mut self, reason: String) -> Option<CameraError> {
        let since = *self.undecodable_since.get_or_insert_with(Instant::now);
        (since.elapsed() >= STUCK_AFTER).then(|| {
            *self = Self::default();
            CameraError::Decode(reason)
        })
    }

    /// A decoded frame; the error once the same picture has lasted too long.
    fn decoded(&mut self, image: &RgbImage, demo: bool) -> Option<CameraError> {
        self.undecodable_since = None;
        if demo {
            return None;
        }
        let fingerprint = fingerprint(image);
        if self.last_fingerprint != Some(fingerprint) {
            self.last_fingerprint = Some(fingerprint);
            self.same_since = None;
            return None;
        }
        let since = *self.same_since.get_or_insert_with(Instant::now);
        (since.elapsed() >= STUCK_AFTER).then(|| {
            *self = Self::default();
            CameraError::Frozen(STUCK_AFTER)
        })
    }
}

/// A hash of 4,096 bytes spread over the frame: two frames of a live sensor differ in
/// them (noise), a repeated buffer does not. About 10 µs for a 1280×720 frame.
fn fingerprint(image: &RgbImage) -> u64 {
    let bytes = image.as_raw();
    let step = (bytes.len() / 4096).max(1);
    bytes
        .iter()
        .step_by(step)
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
        ^ (u64::from(image.width()) << 32 | u64::from(image.height()))
}

/// The camera thread. Dropping it stops and joins the thread.
pub struct Camera {
    shared: Arc<Shared>,
    hint: Arc<SceneHint>,
    thread: Option<JoinHandle<()>>,
}

impl Camera {
    /// Starts reading `source` on a thread named `camera`, its frames timed by `clock`.
    /// `on_frame` is called after each new frame (the UI asks for a repaint there), so
    /// repaints follow the camera's rate.
    pub fn start(
        make_source: SourceFactory,
        hint: Arc<SceneHint>,
        clock: &Clock,
        on_frame: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            latest: Mutex::new(None),
            status: Mutex::new(CameraStatus::Starting),
            stop: AtomicBool::new(false),
            retry_now: AtomicBool::new(false),
            wanted: AtomicBool::new(true),
            listener: Mutex::new(None),
            next_listener: AtomicU64::new(0),
        });
        let thread_shared = shared.clone();
        // Made here, so that a test's clock waits for the thread from its start.
        let pacer = clock.pacer();
        let thread = std::thread::Builder::new()
            .name("camera".into())
            .spawn(move || {
                let mut source = make_source(pacer.clock());
                let pacer = source.frame_interval().map(|interval| (pacer, interval));
                run(source.as_mut(), &thread_shared, pacer, &on_frame);
            })?;
        Ok(Self {
            shared,
            hint,
            thread: Some(thread),
        })
    }

    /// The newest frame, if any arrived yet.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        lock(&self.shared.latest).clone()
    }

    /// A handle another thread can take the newest frame from (the frame analysis).
    pub fn tap(&self) -> FrameTap {
        FrameTap(self.shared.clone())
    }

    pub fn status(&self) -> CameraStatus {
        lock(&self.shared.status).clone()
    }

    pub fn hint(&self) -> &SceneHint {
        &self.hint
    }

    /// Whether frames are wanted (a screen shows the preview). Not wanted: the thread keeps
    /// the camera open and drained but decodes nothing, and the newest frame is dropped,
    /// so nothing of the last customer waits in memory and the next preview is fresh.
    pub fn set_wanted(&self, wanted: bool) {
        // Under the frame's lock: a frame read while this changes is not published after.
        let mut latest = lock(&self.shared.latest);
        if self.shared.wanted.swap(wanted, Ordering::Relaxed) && !wanted {
            *latest = None;
        }
    }

    /// Tries to reopen a failed camera now rather than at the next once-a-second attempt.
    pub fn retry_now(&self) {
        self.shared.retry_now.store(true, Ordering::Relaxed);
    }
}

/// The newest frame, from another thread: see [`Camera::tap`].
#[derive(Clone)]
pub struct FrameTap(Arc<Shared>);

impl FrameTap {
    pub fn latest(&self) -> Option<Arc<Frame>> {
        lock(&self.0.latest).clone()
    }

    /// Hands `listener` every frame from now on, on the camera thread, before anyone else
    /// sees it (the challenge's recording: no frame lost to a slow screen), until it says
    /// `false` or the [`Subscription`] is dropped. One listener at a time: a new one
    /// replaces the one before.
    pub fn subscribe(&self, listener: Listener) -> Subscription {
        let key = self.0.next_listener.fetch_add(1, Ordering::Relaxed);
        *lock(&self.0.listener) = Some((key, listener));
        Subscription {
            shared: self.0.clone(),
            key,
        }
    }
}

/// A listener's place on the camera thread: dropping it removes the listener (and what
/// it holds) unless it left already.
pub struct Subscription {
    shared: Arc<Shared>,
    key: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut listener = lock(&self.shared.listener);
        if listener.as_ref().is_some_and(|(key, _)| *key == self.key) {
            *listener = None;
        }
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A lock that survives a panic elsewhere (the data is a frame or a status, whole either
/// way). Shared with the frame analysis.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The camera thread's loop. `pacer`: the source's pace, kept by the kiosk's clock.
fn run(
    source: &mut dyn FrameSource,
    shared: &Shared,
    pacer: Option<(Pacer, Duration)>,
    on_frame: &dyn Fn(),
) {
    let mut sequence = 0u64;
    let mut open = false;
    let mut stuck = Stuck::default();
    // When the last frame was begun: the next is due an interval after it.
    let mut last_frame: Option<Instant> = None;
    let now = || {
        pacer
            .as_ref()
            .map_or_else(Instant::now, |(pacer, _)| pacer.clock().now())
    };
    while !shared.stop.load(Ordering::Relaxed) {
        if !open {
            match source.open() {
                Ok(()) => {
                    open = true;
                    *lock(&shared.status) = CameraStatus::Running {
                        name: source.name(),
                        demo: source.is_demo(),
                    };
                    tracing::info!(camera = %source.name(), "camera open");
                }
                Err(error) => {
                    fail(shared, error, on_frame);
                    sleep_unless_stopped(shared, REOPEN_AFTER);
                    continue;
                }
            }
        }
        if let (Some((pacer, interval)), Some(last)) = (&pacer, last_frame) {
            if !pacer.wait_until(last + *interval, &shared.stop) {
                break;
            }
        }
        last_frame = Some(now());
        if !shared.wanted.load(Ordering::Relaxed) {
            match source.skip_frame() {
                Ok(()) | Err(CameraError::Decode(_)) => {}
                Err(error) => {
                    source.close();
                    open = false;
                    fail(shared, error, on_frame);
                    sleep_unless_stopped(shared, REOPEN_AFTER);
                }
            }
            continue;
        }
        let problem = match source.next_frame() {
            Ok(image) => match stuck.decoded(&image, source.is_demo()) {
                Some(frozen) => Err(frozen),
                None => Ok(image),
            },
            Err(CameraError::Decode(reason)) => match stuck.undecodable(reason) {
                Some(error) => Err(error),
                None => {
                    // One bad frame is no reason to close the camera.
                    tracing::debug!("camera frame skipped: undecodable");
                    continue;
                }
            },
            Err(error) => Err(error),
        };
        match problem {
            Ok(image) => {
                sequence += 1;
                let mut latest = lock(&shared.latest);
                if !shared.wanted.load(Ordering::Relaxed) {
                    continue; // read as the preview went away: not shown, not kept
                }
                let frame = Arc::new(Frame {
                    image,
                    sequence,
                    taken_at: source.taken_at().unwrap_or_else(now),
                });
                {
                    let mut listener = lock(&shared.listener);
                    if listener.as_mut().is_some_and(|(_, listen)| !listen(&frame)) {
                        *listener = None;
                    }
                }
                *latest = Some(frame);
                drop(latest);
                if !matches!(*lock(&shared.status), CameraStatus::Running { .. }) {
                    *lock(&shared.status) = CameraStatus::Running {
                        name: source.name(),
                        demo: source.is_demo(),
                    };
                }
                on_frame();
            }
            Err(error) => {
                source.close();
                open = false;
                stuck = Stuck::default();
                *lock(&shared.latest) = None;
                fail(shared, error, on_frame);
                sleep_unless_stopped(shared, REOPEN_AFTER);
            }
        }
    }
    source.close();
}

fn fail(shared: &Shared, error: CameraError, on_frame: &dyn Fn()) {
    let mut status = lock(&shared.status);
    if *status != CameraStatus::Unavailable(error.clone()) {
        tracing::warn!("{error}");
        *status = CameraStatus::Unavailable(error);
        drop(status);
        on_frame();
    }
}

fn sleep_unless_stopped(shared: &Shared, pause: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < pause && !shared.stop.load(Ordering::Relaxed) {
        if shared.retry_now.swap(false, Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(step);
        slept += step;
    }
}
