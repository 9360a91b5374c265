//! The aligned face picture the recognition network reads: dlib's
//! `get_face_chip(img, shape, 150, 0.25)`, reproduced step for step from dlib's
//! `interpolation.h` and `image_pyramid.h` so that the network sees the pixels it was
//! trained on (the tests hold chips dlib made and allow one grey level on average).
//!
//! 1. The similarity transform (rotation, scale, shift) that carries five template points
//!    of a 150×150 chip with 25 % padding onto the five landmarks.
//! 2. The part of the image the chip covers is cut out with a margin, and halved with a
//!    5×5 Gaussian pyramid until one more halving would leave fewer pixels than the chip.
//! 3. Each chip pixel is read from that level with bilinear interpolation; outside the
//!    picture it is black.

use image::{Rgb, RgbImage};

use super::landmarks::Landmark;

/// The chip's side, in pixels.
pub const CHIP_SIDE: u32 = 150;

/// The padding around the template, as a fraction of the template's side.
const PADDING: f64 = 0.25;

/// Where dlib's 5-point template puts the landmarks in a unit square (dlib's order).
const TEMPLATE: [[f64; 2]; 5] = [
    [0.8595674595992, 0.2134981538014],
    [0.6460604764104, 0.2289674387677],
    [0.1205750620789, 0.2137274526848],
    [0.3340850613712, 0.2290642403242],
    [0.4901123135679, 0.6277975316475],
];

/// dlib's `drectangle`: inclusive corners in floating point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn is_empty(&self) -> bool {
        self.top > self.bottom || self.left > self.right
    }

    fn area(&self) -> f64 {
        if self.is_empty() {
            0.0
        } else {
            (self.right - self.left + 1.0) * (self.bottom - self.top + 1.0)
        }
    }

    fn centre(&self) -> [f64; 2] {
        [
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        ]
    }

    /// One level down the pyramid: `p / 2 - (1.25, 0.75)` for both corners.
    fn down(&self) -> Self {
        Self {
            left: self.left / 2.0 - 1.25,
            top: self.top / 2.0 - 0.75,
            right: self.right / 2.0 - 1.25,
            bottom: self.bottom / 2.0 - 0.75,
        }
    }

    fn translate(&self, dx: f64, dy: f64) -> Self {
        Self {
            left: self.left + dx,
            top: self.top + dy,
            right: self.right + dx,
            bottom: self.bottom + dy,
        }
    }
}

/// `p` rotated by `angle` about `centre`.
fn rotate(centre: [f64; 2], p: [f64; 2], angle: f64) -> [f64; 2] {
    let (sin, cos) = angle.sin_cos();
    let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
    [cos * x - sin * y + centre[0], sin * x + cos * y + centre[1]]
}

/// Where the chip lies in the image: dlib's `chip_details` for the 5-point template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChipPlacement {
    rect: Rect,
    angle: f64,
}

impl ChipPlacement {
    /// From the five landmarks, which dlib holds as whole pixels.
    pub fn for_landmarks(landmarks: &[Landmark; 5]) -> Self {
        let side = f64::from(CHIP_SIDE);
        let template = TEMPLATE.map(|[x, y]| {
            [
                (PADDING + x) / (2.0 * PADDING + 1.0) * side,
                (PADDING + y) / (2.0 * PADDING + 1.0) * side,
            ]
        });
        let target = landmarks.map(|point| [point.x.round(), point.y.round()]);
        // The least-squares similarity template → landmarks: [[a, -b], [b, a]] and a shift.
        let mean =
            |points: &[[f64; 2]; 5], axis: usize| points.iter().map(|p| p[axis]).sum::<f64>() / 5.0;
        let (from_x, from_y) = (mean(&template, 0), mean(&template, 1));
        let (to_x, to_y) = (mean(&target, 0), mean(&target, 1));
        let (mut dot, mut cross, mut spread) = (0.0, 0.0, 0.0);
        for (source, goal) in template.iter().zip(&target) {
            let (sx, sy) = (source[0] - from_x, source[1] - from_y);
            let (tx, ty) = (goal[0] - to_x, goal[1] - to_y);
            dot += sx * tx + sy * ty;
            cross += sx * ty - sy * tx;
            spread += sx * sx + sy * sy;
        }
        let (a, b) = (dot / spread, cross / spread);
        let shift = [
            to_x - (a * from_x - b * from_y),
            to_y - (b * from_x + a * from_y),
        ];
        let angle = b.atan2(a);
        let scale = a.hypot(b);
        let half = side / 2.0;
        let centre = [
            a * half - b * half + shift[0],
            b * half + a * half + shift[1],
        ];
        let extent = side * scale - 1.0;
        Self {
            rect: Rect {
                left: centre[0] - extent / 2.0,
                top: centre[1] - extent / 2.0,
                right: centre[0] + extent / 2.0,
                bottom: centre[1] + extent / 2.0,
            },
            angle,
        }
    }

    /// The chip's four corners in the image, rotated about its centre.
    fn corners(&self, rect: &Rect) -> [[f64; 2]; 4] {
        let centre = rect.centre();
        [
            [rect.left, rect.top],
            [rect.right, rect.top],
            [rect.left, rect.bottom],
            [rect.right, rect.bottom],
        ]
        .map(|corner| rotate(centre, corner, self.angle))
    }
}

/// The 150×150 aligned face for these landmarks, as dlib makes it.
pub fn face_chip(image: &RgbImage, landmarks: &[Landmark; 5]) -> RgbImage {
    extract_chip(image, &ChipPlacement::for_landmarks(landmarks))
}

fn extract_chip(image: &RgbImage, placement: &ChipPlacement) -> RgbImage {
    let pixels = f64::from(CHIP_SIDE * CHIP_SIDE);
    // How deep the pyramid must go, and so how wide a margin the crop needs so that the
    // filter's borders stay out of the chip.
    let mut depth = 0;
    let mut grow = 2.0;
    let mut smaller = placement.rect.down();
    while smaller.area() > pixels {
        smaller = smaller.down();
        depth += 1;
        grow = grow * 2.0 + 2.0;
    }
    let corners = placement.corners(&placement.rect);
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let fold = |values: [f64; 4], pick: fn(f64, f64) -> f64| {
        values.into_iter().reduce(pick).unwrap_or(0.0)
    };
    let grown = Rect {
        left: (fold(xs, f64::min) - grow).max(0.0),
        top: (fold(ys, f64::min) - grow).max(0.0),
        right: (fold(xs, f64::max) + grow).min(f64::from(image.width()) - 1.0),
        bottom: (fold(ys, f64::max) + grow).min(f64::from(image.height()) - 1.0),
    };
    let mut chip = RgbImage::new(CHIP_SIDE, CHIP_SIDE);
    if grown.is_empty() {
        // The chip lies wholly outside the picture: black, as dlib leaves it.
        return chip;
    }
    // dlib rounds the crop to whole pixels (`lround`, halves away from zero).
    let crop = [grown.left, grown.top, grown.right, grown.bottom].map(|v| v.round() as i64);
    let (crop_left, crop_top) = (crop[0], crop[1]);
    let crop_width = (crop[2] - crop[0] + 1).max(0) as u32;
    let crop_height = (crop[3] - crop[1] + 1).max(0) as u32;
    let mut level_image = image::imageops::crop_imm(
        image,
        crop_left as u32,
        crop_top as u32,
        crop_width,
        crop_height,
    )
    .to_image();

    let mut rect = placement
        .rect
        .translate(-crop_left as f64, -crop_top as f64);
    // Halve until one more halving would leave fewer pixels than the chip (the same count
    // as `depth`: the area does not depend on where the rectangle is).
    for _ in 0..depth {
        rect = rect.down();
        level_image = pyramid_down(&level_image);
    }

    // Chip corners (0,0), (149,0), (0,149) → the rotated corners of `rect`.
    let [top_left, top_right, bottom_left, _] = placement.corners(&rect);
    let last = f64::from(CHIP_SIDE - 1);
    let step_x = [
        (top_right[0] - top_left[0]) / last,
        (top_right[1] - top_left[1]) / last,
    ];
    let step_y = [
        (bottom_left[0] - top_left[0]) / last,
        (bottom_left[1] - top_left[1]) / last,
    ];
    for (column, row, pixel) in chip.enumerate_pixels_mut() {
        let (c, r) = (f64::from(column), f64::from(row));
        let x = top_left[0] + step_x[0] * c + step_y[0] * r;
        let y = top_left[1] + step_x[1] * c + step_y[1] * r;
        *pixel = bilinear(&level_image, x, y);
    }
    chip
}

/// dlib's `interpolate_bilinear` for RGB: black where the 2×2 neighbourhood leaves the
/// image; channel values truncated, not rounded.
fn bilinear(image: &RgbImage, x: f64, y: f64) -> Rgb<u8> {
    let (left, top) = (x.floor(), y.floor());
    let inside = left >= 0.0
        && top >= 0.0
        && left + 1.0 < f64::from(image.width())
        && top + 1.0 < f64::from(image.height());
    if !inside {
        return Rgb([0, 0, 0]);
    }
    let (across, down) = (x - left, y - top);
    let (left, top) = (left as u32, top as u32);
    let tl = image.get_pixel(left, top).0;
    let tr = image.get_pixel(left + 1, top).0;
    let bl = image.get_pixel(left, top + 1).0;
    let br = image.get_pixel(left + 1, top + 1).0;
    Rgb(std::array::from_fn(|channel| {
        let upper = (1.0 - across) * f64::from(tl[channel]) + across * f64::from(tr[channel]);
        let lower = (1.0 - across) * f64::from(bl[channel]) + across * f64::from(br[channel]);
        ((1.0 - down) * upper + down * lower) as u8
    }))
}

/// dlib's `pyramid_down<2>` for RGB: a [1 4 6 4 1]² filter in integers, every other row
/// and column kept; the output is `(side - 3) / 2` on each axis.
pub fn pyramid_down(image: &RgbImage) -> RgbImage {
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width <= 8 || height <= 8 {
        return RgbImage::new(0, 0);
    }
    let out_width = (width - 3) / 2;
    let out_height = (height - 3) / 2;
    let source = image.as_raw();
    // Rows filtered and halved horizontally, all rows kept.
    let mut rows = vec![0u16; height * out_width * 3];
    for y in 0..height {
        let line = &source[y * width * 3..(y + 1) * width * 3];
        for x in 0..out_width {
            for channel in 0..3 {
                let at = |dx: usize| u16::from(line[(2 * x + dx) * 3 + channel]);
                rows[(y * out_width + x) * 3 + channel] =
                    at(0) + 4 * at(1) + 6 * at(2) + 4 * at(3) + at(4);
            }
        }
    }
    let mut out = RgbImage::new(out_width as u32, out_height as u32);
    let target = &mut *out;
    for out_y in 0..out_height {
        let y = 2 + 2 * out_y;
        for i in 0..out_width * 3 {
            let at = |row: usize| u32::from(rows[row * out_width * 3 + i]);
            let sum = at(y - 2) + 4 * at(y - 1) + 6 * at(y) + 4 * at(y + 1) + at(y + 2);
            target[out_y * out_width * 3 + i] = (sum / 256) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pyramid_keeps_a_flat_image_flat_and_has_dlibs_size() {
        let flat = RgbImage::from_pixel(21, 12, Rgb([200, 100, 7]));
        let down = pyramid_down(&flat);
        assert_eq!(down.dimensions(), (9, 4));
        assert!(down.pixels().all(|p| p.0 == [200, 100, 7]));
        assert_eq!(pyramid_down(&RgbImage::new(8, 100)).dimensions(), (0, 0));
    }

    #[test]
    fn the_template_placed_on_its_own_points_is_the_chip_itself() {
        // Landmarks exactly where the template puts them in a 150×150 chip: the chip is
        // the image's own 150×150 corner, unrotated.
        let side = f64::from(CHIP_SIDE);
        let landmarks = TEMPLATE.map(|[x, y]| Landmark {
            x: (PADDING + x) / (2.0 * PADDING + 1.0) * side,
            y: (PADDING + y) / (2.0 * PADDING + 1.0) * side,
        });
        let placement = ChipPlacement::for_landmarks(&landmarks);
        // The landmarks are rounded first, so the fit is close, not exact.
        assert!(placement.angle.abs() < 0.01, "{placement:?}");
        assert!((placement.rect.left).abs() < 1.0 && (placement.rect.right - 149.0).abs() < 1.5);
    }

    #[test]
    fn bilinear_reads_between_pixels_and_is_black_outside() {
        let mut image = RgbImage::new(2, 2);
        image.put_pixel(1, 0, Rgb([100, 100, 100]));
        assert_eq!(bilinear(&image, 0.5, 0.0).0, [50, 50, 50]);
        assert_eq!(bilinear(&image, 0.25, 0.5).0, [12, 12, 12]);
        assert_eq!(bilinear(&image, 1.0, 0.0).0, [0, 0, 0]);
        assert_eq!(bilinear(&image, -0.1, 0.0).0, [0, 0, 0]);
    }
}
