//! The preview's per-frame work on 1280×720 frames, on one core: `cargo bench --bench
//! frame_pipeline`. Prints the median of each step (decode the camera's MJPEG, grey
//! conversion, frame metrics, card detection, the whole card check, face detection, the
//! whole selfie check) and writes the frames and figures to `target/bench-frames/` for
//! `benches/opencv-compare`, which times OpenCV on the same frames.
//! `EKYC_BENCH_ROUNDS=N` (default 60) timed rounds per step.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "support/timing.rs"]
mod timing;
use timing::{bench_rounds, median_ms};

// The tests' generators (tests/common/): `frames` reaches `card` and `selfie_path`
// through `super`, here the bench's root.
#[path = "../tests/common/card.rs"]
#[allow(dead_code)]
mod card;
#[path = "../tests/common/frames.rs"]
#[allow(dead_code)]
mod frames;

fn selfie_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/selfie-astronaut.jpg")
}

use std::hint::black_box;

use ekyc_face::FaceDetector;
use ekyc_imaging::card::{find_card, flatten_card};
use ekyc_imaging::metrics::{measure, Luma, Region};
use ekyc_kiosk::camera::decode_frame;
use ekyc_kiosk::quality::{card_outline, check_card, check_selfie, Preset, Thresholds};
use frames::{card_frame, face_frame, CardCondition, FacePlacement};
use nokhwa::utils::FrameFormat;

fn main() {
    let Some(rounds) = bench_rounds(60) else {
        return;
    };
    let thresholds = Thresholds::preset(Preset::Normal);
    let card = card_frame(CardCondition::Rotated(8.0)).image;
    let face = face_frame(
        &[FacePlacement {
            height: 0.5,
            centre: (0.5, 0.5),
        }],
        1.0,
    );
    let mut mjpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut mjpeg, 85)
        .encode_image(&card)
        .expect("JPEG encoding");
    let (width, height) = (card.width(), card.height());
    let (left, top, outline_width, outline_height) = card_outline(width as f32, height as f32);
    let outline = Region::from_edges(
        left,
        top,
        left + outline_width,
        top + outline_height,
        width as usize,
        height as usize,
    );
    let luma = Luma::from_rgb(&card);
    let quad = find_card(&luma).expect("the bench card is found");
    let detector = FaceDetector::load(None).ok();

    let decode = median_ms(rounds, || {
        black_box(decode_frame(FrameFormat::MJPEG, width, height, &mjpeg).expect("decodes"));
    });
    let grey = median_ms(rounds, || {
        black_box(Luma::from_rgb(black_box(&card)));
    });
    let metrics_only = median_ms(rounds, || {
        black_box(measure(black_box(&luma), outline));
    });
    let metrics = median_ms(rounds, || {
        let luma = Luma::from_rgb(black_box(&card));
        black_box(measure(&luma, outline));
    });
    let detection = median_ms(rounds, || {
        black_box(find_card(black_box(&luma)));
    });
    let card_check = median_ms(rounds, || {
        black_box(check_card(black_box(&card), None, &thresholds));
    });
    let flatten = median_ms(rounds.min(20), || {
        black_box(flatten_card(black_box(&card), &quad));
    });
    let (face_detection, thorough_detection, selfie_check) = match &detector {
        Some(detector) => (
            Some(median_ms(rounds, || {
                black_box(detector.detect(black_box(&face)).expect("runs"));
            })),
            Some(median_ms(rounds, || {
                black_box(detector.detect_thorough(black_box(&face)).expect("runs"));
            })),
            Some(median_ms(rounds, || {
                let faces = detector.detect_thorough(black_box(&face)).expect("runs");
                black_box(check_selfie(&face, Some(faces), None, &thresholds));
            })),
        ),
        None => (None, None, None),
    };

    let shown = |value: Option<f64>| {
        value.map_or("n/a (no model: ./fetch-models)".into(), |ms| {
            format!("{ms:.2} ms")
        })
    };
    println!("Frame pipeline, 1280×720, one core, median of {rounds} rounds");
    println!("  decode MJPEG (q=85)            {decode:7.2} ms");
    println!("  grey conversion                {grey:7.2} ms");
    println!("  metrics on the outline         {metrics_only:7.2} ms");
    println!("  frame metrics (grey + metrics) {metrics:7.2} ms");
    println!("  card detection                 {detection:7.2} ms");
    println!("  card check (all card gates)    {card_check:7.2} ms");
    println!("  flatten the card (per capture) {flatten:7.2} ms");
    println!(
        "  face detection, short range       {}",
        shown(face_detection)
    );
    println!(
        "  + full range over 3 squares       {}",
        shown(thorough_detection)
    );
    println!(
        "  selfie check (all face gates)     {}",
        shown(selfie_check)
    );
    if let Some(selfie) = selfie_check {
        println!(
            "  card check + selfie check      {:7.2} ms (a frame does one of them; both fit 33 ms: {})",
            card_check + selfie,
            card_check + selfie < 33.0
        );
    }

    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-frames");
    if let Err(error) = write_for_opencv(
        &out,
        &card,
        &mjpeg,
        outline,
        decode,
        metrics,
        measure(&luma, outline),
    ) {
        eprintln!("could not write {}: {error}", out.display());
    }
}

/// The frame, its MJPEG and our figures, for benches/opencv_compare.py.
fn write_for_opencv(
    out: &std::path::Path,
    card: &image::RgbImage,
    mjpeg: &[u8],
    outline: Region,
    decode_ms: f64,
    metrics_ms: f64,
    values: ekyc_imaging::metrics::Metrics,
) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    card.save(out.join("card.png"))
        .map_err(std::io::Error::other)?;
    std::fs::write(out.join("card.jpg"), mjpeg)?;
    let figures = format!(
        "{{\"outline\": [{}, {}, {}, {}], \"decode_ms\": {decode_ms:.4}, \"metrics_ms\": {metrics_ms:.4}, \
         \"sharpness\": {:.3}, \"brightness\": {:.3}, \"contrast\": {:.3}, \"glare\": {:.5}}}\n",
        outline.left, outline.top, outline.width, outline.height,
        values.sharpness, values.brightness, values.contrast, values.glare
    );
    std::fs::write(out.join("ours.json"), figures)
}
