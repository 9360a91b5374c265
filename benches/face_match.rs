//! Face match on one core: `cargo bench --bench face_match`. Prints the median time of
//! each step (landmarks, chip, embedding) on the chips and photos of
//! `tests/data/face-match/`, and writes the embedding figure to
//! `target/bench-face-match.json` for `benches/dlib-compare`, which times dlib on the
//! same chips in the same run. `EKYC_BENCH_ROUNDS=N` (default 20) timed rounds per step.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "support/timing.rs"]
mod timing;
use timing::{bench_rounds, median_ms};

use std::hint::black_box;
use std::path::Path;

use base64::Engine as _;
use ekyc_face::{FaceBox, FaceMatcher, Landmark};
use image::RgbImage;

fn main() {
    let Some(rounds) = bench_rounds(20) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("tests/data/face-match");
    let fixtures: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("fixtures.json")).expect("fixtures.json"),
    )
    .expect("fixtures.json is JSON");
    let before = resident_mb();
    let matcher = match FaceMatcher::load(None) {
        Ok(matcher) => matcher,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let models_mb = resident_mb() - before;
    let load_ms = median_ms(3, || {
        black_box(FaceMatcher::load(None).ok());
    });
    let mut chips = Vec::new();
    let mut located = Vec::new();
    for case in fixtures["cases"].as_array().expect("cases") {
        let photo = image::open(data.join(case["image"].as_str().expect("name")))
            .expect("photo")
            .to_rgb8();
        for face in case["faces"].as_array().expect("faces") {
            let chip = base64::engine::general_purpose::STANDARD
                .decode(face["chip_rgb_base64"].as_str().expect("chip"))
                .expect("base64");
            chips.push(RgbImage::from_raw(150, 150, chip).expect("150×150"));
            let b: Vec<i64> = face["box"]
                .as_array()
                .expect("box")
                .iter()
                .map(|v| v.as_i64().expect("int"))
                .collect();
            let face_box = FaceBox {
                left: b[0],
                top: b[1],
                right: b[2],
                bottom: b[3],
            };
            located.push((photo.clone(), face_box));
        }
    }

    let landmarks_ms = median_ms(rounds, || {
        for (photo, face_box) in &located {
            black_box(matcher.landmarks(photo, *face_box));
        }
    }) / located.len() as f64;
    let points: Vec<[Landmark; 5]> = located
        .iter()
        .map(|(photo, face_box)| matcher.landmarks(photo, *face_box))
        .collect();
    let chip_ms = median_ms(rounds, || {
        for ((photo, _), points) in located.iter().zip(&points) {
            black_box(matcher.chip(photo, points));
        }
    }) / located.len() as f64;
    let embedding_ms = median_ms(rounds, || {
        for chip in &chips {
            black_box(matcher.embed_chip(chip));
        }
    }) / chips.len() as f64;

    println!(
        "Face match, one core, median of {rounds} rounds over {} faces",
        chips.len()
    );
    println!(
        "  load both models       {load_ms:8.2} ms, {models_mb:.0} MB resident (once per process)"
    );
    println!("  5 landmarks            {landmarks_ms:8.2} ms per face");
    println!("  150×150 chip           {chip_ms:8.2} ms per face");
    println!("  embedding (ResNet)     {embedding_ms:8.2} ms per chip");
    let figures = serde_json::json!({ "embedding_ms": embedding_ms, "rounds": rounds });
    let out = root.join("target/bench-face-match.json");
    std::fs::write(&out, figures.to_string()).expect("writes target/bench-face-match.json");
}

/// This process's resident memory (Linux), in MB.
fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
