//! The demo camera: plays the images in `assets/demo/` (a made-up CCCD front and back with
//! a real QR code, and a public-domain face photo) as a 1280×720 picture, so the whole
//! flow can be walked on a machine without a webcam. The images are built into the binary.

use std::time::Duration;

use image::{imageops, Rgb, RgbImage};

use super::CaptureTarget;
use super::{CameraError, FrameSource, SceneHint};
use std::sync::Arc;

const FRONT: &[u8] = include_bytes!("../../assets/demo/demo-card-front.png");
const BACK: &[u8] = include_bytes!("../../assets/demo/demo-card-back.png");
const SELFIE: &[u8] = include_bytes!("../../assets/demo/selfie-astronaut.jpg");

/// The demo source's frame size and rate.
const FRAME_SIZE: (u32, u32) = (1280, 720);
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

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

/// Plays one still per capture target, chosen by the scene hint.
pub struct DemoSource {
    hint: Arc<SceneHint>,
    frames: Option<[RgbImage; 3]>,
}

impl DemoSource {
    pub fn new(hint: Arc<SceneHint>) -> Self {
        Self { hint, frames: None }
    }
}

impl FrameSource for DemoSource {
    fn name(&self) -> String {
        "Demo camera".into()
    }

    fn is_demo(&self) -> bool {
        true
    }

    fn open(&mut self) -> Result<(), CameraError> {
        if self.frames.is_none() {
            // A card is held at arm's length (it fills most of the card outline); a face
            // fills most of the height, as in front of a kiosk.
            self.frames = Some([
                compose(&demo_image(CaptureTarget::Front)?, 0.82),
                compose(&demo_image(CaptureTarget::Back)?, 0.82),
                compose(
                    &head_and_shoulders(&demo_image(CaptureTarget::Selfie)?),
                    0.95,
                ),
            ]);
        }
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        std::thread::sleep(FRAME_INTERVAL);
        let frames = self
            .frames
            .as_ref()
            .ok_or_else(|| CameraError::Stopped("not open".into()))?;
        let index = match self.hint.get() {
            CaptureTarget::Front => 0,
            CaptureTarget::Back => 1,
            CaptureTarget::Selfie => 2,
        };
        Ok(frames[index].clone())
    }
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

/// Centres `scene` on a plain background, scaled to `fill` of the frame's height (or
/// width, whichever binds first).
fn compose(scene: &RgbImage, fill: f32) -> RgbImage {
    let (width, height) = FRAME_SIZE;
    let mut frame = RgbImage::from_pixel(width, height, Rgb([58, 64, 72]));
    let scale = (width as f32 * fill / scene.width() as f32)
        .min(height as f32 * fill / scene.height() as f32);
    let scaled = imageops::resize(
        scene,
        ((scene.width() as f32 * scale) as u32).max(1),
        ((scene.height() as f32 * scale) as u32).max(1),
        imageops::FilterType::Triangle,
    );
    let left = (width - scaled.width()) / 2;
    let top = (height - scaled.height()) / 2;
    imageops::overlay(&mut frame, &scaled, i64::from(left), i64::from(top));
    frame
}
