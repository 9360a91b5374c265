//! The liveness challenge's per-frame work on one core: `cargo bench --bench liveness`.
//! So far the landmark models run by our TensorFlow Lite interpreter (`face::tflite`):
//! the face mesh (468 points, 192×192 crop) and the iris model (64×64 eye crop, run for
//! each eye), on the crops of `tests/data/face-landmarks/`, the whole `FaceMesh::landmarks`
//! on a photo (regions sampled, mesh, both irises), and the models' load time.
//! The preview runs at 15 frames/s: one face mesh and two iris calls must fit well inside
//! 66 ms. `EKYC_BENCH_ROUNDS=N` (default 30) timed rounds per step.

#[path = "support/timing.rs"]
mod timing;
// The tests' synthetic head (a photo given depth by its mesh, turned in 3D).
#[path = "../tests/common/head.rs"]
#[allow(dead_code)]
mod head;
use timing::{bench_rounds, median_ms};

use std::hint::black_box;
use std::path::Path;

use ekyc_kiosk::face::tflite::TfliteModel;

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
    let detector = ekyc_kiosk::face::FaceDetector::load(None).expect("./fetch-models");
    let faces = detector.detect(&photo).expect("detection");
    let mesh = ekyc_kiosk::face::FaceMesh::load(None).expect("./fetch-models");
    let frame_ms = median_ms(rounds, || {
        black_box(mesh.landmarks(&photo, &faces[0]).expect("mesh"));
    });
    // The engine's liveness step on a challenge's 30 frames (JPEG, as uploaded): each
    // decoded, detected, meshed; the 3D check; four identity embeddings.
    let whole = image::open(root.join("assets/demo/selfie-astronaut.jpg"))
        .expect("demo selfie")
        .to_rgb8();
    let whole_face = detector.detect(&whole).expect("detection")[0].clone();
    let synthetic = head::Head::new(
        whole.clone(),
        &mesh.landmarks(&whole, &whole_face).expect("mesh").points,
    );
    let limits = ekyc_kiosk::imaging::ImageLimits::default();
    let frames: Vec<Vec<u8>> = (0..30)
        .map(|i| {
            let yaw = 10.0 * (i as f32 / 30.0 * std::f32::consts::TAU).sin();
            let frame = image::DynamicImage::ImageRgb8(synthetic.render(yaw, 0.4 * yaw, false));
            ekyc_kiosk::imaging::prepare_decoded(frame, "frame.jpg", &limits)
                .expect("JPEG")
                .jpeg
                .clone()
        })
        .collect();
    let frame_slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let matcher = ekyc_kiosk::face::FaceMatcher::load(None).ok();
    let engine_ms = median_ms(rounds.min(5), || {
        black_box(ekyc_kiosk::liveness::check_frames(
            &frame_slices,
            &detector,
            &mesh,
            matcher.as_ref(),
            ekyc_kiosk::face::DEFAULT_MATCH_DISTANCE,
            ekyc_kiosk::liveness::ParallaxThresholds::default(),
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
}
