//! How many CCCD QR codes the kiosk's own reader finds in card photos taken as a customer
//! would: `cargo bench --bench qr_reading` (prints a table; `EKYC_BENCH_CARDS=N`, default
//! 200). `benches/qr-compare` runs zxing-cpp, the reference barcode library, on the very
//! same photos.
//!
//! The photos (`tests/common/photo.rs`), the same ones on every run (a fixed seed): a made-up card
//! front (tests/common/card.rs: a real QR code of its data, 3 pixels a module on the
//! 1012-pixel card, as big on the card as a real CCCD's) seen in perspective on a desk in
//! a 1280×720 frame, the card 55–100 % of the largest size that fits, turned up to 12°,
//! each corner moved by up to 6 % of the card's width (a tilted card), blurred (Gaussian σ
//! 0–1.4), in dim to normal light (levels × 0.35–1), with sensor noise (σ 2–8 grey
//! levels), then saved as JPEG at quality 60–90 and read back, as `inspect` reads a file.
//! A read counts when the payload's ID is the card's. `EKYC_BENCH_SAVE=DIR` keeps the
//! photos and their IDs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

#[path = "support/random.rs"]
#[allow(dead_code)] // `normal` is not used here.
mod random;
use random::Random;

#[path = "support/timing.rs"]
#[allow(dead_code)] // Each photo is timed here, not by `median_ms`.
mod timing;
use timing::bench_rounds;

#[path = "../tests/common/card.rs"]
#[allow(dead_code)]
mod card;
#[path = "../tests/common/photo.rs"]
mod photo;

use std::time::Instant;

use card::{render_front, Person};
use ekyc_reading::find_cccd_qr;
use image::DynamicImage;
use photo::{card_corners, photograph, PhotoConditions};

const NAMES: [&str; 6] = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hữu Cường",
    "Phạm Thị Hồng Nhung",
    "Hoàng Đức Minh",
    "Võ Ngọc Yến",
];

fn person(random: &mut Random) -> Person {
    let digits = |random: &mut Random, count: usize| -> String {
        (0..count)
            .map(|_| char::from(b'0' + (random.next() % 10) as u8))
            .collect()
    };
    let mut person = Person::demo();
    person.id = format!("0{}", digits(random, 11));
    person.old_id = digits(random, 9);
    person.name = NAMES[(random.next() % NAMES.len() as u64) as usize].into();
    person
}

/// Conditions drawn at random within the bench's ranges, for a card that fits the frame.
fn conditions(random: &mut Random) -> PhotoConditions {
    let size = random.range(0.55, 1.0);
    loop {
        let mut tilt = [(0.0, 0.0); 4];
        for corner in &mut tilt {
            *corner = (random.range(-0.06, 0.06), random.range(-0.06, 0.06));
        }
        let conditions = PhotoConditions {
            size,
            place: (random.range(0.0, 1.0), random.range(0.0, 1.0)),
            degrees: random.range(-12.0, 12.0),
            tilt,
            blur: random.range(0.0, 1.4),
            light: random.range(0.35, 1.0),
            noise: random.range(2.0, 8.0),
            noise_seed: random.next(),
            quality: 60 + (random.next() % 31) as u8,
        };
        // A turned card at full size may not fit: then a turn that does is drawn again.
        if card_corners(&conditions).is_some() {
            return conditions;
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Count {
    read: usize,
    all: usize,
}

impl Count {
    fn add(&mut self, read: bool) {
        self.all += 1;
        self.read += usize::from(read);
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.all == 0 {
            return write!(formatter, "–");
        }
        write!(formatter, "{}/{}", self.read, self.all)
    }
}

fn main() {
    if bench_rounds(1).is_none() {
        return;
    }
    let cards: usize = std::env::var("EKYC_BENCH_CARDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let save = std::env::var_os("EKYC_BENCH_SAVE").map(std::path::PathBuf::from);
    let mut random = Random(0x0c0d_e5ee_d000_0042);
    let mut all = Count::default();
    let mut by_size = [Count::default(); 3];
    let mut by_blur = [Count::default(); 2];
    let mut by_light = [Count::default(); 2];
    let mut millis = Vec::new();
    let mut labels = Vec::new();
    for number in 0..cards {
        let person = person(&mut random);
        let card = render_front(&person);
        let conditions = conditions(&mut random);
        let jpeg = photograph(&card, &conditions).expect("the card fits");
        let photo = image::load_from_memory(&jpeg).expect("JPEG decodes");
        let started = Instant::now();
        let read = read_id(&photo).is_some_and(|id| id == person.id);
        millis.push(started.elapsed().as_secs_f64() * 1000.0);
        let bands = [
            ((conditions.size - 0.55) / 0.15).clamp(0.0, 2.0) as usize,
            usize::from(conditions.blur >= 0.7),
            usize::from(conditions.light >= 0.6),
        ];
        all.add(read);
        by_size[bands[0]].add(read);
        by_blur[bands[1]].add(read);
        by_light[bands[2]].add(read);
        if let Some(folder) = &save {
            std::fs::create_dir_all(folder).expect("EKYC_BENCH_SAVE folder");
            let name = format!("card-{number:03}.jpg");
            std::fs::write(folder.join(&name), &jpeg).expect("photo saved");
            labels.push(format!(
                "{name} {} size_band={} blur_band={} light_band={} read={} size={:.3} blur={:.2} light={:.2} quality={}",
                person.id,
                bands[0],
                bands[1],
                bands[2],
                u8::from(read),
                conditions.size,
                conditions.blur,
                conditions.light,
                conditions.quality
            ));
        }
    }
    if let Some(folder) = &save {
        std::fs::write(folder.join("labels.txt"), labels.join("\n") + "\n").expect("labels");
    }
    millis.sort_by(f64::total_cmp);
    println!("{cards} card photos, 1280×720, JPEG 60–90");
    println!();
    println!("| reader | read | card 55–70 % | 70–85 % | 85–100 % | blur σ < 0.7 | σ 0.7–1.4 | light × 0.35–0.6 | × 0.6–1 | median time |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| ekyc-kiosk (`find_cccd_qr`) | {all} | {} | {} | {} | {} | {} | {} | {} | {:.0} ms |",
        by_size[0],
        by_size[1],
        by_size[2],
        by_blur[0],
        by_blur[1],
        by_light[0],
        by_light[1],
        millis[millis.len() / 2]
    );
}

fn read_id(photo: &DynamicImage) -> Option<String> {
    find_cccd_qr(photo).map(|qr| qr.id.clone())
}
