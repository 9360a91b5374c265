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

use ekyc_liveness::{judge, Depth, ParallaxThresholds, SyntheticHead, RIGID_POINTS};

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
    fn normal(&mut self, sigma: f64) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            sum += (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        }
        (sum - 6.0) * sigma
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
        let live = judge(&film(&head, 12.0, seed), thresholds);
        let print = judge(&film(&picture_of(&head), 12.0, seed), thresholds);
        let still = judge(&film(&picture_of(&head), 0.0, seed), thresholds);
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

#[test]
fn how_little_a_head_may_turn() {
    // The smallest turn the default thresholds call a head, and the picture turned as
    // much: the figures go to the README.
    let thresholds = ParallaxThresholds::default();
    let head = head("astronaut-192.png");
    for yaw in [2.0, 3.0, 4.0, 6.0, 8.0] {
        let live = judge(&film(&head, yaw, 5), thresholds);
        let print = judge(&film(&picture_of(&head), yaw, 5), thresholds);
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
    for flat in [false, true] {
        let frames: Vec<Vec<[f32; 2]>> = yaws
            .iter()
            .map(|&yaw| {
                let frame = head.render(yaw, 0.4 * yaw, flat);
                if let Ok(folder) = std::env::var("EKYC_SAVE_RENDERS") {
                    let name = format!("{}-{yaw:+.0}.png", if flat { "print" } else { "head" });
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
        figures.push(judge(&frames, ParallaxThresholds::default()));
    }
    let (live, print) = (&figures[0], &figures[1]);
    eprintln!(
        "rendered: head parallax {:.4} shape {:.4}; print parallax {:.4} shape {:.4}",
        live.parallax_figure,
        live.shape_change_figure,
        print.parallax_figure,
        print.shape_change_figure
    );
    assert_eq!(live.depth, Depth::Head, "{live:?}");
    assert_ne!(print.depth, Depth::Head, "{print:?}");
}

/// Through the engine, over HTTP with the real client: the challenge's frames as several
/// `selfies` parts. A head turning is live, a print of it turned the same way is not, a
/// still photo cannot be judged (not live, to be reviewed), a face that leaves the frame
/// after a third of the challenge is not live, one selfie alone is not evaluated; face
/// match is measured on the first frame either way. (A replay of the head following
/// another path is a head to the engine: the kiosk's challenge score stops it, see
/// `cargo bench --bench liveness`.)
#[tokio::test]
async fn the_engine_judges_liveness_on_the_frames_it_is_sent() {
    use common::{client_for, front, start_engine};
    use ekyc_client::{DocumentType, FptSession, OcrRequest};
    use ekyc_engine::EngineSettings;

    let head = Models::load().demo_head();
    let yaws = [
        0.0, 3.0, 6.0, 9.0, 11.0, 9.0, 6.0, 3.0, 0.0, -3.0, -6.0, -9.0, -11.0, -9.0, -6.0, -3.0,
        0.0,
    ];
    let frames = |flat: bool| -> Vec<ekyc_client::PreparedImage> {
        yaws.iter()
            .map(|&yaw| {
                let frame = image::DynamicImage::ImageRgb8(head.render(yaw, 0.4 * yaw, flat));
                ekyc_client::prepare_decoded(frame, "frame.jpg", &Default::default()).unwrap()
            })
            .collect()
    };

    let still: Vec<_> = (0..yaws.len())
        .map(|_| {
            let frame = image::DynamicImage::ImageRgb8(head.render(0.0, 0.0, true));
            ekyc_client::prepare_decoded(frame, "frame.jpg", &Default::default()).unwrap()
        })
        .collect();
    let mut leaves = frames(false);
    let empty = image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
        512,
        512,
        image::Rgb([128, 128, 128]),
    ));
    for frame in leaves.iter_mut().skip(yaws.len() / 3) {
        *frame =
            ekyc_client::prepare_decoded(empty.clone(), "frame.jpg", &Default::default()).unwrap();
    }

    let engine = start_engine(EngineSettings::default()).await;
    let mut answers = Vec::new();
    for sent in [
        frames(false),
        frames(true),
        frames(false)[..1].to_vec(),
        still,
        leaves,
    ] {
        let mut session = FptSession::new(client_for(&engine));
        session
            .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
            .await
            .unwrap();
        answers.push(session.face_liveness_frames(&sent).await.expect("accepted"));
    }
    let liveness = |i: usize| answers[i].liveness.clone().unwrap();
    eprintln!("head: {:?}", liveness(0).warning);
    eprintln!("print: {:?}", liveness(1).warning);
    assert_eq!(liveness(0).is_live, Some(true), "{:?}", liveness(0));
    // The print turned ±11° changes shape by about 1.2 %, at the line between "flat" and
    // "did not turn enough": either way it is not live.
    assert_eq!(liveness(1).is_live, Some(false), "{:?}", liveness(1));
    assert!(liveness(0).warning.unwrap().contains("a head"));
    assert!(!liveness(1).warning.unwrap().contains("a head"));
    assert_eq!(liveness(2).is_live, None, "one selfie: nothing measured");
    assert_eq!(liveness(3).is_live, Some(false), "still: {:?}", liveness(3));
    assert_eq!(
        liveness(3).need_to_review,
        Some(true),
        "still: {:?}",
        liveness(3)
    );
    assert!(liveness(3).warning.unwrap().contains("did not turn enough"));
    assert_eq!(
        liveness(4).is_live,
        Some(false),
        "leaves: {:?}",
        liveness(4)
    );
    assert!(
        liveness(4).warning.unwrap().contains("a face in 5)"),
        "{:?}",
        liveness(4)
    );
    for answer in &answers {
        assert_eq!(answer.face_match.as_ref().unwrap().is_match, Some(true));
    }
}

/// The challenge through the real models: rendered frames of the head turning to follow a
/// random dot path 200 ms late (8 frames/s), each meshed, its gaze signal scored against
/// the path. The head follows; a still photo does not; a print moved exactly as the head
/// follows too, which is why the 3D check stands beside the challenge.
#[test]
fn a_head_that_follows_the_dot_passes_the_challenge_and_a_still_photo_does_not() {
    use ekyc_liveness::{gaze, score, ChallengeProblem, ChallengeThresholds, DotPath, GazeSample};
    use std::time::Duration;

    let models = Models::load();
    let head = models.demo_head();
    let mesh_of = |frame: &image::RgbImage| models.mesh_of(frame);
    // A fixed path, so that every run sees the same figures (the kiosk's are random).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let path = DotPath::from_numbers(8, Duration::from_millis(3500), move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32
    });
    let lag = Duration::from_millis(200);
    let step = Duration::from_millis(125);
    let frames = (path.length().as_millis() / step.as_millis()) as u32;
    let track = |still: bool, flat: bool| -> Vec<GazeSample> {
        (0..=frames)
            .map(|i| {
                let at = step * i;
                let dot = path.position(at.saturating_sub(lag));
                let (yaw, pitch) = if still {
                    (0.0, 0.0)
                } else {
                    (24.0 * (dot[0] - 0.5), 14.0 * (dot[1] - 0.5))
                };
                let frame = head.render(yaw, pitch, flat);
                GazeSample {
                    at,
                    gaze: gaze(&mesh_of(&frame)).expect("a gaze"),
                }
            })
            .collect()
    };
    let thresholds = ChallengeThresholds::default();
    let follows = score(&path, &track(false, false), thresholds);
    let still = score(&path, &track(true, false), thresholds);
    let print = score(&path, &track(false, true), thresholds);
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
    let frames: Vec<ekyc_client::PreparedImage> = [0.0, 4.0, 8.0, 11.0, 8.0, 4.0, 0.0, -4.0, -8.0]
        .iter()
        .map(|&yaw| {
            let frame = image::DynamicImage::ImageRgb8(head.render(yaw, 0.4 * yaw, false));
            ekyc_client::prepare_decoded(frame, "frame.jpg", &Default::default()).unwrap()
        })
        .collect();
    let engine = start_engine(EngineSettings {
        matcher: None,
        ..EngineSettings::default()
    })
    .await;
    let mut session = FptSession::new(client_for(&engine));
    session
        .ocr(OcrRequest::both_sides(DocumentType::Idr, front(), None))
        .await
        .unwrap();
    let answer = session
        .face_liveness_frames(&frames)
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
