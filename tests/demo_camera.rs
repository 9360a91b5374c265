//! The demo camera: its frames carry a card the local engine can read, after the same
//! crop the app applies to a card capture.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::sync::Arc;

use ekyc_kiosk::camera::{demo_image, DemoSource, FrameSource, SceneHint};
use ekyc_kiosk::flow::CaptureTarget;
use ekyc_reading::find_cccd_qr;
use image::DynamicImage;

const DEMO_ID: &str = "079203004512";

#[test]
fn the_bundled_demo_front_carries_a_real_cccd_qr_code() {
    let front = DynamicImage::ImageRgb8(demo_image(CaptureTarget::Front).unwrap());
    assert_eq!(find_cccd_qr(&front).expect("QR read").id, DEMO_ID);
    let back = DynamicImage::ImageRgb8(demo_image(CaptureTarget::Back).unwrap());
    assert!(find_cccd_qr(&back).is_none());
}

#[test]
fn a_demo_camera_frame_cropped_like_a_capture_still_reads() {
    let hint = Arc::new(SceneHint::default());
    hint.set(CaptureTarget::Front);
    let mut source = DemoSource::new(hint, ekyc_kiosk::clock::Clock::system());
    source.open().unwrap();
    let frame = DynamicImage::ImageRgb8(source.next_frame().unwrap());
    assert_eq!((frame.width(), frame.height()), (1280, 720));
    let still = ekyc_kiosk::app::crop_card(&frame);
    assert!(still.width() < frame.width());
    let prepared = ekyc_client::prepare_decoded(still, "front.jpg", &Default::default()).unwrap();
    let uploaded = image::load_from_memory(&prepared.jpeg).unwrap();
    assert_eq!(
        find_cccd_qr(&uploaded)
            .expect("QR read after crop and JPEG")
            .id,
        DEMO_ID
    );
}
