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
            let frame = image::DynamicImage::ImageRgb8(synthetic.render(
                yaw,
                0.4 * yaw,
                ekyc_liveness::Surface::Head,
            ));
            ekyc_imaging::prepare_decoded(frame, "frame.jpg", &limits)
                .expect("JPEG")
                .jpeg
                .clone()
        })
        .collect();
    let frame_slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let matcher = ekyc_face::FaceMatcher::load(None).ok();
    // Scored against a path as the engine issues one (the figures do not matter here,
    // the work does: each frame's gaze and the score).
    let mut rng = Rng(0x9e37_79b9);
    let path =
        ekyc_liveness::DotPath::from_numbers(8, std::time::Duration::from_millis(3500), || {
            rng.next()
        });
    let times: Vec<std::time::Duration> = (1..frame_slices.len())
        .map(|i| std::time::Duration::from_millis(120 * i as u64))
        .collect();
    let engine_ms = median_ms(rounds.min(5), || {
        black_box(ekyc_liveness::check_frames(
            &frame_slices,
            &detector,
            &mesh,
            matcher.as_ref(),
            ekyc_face::DEFAULT_MATCH_DISTANCE,
            ekyc_liveness::ParallaxThresholds::default(),
            Some(ekyc_liveness::IssuedChallenge {
                path: &path,
                times: &times,
                thresholds: ekyc_liveness::ChallengeThresholds::default(),
            }),
        ));
    });
    // Where the engine's time goes, frame by frame: decoding, detection, mesh and irises,
    // and one identity embedding.
    let decoded: Vec<image::RgbImage> = frames
        .iter()
        .map(|jpeg| ekyc_imaging::decode_upright(jpeg).expect("JPEG").to_rgb8())
        .collect();
    let decode_ms = median_ms(rounds.min(5), || {
        for jpeg in &frames {
            black_box(ekyc_imaging::decode_upright(jpeg).expect("JPEG").to_rgb8());
        }
    }) / frames.len() as f64;
    let detect_ms = median_ms(rounds.min(5), || {
        for frame in &decoded {
            black_box(detector.detect(frame).expect("detection"));
        }
    }) / frames.len() as f64;
    let found: Vec<ekyc_face::Face> = decoded
        .iter()
        .map(|frame| detector.detect(frame).expect("detection").remove(0))
        .collect();
    let mesh_ms = median_ms(rounds.min(5), || {
        for (frame, face) in decoded.iter().zip(&found) {
            black_box(mesh.landmarks(frame, face).expect("mesh"));
        }
    }) / frames.len() as f64;
    let embed_ms = matcher.as_ref().map(|matcher| {
        median_ms(rounds.min(5), || {
            black_box(matcher.embed_face(&decoded[0], &found[0]));
        })
    });
    // The checks this engine adds on top of the models' work, alone: both halves of the
    // 3D check and the gaze's score, on the 30 frames' meshes.
    let meshes: Vec<ekyc_face::Mesh> = frames
        .iter()
        .filter_map(|jpeg| {
            let frame = image::load_from_memory(jpeg).ok()?.to_rgb8();
            let face = detector.detect(&frame).ok()?.into_iter().next()?;
            mesh.landmarks(&frame, &face).ok()
        })
        .collect();
    let reference = ekyc_liveness::FaceDepth::from_canonical(&mesh.canonical().points)
        .expect("the canonical face");
    let checks_us = 1000.0
        * median_ms(rounds, || {
            let tracks: Vec<Vec<[f32; 2]>> = meshes
                .iter()
                .map(|one| {
                    ekyc_liveness::RIGID_POINTS
                        .iter()
                        .map(|&i| [one.points[i][0], one.points[i][1]])
                        .collect()
                })
                .collect();
            black_box(ekyc_liveness::judge(
                &tracks,
                &reference,
                ekyc_liveness::ParallaxThresholds::default(),
            ));
            let samples: Vec<ekyc_liveness::GazeSample> = meshes
                .iter()
                .zip(&times)
                .filter_map(|(one, &at)| {
                    Some(ekyc_liveness::GazeSample {
                        at,
                        gaze: ekyc_liveness::gaze(one)?,
                    })
                })
                .collect();
            black_box(ekyc_liveness::score(
                &path,
                &samples,
                ekyc_liveness::ChallengeThresholds::default(),
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
        "  engine, 30 frames of 512×512 (3D, face depth, same person, gaze scored)  {engine_ms:7.1} ms  (median of {}), {:.1} ms a frame",
        rounds.min(5),
        engine_ms / 30.0
    );
    println!(
        "  of which: decoding {decode_ms:.1} ms a frame, mesh and irises {mesh_ms:.1} ms a frame; detection {detect_ms:.1} ms and one identity embedding {} in five frames (the first and those compared with it; the others' face is followed)",
        embed_ms.map_or("not measured (no face-match model)".to_string(), |ms| format!("{ms:.1} ms"))
    );
    println!(
        "  of which the 3D check (parallax, face depth) and the gaze's score on {} meshes: {checks_us:.0} µs",
        meshes.len()
    );
    println!("  load: face mesh {face_load_ms:.1} ms, iris {iris_load_ms:.1} ms");
    let demo_head = ekyc_kiosk::camera::make_demo_head().expect("the demo camera's head");
    error_rates(&synthetic, &demo_head, &detector, &mesh, matcher.as_ref());
}

/// What an attempt shows the camera.
#[derive(Clone, Copy, PartialEq)]
enum Presentation {
    /// The head, following the dot on screen.
    Genuine,
    /// The photo as a flat print, moved to follow the dot exactly as the head would.
    Print,
    /// The print bent about a vertical axis (radius 0.2–1.0 of its width, either way),
    /// moved likewise.
    BentVertical,
    /// The print bent about a horizontal axis, likewise.
    BentHorizontal,
    /// The kiosk's demo camera (`camera.demo_face = "bent"`), frame for frame as it plays
    /// them: its head (the demo photo cut as a selfie) as a print bent about a vertical
    /// axis, radius 0.3 of its width, turned as the typical follower with a 250 ms lag,
    /// composed into 1280×720 frames, 10 a second.
    DemoBent,
    /// The demo camera's live head, likewise.
    DemoLive,
    /// A recording of the head following another path.
    Replay,
    /// The photo held still.
    Still,
    /// The head, gone from the frame after 40 % of the challenge.
    FaceLeaves,
}

/// min, 1 %, 5 %, median, 95 %, 99 %, max of `values` (times `scale`).
fn percentiles(values: &mut [f32], scale: f32) -> String {
    values.sort_by(f32::total_cmp);
    if values.is_empty() {
        return "none".into();
    }
    let at = |share: f32| values[((values.len() - 1) as f32 * share).round() as usize] * scale;
    format!(
        "min {:.2}, 1 % {:.2}, 5 % {:.2}, median {:.2}, 95 % {:.2}, 99 % {:.2}, max {:.2}",
        at(0.0),
        at(0.01),
        at(0.05),
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0)
    )
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
/// jitter, a turn 0.7–1.3 times the typical one, a face 0.7–1.3 times as deep as the demo
/// photo's, 10–15 frames/s; prints bent about either axis at a radius of 0.2–1.0 of their
/// width, either way. The engine scores the frames against the path it issued (the one
/// shown), so a replay of another path is its to stop too. The rows *demo camera, bent*
/// and *demo camera, live* are the kiosk's demo camera's own frames (its head, 1280×720,
/// turned 250 ms late, 10 frames/s), which the kiosk's tests play. On stderr, one line
/// per attempt (`attempt`, the species, parallax, a face's own depth, that depth moving
/// with the path across and down, path followed, kiosk passed, engine live) for setting
/// thresholds from the same run.
fn error_rates(
    head: &ekyc_liveness::SyntheticHead,
    demo_head: &ekyc_liveness::SyntheticHead,
    detector: &ekyc_face::FaceDetector,
    mesh: &ekyc_face::FaceMesh,
    matcher: Option<&ekyc_face::FaceMatcher>,
) {
    use ekyc_kiosk::camera::{demo_challenge_frame, DemoFace, DEMO_FRAME_INTERVAL};
    use ekyc_liveness::{
        check_frames, gaze, score, synthetic::FOLLOW_PITCH, synthetic::FOLLOW_YAW, Bend,
        ChallengeThresholds, DotPath, GazeSample, IssuedChallenge, ParallaxThresholds, Surface,
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
    println!("  presentation     accepted  stopped by the kiosk's challenge  stopped by the engine   (kiosk's correlation, engine's parallax, face depth: lowest–highest)");
    // `EKYC_BENCH_ONLY=genuine,bent`: the presentations whose names contain one of these.
    let only: Option<Vec<String>> = std::env::var("EKYC_BENCH_ONLY")
        .ok()
        .map(|list| list.split(',').map(str::to_owned).collect());
    for (name, presentation) in [
        ("genuine", Presentation::Genuine),
        ("print", Presentation::Print),
        ("bent, vertical", Presentation::BentVertical),
        ("bent, horizontal", Presentation::BentHorizontal),
        ("demo camera, bent", Presentation::DemoBent),
        ("demo camera, live", Presentation::DemoLive),
        ("replay", Presentation::Replay),
        ("still photo", Presentation::Still),
        ("face leaves", Presentation::FaceLeaves),
    ] {
        if only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|part| name.contains(part.as_str())))
        {
            continue;
        }
        let (mut accepted, mut by_kiosk, mut by_engine) = (0, 0, 0);
        // Each of the engine's checks alone: called a head (3D), its path followed.
        let (mut engine_head, mut engine_followed) = (0, 0);
        let mut correlations = (f32::INFINITY, f32::NEG_INFINITY);
        let mut parallaxes = (f32::INFINITY, f32::NEG_INFINITY);
        let mut depths = (f32::INFINITY, f32::NEG_INFINITY);
        let mut depth_values = Vec::with_capacity(attempts);
        let (mut following_across, mut following_down) = (Vec::new(), Vec::new());

        let mut engine_correlations = Vec::with_capacity(attempts);
        for _ in 0..attempts {
            let path = DotPath::from_numbers(8, length, || rng.next());
            let other = DotPath::from_numbers(8, length, || rng.next());
            let mut lag = Duration::from_millis(rng.between(150.0, 450.0) as u64);
            let mut amplitude = rng.between(0.7, 1.3);
            let mut step = Duration::from_millis(rng.between(66.0, 100.0) as u64);
            let followed = if presentation == Presentation::Replay {
                &other
            } else {
                &path
            };
            let bend = Bend {
                about_vertical: presentation == Presentation::BentVertical,
                radius: rng.between(0.2, 1.0),
                middle_forward: rng.next() < 0.5,
            };
            // People's faces are flatter or more prominent than the demo photo's.
            let mut depth_scale = rng.between(0.7, 1.3);
            let demo_face = match presentation {
                Presentation::DemoBent => Some(DemoFace::Bent),
                Presentation::DemoLive => Some(DemoFace::Live),
                _ => None,
            };
            if demo_face.is_some() {
                (lag, amplitude, step, depth_scale) =
                    (Duration::from_millis(250), 1.0, DEMO_FRAME_INTERVAL, 1.0);
            }
            let surface = match presentation {
                Presentation::Print | Presentation::Still => Surface::Flat,
                Presentation::BentVertical | Presentation::BentHorizontal => Surface::Bent(bend),
                _ => Surface::Head,
            };
            let shaped = head.with_depth_scale(depth_scale);
            let mut samples = Vec::new();
            let mut uploads = Vec::new();
            let mut times = Vec::new();
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
                let mut frame = match demo_face {
                    Some(face) => demo_challenge_frame(demo_head, yaw, pitch, face),
                    None => shaped.render(yaw, pitch, surface),
                };
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
                times.push(at);
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
            // The kiosk sends the selfie, then at most 30 frames, evenly spaced, with their
            // times; the engine scores them against the path it issued (`path`).
            let count = uploads.len();
            let picked: Vec<usize> = (0..count.min(30))
                .map(|k| k * (count - 1) / (count.min(30) - 1))
                .collect();
            let sent: Vec<&[u8]> = std::iter::once(uploads[0].as_slice())
                .chain(picked.iter().map(|&k| uploads[k].as_slice()))
                .collect();
            let times: Vec<Duration> = picked.iter().map(|&k| times[k]).collect();
            let engine = check_frames(
                &sent,
                detector,
                mesh,
                matcher,
                ekyc_face::DEFAULT_MATCH_DISTANCE,
                ParallaxThresholds::default(),
                Some(IssuedChallenge {
                    path: &path,
                    times: &times,
                    thresholds: ChallengeThresholds::default(),
                }),
            );
            correlations = (
                correlations.0.min(kiosk.correlation),
                correlations.1.max(kiosk.correlation),
            );
            parallaxes = (
                parallaxes.0.min(engine.parallax.parallax_figure),
                parallaxes.1.max(engine.parallax.parallax_figure),
            );
            depths = (
                depths.0.min(engine.parallax.face_depth_figure),
                depths.1.max(engine.parallax.face_depth_figure),
            );
            depth_values.push(engine.parallax.face_depth_figure);
            let following = engine.parallax.depth_following.unwrap_or_default();
            // One line per attempt on stderr, for setting thresholds from the same run.
            eprintln!(
                "attempt\t{name}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                engine.parallax.parallax_figure,
                engine.parallax.face_depth_figure,
                following[0],
                following[1],
                engine
                    .challenge
                    .is_some_and(|score| score.problem.is_none()),
                kiosk.problem.is_none(),
                engine.is_live
            );
            following_across.push(following[0]);
            following_down.push(following[1]);

            engine_correlations.push(engine.challenge.map_or(f32::NAN, |c| c.correlation));
            if engine.parallax.depth == ekyc_liveness::Depth::Head {
                engine_head += 1;
            }
            if engine
                .challenge
                .is_some_and(|score| score.problem.is_none())
            {
                engine_followed += 1;
            }
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
        let label = if matches!(presentation, Presentation::Genuine | Presentation::DemoLive) {
            format!("BPCER {:5.1} %", share(attempts - accepted))
        } else {
            format!("APCER {:5.1} %", share(accepted))
        };
        println!(
            "  {name:<16}  {accepted:>3}/{attempts:<3}  {:>3}/{attempts:<3}                          {:>3}/{attempts:<3}   {label}   correlation {:.2}–{:.2}, parallax {:.1}–{:.1} %, face depth {:.1}–{:.1} %",
            by_kiosk,
            by_engine,
            correlations.0,
            correlations.1,
            100.0 * parallaxes.0,
            100.0 * parallaxes.1,
            100.0 * depths.0,
            100.0 * depths.1
        );
        println!(
            "      the engine's checks alone: a head (3D) {engine_head}/{attempts}, its path followed {engine_followed}/{attempts}"
        );

        println!(
            "      face depth %: {}; engine's correlation: {}",
            percentiles(&mut depth_values, 100.0),
            percentiles(&mut engine_correlations, 1.0)
        );
        println!(
            "      face depth following the path, %: across {}; down {}",
            percentiles(&mut following_across, 100.0),
            percentiles(&mut following_down, 100.0)
        );
    }
}
