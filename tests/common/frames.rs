//! The labelled capture test set, generated: 1280×720 camera frames of a rendered card on
//! a desk (sharp, blurred with known box kernels, dark, over-exposed, with a glare spot,
//! partly outside, rotated, far away) and of the public-domain astronaut portrait composed
//! with 0, 1 or 2 faces at several sizes and places. Each frame knows what it shows.

use image::{imageops, Rgb, RgbImage};

use super::card::{render_back, render_front, Person};

pub const FRAME_WIDTH: u32 = 1280;
pub const FRAME_HEIGHT: u32 = 720;

/// How a card frame is spoiled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CardCondition {
    Sharp,
    /// Box blur with this kernel side, in pixels.
    Blurred(u32),
    /// Every level times this (0–1).
    Dark(f32),
    /// Levels pushed up and clipped.
    OverExposed,
    /// A saturated reflection covering about this share of the card.
    Glare(f32),
    /// The card moved right by this share of its width (the rest off the frame).
    PartlyOutside(f32),
    /// Turned by this many degrees.
    Rotated(f32),
    /// The card's width as a share of the frame's width (far away when small).
    Width(f32),
}

/// A card frame and where the card's corners really are (clockwise from the top left).
pub struct CardFrame {
    pub image: RgbImage,
    pub corners: [(f32, f32); 4],
}

/// A desk: a soft wood-coloured gradient with faint grain, no straight lines.
pub fn desk() -> RgbImage {
    RgbImage::from_fn(FRAME_WIDTH, FRAME_HEIGHT, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let grain = (fx * 0.031 + (fy * 0.017).sin() * 3.0).sin() * 6.0;
        let shade = 20.0 * (1.0 - fy / FRAME_HEIGHT as f32);
        let noise = (hash(x, y) % 7) as f32 - 3.0;
        let level = |base: f32| (base + grain + shade + noise).clamp(0.0, 255.0) as u8;
        Rgb([level(92.0), level(78.0), level(64.0)])
    })
}

fn hash(x: u32, y: u32) -> u32 {
    let mut value = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263);
    value = (value ^ (value >> 13)).wrapping_mul(1_274_126_177);
    value ^ (value >> 16)
}

/// The demo person's card front, as a frame under `condition`.
pub fn card_frame(condition: CardCondition) -> CardFrame {
    card_frame_of(&render_front(&Person::demo()), condition)
}

/// The demo person's card back, as a frame under `condition`.
pub fn back_frame(condition: CardCondition) -> CardFrame {
    card_frame_of(&render_back(&Person::demo()), condition)
}

/// `card` held up to the camera under `condition`.
pub fn card_frame_of(card: &RgbImage, condition: CardCondition) -> CardFrame {
    let width_share = match condition {
        CardCondition::Width(share) => share,
        // Turned, a card needs more room to stay inside the frame.
        CardCondition::Rotated(_) => 0.55,
        _ => 0.66,
    };
    let angle = match condition {
        CardCondition::Rotated(degrees) => degrees,
        _ => 0.0,
    };
    let shift = match condition {
        CardCondition::PartlyOutside(share) => share,
        _ => 0.0,
    };
    let card_width = FRAME_WIDTH as f32 * width_share;
    let card_height = card_width * card.height() as f32 / card.width() as f32;
    let centre = (
        FRAME_WIDTH as f32 / 2.0 + shift * card_width,
        FRAME_HEIGHT as f32 / 2.0,
    );
    let mut frame = desk();
    let corners = place(&mut frame, card, centre, card_width, angle);
    match condition {
        CardCondition::Blurred(kernel) => frame = box_blur(&frame, kernel),
        CardCondition::Dark(factor) => map_levels(&mut frame, |level| level * factor),
        CardCondition::OverExposed => map_levels(&mut frame, |level| level * 1.6 + 90.0),
        CardCondition::Glare(share) => {
            // A round reflection on the upper right of the card.
            let radius = (share * card_width * card_height / std::f32::consts::PI).sqrt();
            let spot = (centre.0 + card_width * 0.2, centre.1 - card_height * 0.1);
            for y in 0..FRAME_HEIGHT {
                for x in 0..FRAME_WIDTH {
                    let distance =
                        ((x as f32 - spot.0).powi(2) + (y as f32 - spot.1).powi(2)).sqrt();
                    if distance < radius {
                        frame.put_pixel(x, y, Rgb([255, 255, 255]));
                    } else if distance < radius * 1.4 {
                        let mix = (radius * 1.4 - distance) / (radius * 0.4);
                        let pixel = frame.get_pixel_mut(x, y);
                        for channel in pixel.0.iter_mut() {
                            *channel = (*channel as f32 * (1.0 - mix) + 255.0 * mix) as u8;
                        }
                    }
                }
            }
        }
        _ => {}
    }
    let _ = card_height;
    CardFrame {
        image: frame,
        corners,
    }
}

/// Draws `picture` scaled to `width`, turned by `degrees`, centred on `centre`; returns its
/// corners.
fn place(
    frame: &mut RgbImage,
    picture: &RgbImage,
    centre: (f32, f32),
    width: f32,
    degrees: f32,
) -> [(f32, f32); 4] {
    let scale = width / picture.width() as f32;
    let height = picture.height() as f32 * scale;
    let scaled = imageops::resize(
        picture,
        width.round() as u32,
        height.round() as u32,
        imageops::FilterType::Triangle,
    );
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (half_width, half_height) = (scaled.width() as f32 / 2.0, scaled.height() as f32 / 2.0);
    for y in 0..frame.height() {
        for x in 0..frame.width() {
            let (dx, dy) = (x as f32 - centre.0, y as f32 - centre.1);
            // Frame → picture: turn back by the angle.
            let u = dx * cos + dy * sin + half_width;
            let v = -dx * sin + dy * cos + half_height;
            if u >= 0.0
                && v >= 0.0
                && u < scaled.width() as f32 - 1.0
                && v < scaled.height() as f32 - 1.0
            {
                frame.put_pixel(x, y, bilinear(&scaled, u, v));
            }
        }
    }
    [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
        let (px, py) = (sx * half_width, sy * half_height);
        (
            centre.0 + px * cos - py * sin,
            centre.1 + px * sin + py * cos,
        )
    })
}

fn bilinear(image: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |dx, dy| image.get_pixel(x0 + dx, y0 + dy).0;
    let (a, b, c, d) = (p(0, 0), p(1, 0), p(0, 1), p(1, 1));
    Rgb(std::array::from_fn(|channel| {
        let top = a[channel] as f32 * (1.0 - fx) + b[channel] as f32 * fx;
        let bottom = c[channel] as f32 * (1.0 - fx) + d[channel] as f32 * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }))
}

fn map_levels(frame: &mut RgbImage, map: impl Fn(f32) -> f32) {
    for channel in frame.iter_mut() {
        *channel = map(*channel as f32).clamp(0.0, 255.0) as u8;
    }
}

/// A `kernel` × `kernel` box blur (separable; edges clamped).
pub fn box_blur(image: &RgbImage, kernel: u32) -> RgbImage {
    let radius = (kernel / 2) as i64;
    let pass = |source: &RgbImage, horizontal: bool| {
        RgbImage::from_fn(source.width(), source.height(), |x, y| {
            let mut sum = [0u32; 3];
            for offset in -radius..=radius {
                let (sx, sy) = if horizontal {
                    (
                        (x as i64 + offset).clamp(0, source.width() as i64 - 1) as u32,
                        y,
                    )
                } else {
                    (
                        x,
                        (y as i64 + offset).clamp(0, source.height() as i64 - 1) as u32,
                    )
                };
                let pixel = source.get_pixel(sx, sy).0;
                for channel in 0..3 {
                    sum[channel] += pixel[channel] as u32;
                }
            }
            let count = (2 * radius + 1) as u32;
            Rgb(sum.map(|total| ((total + count / 2) / count) as u8))
        })
    };
    pass(&pass(image, true), false)
}

/// Where the face is in `astronaut.jpg` (measured with the detector once; a loose box).
const PORTRAIT_FACE: (f32, f32, f32) = (225.0, 128.0, 94.0);

/// A face to put in a frame: its height as a share of the frame's, and where its centre
/// goes (shares of the frame's width and height).
#[derive(Debug, Clone, Copy)]
pub struct FacePlacement {
    pub height: f32,
    pub centre: (f32, f32),
}

/// A frame with the astronaut's head (and shoulders) at each placement, on a plain wall;
/// levels scaled by `light` (1 = as photographed).
pub fn face_frame(placements: &[FacePlacement], light: f32) -> RgbImage {
    let portrait = image::open(super::selfie_path())
        .expect("the astronaut portrait")
        .to_rgb8();
    let mut frame = RgbImage::from_pixel(FRAME_WIDTH, FRAME_HEIGHT, Rgb([200, 196, 188]));
    let (face_x, face_y, face_size) = PORTRAIT_FACE;
    for placement in placements {
        let scale = placement.height * FRAME_HEIGHT as f32 / face_size;
        // Head and shoulders: 1.1 face heights either side, 0.9 above, 1.6 below.
        let left = (face_x - face_size * 1.1).max(0.0);
        let top = (face_y - face_size * 0.9).max(0.0);
        let right = (face_x + face_size * 1.1).min(portrait.width() as f32);
        let bottom = (face_y + face_size * 1.6).min(portrait.height() as f32);
        let crop = imageops::crop_imm(
            &portrait,
            left as u32,
            top as u32,
            (right - left) as u32,
            (bottom - top) as u32,
        )
        .to_image();
        let scaled = imageops::resize(
            &crop,
            (crop.width() as f32 * scale) as u32,
            (crop.height() as f32 * scale) as u32,
            imageops::FilterType::Triangle,
        );
        let centre_x = placement.centre.0 * FRAME_WIDTH as f32;
        let centre_y = placement.centre.1 * FRAME_HEIGHT as f32;
        let paste_x = centre_x - (face_x - left) * scale;
        let paste_y = centre_y - (face_y - top) * scale;
        imageops::overlay(&mut frame, &scaled, paste_x as i64, paste_y as i64);
    }
    map_levels(&mut frame, |level| level * light);
    frame
}
