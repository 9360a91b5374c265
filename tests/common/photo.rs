//! A card photographed as a customer would: seen in perspective on a desk in a 1280×720
//! frame, blurred, in dim light, with sensor noise, saved as JPEG. Used by the QR tests and
//! `benches/qr_reading.rs` (which draws the conditions at random).

use image::{Rgb, RgbImage};

use super::card::{CARD_HEIGHT, CARD_WIDTH};
use ekyc_imaging::homography;

pub const PHOTO_WIDTH: u32 = 1280;
pub const PHOTO_HEIGHT: u32 = 720;

/// How the photo is taken.
#[derive(Debug, Clone, Copy)]
pub struct PhotoConditions {
    /// The card's size as a share of the largest that fits the frame.
    pub size: f32,
    /// Where its centre is, as shares of the room left on each axis (0–1).
    pub place: (f32, f32),
    /// Turned by this many degrees.
    pub degrees: f32,
    /// Each corner moved by these shares of the card's width (a tilted card), clockwise
    /// from the top left.
    pub tilt: [(f32, f32); 4],
    /// Gaussian blur σ in pixels (0: none).
    pub blur: f32,
    /// Every level times this.
    pub light: f32,
    /// Sensor noise σ, in grey levels; `noise_seed` makes it.
    pub noise: f32,
    pub noise_seed: u64,
    /// JPEG quality.
    pub quality: u8,
}

/// The card's corners in the frame, clockwise from the top left, or `None` when one
/// falls outside it.
pub fn card_corners(conditions: &PhotoConditions) -> Option<[[f64; 2]; 4]> {
    let fit =
        (PHOTO_WIDTH as f32 / CARD_WIDTH as f32).min(PHOTO_HEIGHT as f32 / CARD_HEIGHT as f32);
    let scale = fit * conditions.size;
    let (half_w, half_h) = (
        CARD_WIDTH as f32 * scale / 2.0,
        CARD_HEIGHT as f32 * scale / 2.0,
    );
    let centre = (
        half_w + conditions.place.0 * (PHOTO_WIDTH as f32 - 2.0 * half_w),
        half_h + conditions.place.1 * (PHOTO_HEIGHT as f32 - 2.0 * half_h),
    );
    let (sin, cos) = conditions.degrees.to_radians().sin_cos();
    let card_width = CARD_WIDTH as f32 * scale;
    let mut corners = [[0.0; 2]; 4];
    for (corner, ((sx, sy), (dx, dy))) in corners.iter_mut().zip(
        [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
            .into_iter()
            .zip(conditions.tilt),
    ) {
        let (x, y) = (sx * half_w, sy * half_h);
        *corner = [
            f64::from(centre.0 + x * cos - y * sin + dx * card_width),
            f64::from(centre.1 + x * sin + y * cos + dy * card_width),
        ];
    }
    corners
        .iter()
        .all(|[x, y]| {
            (0.0..f64::from(PHOTO_WIDTH)).contains(x) && (0.0..f64::from(PHOTO_HEIGHT)).contains(y)
        })
        .then_some(corners)
}

/// The photo as JPEG bytes, or `None` when the card does not fit the frame.
pub fn photograph(card: &RgbImage, conditions: &PhotoConditions) -> Option<Vec<u8>> {
    let corners = card_corners(conditions)?;
    let card_corners = [
        [0.0, 0.0],
        [f64::from(CARD_WIDTH), 0.0],
        [f64::from(CARD_WIDTH), f64::from(CARD_HEIGHT)],
        [0.0, f64::from(CARD_HEIGHT)],
    ];
    let mut system = [[0.0; 9]; 8];
    for (pair, (from, to)) in corners.iter().zip(card_corners).enumerate() {
        let [first, second] = homography::equations(*from, to);
        system[2 * pair] = first;
        system[2 * pair + 1] = second;
    }
    let to_card = homography::solve(system)?;
    let desk = [130.0, 100.0, 80.0];
    let mut frame = RgbImage::from_fn(PHOTO_WIDTH, PHOTO_HEIGHT, |x, y| {
        // Four samples a pixel: the card's edges and modules not aliased.
        let mut sum = [0.0f32; 3];
        for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
            let [u, v] = homography::apply(&to_card, [f64::from(x) + dx, f64::from(y) + dy]);
            let inside = (0.0..f64::from(CARD_WIDTH)).contains(&u)
                && (0.0..f64::from(CARD_HEIGHT)).contains(&v);
            let pixel = if inside {
                card.get_pixel(u as u32, v as u32).0.map(f32::from)
            } else {
                let grain = ((x / 7 + y) % 13) as f32 * 1.5;
                desk.map(|level| level + grain)
            };
            for channel in 0..3 {
                sum[channel] += pixel[channel] / 4.0;
            }
        }
        Rgb(sum.map(|value| value.clamp(0.0, 255.0) as u8))
    });
    if conditions.blur > 0.1 {
        frame = image::imageops::blur(&frame, conditions.blur);
    }
    let mut seed = conditions.noise_seed | 1;
    let mut uniform = move || {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40) as f32 / (1u64 << 24) as f32
    };
    for pixel in frame.pixels_mut() {
        for value in pixel.0.iter_mut() {
            let normal = (0..4).map(|_| uniform() * 2.0 - 1.0).sum::<f32>() * 0.866;
            *value = (f32::from(*value) * conditions.light + conditions.noise * normal)
                .clamp(0.0, 255.0) as u8;
        }
    }
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, conditions.quality)
        .encode_image(&frame)
        .ok()?;
    Some(jpeg)
}
