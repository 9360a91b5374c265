//! OCR accuracy of the local engine on rendered cards: `cargo bench --bench ocr_accuracy`.
//!
//! Made-up people (Vietnamese names, places and features with diacritics) are rendered as
//! CCCD fronts and backs (DejaVu Sans; a real QR code; a real MRZ), then degraded: clean,
//! rotated 1–3°, blurred, noisy, and JPEG quality 60. For each, Tesseract's reading of
//! the printed fields (before any QR/MRZ override; the holder's photo painted out first,
//! as the engine does when its face detector finds it) is compared with the truth:
//! character error rate per field. QR and MRZ read rates are counted per card. Prints a table.
//! Needs Tesseract with `vie` (./test installs it). `EKYC_BENCH_CARDS=N` (default 12);
//! `EKYC_BENCH_SHOW_ERRORS=1` prints every misread field (made-up people only).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "../tests/common/card.rs"]
#[allow(dead_code)]
mod card;

use card::{character_error_rate, render_back, render_front, Person};
use ekyc_reading::card_text::read_printed_fields;
use ekyc_reading::find_cccd_qr;
use ekyc_reading::tesseract::Tesseract;
use ekyc_reading::{read_card_text, read_mrz, rotate_filled};
use image::{DynamicImage, GrayImage, RgbImage};

const SURNAMES: [&str; 12] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
];
const MIDDLE: [&str; 6] = ["Văn", "Thị", "Hữu", "Đức", "Thanh", "Ngọc"];
const GIVEN: [&str; 13] = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hạnh",
    "Khánh",
    "Lan",
    "Minh",
    "Nhung",
    "Phượng",
    "Quốc",
    "Tuấn",
    "Yến",
];
const PLACES: [&str; 8] = [
    "Hà Nội",
    "Hải Phòng",
    "Đà Nẵng",
    "Thừa Thiên Huế",
    "Cần Thơ",
    "Nghệ An",
    "Thanh Hóa",
    "Quảng Ninh",
];
const STREETS: [&str; 5] = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
];
const FEATURES: [&str; 4] = [
    "Nốt ruồi C:1cm trên đầu mày trái",
    "Sẹo chấm cách 2cm dưới sau mép phải",
    "Nốt ruồi cách 3cm trên trước tai trái",
    "Sẹo dài 2cm ở cằm",
];

fn person(index: usize) -> Person {
    let pick =
        |list: &[&str], step: usize| list[(index * step + index / 3) % list.len()].to_owned();
    let day = 1 + index % 28;
    let month = 1 + (index * 5) % 12;
    let year = 1960 + (index * 7) % 45;
    Person {
        id: format!(
            "0{:02}{}{:08}",
            1 + index % 96,
            index % 2,
            10_000_000 + index * 7_919
        ),
        old_id: format!("{:09}", 100_000_000 + index * 12_345),
        name: format!(
            "{} {} {}",
            pick(&SURNAMES, 1),
            pick(&MIDDLE, 5),
            pick(&GIVEN, 7)
        ),
        birth: format!("{day:02}/{month:02}/{year}"),
        sex: if index.is_multiple_of(2) {
            "Nam"
        } else {
            "Nữ"
        }
        .to_owned(),
        nationality: "Việt Nam".to_owned(),
        home: format!("{}, {}", pick(&GIVEN, 3), pick(&PLACES, 3)),
        address: format!(
            "{} {}, Phường {}, Quận {}, {}",
            3 + index * 11 % 200,
            pick(&STREETS, 2),
            pick(&GIVEN, 5),
            1 + index % 12,
            pick(&PLACES, 5)
        ),
        expiry: format!("{day:02}/{month:02}/{}", 2030 + index % 10),
        features: pick(&FEATURES, 1),
        issue: format!(
            "{:02}/{:02}/{}",
            1 + (index * 3) % 28,
            1 + (index * 7) % 12,
            2021 + index % 4
        ),
    }
}

#[derive(Clone, Copy)]
enum Condition {
    Clean,
    Rotated,
    Blurred,
    Noisy,
    Jpeg60,
}

impl Condition {
    const ALL: [Condition; 5] = [
        Self::Clean,
        Self::Rotated,
        Self::Blurred,
        Self::Noisy,
        Self::Jpeg60,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Rotated => "rotated 1–3°",
            Self::Blurred => "blurred σ=1.2",
            Self::Noisy => "noise σ=12",
            Self::Jpeg60 => "JPEG q=60",
        }
    }

    fn apply(self, image: &RgbImage, seed: usize) -> DynamicImage {
        match self {
            Self::Clean => DynamicImage::ImageRgb8(image.clone()),
            Self::Rotated => {
                let degrees = 1.0 + (seed % 5) as f32 * 0.5;
                let sign = if seed.is_multiple_of(2) { 1.0 } else { -1.0 };
                DynamicImage::ImageRgb8(rotate_filled(
                    image,
                    sign * degrees,
                    image::Rgb([235, 235, 230]),
                ))
            }
            Self::Blurred => DynamicImage::ImageRgb8(image::imageops::blur(image, 1.2)),
            Self::Noisy => DynamicImage::ImageRgb8(noise(image, 12.0, seed as u64 + 1)),
            Self::Jpeg60 => {
                let mut bytes = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 60)
                    .encode_image(image)
                    .expect("JPEG encodes");
                image::load_from_memory(&bytes).expect("JPEG decodes")
            }
        }
    }
}

/// Gaussian noise of standard deviation `sigma` (Box–Muller over a xorshift generator).
fn noise(image: &RgbImage, sigma: f32, seed: u64) -> RgbImage {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64).max(1e-12) as f32
    };
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        let gaussian = (-2.0 * uniform().ln()).sqrt() * (std::f32::consts::TAU * uniform()).cos();
        for channel in pixel.0.iter_mut() {
            *channel = (f32::from(*channel) + gaussian * sigma).clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// The printed fields the bench scores, with the truth for each.
fn truths(person: &Person) -> Vec<(&'static str, String)> {
    vec![
        ("ID", person.id.clone()),
        ("Name", person.name.to_uppercase()),
        ("Date of birth", person.birth.clone()),
        ("Sex", person.sex.clone()),
        ("Nationality", person.nationality.clone()),
        ("Home", person.home.clone()),
        ("Address", person.address.clone()),
        ("Expired Date", person.expiry.clone()),
        ("Features", person.features.clone()),
        ("Issue Date", person.issue.clone()),
    ]
}

#[derive(Default)]
struct Tally {
    /// Per field: (edit distance sum, truth length sum).
    errors: Vec<(&'static str, f64, f64)>,
    qr_read: usize,
    mrz_valid: usize,
    cards: usize,
    seconds: f64,
}

impl Tally {
    fn add(&mut self, key: &'static str, read: Option<&str>, truth: &str) {
        let length = truth.chars().count() as f64;
        let distance = character_error_rate(read.unwrap_or(""), truth) * length;
        match self.errors.iter_mut().find(|(known, _, _)| *known == key) {
            Some(entry) => {
                entry.1 += distance;
                entry.2 += length;
            }
            None => self.errors.push((key, distance, length)),
        }
    }

    fn cer(&self, key: &str) -> f64 {
        self.errors
            .iter()
            .find(|(known, _, _)| *known == key)
            .map_or(f64::NAN, |(_, distance, length)| distance / length)
    }

    fn overall(&self) -> f64 {
        let (distance, length) = self
            .errors
            .iter()
            .fold((0.0, 0.0), |(d, l), (_, distance, length)| {
                (d + distance, l + length)
            });
        distance / length
    }
}

fn gray(image: &DynamicImage) -> GrayImage {
    image.to_luma8()
}

fn main() {
    // `cargo test --all-targets` (and nextest's `--list`) run bench targets without
    // `--bench`: there are no tests in here, and a debug-build run would take minutes.
    let arguments: Vec<String> = std::env::args().collect();
    if !arguments.iter().any(|argument| argument == "--bench") {
        return;
    }
    let Some(ocr) = Tesseract::find() else {
        eprintln!("Tesseract with vie and eng is not installed: apt-get install tesseract-ocr tesseract-ocr-vie");
        std::process::exit(2);
    };
    // The engine paints the holder's photo out before OCR; so does the bench.
    let detector = ekyc_face::FaceDetector::load(None)
        .map_err(|error| eprintln!("{error}: the holder's photo stays in (run ./fetch-models)"))
        .ok();
    let cards: usize = std::env::var("EKYC_BENCH_CARDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(12);
    // The made-up values a field was misread as, on stderr.
    let show_errors = std::env::var_os("EKYC_BENCH_SHOW_ERRORS").is_some();
    let mut tallies: Vec<(Condition, Tally)> = Condition::ALL
        .iter()
        .map(|&condition| (condition, Tally::default()))
        .collect();
    for index in 0..cards {
        let person = person(index);
        let (front, back) = (render_front(&person), render_back(&person));
        for (condition, tally) in tallies.iter_mut() {
            let started = std::time::Instant::now();
            let (front, back) = (
                condition.apply(&front, index),
                condition.apply(&back, index + 7),
            );
            let for_text = match detector.as_ref().and_then(|detector| {
                let faces = detector.detect_thorough(&front.to_rgb8()).ok()?;
                faces
                    .into_iter()
                    .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
            }) {
                Some(face) => {
                    DynamicImage::ImageRgb8(ekyc_reading::without_portrait(&front.to_rgb8(), &face))
                }
                None => front.clone(),
            };
            let mut lines = read_card_text(&ocr, &gray(&for_text)).unwrap_or_default();
            let back_lines = read_card_text(&ocr, &gray(&back)).unwrap_or_default();
            lines.extend(back_lines.iter().cloned());
            let printed = read_printed_fields(&lines);
            for (key, truth) in truths(&person) {
                let read = printed
                    .iter()
                    .find(|field| field.key == key)
                    .map(|field| field.value.as_str());
                if show_errors && character_error_rate(read.unwrap_or(""), &truth) > 0.0 {
                    eprintln!(
                        "{}: {key}: read {read:?}, printed {truth:?}",
                        condition.name()
                    );
                }
                tally.add(key, read, &truth);
            }
            tally.qr_read += usize::from(find_cccd_qr(&front).is_some_and(|qr| qr.id == person.id));
            let mrz = read_mrz(&ocr, &gray(&back), &back_lines).map(|(mrz, _, _)| mrz);
            tally.mrz_valid += usize::from(mrz.is_some_and(|mrz| {
                mrz.is_valid() && mrz.vn_id.as_deref() == Some(person.id.as_str())
            }));
            tally.cards += 1;
            tally.seconds += started.elapsed().as_secs_f64();
        }
    }
    let keys: Vec<&str> = truths(&person(0)).iter().map(|(key, _)| *key).collect();
    println!("OCR accuracy on {cards} rendered cards per condition (character error rate, %; Tesseract {})", ocr.version());
    print!("{:<16}", "field");
    for (condition, _) in &tallies {
        print!("{:>15}", condition.name());
    }
    println!();
    for key in keys {
        print!("{key:<16}");
        for (_, tally) in &tallies {
            print!("{:>14.2}%", tally.cer(key) * 100.0);
        }
        println!();
    }
    let row = |label: &str, value: &dyn Fn(&Tally) -> String| {
        print!("{label:<16}");
        for (_, tally) in &tallies {
            print!("{:>15}", value(tally));
        }
        println!();
    };
    row("all fields", &|tally| {
        format!("{:.2}%", tally.overall() * 100.0)
    });
    row("QR read", &|tally| {
        format!("{}/{}", tally.qr_read, tally.cards)
    });
    row("MRZ valid", &|tally| {
        format!("{}/{}", tally.mrz_valid, tally.cards)
    });
    row("s per card", &|tally| {
        format!("{:.2}", tally.seconds / tally.cards as f64)
    });
}
