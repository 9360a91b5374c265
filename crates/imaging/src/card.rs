//! Finding the card in a frame, and cutting it out flat.
//!
//! [`find_card`] looks for the card's four edges on a frame shrunk to about 320 pixels
//! wide: Sobel gradients, a Hough transform that lets each edge pixel vote only for lines
//! along its own edge direction, the strongest lines as candidates, and every pair of
//! roughly parallel "horizontal" lines combined with every pair of "vertical" ones. A
//! combination is a card when its four sides are mostly covered by edge pixels and its
//! sides are in the ID-1 proportion (85.6 × 54 mm, 1.586, with room for perspective); the
//! largest such wins. The frame's own borders are candidates too: a card that runs off the
//! frame is found as a quadrilateral with a side on the border, and reported as cut off
//! rather than as no card at all.
//!
//! [`flatten_card`] maps the quadrilateral to an upright rectangle in the ID-1 proportion
//! (a perspective transform, bilinear sampling): the uploaded image is the card and
//! nothing else.

use image::{Rgb, RgbImage};

use super::metrics::Luma;
use crate::homography;

/// ID-1 card proportion: 85.6 mm × 54 mm.
pub const CARD_ASPECT: f32 = 85.6 / 54.0;

/// The working picture's width: detail enough for a card's edges, small enough to be fast.
const WORKING_WIDTH: usize = 320;
/// Hough angle bins (1° each over a half turn).
const ANGLES: usize = 180;
/// An edge pixel votes for lines within this many degrees of its own edge direction.
const VOTE_SPREAD: i32 = 6;
/// Gradient magnitude (|gx| + |gy| of a 3×3 Sobel) that makes a pixel an edge.
const EDGE_STRENGTH: i32 = 60;
/// Candidate lines kept per orientation (horizontal-ish, vertical-ish).
const LINES_PER_GROUP: usize = 8;
/// A side counts as seen when this share of it lies on edge pixels of its direction.
const MIN_SIDE_SUPPORT: f32 = 0.6;
/// Long side over short side, allowed around 1.586 (a card held at a slight angle).
const ASPECT_RANGE: (f32, f32) = (1.35, 1.85);

/// A point in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corner {
    /// Across, in pixels.
    pub x: f32,
    /// Down, in pixels.
    pub y: f32,
}

/// The card's outline in the frame: corners clockwise from the top left (as seen).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad {
    /// Top left, top right, bottom right, bottom left.
    pub corners: [Corner; 4],
    /// At least one side is the frame's border: part of the card is outside the picture.
    pub cut_off: bool,
    /// How much of the four sides lies on edges (0–1, the weakest side).
    pub support: f32,
}

impl Quad {
    /// Lengths of the top, right, bottom and left sides.
    pub fn sides(&self) -> [f32; 4] {
        let c = &self.corners;
        [
            distance(c[0], c[1]),
            distance(c[1], c[2]),
            distance(c[2], c[3]),
            distance(c[3], c[0]),
        ]
    }

    /// The card's width as seen: the longer pair of sides, averaged.
    pub fn long_side(&self) -> f32 {
        let [top, right, bottom, left] = self.sides();
        ((top + bottom) / 2.0).max((left + right) / 2.0)
    }

    /// Left, top, right, bottom of the bounding box.
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let xs = self.corners.map(|corner| corner.x);
        let ys = self.corners.map(|corner| corner.y);
        (
            xs.iter().copied().fold(f32::MAX, f32::min),
            ys.iter().copied().fold(f32::MAX, f32::min),
            xs.iter().copied().fold(f32::MIN, f32::max),
            ys.iter().copied().fold(f32::MIN, f32::max),
        )
    }

    /// The corner farthest from where it was in `earlier`, as a share of the card's
    /// width: how much the card moved between two frames.
    pub fn movement_since(&self, earlier: &Quad) -> f32 {
        let moved = self
            .corners
            .iter()
            .zip(&earlier.corners)
            .map(|(now, before)| distance(*now, *before))
            .fold(0.0, f32::max);
        moved / self.long_side().max(1.0)
    }
}

fn distance(a: Corner, b: Corner) -> f32 {
    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
}

/// A straight line `x·cos θ + y·sin θ = ρ` in working pixels.
#[derive(Debug, Clone, Copy)]
struct Line {
    angle: f32,
    rho: f32,
    /// One of the frame's borders, not an edge that was seen.
    border: bool,
}

impl Line {
    fn intersect(&self, other: &Line) -> Option<Corner> {
        let (sin_a, cos_a) = self.angle.sin_cos();
        let (sin_b, cos_b) = other.angle.sin_cos();
        let determinant = cos_a * sin_b - sin_a * cos_b;
        if determinant.abs() < 1e-3 {
            return None;
        }
        Some(Corner {
            x: (self.rho * sin_b - other.rho * sin_a) / determinant,
            y: (cos_a * other.rho - cos_b * self.rho) / determinant,
        })
    }

    /// The same line with its angle in −90°…90° (so lines near 0° and 180° compare).
    fn folded(&self) -> Line {
        if self.angle > std::f32::consts::FRAC_PI_2 {
            Line {
                angle: self.angle - std::f32::consts::PI,
                rho: -self.rho,
                border: self.border,
            }
        } else {
            *self
        }
    }
}

/// Edge pixels of the working picture: the direction of the edge's normal in whole
/// degrees (0–179), or `NO_EDGE`, spread to the 3×3 neighbourhood for the side test.
const NO_EDGE: u8 = u8::MAX;

struct Edges {
    width: usize,
    height: usize,
    /// Per pixel: the normal's angle, or NO_EDGE.
    angle: Vec<u8>,
}

fn edges(small: &Luma) -> Edges {
    let (width, height) = (small.width, small.height);
    let mut angle = vec![NO_EDGE; width * height];
    for y in 1..height.saturating_sub(1) {
        let (up, middle, down) = (small.row(y - 1), small.row(y), small.row(y + 1));
        for x in 1..width - 1 {
            let at = |row: &[u8], dx: isize| i32::from(row[(x as isize + dx) as usize]);
            let gx = (at(up, 1) + 2 * at(middle, 1) + at(down, 1))
                - (at(up, -1) + 2 * at(middle, -1) + at(down, -1));
            let gy = (at(down, -1) + 2 * at(down, 0) + at(down, 1))
                - (at(up, -1) + 2 * at(up, 0) + at(up, 1));
            if gx.abs() + gy.abs() < EDGE_STRENGTH {
                continue;
            }
            let degrees = (gy as f32).atan2(gx as f32).to_degrees().rem_euclid(180.0);
            angle[y * width + x] = (degrees.round() as u8) % ANGLES as u8;
        }
    }
    Edges {
        width,
        height,
        angle,
    }
}

/// Finds the card in a frame's grey picture, or `None` when no card-shaped outline is
/// there.
pub fn find_card(luma: &Luma) -> Option<Quad> {
    if luma.width < 64 || luma.height < 48 {
        return None;
    }
    let factor = luma.width.div_ceil(WORKING_WIDTH).max(1);
    let small = luma.shrink(factor);
    let edges = edges(&small);
    let lines = strongest_lines(&edges);
    let quad = best_quad(&edges, &lines)?;
    // Back to frame pixels: working pixel i covers frame pixels i·f … (i+1)·f − 1.
    let scale = factor as f32;
    let offset = (scale - 1.0) / 2.0;
    let coarse = Quad {
        corners: quad.corners.map(|corner| Corner {
            x: corner.x * scale + offset,
            y: corner.y * scale + offset,
        }),
        ..quad
    };
    Some(if coarse.cut_off {
        coarse
    } else {
        refine(luma, &coarse, factor as f32 * 1.5)
    })
}

/// Moves each side of `quad` onto the strongest edge within `reach` frame pixels across
/// it (the median over points along the side), so the corners are as exact as the full
/// picture allows rather than the working picture's pixel.
fn refine(luma: &Luma, quad: &Quad, reach: f32) -> Quad {
    let level = |x: f32, y: f32| -> Option<f32> {
        let (column, row) = (x.round(), y.round());
        if column < 0.0 || row < 0.0 || column >= luma.width as f32 || row >= luma.height as f32 {
            return None;
        }
        Some(f32::from(
            luma.pixels[row as usize * luma.width + column as usize],
        ))
    };
    // Each side as a point on it and its direction.
    let mut sides = [(Corner { x: 0.0, y: 0.0 }, (0.0f32, 0.0f32)); 4];
    for (index, side) in sides.iter_mut().enumerate() {
        let (from, to) = (quad.corners[index], quad.corners[(index + 1) % 4]);
        let length = distance(from, to).max(1.0);
        let direction = ((to.x - from.x) / length, (to.y - from.y) / length);
        let normal = (-direction.1, direction.0);
        let steps = reach.ceil() as i32;
        let mut offsets = Vec::new();
        for sample in 1..20 {
            let t = sample as f32 / 20.0;
            let point = (from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t);
            let mut best = (0.0f32, 0.0f32);
            for step in -steps..=steps {
                let at = step as f32;
                let before = level(
                    point.0 + normal.0 * (at - 1.0),
                    point.1 + normal.1 * (at - 1.0),
                );
                let after = level(
                    point.0 + normal.0 * (at + 1.0),
                    point.1 + normal.1 * (at + 1.0),
                );
                if let (Some(before), Some(after)) = (before, after) {
                    let strength = (after - before).abs();
                    if strength > best.0 {
                        best = (strength, at);
                    }
                }
            }
            if best.0 > 0.0 {
                offsets.push(best.1);
            }
        }
        offsets.sort_by(f32::total_cmp);
        let shift = offsets.get(offsets.len() / 2).copied().unwrap_or(0.0);
        *side = (
            Corner {
                x: from.x + normal.0 * shift,
                y: from.y + normal.1 * shift,
            },
            direction,
        );
    }
    let meet = |a: (Corner, (f32, f32)), b: (Corner, (f32, f32))| -> Option<Corner> {
        let cross = a.1 .0 * b.1 .1 - a.1 .1 * b.1 .0;
        if cross.abs() < 1e-6 {
            return None;
        }
        let (dx, dy) = (b.0.x - a.0.x, b.0.y - a.0.y);
        let t = (dx * b.1 .1 - dy * b.1 .0) / cross;
        Some(Corner {
            x: a.0.x + a.1 .0 * t,
            y: a.0.y + a.1 .1 * t,
        })
    };
    // Corner i is where side i−1 meets side i.
    let mut corners = quad.corners;
    for (index, corner) in corners.iter_mut().enumerate() {
        match meet(sides[(index + 3) % 4], sides[index]) {
            Some(point) if distance(point, *corner) <= reach * 2.0 => *corner = point,
            _ => return *quad,
        }
    }
    Quad { corners, ..*quad }
}

/// Hough transform with direction-limited votes; the strongest separated peaks, grouped
/// into horizontal-ish and vertical-ish lines, plus the frame's borders.
fn strongest_lines(edges: &Edges) -> (Vec<Line>, Vec<Line>) {
    let diagonal = ((edges.width.pow(2) + edges.height.pow(2)) as f32)
        .sqrt()
        .ceil() as usize;
    let rhos = 2 * diagonal + 1;
    let mut votes = vec![0u16; ANGLES * rhos];
    let table: Vec<(f32, f32)> = (0..ANGLES)
        .map(|degree| (degree as f32).to_radians().sin_cos())
        .collect();
    for y in 0..edges.height {
        for x in 0..edges.width {
            let angle = edges.angle[y * edges.width + x];
            if angle == NO_EDGE {
                continue;
            }
            for spread in -VOTE_SPREAD..=VOTE_SPREAD {
                let degree = (i32::from(angle) + spread).rem_euclid(ANGLES as i32) as usize;
                let (sin, cos) = table[degree];
                let rho = (x as f32 * cos + y as f32 * sin).round() as isize + diagonal as isize;
                let cell = &mut votes[degree * rhos + rho as usize];
                *cell = cell.saturating_add(1);
            }
        }
    }
    // A side worth considering is at least a fifth of the picture's height long.
    let min_votes = (edges.height / 5) as u16;
    let mut peaks: Vec<(u16, usize, usize)> = Vec::new();
    for degree in 0..ANGLES {
        for rho in 0..rhos {
            let count = votes[degree * rhos + rho];
            if count >= min_votes {
                peaks.push((count, degree, rho));
            }
        }
    }
    peaks.sort_unstable_by_key(|peak| std::cmp::Reverse(peak.0));
    let (mut horizontal, mut vertical) = (Vec::new(), Vec::new());
    let mut kept: Vec<Line> = Vec::new();
    for (_, degree, rho) in peaks {
        if horizontal.len() >= LINES_PER_GROUP && vertical.len() >= LINES_PER_GROUP {
            break;
        }
        let line = Line {
            angle: (degree as f32).to_radians(),
            rho: rho as f32 - diagonal as f32,
            border: false,
        };
        let near = kept.iter().any(|other| {
            let (a, b) = (line.folded(), other.folded());
            (a.angle - b.angle).abs().to_degrees() < 5.0 && (a.rho - b.rho).abs() < 6.0
        });
        if near {
            continue;
        }
        kept.push(line);
        let is_horizontal = (45..135).contains(&degree);
        let group = if is_horizontal {
            &mut horizontal
        } else {
            &mut vertical
        };
        if group.len() < LINES_PER_GROUP {
            group.push(line);
        }
    }
    let (right, bottom) = ((edges.width - 1) as f32, (edges.height - 1) as f32);
    let half_turn = std::f32::consts::FRAC_PI_2;
    for rho in [0.0, bottom] {
        horizontal.push(Line {
            angle: half_turn,
            rho,
            border: true,
        });
    }
    for rho in [0.0, right] {
        vertical.push(Line {
            angle: 0.0,
            rho,
            border: true,
        });
    }
    (horizontal, vertical)
}

/// Every pair of horizontal lines with every pair of vertical ones; among quadrilaterals
/// whose sides are seen and whose proportion is a card's, the one with the best area ×
/// (mean side support)²: large, but not at the price of sides that only graze the edges
/// (a line a few degrees off still touches a side here and there). One that uses the
/// frame's border is taken only when no whole card is found.
fn best_quad(edges: &Edges, (horizontal, vertical): &(Vec<Line>, Vec<Line>)) -> Option<Quad> {
    let mut best_whole: Option<(f32, Quad)> = None;
    let mut best_cut: Option<(f32, Quad)> = None;
    let (width, height) = (edges.width as f32, edges.height as f32);
    for (i, top) in horizontal.iter().enumerate() {
        for bottom in &horizontal[i + 1..] {
            if !roughly_parallel(top, bottom, height * 0.15) {
                continue;
            }
            for (j, left) in vertical.iter().enumerate() {
                for right in &vertical[j + 1..] {
                    if !roughly_parallel(left, right, width * 0.15) {
                        continue;
                    }
                    let sides = [*top, *right, *bottom, *left];
                    let borders = sides.iter().filter(|line| line.border).count();
                    if borders > 2 {
                        continue;
                    }
                    let Some(quad) = quad_of(top, bottom, left, right) else {
                        continue;
                    };
                    let inside = quad.corners.iter().all(|corner| {
                        (-0.5..=width - 0.5).contains(&corner.x)
                            && (-0.5..=height - 0.5).contains(&corner.y)
                    });
                    if !inside {
                        continue;
                    }
                    let lengths = quad.sides();
                    let long =
                        ((lengths[0] + lengths[2]) / 2.0).max((lengths[1] + lengths[3]) / 2.0);
                    let short =
                        ((lengths[0] + lengths[2]) / 2.0).min((lengths[1] + lengths[3]) / 2.0);
                    if short < height * 0.15 {
                        continue;
                    }
                    let aspect = long / short;
                    if borders == 0 && !(ASPECT_RANGE.0..=ASPECT_RANGE.1).contains(&aspect) {
                        continue;
                    }
                    if borders > 0 && aspect > ASPECT_RANGE.1 * 1.5 {
                        continue;
                    }
                    let mut weakest = 1.0f32;
                    let (mut support_sum, mut seen_sides) = (0.0, 0.0);
                    let mut seen_length = 0.0;
                    for (index, line) in sides.iter().enumerate() {
                        if line.border {
                            continue;
                        }
                        let from = quad.corners[index];
                        let to = quad.corners[(index + 1) % 4];
                        let support = side_support(edges, from, to);
                        weakest = weakest.min(support);
                        support_sum += support;
                        seen_sides += 1.0;
                        seen_length += lengths[index];
                    }
                    if weakest < MIN_SIDE_SUPPORT {
                        continue;
                    }
                    let mean_support = support_sum / f32::max(seen_sides, 1.0);
                    let area = polygon_area(&quad.corners) * mean_support * mean_support;
                    let quad = Quad {
                        cut_off: borders > 0,
                        support: weakest,
                        ..quad
                    };
                    if borders == 0 {
                        if best_whole.is_none_or(|(best, _)| area > best) {
                            best_whole = Some((area, quad));
                        }
                    } else if seen_length > long * 1.5
                        && best_cut.is_none_or(|(best, _)| area > best)
                    {
                        best_cut = Some((area, quad));
                    }
                }
            }
        }
    }
    best_whole.or(best_cut).map(|(_, quad)| quad)
}

fn roughly_parallel(a: &Line, b: &Line, min_gap: f32) -> bool {
    let (a, b) = (a.folded(), b.folded());
    (a.angle - b.angle).abs().to_degrees() <= 12.0 && (a.rho - b.rho).abs() >= min_gap
}

fn quad_of(top: &Line, bottom: &Line, left: &Line, right: &Line) -> Option<Quad> {
    let mut corners = [
        top.intersect(left)?,
        top.intersect(right)?,
        bottom.intersect(right)?,
        bottom.intersect(left)?,
    ];
    // The "top" line of a pair may be the lower one, and "left" the one on the right.
    let centre_y: f32 = corners.iter().map(|corner| corner.y).sum::<f32>() / 4.0;
    let centre_x: f32 = corners.iter().map(|corner| corner.x).sum::<f32>() / 4.0;
    if corners[0].y > centre_y {
        corners = [corners[3], corners[2], corners[1], corners[0]];
    }
    if corners[0].x > centre_x {
        corners = [corners[1], corners[0], corners[3], corners[2]];
    }
    Some(Quad {
        corners,
        cut_off: false,
        support: 0.0,
    })
}

/// Share of the segment `from`–`to` that lies on (or next to) edge pixels whose direction
/// is across the segment.
fn side_support(edges: &Edges, from: Corner, to: Corner) -> f32 {
    let length = distance(from, to);
    let steps = length.ceil().max(1.0) as usize;
    let normal = ((to.y - from.y).atan2(to.x - from.x).to_degrees() + 90.0).rem_euclid(180.0);
    let mut hits = 0;
    for step in 0..=steps {
        let t = step as f32 / steps as f32;
        let x = (from.x + (to.x - from.x) * t).round() as isize;
        let y = (from.y + (to.y - from.y) * t).round() as isize;
        let mut found = false;
        'look: for dy in -1..=1 {
            for dx in -1..=1 {
                let (px, py) = (x + dx, y + dy);
                if px < 0 || py < 0 || px >= edges.width as isize || py >= edges.height as isize {
                    continue;
                }
                let angle = edges.angle[py as usize * edges.width + px as usize];
                if angle == NO_EDGE {
                    continue;
                }
                let difference = (f32::from(angle) - normal).rem_euclid(180.0);
                if difference.min(180.0 - difference) <= 15.0 {
                    found = true;
                    break 'look;
                }
            }
        }
        hits += usize::from(found);
    }
    hits as f32 / (steps + 1) as f32
}

fn polygon_area(corners: &[Corner; 4]) -> f32 {
    let mut twice = 0.0;
    for index in 0..4 {
        let (a, b) = (corners[index], corners[(index + 1) % 4]);
        twice += a.x * b.y - b.x * a.y;
    }
    twice.abs() / 2.0
}

/// A card side's look, small: 32 × 20 grey levels of its flat crop, normalised (zero mean,
/// unit deviation), so the same side under other light still compares as the same.
#[derive(Debug, Clone, PartialEq)]
pub struct SideSignature(Vec<f32>);

const SIGNATURE_SIZE: (u32, u32) = (32, 20);

impl SideSignature {
    /// The signature of a flat card picture (a capture).
    pub fn of_flat(card: &RgbImage) -> Self {
        let small = image::imageops::resize(
            card,
            SIGNATURE_SIZE.0,
            SIGNATURE_SIZE.1,
            image::imageops::FilterType::Triangle,
        );
        Self::normalised(small.pixels().map(|pixel| grey_of(pixel.0)).collect())
    }

    /// The signature of the card at `quad` in `frame`.
    pub fn of_card(frame: &RgbImage, quad: &Quad) -> Self {
        let small = flatten_card_to(frame, quad, SIGNATURE_SIZE.0 * 4, SIGNATURE_SIZE.1 * 4);
        Self::of_flat(&small)
    }

    fn normalised(mut levels: Vec<f32>) -> Self {
        let count = levels.len().max(1) as f32;
        let mean = levels.iter().sum::<f32>() / count;
        let deviation = (levels
            .iter()
            .map(|level| (level - mean).powi(2))
            .sum::<f32>()
            / count)
            .sqrt()
            .max(1.0);
        for level in &mut levels {
            *level = (*level - mean) / deviation;
        }
        Self(levels)
    }

    /// Correlation of the two looks, −1…1: near 1 for the same side.
    pub fn similarity(&self, other: &SideSignature) -> f32 {
        let count = self.0.len().min(other.0.len()).max(1) as f32;
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f32>() / count
    }
}

fn grey_of(rgb: [u8; 3]) -> f32 {
    0.299 * f32::from(rgb[0]) + 0.587 * f32::from(rgb[1]) + 0.114 * f32::from(rgb[2])
}

/// The card cut out of `frame` along `quad` and made flat and upright (landscape, in the
/// ID-1 proportion), its width the longer of the quad's long sides.
pub fn flatten_card(frame: &RgbImage, quad: &Quad) -> RgbImage {
    let [top, right, bottom, left] = quad.sides();
    let mut corners = quad.corners;
    // A card held upright (portrait) is turned so its long side is horizontal.
    if (left + right) > (top + bottom) {
        corners = [corners[3], corners[0], corners[1], corners[2]];
    }
    let width = distance(corners[0], corners[1])
        .max(distance(corners[3], corners[2]))
        .clamp(64.0, 2400.0)
        .round();
    let height = (width / CARD_ASPECT).round();
    flatten_card_to(frame, quad, width as u32, height as u32)
}

/// [`flatten_card`] at a given width (the height follows the card's shape): larger than
/// the card appears in the frame, to read fine print or a QR code's small modules.
pub fn flatten_card_at(frame: &RgbImage, quad: &Quad, width: u32) -> RgbImage {
    let height = (width as f32 / CARD_ASPECT).round() as u32;
    flatten_card_to(frame, quad, width, height)
}

/// [`flatten_card`] at a given size.
fn flatten_card_to(frame: &RgbImage, quad: &Quad, out_width: u32, out_height: u32) -> RgbImage {
    let [top, right, bottom, left] = quad.sides();
    let mut corners = quad.corners;
    if (left + right) > (top + bottom) {
        corners = [corners[3], corners[0], corners[1], corners[2]];
    }
    let (width, height) = (out_width as f32, out_height as f32);
    let Some(homography) = homography(
        [
            (0.0, 0.0),
            (width - 1.0, 0.0),
            (width - 1.0, height - 1.0),
            (0.0, height - 1.0),
        ],
        corners.map(|corner| (corner.x, corner.y)),
    ) else {
        return RgbImage::new(out_width, out_height);
    };
    RgbImage::from_fn(out_width, out_height, |x, y| {
        let (u, v) = apply(&homography, x as f32, y as f32);
        sample(frame, u, v)
    })
}

/// The 3×3 perspective transform taking the four `from` points to the four `to` points
/// (eight unknowns, h33 = 1), by Gaussian elimination.
fn homography(from: [(f32, f32); 4], to: [(f32, f32); 4]) -> Option<[f64; 9]> {
    let mut system = [[0f64; 9]; 8];
    for (index, ((x, y), (u, v))) in from.iter().zip(&to).enumerate() {
        let pair = homography::equations(
            [f64::from(*x), f64::from(*y)],
            [f64::from(*u), f64::from(*v)],
        );
        system[2 * index] = pair[0];
        system[2 * index + 1] = pair[1];
    }
    homography::solve(system)
}

fn apply(h: &[f64; 9], x: f32, y: f32) -> (f32, f32) {
    let [u, v] = homography::apply(h, [f64::from(x), f64::from(y)]);
    (u as f32, v as f32)
}

/// Bilinear sample; outside the frame is black.
fn sample(frame: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (width, height) = (frame.width() as f32, frame.height() as f32);
    if !(0.0..width - 1.0).contains(&x) || !(0.0..height - 1.0).contains(&y) {
        let (cx, cy) = (x.round(), y.round());
        if (0.0..width).contains(&cx) && (0.0..height).contains(&cy) {
            return *frame.get_pixel(cx as u32, cy as u32);
        }
        return Rgb([0, 0, 0]);
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let p = |dx: u32, dy: u32| frame.get_pixel(x0 + dx, y0 + dy).0;
    let (a, b, c, d) = (p(0, 0), p(1, 0), p(0, 1), p(1, 1));
    let mut out = [0u8; 3];
    for channel in 0..3 {
        let top = f32::from(a[channel]) * (1.0 - fx) + f32::from(b[channel]) * fx;
        let bottom = f32::from(c[channel]) * (1.0 - fx) + f32::from(d[channel]) * fx;
        out[channel] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    Rgb(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_homography_maps_corners_onto_corners() {
        let from = [(0.0, 0.0), (99.0, 0.0), (99.0, 62.0), (0.0, 62.0)];
        let to = [(10.0, 20.0), (120.0, 15.0), (125.0, 90.0), (5.0, 80.0)];
        let h = homography(from, to).expect("solvable");
        for ((x, y), (u, v)) in from.iter().zip(&to) {
            let (mapped_x, mapped_y) = apply(&h, *x, *y);
            assert!((mapped_x - u).abs() < 1e-3 && (mapped_y - v).abs() < 1e-3);
        }
    }

    #[test]
    fn lines_meet_where_they_cross() {
        let vertical = Line {
            angle: 0.0,
            rho: 30.0,
            border: false,
        };
        let horizontal = Line {
            angle: std::f32::consts::FRAC_PI_2,
            rho: 12.0,
            border: false,
        };
        let corner = vertical.intersect(&horizontal).expect("they cross");
        assert!((corner.x - 30.0).abs() < 1e-3 && (corner.y - 12.0).abs() < 1e-3);
    }
}
