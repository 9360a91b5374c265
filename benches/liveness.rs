//! The liveness challenge's per-frame work on one core: `cargo bench --bench liveness`.
//! So far the landmark models run by our TensorFlow Lite interpreter (`face::tflite`):
//! the face mesh (468 points, 192×192 crop) and the iris model (64×64 eye crop, run for
//! each eye), on the crops of `tests/data/face-landmarks/`, the whole `FaceMesh::landmarks`
//! on a photo (regions sampled, mesh, both irises), and the models' load time.
//! The preview runs at 15 frames/s: one face mesh and two iris calls must fit well inside
//! 66 ms. `EKYC_BENCH_ROUNDS=N` (default 30) timed rounds per step.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "support/timing.rs"]
mod timing;
use timing::{bench_rounds, median_ms};

use std::hint::black_box;
use std::path::Path;

use ekyc_tflite::TfliteModel;

fn main() {
    let Some(rounds) = bench_rounds(30) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("assets/models/mediapipe");
    let load = |name: &str| match TfliteModel::load(&models.join(name)) {
        Ok(model) => model,
        Err(error) => {
            eprintln!("{error} (run ./fetch-models)");
            std::process::exit(1);
        }
    };
    let face_load_ms = median_ms(5, || {
        black_box(load("face_landmark.tflite"));
    });
    let iris_load_ms = median_ms(5, || {
        black_box(load("iris_landmark.tflite"));
    });
    let (face, iris) = (load("face_landmark.tflite"), load("iris_landmark.tflite"));
    let input = |name: &str| -> Vec<f32> {
        let image = image::open(root.join("tests/data/face-landmarks").join(name))
            .expect("fixture crop")
            .to_rgb8();
        image
            .as_raw()
            .iter()
            .map(|v| f32::from(*v) / 255.0)
            .collect()
    };
    let face_input = input("astronaut-192.png");
    let eye_input = input("astronaut-192-eye.png");
    let face_ms = median_ms(rounds, || {
        black_box(face.run(&[&face_input]).expect("face mesh"));
    });
    let iris_ms = median_ms(rounds, || {
        black_box(iris.run(&[&eye_input]).expect("iris"));
    });
    // The whole per-frame path on a photo: regions sampled, mesh, both irises.
    let photo = image::open(root.join("tests/data/face-match/astronaut-face.png"))
        .expect("photo")
        .to_rgb8();
    let detector = ekyc_face::FaceDetector::load(None).expect("./fetch-models");
    let faces = detector.detect(&photo).expect("detection");
    let mesh = ekyc_face::FaceMesh::load(None).expect("./fetch-models");
    let frame_ms = median_ms(rounds, || {
        black_box(mesh.landmarks(&photo, &faces[0]).expect("mesh"));
    });
    // The engine's liveness step on a challenge's 30 frames (JPEG, as uploaded): each
    // decoded, detected, meshed; the 3D check; four identity embeddings.
    let whole = image::open(root.join("assets/demo/selfie-astronaut.jpg"))
        .expect("demo selfie")
        .to_rgb8();
    let synthetic =
        ekyc_liveness::SyntheticHead::from_photo(whole, &detector, &mesh).expect("a face");
    let limits = ekyc_imaging::ImageLimits::default();
    let frames: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            let yaw = 10.0 * (i as f32 / 30.0 * std::f32::consts::TAU).sin();
            let frame = image::DynamicImage::ImageRgb8(synthetic.render(yaw, 0.4 * yaw, false));
            ekyc_imaging::prepare_decoded(frame, "frame.jpg", &limits)
                .expect("JPEG")
                .jpeg
                .clone()
        })
        .collect();
    let frame_slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let matcher = ekyc_face::FaceMatcher::load(None).ok();
    let engine_ms = median_ms(rounds.min(5), || {
        black_box(ekyc_liveness::check_frames(
            &frame_slices,
            &detector,
            &mesh,
            matcher.as_ref(),
            ekyc_face::DEFAULT_MATCH_DISTANCE,
            ekyc_liveness::ParallaxThresholds::default(),
        ));
    });
    println!("liveness per-frame work, one core, median of {rounds} runs");
    println!("  face mesh (468 points, 192×192)   {face_ms:7.2} ms");
    println!("  iris (one eye, 64×64)             {iris_ms:7.2} ms");
    println!(
        "  per frame (mesh + two eyes)       {:7.2} ms  (15 frames/s leaves 66.7 ms)",
        face_ms + 2.0 * iris_ms
    );
    println!("  FaceMesh::landmarks on a frame    {frame_ms:7.2} ms  (regions, mesh, two irises)");
    println!(
        "  engine, 30 frames of 512×512 (3D + same person)  {engine_ms:7.1} ms  (median of {})",
        rounds.min(5)
    );
    println!("  load: face mesh {face_load_ms:.1} ms, iris {iris_load_ms:.1} ms");
    error_rates(&synthetic, &detector, &mesh, matcher.as_ref());
}

/// What an attempt shows the camera.
#[derive(Clone, Copy, PartialEq)]
enum Presentation {
    /// The head, following the dot on screen.
    Genuine,
    /// The photo as a flat print, moved to follow the dot exactly as the head would.
    Print,
    /// A recording of the head following another path.
    Replay,
    /// The photo held still.
    Still,
    /// The head, gone from the frame after 40 % of the challenge.
    FaceLeaves,
}

/// A small deterministic random source (xorshift): every run sees the same set.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    fn between(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.next()
    }
}

/// APCER per attack and BPCER on the synthetic set, through the kiosk's challenge score
/// and the engine's check as the product runs them: an attempt is accepted when the
/// kiosk's score passes and the engine answers live. `EKYC_BENCH_ATTEMPTS` (default 20)
/// attempts per presentation; each a new random path, a human lag of 150–450 ms, ±0.6° of
/// jitter, a turn 0.7–1.3 times the typical one, 10–15 frames/s.
fn error_rates(
    head: &ekyc_liveness::SyntheticHead,
    detector: &ekyc_face::FaceDetector,
    mesh: &ekyc_face::FaceMesh,
    matcher: Option<&ekyc_face::FaceMatcher>,
) {
    use ekyc_liveness::{
        check_frames, gaze, score, synthetic::FOLLOW_PITCH, synthetic::FOLLOW_YAW,
        ChallengeThresholds, DotPath, GazeSample, ParallaxThresholds,
    };
    use std::time::Duration;

    let attempts: usize = std::env::var("EKYC_BENCH_ATTEMPTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    let limits = ekyc_imaging::ImageLimits::default();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let length = Duration::from_millis(3500);
    println!();
    println!("liveness error rates on the SYNTHETIC set ({attempts} attempts each; not a certification):");
    println!("  presentation   accepted  stopped by the kiosk's challenge  stopped by the engine   (kiosk's correlation, engine's parallax: lowest–highest)");
    for (name, presentation) in [
        ("genuine", Presentation::Genuine),
        ("print", Presentation::Print),
        ("replay", Presentation::Replay),
        ("still photo", Presentation::Still),
        ("face leaves", Presentation::FaceLeaves),
    ] {
        let (mut accepted, mut by_kiosk, mut by_engine) = (0, 0, 0);
        let mut correlations = (f32::INFINITY, f32::NEG_INFINITY);
        let mut parallaxes = (f32::INFINITY, f32::NEG_INFINITY);
        for _ in 0..attempts {
            let path = DotPath::from_numbers(8, length, || rng.next());
            let other = DotPath::from_numbers(8, length, || rng.next());
            let lag = Duration::from_millis(rng.between(150.0, 450.0) as u64);
            let amplitude = rng.between(0.7, 1.3);
            let step = Duration::from_millis(rng.between(66.0, 100.0) as u64);
            let followed = if presentation == Presentation::Replay {
                &other
            } else {
                &path
            };
            let mut samples = Vec::new();
            let mut uploads = Vec::new();
            let mut at = Duration::ZERO;
            while at <= length {
                let dot = followed.position(at.saturating_sub(lag));
                let (yaw, pitch) = match presentation {
                    Presentation::Still => (0.0, 0.0),
                    _ => (
                        amplitude * FOLLOW_YAW * (dot[0] - 0.5) + rng.between(-0.6, 0.6),
                        amplitude * FOLLOW_PITCH * (dot[1] - 0.5) + rng.between(-0.6, 0.6),
                    ),
                };
                let flat = matches!(presentation, Presentation::Print | Presentation::Still);
                let mut frame = head.render(yaw, pitch, flat);
                if presentation == Presentation::FaceLeaves && at > length.mul_f32(0.4) {
                    frame = image::RgbImage::from_pixel(
                        frame.width(),
                        frame.height(),
                        image::Rgb([128, 128, 128]),
                    );
                }
                let face = detector.detect(&frame).ok().and_then(|faces| {
                    faces
                        .into_iter()
                        .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
                });
                if let Some(gaze) = face
                    .and_then(|face| mesh.landmarks(&frame, &face).ok())
                    .and_then(|mesh| gaze(&mesh))
                {
                    samples.push(GazeSample { at, gaze });
                }
                uploads.push(
                    ekyc_imaging::prepare_decoded(
                        image::DynamicImage::ImageRgb8(frame),
                        "frame.jpg",
                        &limits,
                    )
                    .expect("JPEG")
                    .jpeg
                    .clone(),
                );
                at += step;
            }
            let kiosk = score(&path, &samples, ChallengeThresholds::default());
            // The kiosk sends at most 30 frames, evenly spaced.
            let count = uploads.len();
            let sent: Vec<&[u8]> = (0..count.min(30))
                .map(|k| uploads[k * (count - 1) / (count.min(30) - 1)].as_slice())
                .collect();
            let engine = check_frames(
                &sent,
                detector,
                mesh,
                matcher,
                ekyc_face::DEFAULT_MATCH_DISTANCE,
                ParallaxThresholds::default(),
            );
            correlations = (
                correlations.0.min(kiosk.correlation),
                correlations.1.max(kiosk.correlation),
            );
            parallaxes = (
                parallaxes.0.min(engine.parallax.parallax_figure),
                parallaxes.1.max(engine.parallax.parallax_figure),
            );
            let kiosk_passed = kiosk.problem.is_none();
            if !kiosk_passed {
                by_kiosk += 1;
            }
            if !engine.is_live {
                by_engine += 1;
            }
            if kiosk_passed && engine.is_live {
                accepted += 1;
            }
        }
        let share = |count: usize| 100.0 * count as f64 / attempts as f64;
        let label = if presentation == Presentation::Genuine {
            format!("BPCER {:5.1} %", share(attempts - accepted))
        } else {
            format!("APCER {:5.1} %", share(accepted))
        };
        println!(
            "  {name:<13}  {accepted:>3}/{attempts:<3}  {:>3}/{attempts:<3}                          {:>3}/{attempts:<3}   {label}   correlation {:.2}–{:.2}, parallax {:.1}–{:.1} %",
            by_kiosk,
            by_engine,
            correlations.0,
            correlations.1,
            100.0 * parallaxes.0,
            100.0 * parallaxes.1
        );
    }
}
