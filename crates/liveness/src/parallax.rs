//! The 3D check: does the face in a sequence of frames move like a head, or like a flat
//! picture (a print, a phone or a screen held up to the camera)?
//!
//! A flat picture, however it is moved, tilted or turned in front of the camera, is a
//! plane: between any two frames its points are related by one homography (a plane's
//! image under a pinhole camera). A head is not flat: when it turns, the tip of the nose
//! moves against the cheeks and the sides of the face, and no homography explains the
//! motion of all its points at once. So, for each frame after the first:
//!
//! - the **parallax**: how far the rigid landmarks are from where the best homography from
//!   the first frame puts them (root mean square, as a fraction of the face's size);
//! - the **shape change**: the same for the best similarity (shift, turn in the image
//!   plane, scale), i.e. how much the face's outline changed in a way a mere shift or
//!   zoom cannot make: a turning head and a tilting picture both show it, a still one
//!   does not.
//!
//! A head turning shows parallax; a picture shows shape change without parallax; a face
//! that did not turn shows neither and cannot be judged (the customer is asked to follow
//! the dot again). No model is involved: only the landmarks' 2D positions, so a model
//! that "sees" depth in a photo (the face mesh does predict a `z` for a print) cannot
//! fool it.

/// The thresholds of the decision, as fractions of the face's size (the root mean
/// square distance of its rigid points from their centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParallaxThresholds {
    /// Parallax at or above this is not flat.
    pub min_parallax: f32,
    /// A face's own depth shown at or above this, with the parallax, is a head; below it
    /// the thing is not flat but not a face either (a bent print).
    pub min_face_depth: f32,
    /// Shape change below this is a face that did not turn enough to judge.
    pub min_shape_change: f32,
    /// With the path the face followed known: the least of a face's own depth that moved
    /// with it, across (as the head turned left and right) and down (up and down), as a
    /// share of the face's size per screen's width (height) the dot travelled. See
    /// [`judge_following`].
    pub min_depth_following: [f32; 2],
}

impl Default for ParallaxThresholds {
    /// Set from the synthetic sequences of `tests/liveness.rs` (0.5 px of landmark noise on
    /// a face 250 px wide): a picture, still or turned up to ±12°, shows at most 0.73 %
    /// parallax (that is the noise), a head turning ±3° 2.3 %, ±12° 8.6–9.0 %; a picture
    /// turned ±8° changes shape by 1.4 %, ±6° 1.1 %, a still one 0.6–0.7 %. To be set again
    /// from real cameras' landmarks; the kiosk's `[liveness]` settings will carry them.
    fn default() -> Self {
        Self {
            min_parallax: 0.02,
            min_face_depth: FACE_DEPTH_THRESHOLD,
            min_shape_change: 0.012,
            min_depth_following: DEPTH_FOLLOWING_THRESHOLDS,
        }
    }
}

/// What the 3D check decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The face moved as a head does: points at different depths moved differently, and
    /// their depths are a face's.
    Head,
    /// The face turned, and moved as a plane: a picture.
    Flat,
    /// The face turned and was not flat, but its depth was not a face's: a picture bent
    /// in the hand (its depth along one axis only).
    Bent,
    /// The face did not turn enough to tell (or too few frames).
    NotEnoughMotion,
}

/// The 3D check's figures and decision.
#[derive(Debug, Clone, PartialEq)]
pub struct ParallaxReport {
    /// Per frame after the first: the homography's residual, as a fraction of face size.
    pub parallax: Vec<f32>,
    /// Per frame after the first: the similarity's residual, likewise.
    pub shape_change: Vec<f32>,
    /// The figure the decision rests on: the [`FIGURE_RANK`]th largest parallax (a frame
    /// with a misplaced landmark, smoothed into three, does not make a head).
    pub parallax_figure: f32,
    /// Likewise for the shape change.
    pub shape_change_figure: f32,
    /// How much of a face's own depth the frames showed (see [`super::face_depth`]).
    pub face_depth_figure: f32,
    /// How much of it moved with the path followed, across and down (see
    /// [`judge_following`]); `None` when the path was not known.
    pub depth_following: Option<[f32; 2]>,

    /// What the depth says: a head, a picture, or too little turn to tell.
    pub depth: Depth,
}

use super::face_depth::{FaceDepth, DEPTH_FOLLOWING_THRESHOLDS, FACE_DEPTH_THRESHOLD};
use ekyc_imaging::homography;

type Point = [f64; 2];

/// Which largest per-frame value the decision takes: the fifth, a third of a second at 15
/// frames/s. Fewer frames than that cannot be judged.
pub const FIGURE_RANK: usize = 5;

/// Judges a sequence of frames, each the same points in the same order (e.g. the
/// [`super::rigid::RIGID_POINTS`] of each frame's face mesh), in pixels. Each point's track is first
/// smoothed over three frames (a centred moving average): the landmarks' jitter falls by
/// √3 while a head's motion, slow between frames at 15 frames/s, stays. A frame whose
/// points are degenerate (all in one place, or on one line) counts for nothing: never
/// for a head. `face` is the reference a head's depth is compared with.
pub fn judge(
    frames: &[Vec<[f32; 2]>],
    face: &FaceDepth,
    thresholds: ParallaxThresholds,
) -> ParallaxReport {
    judge_following(frames, &[], face, thresholds)
}

/// [`judge`], knowing where the face was turned in each frame: `turns[i]` for
/// `frames[i]` (the dot's position the face followed, across and down, its centre 0;
/// `None`, or missing, for a frame with no such time, e.g. the selfie).
///
/// A head's own depth shows in its points as it turns, in step with the turn, both across
/// and up and down. The face mesh model, given a print bent in the hand and turned left
/// and right, places the points of a face's depth it does not see, also in step with the
/// turn: through the real models the kiosk's demo camera's bent print (about a vertical
/// axis) showed as much of a face's own depth as the flattest heads (README,
/// "Liveness"), and up and down far less. So a head is one whose own depth, regressed on
/// the turn ([`FaceDepth`]'s slope per screen the dot travelled), reaches
/// [`ParallaxThresholds::min_depth_following`] on **both** axes, each with a face's sign
/// (the nose moving towards where the face turns). Without turns (no path known) this is
/// not asked. Frames are taken unsmoothed here: at 10 frames/s a three-frame average
/// takes some of the turn away, and the regression averages the jitter out.
pub fn judge_following(
    frames: &[Vec<[f32; 2]>],
    turns: &[Option<[f32; 2]>],
    face: &FaceDepth,
    thresholds: ParallaxThresholds,
) -> ParallaxReport {
    let mut parallax = Vec::new();
    let mut shape_change = Vec::new();
    let (kept, usable) = usable(frames);
    let frames = smoothed(&usable);
    if let Some((first, rest)) = frames.split_first() {
        for frame in rest {
            let size = spread(frame);
            if frame.len() < 5 || size <= f64::EPSILON {
                continue;
            }
            let Some(homography) = fit_homography(first, frame) else {
                continue;
            };
            let homography_residual = residual(first, frame, |p| homography::apply(&homography, p));
            let similarity = fit_similarity(first, frame);
            let similarity_residual = residual(first, frame, |p| similarity.apply(p));
            if !(homography_residual.is_finite() && similarity_residual.is_finite()) {
                continue;
            }
            parallax.push((homography_residual / size) as f32);
            shape_change.push((similarity_residual / size) as f32);
        }
    }
    let figure = |values: &[f32]| {
        let mut sorted = values.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        sorted.get(FIGURE_RANK - 1).copied().unwrap_or(0.0)
    };
    let parallax_figure = figure(&parallax);
    let shape_change_figure = figure(&shape_change);
    let face_depth_figure = face.figure(&frames) as f32;
    let depth_following = (!turns.is_empty()).then(|| {
        let (timed, turned): (Vec<Vec<Point>>, Vec<[f64; 2]>) = kept
            .iter()
            .zip(usable)
            .filter_map(|(&index, frame)| {
                let turn = (*turns.get(index)?)?;
                Some((frame, turn.map(f64::from)))
            })
            .unzip();
        face.following(&timed, &turned).map(|value| value as f32)
    });
    let follows = depth_following.is_none_or(|figures| {
        figures
            .iter()
            .zip(thresholds.min_depth_following)
            .all(|(figure, least)| *figure >= least)
    });
    let depth = if parallax_figure >= thresholds.min_parallax {
        if face_depth_figure >= thresholds.min_face_depth && follows {
            Depth::Head
        } else {
            Depth::Bent
        }
    } else if shape_change_figure >= thresholds.min_shape_change {
        Depth::Flat
    } else {
        Depth::NotEnoughMotion
    };
    ParallaxReport {
        parallax,
        shape_change,
        parallax_figure,
        shape_change_figure,
        face_depth_figure,
        depth_following,
        depth,
    }
}

/// The frames usable at all, with their indices: those with the first one's point count
/// whose points do not lie on a line (misplaced landmarks).
fn usable(frames: &[Vec<[f32; 2]>]) -> (Vec<usize>, Vec<Vec<Point>>) {
    let count = frames.first().map_or(0, Vec::len);
    frames
        .iter()
        .enumerate()
        .filter(|(_, frame)| frame.len() == count)
        .map(|(index, frame)| {
            let points = frame
                .iter()
                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                .collect::<Vec<Point>>();
            (index, points)
        })
        .filter(|(_, frame)| !is_flattened(frame))
        .unzip()
}

/// Each point's track averaged over the frame before, itself and the one after (two at
/// the ends).
fn smoothed(frames: &[Vec<Point>]) -> Vec<Vec<Point>> {
    let count = frames.first().map_or(0, Vec::len);
    (0..frames.len())
        .map(|t| {
            let window = &frames[t.saturating_sub(1)..(t + 2).min(frames.len())];
            let n = window.len() as f64;
            (0..count)
                .map(|i| {
                    let (x, y) = window.iter().fold((0.0, 0.0), |(x, y), frame| {
                        (x + frame[i][0], y + frame[i][1])
                    });
                    [x / n, y / n]
                })
                .collect()
        })
        .collect()
}

/// The points lie (nearly) on one line: no face looks like that, a misplaced set of
/// landmarks does. The smaller axis of their spread under a tenth of the larger.
fn is_flattened(points: &[Point]) -> bool {
    let c = centre(points);
    let (mut xx, mut xy, mut yy) = (0.0, 0.0, 0.0);
    for p in points {
        let (x, y) = (p[0] - c[0], p[1] - c[1]);
        xx += x * x;
        xy += x * y;
        yy += y * y;
    }
    let half_trace = (xx + yy) / 2.0;
    let offset = ((xx - yy).powi(2) / 4.0 + xy * xy).sqrt();
    let (major, minor) = (half_trace + offset, half_trace - offset);
    minor < 0.01 * major
}

/// The root mean square distance of the points from their centre.
fn spread(points: &[Point]) -> f64 {
    let centre = centre(points);
    (points
        .iter()
        .map(|p| (p[0] - centre[0]).powi(2) + (p[1] - centre[1]).powi(2))
        .sum::<f64>()
        / points.len() as f64)
        .sqrt()
}

fn centre(points: &[Point]) -> Point {
    let n = points.len() as f64;
    let (x, y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [x / n, y / n]
}

/// Root mean square distance between `map(from[i])` and `to[i]`.
fn residual(from: &[Point], to: &[Point], map: impl Fn(Point) -> Point) -> f64 {
    (from
        .iter()
        .zip(to)
        .map(|(a, b)| {
            let mapped = map(*a);
            (mapped[0] - b[0]).powi(2) + (mapped[1] - b[1]).powi(2)
        })
        .sum::<f64>()
        / from.len() as f64)
        .sqrt()
}

/// A shift, a turn and a scale: `s·R·p + t`.
struct Similarity {
    a: f64,
    b: f64,
    t: Point,
}

impl Similarity {
    fn apply(&self, p: Point) -> Point {
        [
            self.a * p[0] - self.b * p[1] + self.t[0],
            self.b * p[0] + self.a * p[1] + self.t[1],
        ]
    }
}

/// The least-squares similarity from `from` to `to` (closed form).
fn fit_similarity(from: &[Point], to: &[Point]) -> Similarity {
    let (cf, ct) = (centre(from), centre(to));
    let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (p[0] - cf[0], p[1] - cf[1]);
        let (qx, qy) = (q[0] - ct[0], q[1] - ct[1]);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        norm += px * px + py * py;
    }
    let (a, b) = if norm > 0.0 {
        (dot / norm, cross / norm)
    } else {
        (1.0, 0.0)
    };
    Similarity {
        a,
        b,
        t: [
            ct[0] - (a * cf[0] - b * cf[1]),
            ct[1] - (b * cf[0] + a * cf[1]),
        ],
    }
}

/// Moves the points' centre to 0 and their mean distance from it to √2 (Hartley's
/// normalisation, so that the least squares are well conditioned): returns the moved
/// points and the transform `[scale, tx, ty]` (`p' = scale·p + t`).
fn normalise(points: &[Point]) -> (Vec<Point>, [f64; 3]) {
    let c = centre(points);
    let mean = points
        .iter()
        .map(|p| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt())
        .sum::<f64>()
        / points.len() as f64;
    let scale = if mean > 0.0 {
        std::f64::consts::SQRT_2 / mean
    } else {
        1.0
    };
    let moved = points
        .iter()
        .map(|p| [scale * (p[0] - c[0]), scale * (p[1] - c[1])])
        .collect();
    (moved, [scale, -scale * c[0], -scale * c[1]])
}

/// The least-squares homography (algebraic error, normalised points, h₃₃ = 1) that maps
/// `from` to `to`; `None` when the points are degenerate.
fn fit_homography(from: &[Point], to: &[Point]) -> Option<[f64; 9]> {
    let (a, ta) = normalise(from);
    let (b, tb) = normalise(to);
    // Two equations per point in the eight unknowns h₁₁…h₃₂, as normal equations.
    let mut normal = [[0.0f64; 9]; 8];
    for (p, q) in a.iter().zip(&b) {
        for row in homography::equations(*p, *q) {
            for (i, normal_row) in normal.iter_mut().enumerate() {
                for (j, value) in normal_row.iter_mut().enumerate() {
                    *value += row[i] * row[j];
                }
            }
        }
    }
    let normalised = homography::solve(normal)?;
    // Undo the normalisations: H = Tb⁻¹ · Hn · Ta.
    let ta = [ta[0], 0.0, ta[1], 0.0, ta[0], ta[2], 0.0, 0.0, 1.0];
    let tb_inverse = [
        1.0 / tb[0],
        0.0,
        -tb[1] / tb[0],
        0.0,
        1.0 / tb[0],
        -tb[2] / tb[0],
        0.0,
        0.0,
        1.0,
    ];
    Some(multiply(&tb_inverse, &multiply(&normalised, &ta)))
}

fn multiply(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut out = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            out[3 * i + j] = (0..3).map(|k| a[3 * i + k] * b[3 * k + j]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face_depth::tests::made_up;

    #[test]
    fn a_homography_is_recovered_exactly_from_a_plane() {
        let truth = [1.1, 0.2, 5.0, -0.1, 0.9, -3.0, 0.001, -0.0005, 1.0];
        let from: Vec<Point> = (0..12)
            .map(|i| [f64::from(i * 17 % 50), f64::from(i * 29 % 40)])
            .collect();
        let to: Vec<Point> = from.iter().map(|p| homography::apply(&truth, *p)).collect();
        let fitted = fit_homography(&from, &to).unwrap();
        assert!(residual(&from, &to, |p| homography::apply(&fitted, p)) < 1e-9);
    }

    #[test]
    fn landmarks_collapsed_onto_a_line_never_make_a_head() {
        let face: Vec<[f32; 2]> = (0..27)
            .map(|i| [100.0 + (i * 37 % 60) as f32, 80.0 + (i * 23 % 70) as f32])
            .collect();
        let line: Vec<[f32; 2]> = (0..27).map(|i| [100.0 + i as f32 * 3.0, 120.0]).collect();
        let mut frames = vec![face; 4];
        frames.extend(vec![line; 6]);
        let report = judge(&frames, &made_up(), ParallaxThresholds::default());
        assert_ne!(report.depth, Depth::Head, "{report:?}");
    }

    #[test]
    fn degenerate_points_give_no_homography_and_no_panic() {
        let same = vec![[3.0, 4.0]; 10];
        assert!(fit_homography(&same, &same).is_none());
        let report = judge(
            &vec![vec![[1.0, 1.0]; 27]; 6],
            &made_up(),
            ParallaxThresholds::default(),
        );
        assert_eq!(report.depth, Depth::NotEnoughMotion);
        assert_eq!(
            judge(&[], &made_up(), ParallaxThresholds::default()).depth,
            Depth::NotEnoughMotion
        );
    }
}
