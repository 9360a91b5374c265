//! The follow-the-dot challenge's score, as distributions: where genuine followers and each
//! attack species fall, and the error rates at each threshold, so that the threshold is set
//! from them with a margin (README, "Liveness"). `cargo bench --bench challenge_scores`;
//! `EKYC_BENCH_TRIALS=N` (default 2,000) trials per species.
//!
//! Rendering and meshing every frame of thousands of trials would take hours, so the gaze
//! signal is measured once on a grid of poses, rendered from the demo selfie as a head
//! (given depth by its own mesh) and as a flat print turned the same way, each frame
//! through the real detector, face mesh and irises and `gaze`; a trial then reads the
//! signal of each frame's pose off that grid (bilinear) and adds a webcam's noise. What
//! varies per trial, in the ranges of real webcams and people: a new random path, the
//! follower's lag (150–450 ms: reaction and the camera's latency), how far the head turns
//! (0.7–1.3 of the typical), the frame rate (10–30 frames/s) with frames dropped (0–10 %),
//! the pose's jitter (±0.6°) and the landmarks' noise on the signal (σ 0.003–0.015 of the
//! face's size).
//!
//! Species: genuine (the head follows this path); a print turned along this path exactly as
//! the head would (the strongest print there is); a replay (the head following another
//! path); a still photo (the print held still, trembling).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench stops at what it did not expect

#[path = "support/timing.rs"]
#[allow(dead_code)] // only `bench_rounds`: the distributions are counted, not timed
mod timing;

use std::path::Path;
use std::time::Duration;

use ekyc_liveness::synthetic::{FOLLOW_PITCH, FOLLOW_YAW};
use ekyc_liveness::{
    gaze, score, ChallengeThresholds, DotPath, GazeSample, Surface, SyntheticHead,
};

/// Poses measured: yaw −18…18° by 1.5°, pitch −11…11° by 1.1° (a follower's turn at 1.3
/// times the typical one, with jitter, stays inside).
const YAWS: (f32, f32, usize) = (-18.0, 1.5, 25);
const PITCHES: (f32, f32, usize) = (-11.0, 1.1, 21);

/// The gaze signal measured at each pose of the grid, for a head or a flat print.
struct Grid {
    values: Vec<[f32; 2]>,
}

impl Grid {
    fn measure(head: &SyntheticHead, flat: bool, models: &Models) -> Self {
        let mut values = Vec::with_capacity(YAWS.2 * PITCHES.2);
        for j in 0..PITCHES.2 {
            for i in 0..YAWS.2 {
                let (yaw, pitch) = (YAWS.0 + YAWS.1 * i as f32, PITCHES.0 + PITCHES.1 * j as f32);
                let surface = if flat { Surface::Flat } else { Surface::Head };
                let frame = head.render(yaw, pitch, surface);
                let face = models
                    .detector
                    .detect(&frame)
                    .ok()
                    .and_then(|faces| faces.into_iter().next())
                    .expect("a face at every pose of the grid");
                let mesh = models.mesh.landmarks(&frame, &face).expect("a mesh");
                values.push(gaze(&mesh).expect("a gaze"));
            }
        }
        Self { values }
    }

    /// The signal at (`yaw`, `pitch`), interpolated between the grid's poses.
    fn at(&self, yaw: f32, pitch: f32) -> [f32; 2] {
        let x = ((yaw - YAWS.0) / YAWS.1).clamp(0.0, (YAWS.2 - 1) as f32 - 1e-3);
        let y = ((pitch - PITCHES.0) / PITCHES.1).clamp(0.0, (PITCHES.2 - 1) as f32 - 1e-3);
        let (i, j) = (x.floor() as usize, y.floor() as usize);
        let (fx, fy) = (x - i as f32, y - j as f32);
        let value = |i: usize, j: usize| self.values[j * YAWS.2 + i];
        let mut out = [0.0; 2];
        for (axis, slot) in out.iter_mut().enumerate() {
            let top = value(i, j)[axis] * (1.0 - fx) + value(i + 1, j)[axis] * fx;
            let bottom = value(i, j + 1)[axis] * (1.0 - fx) + value(i + 1, j + 1)[axis] * fx;
            *slot = top * (1.0 - fy) + bottom * fy;
        }
        out
    }
}

struct Models {
    detector: ekyc_face::FaceDetector,
    mesh: ekyc_face::FaceMesh,
}

/// A small deterministic random source (xorshift): every run sees the same trials.
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

    /// A normal draw (Box–Muller).
    fn normal(&mut self, sigma: f32) -> f32 {
        let (u, v) = (self.next().max(1e-7), self.next());
        sigma * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Species {
    Genuine,
    PrintTurned,
    Replay,
    Still,
}

/// One trial's correlation (the kiosk's score, whatever the threshold).
fn trial(species: Species, head: &Grid, print: &Grid, rng: &mut Rng) -> f32 {
    let length = Duration::from_millis(3500);
    let path = DotPath::from_numbers(8, length, || rng.next());
    let other = DotPath::from_numbers(8, length, || rng.next());
    let lag = Duration::from_millis(rng.between(150.0, 450.0) as u64);
    let amplitude = rng.between(0.7, 1.3);
    let step = Duration::from_millis(rng.between(33.0, 100.0) as u64);
    let dropped = rng.between(0.0, 0.1);
    let noise = rng.between(0.003, 0.015);
    let followed = if species == Species::Replay {
        &other
    } else {
        &path
    };
    let grid = match species {
        Species::Genuine | Species::Replay => head,
        Species::PrintTurned | Species::Still => print,
    };
    let mut samples = Vec::new();
    let mut at = Duration::ZERO;
    while at <= length {
        if rng.next() >= dropped {
            let dot = followed.position(at.saturating_sub(lag));
            let (yaw, pitch) = match species {
                Species::Still => (0.0, 0.0),
                _ => (
                    amplitude * FOLLOW_YAW * (dot[0] - 0.5),
                    amplitude * FOLLOW_PITCH * (dot[1] - 0.5),
                ),
            };
            let signal = grid.at(yaw + rng.between(-0.6, 0.6), pitch + rng.between(-0.6, 0.6));
            samples.push(GazeSample {
                at,
                gaze: [signal[0] + rng.normal(noise), signal[1] + rng.normal(noise)],
            });
        }
        at += step;
    }
    score(&path, &samples, ChallengeThresholds::default()).correlation
}

fn quantile(sorted: &[f32], q: f64) -> f32 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    if timing::bench_rounds(1).is_none() {
        return;
    }
    let trials: usize = std::env::var("EKYC_BENCH_TRIALS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = Models {
        detector: ekyc_face::FaceDetector::load(None).expect("./fetch-models"),
        mesh: ekyc_face::FaceMesh::load(None).expect("./fetch-models"),
    };
    let photo = image::open(root.join("assets/demo/selfie-astronaut.jpg"))
        .expect("demo selfie")
        .to_rgb8();
    let head = SyntheticHead::from_photo(photo, &models.detector, &models.mesh).expect("a face");
    let started = std::time::Instant::now();
    let (head_grid, print_grid) = (
        Grid::measure(&head, false, &models),
        Grid::measure(&head, true, &models),
    );
    println!(
        "gaze signal measured at {} poses, head and print, in {:.1} s",
        YAWS.2 * PITCHES.2,
        started.elapsed().as_secs_f32()
    );
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let species = [
        ("genuine", Species::Genuine),
        ("print turned along the path", Species::PrintTurned),
        ("replay of another path", Species::Replay),
        ("still photo", Species::Still),
    ];
    let mut scores: Vec<(&str, Species, Vec<f32>)> = Vec::new();
    for (name, kind) in species {
        let mut found: Vec<f32> = (0..trials)
            .map(|_| trial(kind, &head_grid, &print_grid, &mut rng))
            .collect();
        found.sort_by(f32::total_cmp);
        scores.push((name, kind, found));
    }
    println!(
        "\nchallenge correlation, {trials} trials per species (synthetic; not a certification):"
    );
    println!(
        "  {:<29} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "species", "min", "0.1 %", "1 %", "median", "99 %", "99.9 %", "max"
    );
    for (name, _, found) in &scores {
        println!(
            "  {name:<29} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            found[0],
            quantile(found, 0.001),
            quantile(found, 0.01),
            quantile(found, 0.5),
            quantile(found, 0.99),
            quantile(found, 0.999),
            found[found.len() - 1]
        );
    }
    println!("\nat each threshold (passes when the correlation is at least it):");
    print!("  {:<9} {:>9}", "threshold", "BPCER");
    for (name, kind, _) in &scores {
        if *kind != Species::Genuine {
            print!("  APCER {:<27}", name);
        }
    }
    println!();
    for step in 0..=14 {
        let threshold = 0.60 + 0.025 * step as f32;
        let genuine = &scores[0].2;
        let refused = genuine.iter().filter(|score| **score < threshold).count();
        print!(
            "  {threshold:<9.3} {:>8.2} %",
            100.0 * refused as f64 / genuine.len() as f64
        );
        for (_, kind, found) in &scores {
            if *kind != Species::Genuine {
                let accepted = found.iter().filter(|score| **score >= threshold).count();
                print!(
                    "  {:>8.2} % {:<24}",
                    100.0 * accepted as f64 / found.len() as f64,
                    ""
                );
            }
        }
        println!();
    }
    let default = ChallengeThresholds::default().min_correlation;
    println!("\nthe kiosk's threshold now: {default}");
}
