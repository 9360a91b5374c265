//! MediaPipe's face and iris landmark models run by our TensorFlow Lite interpreter
//! (`face::tflite`), against Google's own interpreter (LiteRT's reference kernels) on the
//! same crops: `tests/data/face-landmarks/` (README there; `make-fixtures` remakes them).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

use std::path::{Path, PathBuf};

use ekyc_tflite::{TfliteError, TfliteModel};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/face-landmarks")
        .join(name)
}

fn model(name: &str) -> TfliteModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/models/mediapipe")
        .join(name);
    TfliteModel::load(&path).unwrap_or_else(|error| panic!("{error} (run ./fetch-models)"))
}

fn fixtures() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(data("fixtures.json")).unwrap()).unwrap()
}

/// The crop's pixels / 255, NHWC, as MediaPipe's graphs feed both models.
fn input(name: &str) -> Vec<f32> {
    let image = image::open(data(name)).unwrap().to_rgb8();
    image
        .as_raw()
        .iter()
        .map(|v| f32::from(*v) / 255.0)
        .collect()
}

fn floats(value: &serde_json::Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// The largest difference, and the test's bound: 1e-3 of the crop's side.
fn assert_close(ours: &[f32], theirs: &[f32], side: f32, what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    let worst = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    eprintln!("{what}: largest difference from LiteRT {worst:.2e} (of a {side}-pixel crop)");
    assert!(
        worst <= 1e-3 * side,
        "{what}: differs from LiteRT by up to {worst} (bound {})",
        1e-3 * side
    );
}

#[test]
fn face_landmarks_match_litert_on_two_faces() {
    let face = model("face_landmark.tflite");
    assert_eq!(face.input_shapes(), [vec![1, 192, 192, 3]]);
    let fixtures = fixtures();
    for name in ["astronaut-192.png", "grace-hopper-192.png"] {
        let expected = &fixtures["face"][name];
        let outputs = face.run(&[&input(name)]).unwrap();
        assert_eq!(outputs.len(), 2, "landmarks and face presence");
        assert_eq!(outputs[0].len(), 468 * 3);
        assert_close(&outputs[0], &floats(&expected["landmarks"]), 192.0, name);
        let presence = expected["presence_logit"].as_f64().unwrap() as f32;
        assert!(
            (outputs[1][0] - presence).abs() <= 1e-3 * presence.abs().max(1.0),
            "{name}: presence {} against {presence}",
            outputs[1][0]
        );
    }
}

#[test]
fn a_model_run_again_and_at_once_gives_each_input_its_own_answer() {
    // The tensors' memory is kept from run to run and an element-wise operator works in
    // its input's: nothing of one run may reach the next, nor one thread's another's.
    let face = std::sync::Arc::new(model("face_landmark.tflite"));
    let inputs = [input("astronaut-192.png"), input("grace-hopper-192.png")];
    let alone: Vec<Vec<Vec<f32>>> = inputs
        .iter()
        .map(|one| model("face_landmark.tflite").run(&[one]).unwrap())
        .collect();
    assert_ne!(alone[0], alone[1]);
    for round in 0..3 {
        for (one, expected) in inputs.iter().zip(&alone) {
            assert_eq!(&face.run(&[one]).unwrap(), expected, "round {round}");
        }
    }
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (face, one) = (face.clone(), inputs[thread % 2].clone());
            std::thread::spawn(move || (0..5).map(|_| face.run(&[&one]).unwrap()).collect())
        })
        .collect();
    for (thread, handle) in threads.into_iter().enumerate() {
        let runs: Vec<Vec<Vec<f32>>> = handle.join().unwrap();
        assert!(
            runs.iter().all(|run| run == &alone[thread % 2]),
            "thread {thread}"
        );
    }
}

#[test]
fn iris_landmarks_match_litert_on_two_eyes() {
    let iris = model("iris_landmark.tflite");
    assert_eq!(iris.input_shapes(), [vec![1, 64, 64, 3]]);
    assert_eq!(
        iris.output_names(),
        ["output_eyes_contours_and_brows", "output_iris"]
    );
    let fixtures = fixtures();
    for name in ["astronaut-192-eye.png", "grace-hopper-192-eye.png"] {
        let expected = &fixtures["iris"][name];
        let outputs = iris.run(&[&input(name)]).unwrap();
        assert_close(&outputs[0], &floats(&expected["contours"]), 64.0, name);
        assert_close(&outputs[1], &floats(&expected["iris"]), 64.0, name);
    }
}

/// BlazeFace's full-range detector (sparse float16 weights: DENSIFY, DEQUANTIZE, and
/// DEPTH_TO_SPACE and RESIZE_BILINEAR) on two small faces, against LiteRT: every
/// anchor's score, and the boxes of the anchors near or above the threshold.
#[test]
fn the_full_range_detector_matches_litert_on_two_small_faces() {
    let detector = model("face_detection_full_range_sparse.tflite");
    assert_eq!(detector.input_shapes(), [vec![1, 192, 192, 3]]);
    let name = "two-faces-192.png";
    let expected = &fixtures()["detector"][name];
    let pixels: Vec<f32> = image::open(data(name))
        .unwrap()
        .to_rgb8()
        .as_raw()
        .iter()
        .map(|v| f32::from(*v) / 127.5 - 1.0)
        .collect();
    let outputs = detector.run(&[&pixels]).unwrap();
    let (boxes, scores) = (&outputs[0], &outputs[1]);
    assert_eq!((boxes.len(), scores.len()), (2304 * 16, 2304));
    assert_close(scores, &floats(&expected["scores"]), 1.0, "score logits");
    let candidates = expected["boxes"].as_object().unwrap();
    assert!(candidates.len() >= 2, "LiteRT saw both faces");
    for (index, values) in candidates {
        let index: usize = index.parse().unwrap();
        assert_close(
            &boxes[index * 16..index * 16 + 16],
            &floats(values),
            192.0,
            &format!("anchor {index}'s box"),
        );
    }
}

#[test]
fn wrong_inputs_and_other_files_are_refused_with_a_reason() {
    let face = model("face_landmark.tflite");
    let error = face.run(&[&[0.5; 10]]).unwrap_err();
    assert!(matches!(error, TfliteError::Input(_)), "{error}");
    assert!(error.to_string().contains("192"), "{error}");
    let error = face.run(&[]).unwrap_err();
    assert!(matches!(error, TfliteError::Input(_)), "{error}");

    // A real model cut short, and another format altogether.
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/mediapipe/face_landmark.tflite"),
    )
    .unwrap();
    for cut in [8, 1000, bytes.len() / 2] {
        assert!(
            TfliteModel::from_bytes(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let onnx = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/models/blazeface/face_detection_front_128x128.onnx");
    let error = TfliteModel::load(&onnx).unwrap_err();
    assert!(error.to_string().contains("TFL3"), "{error}");
    let error = TfliteModel::load(Path::new("/nonexistent/model.tflite")).unwrap_err();
    assert!(matches!(error, TfliteError::Io { .. }), "{error}");
}

/// The whole path on a real photo: BlazeFace's box, MediaPipe's region, the mesh and the
/// irises, in the photo's pixels; the eye corners against dlib's own 5-point landmarks on
/// the same photo (`tests/data/face-match/fixtures.json`), an independent model.
#[test]
fn the_mesh_on_a_photo_puts_the_eye_corners_where_dlib_does() {
    use ekyc_face::{FaceDetector, FaceMesh};

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let photo = image::open(root.join("tests/data/face-match/astronaut-face.png"))
        .unwrap()
        .to_rgb8();
    let detector = FaceDetector::load(None).expect("./fetch-models");
    let faces = detector.detect(&photo).unwrap();
    assert_eq!(faces.len(), 1);
    let mesh = FaceMesh::load(None)
        .unwrap()
        .landmarks(&photo, &faces[0])
        .unwrap();
    assert_eq!(mesh.points.len(), 468);
    assert!(mesh.presence > 0.9, "presence {}", mesh.presence);

    let fixtures: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("tests/data/face-match/fixtures.json")).unwrap(),
    )
    .unwrap();
    let dlib: Vec<[f32; 2]> = fixtures["cases"][0]["faces"][0]["landmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
        .collect();
    let distance =
        |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    // dlib's four eye corners (its fifth point is under the nose).
    let interocular = distance(
        [
            (dlib[0][0] + dlib[1][0]) / 2.0,
            (dlib[0][1] + dlib[1][1]) / 2.0,
        ],
        [
            (dlib[2][0] + dlib[3][0]) / 2.0,
            (dlib[2][1] + dlib[3][1]) / 2.0,
        ],
    );
    for corner in &dlib[..4] {
        let nearest = [33usize, 133, 362, 263]
            .iter()
            .map(|&i| distance(*corner, [mesh.points[i][0], mesh.points[i][1]]))
            .fold(f32::INFINITY, f32::min);
        eprintln!("dlib corner {corner:?}: mesh corner {nearest:.2} px away ({:.1} % of the eyes' distance)", 100.0 * nearest / interocular);
        assert!(
            nearest < 0.1 * interocular,
            "a mesh eye corner within 10 % of the eyes' distance of dlib's {corner:?}: {nearest}"
        );
    }
    // Looking at the camera: each iris between its corners, near the middle.
    for eye in &mesh.eyes {
        let [along, across] = eye.iris_position();
        eprintln!("iris at {along:.2} along, {across:.2} across");
        assert!(
            (0.3..0.7).contains(&along) && across.abs() < 0.2,
            "{along} {across}"
        );
    }
}

/// A damaged copy of the full-range detector (its sparse weights' index vectors
/// included) is refused or runs; it never panics. Bytes are overwritten at 300 places
/// spread over the file (a fixed pattern), each copy with one place damaged.
#[test]
fn damaged_sparse_models_are_refused_or_run_never_panic() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/models/mediapipe/face_detection_full_range_sparse.tflite"),
    )
    .unwrap();
    let input = vec![0.0; 192 * 192 * 3];
    let (mut refused, mut ran) = (0, 0);
    for place in 0..300 {
        let at = (place * 7919 * 13) % bytes.len();
        let mut damaged = bytes.clone();
        for (offset, value) in [0xff, 0x7f, 0x00, 0x80].iter().enumerate() {
            if let Some(byte) = damaged.get_mut(at + offset) {
                *byte = *value;
            }
        }
        match TfliteModel::from_bytes(&damaged) {
            Err(_) => refused += 1,
            // A damaged weight still makes a model; a few are run to the end.
            Ok(model) if ran < 10 => {
                let _ = model.run(&[&input]);
                ran += 1;
            }
            Ok(_) => {}
        }
    }
    eprintln!("{refused} of 300 damaged copies refused; {ran} of the others run");
}
