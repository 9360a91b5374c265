//! The demo camera: plays the images in `assets/demo/` (a made-up CCCD front and back with
//! a real QR code, and a public-domain face photo) as a 1280×720 picture, so the whole
//! flow can be walked on a machine without a webcam. The images are built into the binary.
//!
//! During the liveness challenge it plays the face photo as a synthetic head
//! ([`SyntheticHead`]) that follows the dot 250 ms late with a little jitter, as a person
//! would; with `camera.demo_face = "print"` the same photo as a flat print turned the same
//! way. The head is made from the face models when the first challenge starts; without
//! them the still photo plays on (and the challenge fails, as it should).

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::{imageops, Rgb, RgbImage};

use super::CaptureTarget;
use super::{CameraError, DemoFace, FrameSource, SceneHint};
use crate::clock::Clock;
use ekyc_face::{FaceDetector, FaceMesh};
use ekyc_liveness::{pose_following, Bend, Surface, SyntheticHead};

const FRONT: &[u8] = include_bytes!("../../assets/demo/demo-card-front.png");
const BACK: &[u8] = include_bytes!("../../assets/demo/demo-card-back.png");
const SELFIE: &[u8] = include_bytes!("../../assets/demo/selfie-astronaut.jpg");

/// The demo source's frame size.
const FRAME_SIZE: (u32, u32) = (1280, 720);
/// The demo source's pace: ten frames a second, by the kiosk's clock.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// A bundled demo image, decoded (the tests and `inspect` use them too).
pub fn demo_image(target: CaptureTarget) -> Result<RgbImage, CameraError> {
    let bytes = match target {
        CaptureTarget::Front => FRONT,
        CaptureTarget::Back => BACK,
        CaptureTarget::Selfie => SELFIE,
    };
    image::load_from_memory(bytes)
        .map(|image| image.to_rgb8())
        .map_err(|error| CameraError::Decode(format!("bundled demo image: {error}")))
}

/// How late the demo head follows the dot, as a person's eyes and head do.
const FOLLOW_LAG: Duration = Duration::from_millis(250);
/// The demo head's unsteadiness, in degrees (uniform, either way).
const JITTER_DEGREES: f32 = 0.6;

/// Plays one still per capture target, chosen by the scene hint, and the synthetic head
/// during the challenge.
pub struct DemoSource {
    hint: Arc<SceneHint>,
    /// The still of the target shown now, composed when the target changes (one frame
    /// held, not three: 2.7 MB each).
    frame: Option<(CaptureTarget, RgbImage)>,
    opened: bool,
    head: DemoHead,
    /// The jitter's random state (xorshift).
    jitter: u64,
    /// The kiosk's clock: when a frame is "exposed".
    clock: Clock,
    last_frame: Option<Instant>,
}

/// The synthetic head, made once, when the first challenge starts.
enum DemoHead {
    NotMade,
    Made(Box<SyntheticHead>),
    /// The face models are missing: the still photo plays on.
    Unavailable,
}

impl DemoSource {
    /// Plays what `hint` says, its frames timed by `clock`.
    pub fn new(hint: Arc<SceneHint>, clock: Clock) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |since| since.as_nanos() as u64);
        Self {
            hint,
            frame: None,
            opened: false,
            head: DemoHead::NotMade,
            jitter: seed | 1,
            clock,
            last_frame: None,
        }
    }

    /// Makes the synthetic head once, while the selfie screen shows: in time for the
    /// challenge that follows it (making it takes a moment, more in a debug build).
    fn prepare_head(&mut self) {
        if let DemoHead::NotMade = self.head {
            self.head = match make_head() {
                Ok(head) => DemoHead::Made(Box::new(head)),
                Err(reason) => {
                    tracing::warn!("the demo camera plays a still during the challenge: {reason}");
                    DemoHead::Unavailable
                }
            };
        }
    }

    /// The head (made by [`Self::prepare_head`]) turned to follow the challenge's dot,
    /// framed as the selfie is.
    fn challenge_frame(
        &mut self,
        path: &ekyc_liveness::DotPath,
        started: Instant,
        exposed: Instant,
    ) -> Option<RgbImage> {
        let at = exposed.saturating_duration_since(started);
        let (yaw, pitch) = pose_following(path, at, FOLLOW_LAG);
        let (yaw, pitch) = (yaw + self.jitter_degrees(), pitch + self.jitter_degrees());
        let DemoHead::Made(head) = &self.head else {
            return None;
        };
        Some(demo_challenge_frame(
            head,
            yaw,
            pitch,
            self.hint.demo_face(),
        ))
    }

    fn jitter_degrees(&mut self) -> f32 {
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let unit = (self.jitter >> 40) as f32 / (1u64 << 24) as f32;
        (unit * 2.0 - 1.0) * JITTER_DEGREES
    }
}

/// The demo camera's head turned to `yaw`, `pitch` (degrees) and shown as `face`, framed
/// as the camera plays it during the challenge (the liveness bench renders these too).
pub fn demo_challenge_frame(
    head: &SyntheticHead,
    yaw: f32,
    pitch: f32,
    face: DemoFace,
) -> RgbImage {
    let surface = match face {
        DemoFace::Live => Surface::Head,
        DemoFace::Print => Surface::Flat,
        DemoFace::Bent => Surface::Bent(Bend {
            about_vertical: true,
            radius: 0.3,
            middle_forward: true,
        }),
    };
    // Nearest-neighbour scaling: a smooth one takes longer than a frame's interval.
    compose(
        &head.render(yaw, pitch, surface),
        SELFIE_FILL,
        imageops::FilterType::Nearest,
    )
}

/// The demo face, cut as the selfie is, given depth by its own mesh: the head the demo
/// camera plays during the challenge.
pub fn make_head() -> Result<SyntheticHead, String> {
    let detector = FaceDetector::load(None).map_err(|error| error.to_string())?;
    let mesher = FaceMesh::load(None).map_err(|error| error.to_string())?;
    let photo =
        head_and_shoulders(&demo_image(CaptureTarget::Selfie).map_err(|error| error.to_string())?);
    SyntheticHead::from_photo(photo, &detector, &mesher)
        .ok_or_else(|| "no face found in the demo photo".to_owned())
}

/// How the stills are scaled into the frame.
const SMOOTH: imageops::FilterType = imageops::FilterType::Triangle;

/// How much of the frame's height the selfie fills.
const SELFIE_FILL: f32 = 0.95;

impl FrameSource for DemoSource {
    fn taken_at(&self) -> Option<Instant> {
        self.last_frame
    }

    fn name(&self) -> String {
        "Demo camera".into()
    }

    fn is_demo(&self) -> bool {
        true
    }

    fn open(&mut self) -> Result<(), CameraError> {
        self.opened = true;
        Ok(())
    }

    fn frame_interval(&self) -> Option<Duration> {
        // Paced by the camera thread from each frame's start, so that drawing a frame does
        // not slow the rate.
        Some(FRAME_INTERVAL)
    }

    fn skip_frame(&mut self) -> Result<(), CameraError> {
        // Nothing to drain: compose nothing.
        self.last_frame = None;
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        // The moment of the "exposure": the scene is read right after (a frame drawn for
        // the previous screen must not count as taken on the next one).
        let exposed = self.clock.now();
        self.last_frame = Some(exposed);
        if self.hint.get() == CaptureTarget::Selfie {
            self.prepare_head();
            if let Some(challenge) = self.hint.challenge() {
                let frame = self.challenge_frame(&challenge.path, challenge.started, exposed);
                if let Some(frame) = frame {
                    return Ok(frame);
                }
            }
        }
        if !self.opened {
            return Err(CameraError::Stopped("not open".into()));
        }
        let target = self.hint.get();
        match &self.frame {
            Some((shown, frame)) if *shown == target => Ok(frame.clone()),
            _ => {
                let frame = still_frame(target)?;
                self.frame = Some((target, frame.clone()));
                Ok(frame)
            }
        }
    }
}

/// A target's still as the camera sees it: a card held at arm's length (it fills most of
/// the card outline); a face filling most of the height, as in front of a kiosk.
fn still_frame(target: CaptureTarget) -> Result<RgbImage, CameraError> {
    Ok(match target {
        CaptureTarget::Front | CaptureTarget::Back => compose(&demo_image(target)?, 0.82, SMOOTH),
        CaptureTarget::Selfie => compose(
            &head_and_shoulders(&demo_image(CaptureTarget::Selfie)?),
            SELFIE_FILL,
            SMOOTH,
        ),
    })
}

/// The portrait cut so the face fills half of it, as a customer's face fills a kiosk's
/// selfie (the face box measured on the bundled photo: 94 px square around (225, 128)).
fn head_and_shoulders(portrait: &RgbImage) -> RgbImage {
    let (centre_x, centre_y, side) = (225, 128, 188);
    let left = (centre_x - side / 2).min(portrait.width().saturating_sub(side));
    let top = (centre_y - side / 2).min(portrait.height().saturating_sub(side));
    imageops::crop_imm(
        portrait,
        left,
        top,
        side.min(portrait.width()),
        side.min(portrait.height()),
    )
    .to_image()
}

/// Centres `scene` on a plain background, scaled (with `filter`) to `fill` of the frame's
/// height (or width, whichever binds first).
fn compose(scene: &RgbImage, fill: f32, filter: imageops::FilterType) -> RgbImage {
    let (width, height) = FRAME_SIZE;
    let mut frame = RgbImage::from_pixel(width, height, Rgb([58, 64, 72]));
    let scale = (width as f32 * fill / scene.width() as f32)
        .min(height as f32 * fill / scene.height() as f32);
    let scaled = imageops::resize(
        scene,
        ((scene.width() as f32 * scale) as u32).max(1),
        ((scene.height() as f32 * scale) as u32).max(1),
        filter,
    );
    let left = ((width - scaled.width()) / 2) as usize;
    let top = ((height - scaled.height()) / 2) as usize;
    // Row by row (a copy, not a blend: the scene is opaque), fast enough to compose every
    // frame of the challenge.
    let row_bytes = scaled.width() as usize * 3;
    let frame_row = width as usize * 3;
    let pixels: &mut [u8] = &mut frame;
    for (y, row) in scaled.as_raw().chunks_exact(row_bytes).enumerate() {
        let start = (top + y) * frame_row + left * 3;
        pixels[start..start + row_bytes].copy_from_slice(row);
    }
    frame
}
