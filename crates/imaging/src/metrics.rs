//! Per-frame measurements on the grey (luma) picture: sharpness, brightness, contrast,
//! glare, in a region (the card, the face, or the whole frame).
//!
//! The inner loops are written for the compiler to vectorise (16-bit lanes, 32-bit sums
//! per row) and compiled twice by `multiversion`: for AVX2 and for the baseline, chosen at
//! run time, so one binary is fast on a kiosk PC of any age. The README's performance
//! section compares them with OpenCV on the same frames.

use image::RgbImage;
use multiversion::multiversion;

/// The frame in grey levels (ITU-R BT.601 weights), one byte per pixel.
pub struct Luma {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Row after row, one byte per pixel.
    pub pixels: Vec<u8>,
}

impl Luma {
    /// The grey levels of `image`.
    pub fn from_rgb(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let mut pixels = vec![0u8; width * height];
        grey(image.as_raw(), &mut pixels);
        Self {
            width,
            height,
            pixels,
        }
    }

    /// Row `y`.
    pub fn row(&self, y: usize) -> &[u8] {
        &self.pixels[y * self.width..(y + 1) * self.width]
    }

    /// A copy `factor` times smaller on each side, each pixel the mean of its block.
    pub fn shrink(&self, factor: usize) -> Luma {
        let factor = factor.max(1);
        let (width, height) = (self.width / factor, self.height / factor);
        let mut pixels = vec![0u8; width * height];
        let mut sums = vec![0u32; width];
        for out_y in 0..height {
            sums.iter_mut().for_each(|sum| *sum = 0);
            for y in out_y * factor..(out_y + 1) * factor {
                let row = &self.row(y)[..width * factor];
                for (sum, block) in sums.iter_mut().zip(row.chunks_exact(factor)) {
                    *sum += block.iter().map(|&value| u32::from(value)).sum::<u32>();
                }
            }
            let area = (factor * factor) as u32;
            for (pixel, sum) in pixels[out_y * width..(out_y + 1) * width]
                .iter_mut()
                .zip(&sums)
            {
                *pixel = ((sum + area / 2) / area) as u8;
            }
        }
        Luma {
            width,
            height,
            pixels,
        }
    }
}

/// A rectangle of whole pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The left edge, in pixels.
    pub left: usize,
    /// The top edge, in pixels.
    pub top: usize,
    /// The width, in pixels.
    pub width: usize,
    /// The height, in pixels.
    pub height: usize,
}

impl Region {
    /// The region cut to fit a `width` × `height` picture.
    pub fn clamped(self, width: usize, height: usize) -> Region {
        let left = self.left.min(width);
        let top = self.top.min(height);
        Region {
            left,
            top,
            width: self.width.min(width - left),
            height: self.height.min(height - top),
        }
    }

    /// From a floating-point box (left, top, width, height), cut to the picture.
    pub fn from_box(left: f32, top: f32, width: f32, height: f32, luma: &Luma) -> Region {
        Region::from_edges(
            left,
            top,
            left + width,
            top + height,
            luma.width,
            luma.height,
        )
    }

    /// From floating-point edges (a face box, a card's bounds), cut to the picture.
    pub fn from_edges(
        left: f32,
        top: f32,
        right: f32,
        bottom: f32,
        width: usize,
        height: usize,
    ) -> Region {
        let clamp_x = |value: f32| value.clamp(0.0, width as f32) as usize;
        let clamp_y = |value: f32| value.clamp(0.0, height as f32) as usize;
        let (left, top) = (clamp_x(left), clamp_y(top));
        Region {
            left,
            top,
            width: clamp_x(right).saturating_sub(left),
            height: clamp_y(bottom).saturating_sub(top),
        }
    }
}

/// What one region of one frame measures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Variance of the 4-neighbour Laplacian: high for crisp edges, low for blur.
    pub sharpness: f32,
    /// Mean grey level as a percentage of white (0–100), the vendor's "luminance".
    pub brightness: f32,
    /// Standard deviation of the grey levels (0–127.5).
    pub contrast: f32,
    /// Share of pixels at 250 or above (0–1): a light's reflection.
    pub glare: f32,
}

/// (77·R + 150·G + 29·B + 128) / 256: the weights sum to 256, so 16-bit lanes hold it.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn grey(rgb: &[u8], out: &mut [u8]) {
    for (level, pixel) in out.iter_mut().zip(rgb.chunks_exact(3)) {
        let weighted = (77 * u16::from(pixel[0]))
            .wrapping_add(150 * u16::from(pixel[1]))
            .wrapping_add(29 * u16::from(pixel[2]))
            .wrapping_add(128);
        *level = (weighted >> 8) as u8;
    }
}

/// Columns summed at once in 32 bits: 2048 squared Laplacians (each at most 1020²) stay
/// below 2³¹.
const SPAN: usize = 2048;

/// Sum, sum of squares and count of saturated levels of one row.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn level_sums(row: &[u8]) -> (u64, u64, u64) {
    let (mut sum, mut squares, mut saturated) = (0u64, 0u64, 0u64);
    for span in row.chunks(SPAN) {
        let (mut span_sum, mut span_squares, mut span_saturated) = (0u32, 0u32, 0u32);
        for &level in span {
            span_sum += u32::from(level);
            span_squares += u32::from(level) * u32::from(level);
            span_saturated += u32::from(level >= SATURATED);
        }
        sum += u64::from(span_sum);
        squares += u64::from(span_squares);
        saturated += u64::from(span_saturated);
    }
    (sum, squares, saturated)
}

/// Sum and sum of squares of `up + down + left + right − 4·middle`, element by element.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn laplacian_sums(up: &[u8], down: &[u8], left: &[u8], right: &[u8], middle: &[u8]) -> (i64, i64) {
    let (mut sum, mut squares) = (0i64, 0i64);
    let length = middle
        .len()
        .min(up.len())
        .min(down.len())
        .min(left.len())
        .min(right.len());
    let mut start = 0;
    while start < length {
        let end = (start + SPAN).min(length);
        let (mut span_sum, mut span_squares) = (0i32, 0i32);
        for index in start..end {
            let laplacian = i16::from(up[index])
                + i16::from(down[index])
                + i16::from(left[index])
                + i16::from(right[index])
                - 4 * i16::from(middle[index]);
            span_sum += i32::from(laplacian);
            span_squares += i32::from(laplacian) * i32::from(laplacian);
        }
        sum += i64::from(span_sum);
        squares += i64::from(span_squares);
        start = end;
    }
    (sum, squares)
}

/// Grey levels at or above this count as saturated (glare).
pub const SATURATED: u8 = 250;

/// Measures `region` of `luma` in two passes over its rows: brightness, contrast and glare
/// from the levels, sharpness from the Laplacian of the inner pixels.
pub fn measure(luma: &Luma, region: Region) -> Metrics {
    let region = region.clamped(luma.width, luma.height);
    let count = (region.width * region.height) as f64;
    if count == 0.0 {
        return Metrics::default();
    }
    let (mut sum, mut squares, mut saturated) = (0u64, 0u64, 0u64);
    for y in region.top..region.top + region.height {
        let row = &luma.row(y)[region.left..region.left + region.width];
        let (row_sum, row_squares, row_saturated) = level_sums(row);
        sum += row_sum;
        squares += row_squares;
        saturated += row_saturated;
    }
    let mean = sum as f64 / count;
    let variance = (squares as f64 / count - mean * mean).max(0.0);
    Metrics {
        sharpness: laplacian_variance(luma, region) as f32,
        brightness: (mean / 255.0 * 100.0) as f32,
        contrast: variance.sqrt() as f32,
        glare: (saturated as f64 / count) as f32,
    }
}

/// Variance of `top + bottom + left + right − 4·centre` over the region's inner pixels.
fn laplacian_variance(luma: &Luma, region: Region) -> f64 {
    if region.width < 3 || region.height < 3 {
        return 0.0;
    }
    let (mut sum, mut squares) = (0i64, 0i64);
    let (left, right) = (region.left + 1, region.left + region.width - 1);
    for y in region.top + 1..region.top + region.height - 1 {
        let (up, middle, down) = (luma.row(y - 1), luma.row(y), luma.row(y + 1));
        let (row_sum, row_squares) = laplacian_sums(
            &up[left..right],
            &down[left..right],
            &middle[left - 1..right - 1],
            &middle[left + 1..right + 1],
            &middle[left..right],
        );
        sum += row_sum;
        squares += row_squares;
    }
    let count = ((right - left) * (region.height - 2)) as f64;
    let mean = sum as f64 / count;
    (squares as f64 / count - mean * mean).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luma(width: usize, height: usize, value: impl Fn(usize, usize) -> u8) -> Luma {
        let pixels = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .map(|(x, y)| value(x, y))
            .collect();
        Luma {
            width,
            height,
            pixels,
        }
    }

    #[test]
    fn a_flat_grey_has_no_sharpness_contrast_or_glare() {
        let grey = luma(40, 30, |_, _| 128);
        let metrics = measure(
            &grey,
            Region {
                left: 0,
                top: 0,
                width: 40,
                height: 30,
            },
        );
        assert_eq!(metrics.sharpness, 0.0);
        assert_eq!(metrics.contrast, 0.0);
        assert_eq!(metrics.glare, 0.0);
        assert!((metrics.brightness - 50.2).abs() < 0.1, "{metrics:?}");
    }

    #[test]
    fn a_checkerboard_is_sharp_and_half_saturated() {
        let board = luma(40, 30, |x, y| if (x + y) % 2 == 0 { 255 } else { 0 });
        let metrics = measure(
            &board,
            Region {
                left: 0,
                top: 0,
                width: 40,
                height: 30,
            },
        );
        // Every inner Laplacian is ±1020, so the variance is 1020².
        assert!(
            (metrics.sharpness - 1020.0 * 1020.0).abs() < 1.0,
            "{metrics:?}"
        );
        assert!((metrics.glare - 0.5).abs() < 1e-6);
        assert!((metrics.contrast - 127.5).abs() < 0.01);
    }

    #[test]
    fn only_the_region_counts() {
        let half = luma(40, 30, |x, _| if x < 20 { 0 } else { 255 });
        let left = measure(
            &half,
            Region {
                left: 0,
                top: 0,
                width: 20,
                height: 30,
            },
        );
        let right = measure(
            &half,
            Region {
                left: 20,
                top: 0,
                width: 20,
                height: 30,
            },
        );
        assert_eq!(left.brightness, 0.0);
        assert_eq!(right.brightness, 100.0);
        assert_eq!(right.glare, 1.0);
    }

    #[test]
    fn shrinking_averages_blocks() {
        let stripes = luma(8, 4, |x, _| if x % 2 == 0 { 0 } else { 200 });
        let small = stripes.shrink(2);
        assert_eq!((small.width, small.height), (4, 2));
        assert!(small.pixels.iter().all(|&value| value == 100));
    }
}
