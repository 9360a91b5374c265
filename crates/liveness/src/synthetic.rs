//! A synthetic head, and prints of it, for the demo camera's challenge, the liveness
//! tests and the bench: a real photo given depth by its own face mesh (our `FaceMesh` on
//! the photo), then turned in 3D and seen through a pinhole camera. The head's pixels move by their depth (the nose against the cheeks);
//! a flat print's all lie on one plane, turned exactly as the head is; a bent print's
//! lie on a cylinder (the photo curved in the hand about a vertical or a horizontal
//! axis through its middle), turned likewise.
//!
//! Depth: each pixel's is the mesh's depth near it (inverse-distance weighting of the mesh
//! points, on a 4-pixel grid, bilinear between), going back to the depth of the face's
//! sides away from the face. Rendering: every photo pixel is moved and drawn front to back
//! (a depth buffer), 2×2 so that a turned surface leaves no holes; what no pixel reaches
//! is grey.

use std::time::Duration;

use image::{Rgb, RgbImage};

use super::DotPath;
use ekyc_face::{FaceDetector, FaceMesh};

/// A photo given depth from its face mesh, that can be turned and rendered as a head or
/// as a flat print: the demo camera's face in the challenge, and the tests' and bench's.
#[derive(Clone)]
pub struct SyntheticHead {
    photo: RgbImage,
    /// Per pixel, the depth in pixels (negative towards the camera), row by row.
    depth: Vec<f32>,
    /// The point the head turns about: the mesh's centre.
    centre: [f32; 3],
}

/// What the camera is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Surface {
    /// The head itself, each pixel at its face's depth.
    Head,
    /// The photo printed and held flat.
    Flat,
    /// The photo printed and bent in the hand.
    Bent(Bend),
}

/// How a print is bent: about which axis, how tightly, and which way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bend {
    /// `true`: about a vertical axis (the sides go back or forward); `false`: about a
    /// horizontal one (the top and bottom do).
    pub about_vertical: bool,
    /// The cylinder's radius, as a share of the print's width (0.2: tightly, 1.0: gently).
    pub radius: f32,
    /// `true`: the middle towards the camera and the edges away (as a print held by its
    /// edges and pushed); `false`: the other way.
    pub middle_forward: bool,
}

/// The camera's distance from the head's centre, in the photo's pixels: a face some 200 px
/// wide seen from about five face widths, as at a kiosk.
const DISTANCE: f32 = 1000.0;
const GRID: u32 = 4;

impl SyntheticHead {
    /// The photo and its face mesh (468 points, x and y in the photo's pixels, z in the
    /// same scale).
    pub fn new(photo: RgbImage, mesh: &[[f32; 3]]) -> Self {
        let n = mesh.len() as f32;
        let centre = mesh.iter().fold([0.0; 3], |c, p| {
            [c[0] + p[0] / n, c[1] + p[1] / n, c[2] + p[2] / n]
        });
        let back = mesh.iter().map(|p| p[2]).fold(f32::NEG_INFINITY, f32::max);
        let (width, height) = photo.dimensions();
        let (columns, rows) = (width / GRID + 2, height / GRID + 2);
        let mut grid = vec![0.0f32; (columns * rows) as usize];
        for row in 0..rows {
            for column in 0..columns {
                let (x, y) = ((column * GRID) as f32, (row * GRID) as f32);
                let (mut sum, mut weights, mut nearest) = (0.0, 0.0, f32::INFINITY);
                for p in mesh {
                    let d2 = (p[0] - x).powi(2) + (p[1] - y).powi(2);
                    nearest = nearest.min(d2.sqrt());
                    let weight = 1.0 / (d2 * d2 + 1.0);
                    sum += weight * p[2];
                    weights += weight;
                }
                // Away from the face the depth goes back to that of its sides.
                let blend = ((nearest - 8.0) / 40.0).clamp(0.0, 1.0);
                grid[(row * columns + column) as usize] =
                    sum / weights * (1.0 - blend) + back * blend;
            }
        }
        let mut depth = Vec::with_capacity((width * height) as usize);
        for y in 0..height {
            for x in 0..width {
                let (gx, gy) = (x as f32 / GRID as f32, y as f32 / GRID as f32);
                let (x0, y0) = (gx.floor() as u32, gy.floor() as u32);
                let (fx, fy) = (gx - x0 as f32, gy - y0 as f32);
                let at = |c: u32, r: u32| grid[(r * columns + c) as usize];
                let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                depth.push(top * (1.0 - fy) + bottom * fy);
            }
        }
        Self {
            photo,
            depth,
            centre,
        }
    }

    /// The same head, its depth `scale` times as deep about its centre (a flatter or a
    /// more prominent face than the photo's own: people differ).
    pub fn with_depth_scale(&self, scale: f32) -> Self {
        let mut head = self.clone();
        let centre = self.centre[2];
        for depth in &mut head.depth {
            *depth = centre + (*depth - centre) * scale;
        }
        head
    }

    /// `photo`'s largest face, meshed, as a head; `None` when no face is found in it.
    pub fn from_photo(photo: RgbImage, detector: &FaceDetector, mesher: &FaceMesh) -> Option<Self> {
        let faces = detector.detect(&photo).ok()?;
        let face = faces
            .iter()
            .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))?;
        let mesh = mesher.landmarks(&photo, face).ok()?;
        Some(Self::new(photo, &mesh.points))
    }

    /// What the camera sees of `surface` turned by `yaw` and `pitch` (degrees): the head,
    /// or a print of the photo, flat or bent, its middle at the head's centre.
    pub fn render(&self, yaw: f32, pitch: f32, surface: Surface) -> RgbImage {
        let (width, height) = self.photo.dimensions();
        let mut out = RgbImage::from_pixel(width, height, Rgb([128, 128, 128]));
        let mut nearest = vec![f32::INFINITY; (width * height) as usize];
        let (yaw, pitch) = (yaw.to_radians(), pitch.to_radians());
        let [cx, cy, cz] = self.centre;
        for y in 0..height {
            for x in 0..width {
                let (mut px, mut py) = (x as f32 - cx, y as f32 - cy);
                let pz = match surface {
                    Surface::Head => self.depth[(y * width + x) as usize] - cz,
                    Surface::Flat => 0.0,
                    Surface::Bent(bend) => {
                        // The print's own coordinate across the bend, laid on a circle.
                        let radius = (bend.radius * width as f32).max(1.0);
                        let along = if bend.about_vertical {
                            &mut px
                        } else {
                            &mut py
                        };
                        let angle = *along / radius;
                        *along = radius * angle.sin();
                        let sag = radius * (1.0 - angle.cos());
                        if bend.middle_forward {
                            sag
                        } else {
                            -sag
                        }
                    }
                };
                let (px, pz) = (
                    px * yaw.cos() + pz * yaw.sin(),
                    -px * yaw.sin() + pz * yaw.cos(),
                );
                let (py, pz) = (
                    py * pitch.cos() - pz * pitch.sin(),
                    py * pitch.sin() + pz * pitch.cos(),
                );
                let scale = DISTANCE / (DISTANCE + pz);
                let (u, v) = (cx + px * scale, cy + py * scale);
                let colour = *self.photo.get_pixel(x, y);
                for (du, dv) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (tu, tv) = (u as i64 + du, v as i64 + dv);
                    if tu < 0 || tv < 0 || tu >= i64::from(width) || tv >= i64::from(height) {
                        continue;
                    }
                    let index = (tv as u32 * width + tu as u32) as usize;
                    if pz < nearest[index] {
                        nearest[index] = pz;
                        out.put_pixel(tu as u32, tv as u32, colour);
                    }
                }
            }
        }
        out
    }
}

/// How far the head turns to look at the dot: ±12° of yaw across the screen's width and
/// ±7° of pitch across its height (a customer a little under a metre from a kiosk's
/// screen turns the head as well as the eyes).
pub const FOLLOW_YAW: f32 = 24.0;
/// How far the head pitches (degrees) when the dot is at the top or bottom edge.
pub const FOLLOW_PITCH: f32 = 14.0;

/// The head's pose (yaw, pitch in degrees) looking at where the dot was `lag` ago.
pub fn pose_following(path: &DotPath, at: Duration, lag: Duration) -> (f32, f32) {
    let dot = path.position(at.saturating_sub(lag));
    (FOLLOW_YAW * (dot[0] - 0.5), FOLLOW_PITCH * (dot[1] - 0.5))
}
