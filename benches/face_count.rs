//! How often the face detector counts the people in a selfie right:
//! `cargo bench --bench face_count` (prints a table; `EKYC_BENCH_FRAMES=N`, default 200).
//!
//! The frames are composed here, the same ones on every run (a fixed seed): 1280×720, a
//! room-like background (two colours, soft blobs, sensor noise), and 1 to 3 faces from the
//! public-domain test photos (`tests/data/face-match/`: the astronaut and Grace Hopper,
//! each also mirrored), each 8–60 % of the frame's height (the face as dlib's HOG detector
//! boxes it), anywhere, up to 30 % of it cut off by the frame's edge, in its own light
//! (0.45–1.3 times as bright), never overlapping another. The label is the number of
//! faces put in.
//!
//! Three passes on each frame: `FaceDetector::detect_thorough`, which both the kiosk's
//! selfie preview and the engine now run, and, for the "before" figures, what each ran
//! until the full-range model came: the preview `FaceDetector::detect` (the short-range
//! model over the whole frame), the engine the same plus the short-range model over
//! overlapping squares of the frame's height, merged by overlap.
//! `EKYC_BENCH_SAVE=DIR` writes the frames and their labels there (for a reference
//! detector to be run on the same pictures).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "support/random.rs"]
mod random;
use random::Random;

#[path = "support/timing.rs"]
#[allow(dead_code)] // Each pass is timed on each frame here, not by `median_ms`.
mod timing;
use timing::bench_rounds;

use std::path::Path;
use std::time::Instant;

use ekyc_face::{Face, FaceDetector};
use image::{Rgb, RgbImage};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;

/// A face photo and where dlib's HOG detector boxes the face in it.
struct Portrait {
    image: RgbImage,
    /// Left, top, side of the face's box.
    face: [f32; 3],
}

fn portraits(root: &Path) -> Vec<Portrait> {
    let load = |name: &str| {
        image::open(root.join("tests/data/face-match").join(name))
            .expect("the face-match test photos")
            .to_rgb8()
    };
    // dlib's boxes, from tests/data/face-match/fixtures.json.
    let astronaut = load("astronaut-face.png");
    let hopper = load("grace-hopper-face.png");
    let mirrored = |portrait: &Portrait| Portrait {
        image: image::imageops::flip_horizontal(&portrait.image),
        face: [
            portrait.image.width() as f32 - portrait.face[0] - portrait.face[2],
            portrait.face[1],
            portrait.face[2],
        ],
    };
    let originals = [
        Portrait {
            image: astronaut,
            face: [66.0, 66.0, 90.0],
        },
        Portrait {
            image: hopper,
            face: [43.0, 68.0, 223.0],
        },
    ];
    let mut all: Vec<Portrait> = originals.iter().map(mirrored).collect();
    all.extend(originals);
    all
}

/// Where a face was put: its box in the frame.
#[derive(Debug, Clone, Copy)]
struct Placed {
    left: f32,
    top: f32,
    side: f32,
}

impl Placed {
    fn overlaps(&self, other: &Placed, margin: f32) -> bool {
        let grow = |p: &Placed| {
            let extra = p.side * margin;
            (
                p.left - extra,
                p.top - extra,
                p.left + p.side + extra,
                p.top + p.side + extra,
            )
        };
        let (a, b) = (grow(self), grow(other));
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    /// Whether a found face is this one: its centre inside this box.
    fn is(&self, face: &Face) -> bool {
        let centre = face.centre();
        (self.left..self.left + self.side).contains(&centre.x)
            && (self.top..self.top + self.side * 1.2).contains(&centre.y)
    }
}

/// One composed frame and the faces put in it (the first is the largest).
fn compose(random: &mut Random, portraits: &[Portrait]) -> (RgbImage, Vec<Placed>) {
    let colour = |random: &mut Random| {
        [
            random.range(40.0, 220.0),
            random.range(40.0, 220.0),
            random.range(40.0, 220.0),
        ]
    };
    let (top_colour, bottom_colour) = (colour(random), colour(random));
    let blobs: Vec<([f32; 3], f32, f32, f32)> = (0..4)
        .map(|_| {
            (
                colour(random),
                random.range(0.0, WIDTH as f32),
                random.range(0.0, HEIGHT as f32),
                random.range(80.0, 400.0),
            )
        })
        .collect();
    let noise = random.range(2.0, 8.0);
    let mut frame = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let along = y as f32 / HEIGHT as f32;
        let mut pixel = [0.0; 3];
        for channel in 0..3 {
            pixel[channel] = top_colour[channel] * (1.0 - along) + bottom_colour[channel] * along;
        }
        for (blob, bx, by, radius) in &blobs {
            let distance = ((x as f32 - bx).powi(2) + (y as f32 - by).powi(2)).sqrt();
            let weight = (1.0 - distance / radius).clamp(0.0, 1.0) * 0.6;
            for channel in 0..3 {
                pixel[channel] = pixel[channel] * (1.0 - weight) + blob[channel] * weight;
            }
        }
        Rgb(pixel.map(|value| value.clamp(0.0, 255.0) as u8))
    });

    let wanted = 1 + (random.next() % 3) as usize;
    let mut placed: Vec<Placed> = Vec::new();
    let mut tries = 0;
    while placed.len() < wanted && tries < 200 {
        tries += 1;
        let side = random.range(0.08, 0.6) * HEIGHT as f32;
        // Up to 30 % of the face's box outside the frame, on one side or two.
        let slack = 0.3 * side;
        let place = Placed {
            left: random.range(-slack, WIDTH as f32 - side + slack),
            top: random.range(-slack, HEIGHT as f32 - side + slack),
            side,
        };
        let inside_width = (place.left + side).min(WIDTH as f32) - place.left.max(0.0);
        let inside_height = (place.top + side).min(HEIGHT as f32) - place.top.max(0.0);
        if inside_width * inside_height < 0.7 * side * side {
            continue;
        }
        if placed.iter().any(|other| other.overlaps(&place, 0.35)) {
            continue;
        }
        placed.push(place);
    }
    placed.sort_by(|a, b| b.side.total_cmp(&a.side));
    for place in &placed {
        let portrait = &portraits[(random.next() % portraits.len() as u64) as usize];
        let light = random.range(0.45, 1.3);
        paste(&mut frame, portrait, place, light);
    }
    for pixel in frame.pixels_mut() {
        for value in pixel.0.iter_mut() {
            *value = (f32::from(*value) + noise * random.normal()).clamp(0.0, 255.0) as u8;
        }
    }
    (frame, placed)
}

/// The portrait scaled so that its face's box is `place`, blended in through a soft
/// ellipse around the head, its light multiplied by `light`.
fn paste(frame: &mut RgbImage, portrait: &Portrait, place: &Placed, light: f32) {
    let scale = place.side / portrait.face[2];
    let width = (portrait.image.width() as f32 * scale).round().max(1.0) as u32;
    let height = (portrait.image.height() as f32 * scale).round().max(1.0) as u32;
    let scaled = image::imageops::resize(
        &portrait.image,
        width,
        height,
        image::imageops::FilterType::Triangle,
    );
    let origin_x = place.left - portrait.face[0] * scale;
    let origin_y = place.top - portrait.face[1] * scale;
    let (centre_x, centre_y) = (place.left + place.side / 2.0, place.top + place.side * 0.45);
    let (radius_x, radius_y) = (place.side * 0.85, place.side * 1.1);
    for y in 0..height {
        for x in 0..width {
            let (fx, fy) = (origin_x + x as f32, origin_y + y as f32);
            if fx < 0.0 || fy < 0.0 || fx >= WIDTH as f32 || fy >= HEIGHT as f32 {
                continue;
            }
            let reach = ((fx - centre_x) / radius_x).powi(2) + ((fy - centre_y) / radius_y).powi(2);
            let weight = ((1.0 - reach.sqrt()) / 0.2).clamp(0.0, 1.0);
            if weight == 0.0 {
                continue;
            }
            let source = scaled.get_pixel(x, y);
            let target = frame.get_pixel_mut(fx as u32, fy as u32);
            for channel in 0..3 {
                let value = (f32::from(source[channel]) * light).min(255.0);
                target[channel] =
                    (value * weight + f32::from(target[channel]) * (1.0 - weight)) as u8;
            }
        }
    }
}

/// The thorough pass as it was before the full-range model: short range over the whole
/// frame and over squares of its height, each overlapping the next by half, merged.
fn thorough_before(detector: &FaceDetector, frame: &RgbImage) -> Vec<Face> {
    let mut faces = detector.detect(frame).unwrap_or_default();
    let side = HEIGHT;
    let steps = (2 * WIDTH).div_ceil(side) - 1;
    for step in 0..steps {
        let left = (WIDTH - side) * step / (steps - 1);
        let square = image::imageops::crop_imm(frame, left, 0, side, side).to_image();
        for mut face in detector.detect(&square).unwrap_or_default() {
            face.left += left as f32;
            for landmark in &mut face.landmarks {
                landmark.x += left as f32;
            }
            faces.push(face);
        }
    }
    // Keep the most confident of each overlapping group.
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for face in faces {
        let overlapping = kept.iter().any(|other| {
            let left = face.left.max(other.left);
            let top = face.top.max(other.top);
            let right = (face.left + face.width).min(other.left + other.width);
            let bottom = (face.top + face.height).min(other.top + other.height);
            let inner = (right - left).max(0.0) * (bottom - top).max(0.0);
            inner / (face.width * face.height + other.width * other.height - inner) > 0.3
        });
        if !overlapping {
            kept.push(face);
        }
    }
    kept
}

/// One way of finding the faces in a frame.
type Pass<'a> = dyn Fn(&RgbImage) -> Vec<Face> + 'a;

#[derive(Default)]
struct Tally {
    frames: usize,
    right: usize,
    /// Frames with two or more faces, and those counted right.
    crowded: usize,
    crowded_right: usize,
    /// Second and third faces by size band (share of the frame's height): found, all.
    extra_faces: [[usize; 2]; 4],
    /// Found faces that match nothing put in.
    phantoms: usize,
    millis: Vec<f64>,
}

const BANDS: [(f32, f32); 4] = [(0.08, 0.12), (0.12, 0.2), (0.2, 0.4), (0.4, 0.6)];

impl Tally {
    fn add(&mut self, placed: &[Placed], found: &[Face], millis: f64) {
        self.frames += 1;
        self.millis.push(millis);
        let right = found.len() == placed.len();
        self.right += usize::from(right);
        if placed.len() >= 2 {
            self.crowded += 1;
            self.crowded_right += usize::from(right);
        }
        for place in placed.iter().skip(1) {
            let share = place.side / HEIGHT as f32;
            let band = BANDS
                .iter()
                .position(|(low, high)| (*low..*high).contains(&share))
                .unwrap_or(BANDS.len() - 1);
            self.extra_faces[band][1] += 1;
            self.extra_faces[band][0] += usize::from(found.iter().any(|face| place.is(face)));
        }
        self.phantoms += found
            .iter()
            .filter(|face| !placed.iter().any(|place| place.is(face)))
            .count();
    }

    fn row(&mut self, name: &str) {
        self.millis.sort_by(f64::total_cmp);
        let percent = |part: usize, all: usize| {
            if all == 0 {
                "–".to_string()
            } else {
                format!("{:.0} % ({part}/{all})", 100.0 * part as f64 / all as f64)
            }
        };
        let bands: Vec<String> = self
            .extra_faces
            .iter()
            .map(|[found, all]| percent(*found, *all))
            .collect();
        println!(
            "| {name} | {} | {} | {} | {} | {:.0} ms |",
            percent(self.right, self.frames),
            percent(self.crowded_right, self.crowded),
            bands.join(" | "),
            self.phantoms,
            self.millis[self.millis.len() / 2],
        );
    }
}

fn main() {
    if bench_rounds(1).is_none() {
        return;
    }
    let frames: usize = std::env::var("EKYC_BENCH_FRAMES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let save = std::env::var_os("EKYC_BENCH_SAVE").map(std::path::PathBuf::from);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let detector = match FaceDetector::load(None) {
        Ok(detector) => detector,
        Err(error) => {
            eprintln!("{error} (run ./fetch-models)");
            std::process::exit(1);
        }
    };
    let portraits = portraits(root);
    let mut random = Random(0x5eed_f00d_cafe_0001);
    let mut tallies: [Tally; 3] = Default::default();
    let mut labels = Vec::new();
    for number in 0..frames {
        let (frame, placed) = compose(&mut random, &portraits);
        if let Some(folder) = &save {
            std::fs::create_dir_all(folder).expect("EKYC_BENCH_SAVE folder");
            let name = format!("frame-{number:03}.png");
            frame.save(folder.join(&name)).expect("frame saved");
            labels.push(format!(
                "{name} {} {}",
                placed.len(),
                placed
                    .iter()
                    .map(|p| format!("{:.0},{:.0},{:.0}", p.left, p.top, p.side))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        let passes: [&Pass; 3] = [
            &|frame| detector.detect(frame).unwrap_or_default(),
            &|frame| thorough_before(&detector, frame),
            &|frame| detector.detect_thorough(frame).unwrap_or_default(),
        ];
        for (tally, pass) in tallies.iter_mut().zip(passes) {
            let started = Instant::now();
            let found = pass(&frame);
            tally.add(&placed, &found, started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    if let Some(folder) = &save {
        std::fs::write(folder.join("labels.txt"), labels.join("\n") + "\n").expect("labels");
    }
    println!("{frames} frames, 1280×720, 1–3 faces (second and third faces by their height in the frame)");
    println!();
    println!("| pass | count right | count right, 2–3 faces | 2nd/3rd face 8–12 % | 12–20 % | 20–40 % | 40–60 % | phantom faces | median time |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let names = [
        "before, the kiosk's preview: short range, whole frame",
        "before, the engine: short range, whole frame and squares",
        "now, both: short range, whole frame; full range, squares",
    ];
    for (tally, name) in tallies.iter_mut().zip(names) {
        tally.row(name);
    }
}
