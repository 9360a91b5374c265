//! The 3D check (`liveness::parallax`) on synthetic sequences, rendered here:
//!
//! - the head: the 468 face-mesh points LiteRT found on a real photo (x, y and the model's
//!   depth z, `tests/data/face-landmarks/fixtures.json`) taken as a rigid 3D head, turned
//!   (yaw up to ±12°, pitch up to ±6°, a little roll and shift, as a person following a
//!   dot might) and projected through a pinhole camera (focal length 1000 px, the face
//!   about 250 px wide, as at a kiosk), with 0.5 px of landmark noise;
//! - the print attack: the first frame of that head as a flat picture (each point on a
//!   plane facing the camera), the plane turned and shifted exactly as the head was;
//! - the still picture: the same plane, not moved (noise only).
//!
//! The figures are fractions of the face's size (the rigid points' spread).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use ekyc_liveness::{
    judge, judge_following, Bend, Depth, FaceDepth, ParallaxThresholds, Surface, SyntheticHead,
    RIGID_POINTS,
};

/// MediaPipe's canonical face's own depth, the reference a head is compared with.
fn face_depth() -> FaceDepth {
    let canonical = ekyc_face::CanonicalFace::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/models/mediapipe")
            .join(ekyc_face::CANONICAL_FACE_FILE),
    )
    .expect("./fetch-models");
    FaceDepth::from_canonical(&canonical.points).expect("a face's depth")
}

/// The face models, and the synthetic head made from the demo selfie by them.
struct Models {
    detector: ekyc_face::FaceDetector,
    mesher: ekyc_face::FaceMesh,
}

impl Models {
    fn load() -> Self {
        Self {
            detector: ekyc_face::FaceDetector::load(None).expect("./fetch-models"),
            mesher: ekyc_face::FaceMesh::load(None).expect("./fetch-models"),
        }
    }

    /// The mesh of the largest face in `frame`.
    fn mesh_of(&self, frame: &image::RgbImage) -> ekyc_face::Mesh {
        let faces = self.detector.detect(frame).unwrap();
        let face = faces
            .iter()
            .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
            .expect("a face in the frame");
        self.mesher.landmarks(frame, face).unwrap()
    }

    /// The demo selfie as a head that turns ([`SyntheticHead`]).
    fn demo_head(&self) -> SyntheticHead {
        let photo = image::open(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/demo/selfie-astronaut.jpg"),
        )
        .unwrap()
        .to_rgb8();
        SyntheticHead::from_photo(photo, &self.detector, &self.mesher).expect("a face")
    }
}

const FOCAL: f64 = 1000.0;
const DISTANCE: f64 = 320.0;
const FRAMES: usize = 30;

/// A small deterministic noise source (xorshift), normal by the sum of twelve uniforms.
struct Noise(u64);

impl Noise {
    fn step(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn normal(&mut self, sigma: f64) -> f64 {
        let sum: f64 = (0..12)
            .map(|_| (self.step() >> 11) as f64 / (1u64 << 53) as f64)
            .sum();
        (sum - 6.0) * sigma
    }

    /// Uniform in 0–1, at `f32`'s precision.
    fn uniform(&mut self) -> f32 {
        (self.step() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// The rigid points of a face in the fixtures, centred: (x, y, z) in the crop's pixels.
fn head(face: &str) -> Vec<[f64; 3]> {
    let fixtures: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/face-landmarks/fixtures.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let values: Vec<f64> = fixtures["face"][face]["landmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let points: Vec<[f64; 3]> = RIGID_POINTS
        .iter()
        .map(|&i| [values[3 * i], values[3 * i + 1], values[3 * i + 2]])
        .collect();
    let n = points.len() as f64;
    let centre = points.iter().fold([0.0; 3], |c, p| {
        [c[0] + p[0] / n, c[1] + p[1] / n, c[2] + p[2] / n]
    });
    points
        .iter()
        .map(|p| [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]])
        .collect()
}

/// The pose at frame `t` of a turn of at most `yaw` degrees (pitch half as much): yaw,
/// pitch, roll (radians) and a shift (crop pixels).
fn pose(t: usize, yaw: f64) -> ([f64; 3], [f64; 2]) {
    let phase = t as f64 / FRAMES as f64 * std::f64::consts::TAU;
    let degrees = std::f64::consts::PI / 180.0;
    (
        [
            yaw * degrees * phase.sin(),
            yaw / 2.0 * degrees * (2.0 * phase).sin(),
            2.0 * degrees * phase.cos(),
        ],
        [4.0 * phase.sin(), 2.0 * phase.cos()],
    )
}

fn rotate(p: [f64; 3], [yaw, pitch, roll]: [f64; 3]) -> [f64; 3] {
    let (x, y, z) = (p[0], p[1], p[2]);
    let (x, z) = (
        x * yaw.cos() + z * yaw.sin(),
        -x * yaw.sin() + z * yaw.cos(),
    );
    let (y, z) = (
        y * pitch.cos() - z * pitch.sin(),
        y * pitch.sin() + z * pitch.cos(),
    );
    (
        x * roll.cos() - y * roll.sin(),
        x * roll.sin() + y * roll.cos(),
        z,
    )
        .into()
}

fn project(p: [f64; 3], noise: &mut Noise) -> [f32; 2] {
    let depth = DISTANCE + p[2];
    [
        (640.0 + FOCAL * p[0] / depth + noise.normal(0.5)) as f32,
        (360.0 + FOCAL * p[1] / depth + noise.normal(0.5)) as f32,
    ]
}

/// Each frame of `shape` posed (turning at most `yaw` degrees; 0: not moving at all) and
/// projected.
fn film(shape: &[[f64; 3]], yaw: f64, seed: u64) -> Vec<Vec<[f32; 2]>> {
    let mut noise = Noise(seed);
    (0..FRAMES)
        .map(|t| {
            let (angles, shift) = if yaw == 0.0 {
                ([0.0; 3], [0.0; 2])
            } else {
                pose(t, yaw)
            };
            shape
                .iter()
                .map(|p| {
                    let turned = rotate(*p, angles);
                    project(
                        [turned[0] + shift[0], turned[1] + shift[1], turned[2]],
                        &mut noise,
                    )
                })
                .collect()
        })
        .collect()
}

/// The head's first frame as a flat picture: every point on the plane z = 0 where the
/// camera sees it, so the picture looks exactly like the head at first.
fn picture_of(head: &[[f64; 3]]) -> Vec<[f64; 3]> {
    head.iter()
        .map(|p| {
            let scale = DISTANCE / (DISTANCE + p[2]);
            [p[0] * scale, p[1] * scale, 0.0]
        })
        .collect()
}

#[test]
fn a_turning_head_is_a_head_a_moved_picture_is_flat_and_a_still_one_cannot_be_judged() {
    let thresholds = ParallaxThresholds::default();
    for (face, seed) in [("astronaut-192.png", 7), ("grace-hopper-192.png", 11)] {
        let head = head(face);
        let reference = face_depth();
        let live = judge(&film(&head, 12.0, seed), &reference, thresholds);
        let print = judge(
            &film(&picture_of(&head), 12.0, seed),
            &reference,
            thresholds,
        );
        let still = judge(&film(&picture_of(&head), 0.0, seed), &reference, thresholds);
        eprintln!(
            "{face}: head parallax {:.4} shape {:.4}; print parallax {:.4} shape {:.4}; still parallax {:.4} shape {:.4}",
            live.parallax_figure,
            live.shape_change_figure,
            print.parallax_figure,
            print.shape_change_figure,
            still.parallax_figure,
            still.shape_change_figure
        );
        assert_eq!(live.depth, Depth::Head, "{face}: {live:?}");
        assert_eq!(print.depth, Depth::Flat, "{face}: {print:?}");
        assert_eq!(still.depth, Depth::NotEnoughMotion, "{face}: {still:?}");
        assert_eq!(live.parallax.len(), FRAMES - 1);
    }
}

/// The head's first frame as a print bent in the hand: the flat picture of
/// [`picture_of`], the face half the print's width, laid on a cylinder about a vertical
/// (or horizontal) axis through the face's centre, of `radius` times the print's width.
fn bent_picture_of(
    head: &[[f64; 3]],
    about_vertical: bool,
    radius: f64,
    middle_forward: bool,
) -> Vec<[f64; 3]> {
    let flat = picture_of(head);
    let (low, high) = flat
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p[0]), h.max(p[0]))
        });
    let radius = radius * 2.0 * (high - low);
    flat.iter()
        .map(|p| {
            let (along, other) = if about_vertical {
                (p[0], p[1])
            } else {
                (p[1], p[0])
            };
            let angle = along / radius;
            let sag = radius * (1.0 - angle.cos()) * if middle_forward { 1.0 } else { -1.0 };
            let along = radius * angle.sin();
            if about_vertical {
                [along, other, sag]
            } else {
                [other, along, sag]
            }
        })
        .collect()
}

#[test]
fn a_print_bent_about_either_axis_and_turned_like_a_head_is_never_a_head() {
    // Both faces of the fixtures (their own depth, as the mesh model measured it on real
    // photos, not the canonical face's), each print turned as the head is (yaw ±12°,
    // pitch ±6°, roll, shift).
    let thresholds = ParallaxThresholds::default();
    let face = face_depth();
    let mut lowest_head = f32::INFINITY;
    let mut highest_print = 0.0f32;
    for (name, seed) in [("astronaut-192.png", 7), ("grace-hopper-192.png", 11)] {
        let head = head(name);
        let live = judge(&film(&head, 12.0, seed), &face, thresholds);
        assert_eq!(live.depth, Depth::Head, "{name}: {live:?}");
        lowest_head = lowest_head.min(live.face_depth_figure);
        for about_vertical in [true, false] {
            for radius in [0.2, 0.3, 0.5, 1.0] {
                for middle_forward in [true, false] {
                    let bent = bent_picture_of(&head, about_vertical, radius, middle_forward);
                    let report = judge(&film(&bent, 12.0, seed), &face, thresholds);
                    assert_ne!(
                        report.depth,
                        Depth::Head,
                        "{name} bent (vertical axis {about_vertical}, radius {radius}): {report:?}"
                    );
                    eprintln!(
                        "{name} bent (vertical {about_vertical}, radius {radius}, middle forward {middle_forward}): parallax {:.4} face depth {:.4} {:?}",
                        report.parallax_figure, report.face_depth_figure, report.depth
                    );
                    highest_print = highest_print.max(report.face_depth_figure);
                }
            }
        }
    }
    eprintln!("face depth: heads {lowest_head:.4} and up, bent prints {highest_print:.4} at most");
}

/// Where the dot [`film`]'s face follows is in each frame, as fractions of the screen
/// from its centre: a face turns 24° across the screen's width and 14° down its height
/// (the synthetic head's turn, `liveness::synthetic`). A positive yaw brings the nose,
/// nearer the camera, to the picture's left, as a customer turning to a dot on their
/// right does.
fn turns_of_film(yaw: f64) -> Vec<Option<[f32; 2]>> {
    (0..FRAMES)
        .map(|t| {
            let ([yaw, pitch, _], _) = pose(t, yaw);
            Some([
                yaw.to_degrees() as f32 / 24.0,
                pitch.to_degrees() as f32 / 14.0,
            ])
        })
        .collect()
}

/// With the path known, a head's own depth moves in step with its turn on both axes; a
/// bent print's shows none; and a head whose turns are not the ones the dot asked for (a
/// recording of another path, or frames out of order) shows none in step with the path.
#[test]
fn a_faces_depth_moves_with_the_path_a_bent_prints_does_not() {
    let thresholds = ParallaxThresholds::default();
    let face = face_depth();
    let turns = turns_of_film(12.0);
    // The same turns in another order: yaw and pitch each from another frame.
    let other: Vec<Option<[f32; 2]>> = (0..FRAMES)
        .map(|t| {
            let across = turns[(t * 7 + 3) % FRAMES].unwrap()[0];
            let down = turns[(t * 11 + 5) % FRAMES].unwrap()[1];
            Some([across, down])
        })
        .collect();
    for (name, seed) in [("astronaut-192.png", 7), ("grace-hopper-192.png", 11)] {
        let head = head(name);
        let live = judge_following(&film(&head, 12.0, seed), &turns, &face, thresholds);
        assert_eq!(live.depth, Depth::Head, "{name}: {live:?}");
        let [across, down] = live.depth_following.unwrap();
        assert!(
            across >= 2.0 * thresholds.min_depth_following[0]
                && down >= 2.0 * thresholds.min_depth_following[1],
            "{name}: {across} {down}"
        );
        let elsewhere = judge_following(&film(&head, 12.0, seed), &other, &face, thresholds);
        assert_eq!(elsewhere.depth, Depth::Bent, "{name}: {elsewhere:?}");
        for about_vertical in [true, false] {
            for radius in [0.2, 0.5] {
                let bent = bent_picture_of(&head, about_vertical, radius, true);
                let report = judge_following(&film(&bent, 12.0, seed), &turns, &face, thresholds);
                let [across, down] = report.depth_following.unwrap();
                eprintln!("{name} bent (vertical axis {about_vertical}, radius {radius}): following {across:.4} {down:.4}");
                assert!(
                    across < thresholds.min_depth_following[0]
                        && down < thresholds.min_depth_following[1],
                    "{name} bent (vertical axis {about_vertical}, radius {radius}): {report:?}"
                );
                assert_ne!(report.depth, Depth::Head);
            }
        }
    }
    // Without the path, not asked.
    let head = head("astronaut-192.png");
    let report = judge(&film(&head, 12.0, 7), &face, thresholds);
    assert_eq!(report.depth_following, None);
}

/// Faces are not the canonical face: two real people's meshes (their own depth, as the
/// model measured it), each made shallower or deeper (0.6–1.4 times the depth), narrower
/// or wider (0.85–1.15), turned as a person following the dot: every one is a head.
#[test]
fn heads_of_other_shapes_than_the_canonical_face_stay_heads() {
    let thresholds = ParallaxThresholds::default();
    let face = face_depth();
    let mut lowest = f32::INFINITY;
    let mut lowest_following = [f32::INFINITY; 2];
    let turns = turns_of_film(12.0);
    for (name, seed) in [("astronaut-192.png", 3), ("grace-hopper-192.png", 5)] {
        for depth in [0.6, 0.8, 1.2, 1.4] {
            for width in [0.85, 1.15] {
                let shaped: Vec<[f64; 3]> = head(name)
                    .iter()
                    .map(|p| [p[0] * width, p[1], p[2] * depth])
                    .collect();
                let report = judge_following(&film(&shaped, 12.0, seed), &turns, &face, thresholds);
                assert_eq!(
                    report.depth,
                    Depth::Head,
                    "{name}, depth ×{depth}, width ×{width}: {report:?}"
                );
                lowest = lowest.min(report.face_depth_figure);
                let following = report.depth_following.unwrap();
                lowest_following = [0, 1].map(|axis| lowest_following[axis].min(following[axis]));
            }
        }
    }
    eprintln!(
        "face depth of heads of other shapes: {lowest:.4} at the lowest (threshold {}); following the path {lowest_following:.4?} (thresholds {:?})",
        thresholds.min_face_depth, thresholds.min_depth_following
    );
}

#[test]
fn how_little_a_head_may_turn() {
    // The smallest turn the default thresholds call a head, and the picture turned as
    // much: the figures go to the README.
    let thresholds = ParallaxThresholds::default();
    let head = head("astronaut-192.png");
    let face = face_depth();
    for yaw in [2.0, 3.0, 4.0, 6.0, 8.0] {
        let live = judge(&film(&head, yaw, 5), &face, thresholds);
        let print = judge(&film(&picture_of(&head), yaw, 5), &face, thresholds);
        eprintln!(
            "yaw ±{yaw}°: head parallax {:.4} ({:?}); picture parallax {:.4} shape {:.4} ({:?})",
            live.parallax_figure,
            live.depth,
            print.parallax_figure,
            print.shape_change_figure,
            print.depth
        );
        assert_ne!(
            print.depth,
            Depth::Head,
            "a picture is never a head ({yaw}°)"
        );
        if yaw >= 3.0 {
            assert_eq!(live.depth, Depth::Head, "a head turning ±{yaw}°: {live:?}");
        }
    }
}

/// Through the real models: frames rendered from the demo selfie (a head turned in 3D, and
/// a print of it turned the same way, `tests/common/head.rs`), each frame's face found by
/// BlazeFace and meshed by MediaPipe's model, the rigid points judged.
#[test]
fn rendered_frames_through_the_models_a_head_shows_depth_and_a_print_does_not() {
    let models = Models::load();
    let head = models.demo_head();
    let mesh_of = |frame: &image::RgbImage| models.mesh_of(frame);
    let yaws = [
        0.0, 3.0, 6.0, 9.0, 11.0, 9.0, 6.0, 3.0, 0.0, -3.0, -6.0, -9.0, -11.0, -9.0, -6.0, -3.0,
        0.0,
    ];
    let mut figures = Vec::new();
    let bent = |about_vertical: bool| {
        Surface::Bent(Bend {
            about_vertical,
            radius: 0.3,
            middle_forward: true,
        })
    };
    let surfaces = [
        ("head", Surface::Head),
        ("print", Surface::Flat),
        ("bent-vertical", bent(true)),
        ("bent-horizontal", bent(false)),
    ];
    for (what, surface) in surfaces {
        let frames: Vec<Vec<[f32; 2]>> = yaws
            .iter()
            .map(|&yaw| {
                let frame = head.render(yaw, 0.4 * yaw, surface);
                if let Ok(folder) = std::env::var("EKYC_SAVE_RENDERS") {
                    let name = format!("{what}-{yaw:+.0}.png");
                    frame
                        .save(std::path::Path::new(&folder).join(name))
                        .unwrap();
                }
                let mesh = mesh_of(&frame);
                RIGID_POINTS
                    .iter()
                    .map(|&i| [mesh.points[i][0], mesh.points[i][1]])
                    .collect()
            })
            .collect();
        figures.push(judge(&frames, &face_depth(), ParallaxThresholds::default()));
    }
    for ((what, _), report) in surfaces.iter().zip(&figures) {
        eprintln!(
            "rendered {what}: parallax {:.4} shape {:.4} face depth {:.4} {:?}",
            report.parallax_figure,
            report.shape_change_figure,
            report.face_depth_figure,
            report.depth
        );
    }
    assert_eq!(figures[0].depth, Depth::Head, "{:?}", figures[0]);
    for (report, (what, _)) in figures[1..].iter().zip(&surfaces[1..]) {
        assert_ne!(report.depth, Depth::Head, "{what}: {report:?}");
    }
}

#[test]
fn a_face_followed_from_the_frame_before_is_where_the_detector_finds_it() {
    let models = Models::load();
    let head = models.demo_head();
    let mut previous = models.mesh_of(&head.render(0.0, 0.0, Surface::Head));
    let width = |mesh: &ekyc_face::Mesh| (mesh.points[454][0] - mesh.points[234][0]).abs();
    for yaw in [
        2.0, 4.0, 6.0, 8.0, 10.0, 7.0, 4.0, 1.0, -2.0, -5.0, -8.0, -11.0, -8.0,
    ] {
        let frame = head.render(yaw, 0.4 * yaw, Surface::Head);
        let found = models.mesh_of(&frame);
        let followed = models.mesher.follow(&frame, &previous).unwrap();
        let apart = RIGID_POINTS
            .iter()
            .map(|&i| {
                let (a, b) = (found.points[i], followed.points[i]);
                ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
            })
            .sum::<f32>()
            / RIGID_POINTS.len() as f32;
        eprintln!(
            "yaw {yaw:+.0}: followed {apart:.2} px from the detector's, presence {:.3}",
            followed.presence
        );
        assert!(followed.presence >= 0.9, "yaw {yaw}: {}", followed.presence);
        assert!(apart < 0.02 * width(&found), "yaw {yaw}: {apart} px apart");
        previous = followed;
    }
    // The face gone (a grey frame): the mesh says so, and the engine looks for it again.
    let gone = image::RgbImage::from_pixel(512, 512, image::Rgb([128, 128, 128]));
    let followed = models.mesher.follow(&gone, &previous).unwrap();
    assert!(followed.presence < 0.5, "{}", followed.presence);
}

/// The same 8-move path every run, `length` long (xorshift from a fixed seed).
fn fixed_path(length: std::time::Duration) -> ekyc_liveness::DotPath {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    ekyc_liveness::DotPath::from_numbers(8, length, move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32
    })
}

/// Our reader of MediaPipe's face geometry against Google's own: the points below are what
/// protobuf (3.20) with the generated `geometry_pipeline_metadata_pb2` of the pinned wheel
/// `mediapipe==0.10.14` read from the same fetched file (vertex type 0, 468 vertices).
#[test]
fn the_canonical_face_reads_as_googles_protobuf_reads_it() {
    let canonical = ekyc_face::CanonicalFace::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/models/mediapipe")
            .join(ekyc_face::CANONICAL_FACE_FILE),
    )
    .expect("./fetch-models");
    assert_eq!(canonical.points.len(), 468);
    for (index, expected) in [
        (1, [0.0, -1.126865, 7.475604]),
        (133, [-1.856432, 2.585245, 3.757904]),
        (362, [1.856432, 2.585245, 3.757904]),
        (454, [7.664182, 0.673132, -2.435867]),
    ] {
        let point = canonical.points[index];
        for axis in 0..3 {
            assert!(
                (point[axis] - expected[axis]).abs() < 1e-5,
                "point {index}: {point:?}, Google's {expected:?}"
            );
        }
    }
}

/// How the frames of [`follow_challenge`] are made.
#[derive(Clone, Copy)]
enum Showing {
    /// `surface` follows the engine's path.
    Follows(Surface),
    /// The head follows another path (a recording of another attempt).
    Replay,
    /// The print held still.
    Still,
    /// The head follows, and leaves the frame after a third of the path.
    Leaves,
}

/// Asks the engine for a challenge (`/liveness/challenge`, the kiosk's call), and makes the
/// frames a kiosk would send with it: the selfie (what is shown, facing the camera), then 30
/// frames over the path, evenly spaced, of `showing` turning to look where the dot was
/// 250 ms before, with their times.
async fn follow_challenge(
    client: &ekyc_client::FptClient,
    head: &SyntheticHead,
    showing: Showing,
) -> (
    Vec<ekyc_client::PreparedImage>,
    ekyc_client::ChallengeAnswer,
) {
    use ekyc_liveness::pose_following;
    use std::time::Duration;

    let (id, issued) = client.liveness_challenge().await.expect("a challenge");
    let path = ekyc_kiosk::app::dot_path(&issued);
    let other = fixed_path(path.length());
    let encode = |frame: image::RgbImage| {
        ekyc_client::prepare_decoded(
            image::DynamicImage::ImageRgb8(frame),
            "frame.jpg",
            &Default::default(),
        )
        .unwrap()
    };
    // The selfie is whatever is held up for the whole attempt.
    let held = match showing {
        Showing::Follows(surface) => surface,
        Showing::Still => Surface::Flat,
        Showing::Replay | Showing::Leaves => Surface::Head,
    };
    let mut frames = vec![encode(head.render(0.0, 0.0, held))];
    let mut times_ms = Vec::new();
    let lag = Duration::from_millis(250);
    for k in 0..30u32 {
        let at = path.length() * k / 29;
        let (yaw, pitch) = match showing {
            Showing::Replay => pose_following(&other, at, lag),
            Showing::Still => (0.0, 0.0),
            _ => pose_following(&path, at, lag),
        };
        let frame = match showing {
            Showing::Follows(surface) => head.render(yaw, pitch, surface),
            Showing::Replay => head.render(yaw, pitch, Surface::Head),
            Showing::Still => head.render(yaw, pitch, Surface::Flat),
            Showing::Leaves if k >= 10 => {
                image::RgbImage::from_pixel(512, 512, image::Rgb([128, 128, 128]))
            }
            Showing::Leaves => head.render(yaw, pitch, Surface::Head),
        };
        frames.push(encode(frame));
        times_ms.push(at.as_millis() as u32);
    }
    (frames, ekyc_client::ChallengeAnswer { id, times_ms })
}

/// Through the engine, over HTTP with the real client: the challenge's frames as several
/// `selfies` parts, with the challenge the engine issued. A head following the engine's
/// path is live; a print of it moved the same way, flat or bent, is not; a recording of
/// the head following another path is not (the engine scores its own path); a still
/// photo cannot be judged (not live, to be reviewed); a face that leaves the frame after
/// a third of the challenge is not live; frames that name no challenge, or one already
/// answered, are not judged live; one selfie alone is not evaluated; face match is
/// measured on the first frame either way.
#[tokio::test]
async fn the_engine_judges_liveness_on_the_frames_it_is_sent() {
    use common::{client_for, front, start_engine};
    use ekyc_client::{DocumentType, FptSession, OcrRequest};
    use ekyc_engine::EngineSettings;

    let head = Models::load().demo_head();
    let engine = start_engine(EngineSettings::default()).await;
    let client = client_for(&engine);
    let bent = |about_vertical: bool| {
        Showing::Follows(Surface::Bent(Bend {
            about_vertical,
            radius: 0.3,
            middle_forward: true,
        }))
    };
    let mut sent = Vec::new();
    for showing in [
        Showing::Follows(Surface::Head),
        Showing::Follows(Surface::Flat),
        Showing::Still,
        Showing::Leaves,
        bent(true),
        bent(false),
        Showing::Replay,
    ] {
        let (frames, answer) = follow_challenge(&client, &head, showing).await;
        sent.push((frames, Some(answer)));
    }
    // The head's frames again: with no challenge named, with the one just answered, and
    // the selfie alone.
    let (head_frames, head_answer) = sent[0].clone();
    sent.push((head_frames.clone(), None));
    sent.push((head_frames.clone(), head_answer));
    sent.push((head_frames[..1].to_vec(), None));
    let mut answers = Vec::new();
    for (frames, challenge) in &sent {
        let mut session = FptSession::new(client.clone());
        session
            .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
            .await
            .unwrap();
        answers.push(
            session
                .face_liveness_frames(frames, challenge.as_ref())
                .await
                .expect("accepted"),
        );
    }
    let liveness = |i: usize| answers[i].liveness.clone().unwrap();
    let warning = |i: usize| liveness(i).warning.unwrap();
    for (i, what) in [
        "head",
        "print",
        "still",
        "leaves",
        "bent vertical",
        "bent horizontal",
        "replay",
        "no challenge",
        "answered already",
    ]
    .iter()
    .enumerate()
    {
        eprintln!("{what}: {:?} {}", liveness(i).is_live, warning(i));
    }
    assert_eq!(liveness(0).is_live, Some(true), "{:?}", liveness(0));
    assert!(warning(0).contains("a head") && warning(0).contains("followed"));
    for (i, what) in [(1, "print"), (4, "bent vertical"), (5, "bent horizontal")] {
        assert_eq!(
            liveness(i).is_live,
            Some(false),
            "{what}: {:?}",
            liveness(i)
        );
        assert!(!warning(i).contains("a head"), "{what}: {}", warning(i));
    }
    assert_eq!(liveness(2).is_live, Some(false), "still: {:?}", liveness(2));
    assert_eq!(
        liveness(2).need_to_review,
        Some(true),
        "still: {:?}",
        liveness(2)
    );
    assert!(warning(2).contains("did not turn enough"));
    assert_eq!(
        liveness(3).is_live,
        Some(false),
        "leaves: {:?}",
        liveness(3)
    );
    assert!(warning(3).contains("a face in 11)"), "{}", warning(3));
    // The replay turns as a head does, but not with the path the engine drew: its
    // depth does not move with that path, and the path is not followed.
    assert_eq!(
        liveness(6).is_live,
        Some(false),
        "replay: {:?}",
        liveness(6)
    );
    assert!(
        warning(6).contains("not moving with its turns") && warning(6).contains("not followed"),
        "{}",
        warning(6)
    );
    for (i, why) in [
        (7, "no challenge named"),
        (8, "unknown, answered already or expired"),
    ] {
        assert_eq!(liveness(i).is_live, Some(false), "{why}: {:?}", liveness(i));
        assert_eq!(liveness(i).need_to_review, Some(true), "{why}");
        assert!(warning(i).contains(why), "{}", warning(i));
    }
    assert_eq!(liveness(9).is_live, None, "one selfie: nothing measured");
    for answer in &answers {
        assert_eq!(answer.face_match.as_ref().unwrap().is_match, Some(true));
    }
}

/// A bank's replicas keep their sessions and challenges in the PostgreSQL they share: a
/// session opened, its card read and its challenge drawn on replica A is judged on B (which
/// finds the card's face and the path in the database: live, the same face), and the same
/// answer sent again, to A, is refused as answered already. The database holds both
/// sessions (sealed: `sessions::postgres`'s test) and no challenge left.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_opened_on_one_replica_continues_on_another() {
    use common::{client_for, front};
    use ekyc_client::{DocumentType, OcrRequest};

    let (server, _key, a, b) = common::postgres::Postgres::two_replicas().await;
    let (on_a, on_b) = (client_for(&a), client_for(&b));
    let head = Models::load().demo_head();
    let card = || OcrRequest::both_sides(DocumentType::Idr, front(), None);

    let session = on_a.init_session(false).await.unwrap();
    on_a.ocr(&session, &card()).await.unwrap();
    let (frames, answer) = follow_challenge(&on_a, &head, Showing::Follows(Surface::Head)).await;
    let judged = on_b
        .face_liveness_frames(&session, &frames, Some(&answer))
        .await
        .expect("B continues A's session");
    let liveness = judged.liveness.unwrap();
    assert_eq!(liveness.is_live, Some(true), "{liveness:?}");
    assert!(liveness.warning.unwrap().contains("followed"));
    assert_eq!(judged.face_match.unwrap().is_match, Some(true));

    let second = on_b.init_session(false).await.unwrap();
    on_b.ocr(&second, &card()).await.unwrap();
    let again = on_a
        .face_liveness_frames(&second, &frames, Some(&answer))
        .await
        .unwrap()
        .liveness
        .unwrap();
    assert_eq!(again.is_live, Some(false));
    assert!(
        again.warning.unwrap().contains("answered already"),
        "the challenge was taken on B"
    );
    assert_eq!(
        server.psql("bank", "SELECT count(*) FROM ekyc_sessions"),
        "2\n"
    );
    assert_eq!(
        server.psql("bank", "SELECT count(*) FROM ekyc_challenges"),
        "0\n"
    );
    // Either replica's metrics count every replica's sessions, and its own connections.
    let metrics = reqwest::get(format!("{}/metrics", a.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ekyc_sessions_open 2\n"), "{metrics}");
    assert!(
        metrics.contains("ekyc_database_connections_open "),
        "{metrics}"
    );
}

/// Times that are not one per frame after the selfie, in order, are refused before any
/// work (400, with what is wrong), and do not use the challenge up: the same frames with
/// their right times are then judged live.
#[tokio::test]
async fn capture_times_that_do_not_fit_the_frames_are_refused() {
    use common::{client_for, front, start_engine};
    use ekyc_contract::challenge::{write_times, CHALLENGE_ID_HEADER, CHALLENGE_TIMES_HEADER};
    use ekyc_engine::EngineSettings;

    let head = Models::load().demo_head();
    let engine = start_engine(EngineSettings::default()).await;
    let client = client_for(&engine);
    let (frames, answer) = follow_challenge(&client, &head, Showing::Follows(Surface::Head)).await;
    let session = client.init_session(false).await.unwrap();
    client
        .ocr(
            &session,
            &ekyc_client::OcrRequest::both_sides(ekyc_client::DocumentType::Idr, front(), None),
        )
        .await
        .unwrap();
    let send = |times: String| {
        let form = frames
            .iter()
            .fold(reqwest::multipart::Form::new(), |form, frame| {
                form.part(
                    "selfies",
                    reqwest::multipart::Part::bytes(frame.jpeg.to_vec())
                        .file_name("frame.jpg")
                        .mime_str("image/jpeg")
                        .unwrap(),
                )
            });
        reqwest::Client::new()
            .post(format!("{}/face/liveness", engine.base_url()))
            .header("api-key", engine.api_key().expose())
            .header("device-type", "web-sdk")
            .header("session-id", session.as_str())
            .header("auto", "False")
            .header(CHALLENGE_ID_HEADER, &answer.id)
            .header(CHALLENGE_TIMES_HEADER, times)
            .multipart(form)
            .send()
    };
    let mut backwards = answer.times_ms.clone();
    backwards.swap(3, 4);
    for times in [
        write_times(&answer.times_ms[1..]),
        write_times(&backwards),
        "0,66,soon".to_owned(),
    ] {
        let response = send(times.clone()).await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{times}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("challenge-times"),
            "{body}"
        );
    }
    let answered = client
        .face_liveness_frames(&session, &frames, Some(&answer))
        .await
        .unwrap();
    assert_eq!(answered.liveness.unwrap().is_live, Some(true));
}

/// The challenge through the real models: rendered frames of the head turning to follow a
/// random dot path 200 ms late (8 frames/s), each meshed, its gaze signal scored against
/// the path. The head follows; a still photo does not; a print moved exactly as the head
/// follows too, which is why the 3D check stands beside the challenge.
#[test]
fn a_head_that_follows_the_dot_passes_the_challenge_and_a_still_photo_does_not() {
    use ekyc_liveness::{gaze, score, ChallengeProblem, ChallengeThresholds, GazeSample};
    use std::time::Duration;

    let models = Models::load();
    let head = models.demo_head();
    let mesh_of = |frame: &image::RgbImage| models.mesh_of(frame);
    // A fixed path, so that every run sees the same figures (the kiosk's are random).
    let path = fixed_path(Duration::from_millis(3500));
    let lag = Duration::from_millis(200);
    let step = Duration::from_millis(125);
    let frames = (path.length().as_millis() / step.as_millis()) as u32;
    let track = |still: bool, surface: Surface| -> Vec<GazeSample> {
        (0..=frames)
            .map(|i| {
                let at = step * i;
                let dot = path.position(at.saturating_sub(lag));
                let (yaw, pitch) = if still {
                    (0.0, 0.0)
                } else {
                    (24.0 * (dot[0] - 0.5), 14.0 * (dot[1] - 0.5))
                };
                let frame = head.render(yaw, pitch, surface);
                GazeSample {
                    at,
                    gaze: gaze(&mesh_of(&frame)).expect("a gaze"),
                }
            })
            .collect()
    };
    let thresholds = ChallengeThresholds::default();
    let follows = score(&path, &track(false, Surface::Head), thresholds);
    let still = score(&path, &track(true, Surface::Head), thresholds);
    let print = score(&path, &track(false, Surface::Flat), thresholds);
    eprintln!("head {follows:?}\nstill {still:?}\nprint {print:?}");
    assert_eq!(follows.problem, None, "{follows:?}");
    assert!(
        follows.lag.abs_diff(lag) <= Duration::from_millis(140),
        "the eyes' lag is found: {follows:?}"
    );
    assert_eq!(
        still.problem,
        Some(ChallengeProblem::DidNotFollow),
        "{still:?}"
    );
    assert_eq!(
        print.problem,
        Some(ChallengeProblem::DidNotFollow),
        "{print:?}"
    );
}

/// Without the face-match models the engine cannot tell that one person stayed in front of
/// the camera (a picture swapped in halfway): a head that turns is then not judged live but
/// left to a member of staff, and the warning says why.
#[tokio::test]
async fn without_the_identity_check_the_frames_are_not_judged_live() {
    use common::{client_for, front, start_engine};
    use ekyc_client::{DocumentType, FptSession, OcrRequest};
    use ekyc_engine::EngineSettings;

    let head = Models::load().demo_head();
    let engine = start_engine(EngineSettings {
        matcher: None,
        ..EngineSettings::default()
    })
    .await;
    let (frames, challenge) =
        follow_challenge(&client_for(&engine), &head, Showing::Follows(Surface::Head)).await;
    let mut session = FptSession::new(client_for(&engine));
    session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
        .await
        .unwrap();
    let answer = session
        .face_liveness_frames(&frames, Some(&challenge))
        .await
        .expect("accepted");
    let liveness = answer.liveness.unwrap();
    assert_eq!(liveness.is_live, Some(false), "{liveness:?}");
    assert_eq!(liveness.need_to_review, Some(true), "{liveness:?}");
    let warning = liveness.warning.unwrap();
    assert!(
        warning.contains("a head") && warning.contains("same person not checked"),
        "{warning}"
    );
}

/// The kiosk's demo camera's bent print (`camera.demo_face = "bent"`), frame for frame as
/// the camera plays it (its head, bent about a vertical axis, turned along the path 250 ms
/// late with ±0.6° of jitter, 10 frames a second, 1280×720, JPEG), on a path where the
/// 3D check without the path (parallax, a face's own depth) calls it a head: the mesh
/// model makes up a face's depth for it, moving across with the turn. With the path, the
/// depth that moves down with it is too little: not a head. The live head on the same
/// path is one.
#[test]
fn the_demo_cameras_bent_print_has_no_face_depth_moving_down_with_the_path() {
    use ekyc_kiosk::camera::{demo_challenge_frame, make_demo_head, DemoFace};
    use ekyc_liveness::{check_frames, pose_following, DotPath, IssuedChallenge};
    use std::time::Duration;

    let models = Models::load();
    let head = make_demo_head().expect("the demo camera's head");
    let limits = ekyc_imaging::ImageLimits::default();
    let thresholds = ParallaxThresholds::default();
    let seeds: Vec<u64> = match std::env::var("EKYC_SCAN_SEEDS") {
        Ok(count) => (1..=count.parse().unwrap()).collect(),
        Err(_) => vec![SEED],
    };
    for seed in seeds {
        let mut noise = Noise(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut uniform = || noise.uniform();
        let path = DotPath::from_numbers(8, Duration::from_millis(3500), &mut uniform);
        let jitter: Vec<f32> = (0..80).map(|_| (uniform() * 2.0 - 1.0) * 0.6).collect();
        let run = |face: DemoFace| {
            let mut uploads = Vec::new();
            let mut times = Vec::new();
            let mut at = Duration::ZERO;
            while at <= Duration::from_millis(3500) {
                let (yaw, pitch) = pose_following(&path, at, Duration::from_millis(250));
                let k = 2 * times.len();
                let frame =
                    demo_challenge_frame(&head, yaw + jitter[k], pitch + jitter[k + 1], face);
                uploads.push(
                    ekyc_imaging::prepare_decoded(
                        image::DynamicImage::ImageRgb8(frame),
                        "frame.jpg",
                        &limits,
                    )
                    .unwrap()
                    .jpeg
                    .clone(),
                );
                times.push(at);
                at += Duration::from_millis(100);
            }
            // The selfie first (the first frame again), then the frames with their times.
            let sent: Vec<&[u8]> = std::iter::once(uploads[0].as_slice())
                .chain(uploads.iter().map(Vec::as_slice))
                .collect();
            check_frames(
                &sent,
                &models.detector,
                &models.mesher,
                None,
                ekyc_face::DEFAULT_MATCH_DISTANCE,
                thresholds,
                Some(IssuedChallenge {
                    path: &path,
                    times: &times,
                    thresholds: ekyc_liveness::ChallengeThresholds::default(),
                }),
            )
        };
        let bent = run(DemoFace::Bent);
        let live = run(DemoFace::Live);
        eprintln!(
            "seed {seed}: bent parallax {:.4} depth {:.4} following {:?} {:?}; live parallax {:.4} depth {:.4} following {:?} {:?}",
            bent.parallax.parallax_figure,
            bent.parallax.face_depth_figure,
            bent.parallax.depth_following,
            bent.parallax.depth,
            live.parallax.parallax_figure,
            live.parallax.face_depth_figure,
            live.parallax.depth_following,
            live.parallax.depth,
        );
        if std::env::var("EKYC_SCAN_SEEDS").is_ok() {
            continue;
        }
        // The case this is about: without the path, a head.
        assert!(
            bent.parallax.parallax_figure >= thresholds.min_parallax
                && bent.parallax.face_depth_figure >= thresholds.min_face_depth,
            "{:?}",
            bent.parallax
        );
        assert_eq!(bent.parallax.depth, Depth::Bent, "{:?}", bent.parallax);
        let [_, down] = bent.parallax.depth_following.unwrap();
        assert!(down < thresholds.min_depth_following[1], "{down}");
        assert_eq!(live.parallax.depth, Depth::Head, "{:?}", live.parallax);
    }
}

/// The path and jitter [`the_demo_cameras_bent_print_has_no_face_depth_moving_down_with_the_path`]
/// draws: one of the 14 of 30 (`EKYC_SCAN_SEEDS=30`) where, without the path, the 3D
/// check called the bent print a head (parallax 4.1 %, a face's own depth 1.9 %). Of those
/// 14, one still shows enough depth moving down with the path (seed 1: 0.048 per screen,
/// the threshold 0.05): README, "Liveness".
const SEED: u64 = 14;
