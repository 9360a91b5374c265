//! MediaPipe's face and iris landmark models run by our TensorFlow Lite interpreter
//! (`face::tflite`), against Google's own interpreter (LiteRT's reference kernels) on the
//! same crops: `tests/data/face-landmarks/` (README there; `make-fixtures` remakes them).

use std::path::{Path, PathBuf};

use ekyc_kiosk::face::tflite::{TfliteError, TfliteModel};

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
