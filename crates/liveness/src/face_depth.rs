//! Depth that is a face's, not only "not flat": the second half of the 3D check.
//!
//! The parallax (the first half) tells a plane from anything else, but a print bent
//! in the hand is not a plane either: bent about a vertical axis its depth is a function
//! of x alone, about a horizontal axis of y alone, and turned along the path it shows
//! parallax as a head does. A face's depth is not like that: the nose tip stands out from
//! the eyes' corners and the cheeks both across and up and down; the forehead, the nose
//! and the chin are not on one line. So the check looks for the part of a face's depth
//! that no bend can make.
//!
//! **The reference**: MediaPipe's canonical face ([`ekyc_face::CanonicalFace`]), its
//! [`RIGID_POINTS`] less the outline at the ears and temples (`OUTLINE_POINTS`; kept: the
//! eyes' corners, the nose and its bridge, the forehead, the cheekbones). Of their depth
//! z, the part that is a sum of a function of x and a function of y (polynomials to the
//! fourth power, which any bend about either axis, and both at once, is) is taken away:
//! what is left, one value per point, is the face's **own depth** direction (about half
//! of these points' depth off the plane: the inner eyes' corners set back from the outer
//! ones and from the nose; unit length).
//!
//! **The measure**: under a camera far compared with the face's depth, each frame's x
//! (and each frame's y) of the points is a mix of the object's x, y and z, the mix
//! changing as it turns (Tomasi and Kanade's factorisation). Projected on the face's own
//! depth direction (first made orthogonal to the same bends of the frames' own mean x
//! and y, so that a print's depth, a function of where its points are, and any shift,
//! zoom, turn in the picture or tilt of a plane add nothing), a frame's points give how
//! much of that depth the frame shows; a head turning shows it changing, a plane or a
//! bent print shows only noise. The figure: the root mean square of that change over the
//! frames, as a share of the face's size.
//!
//! Measured (README, "Liveness"): on simulated tracks, heads of varied shape and prints
//! bent about either axis are far apart; through the real models on rendered frames
//! (`cargo bench --bench liveness`) the gap is narrow, and for prints bent about a
//! horizontal axis the tails touch ([`FACE_DEPTH_THRESHOLD`]): the engine's other checks
//! stand beside this one.

use super::rigid::RIGID_POINTS;

/// The least face depth a head shows: set from the bench's distributions (`cargo bench
/// --bench liveness`, rendered through the real models, 100 tries each; README,
/// "Liveness"): heads following the dot, their faces 0.7–1.3 times as deep as the
/// photo's, showed 1.29 % at the lowest (1 % of them under 1.39 %); flat prints 0.75 % at
/// the highest, prints bent about a vertical axis 0.97 %, about a horizontal axis 1.69 %
/// (99 % under 1.57 %: the tails touch, and the engine's own path stops what passes).
pub const FACE_DEPTH_THRESHOLD: f32 = 0.013;

/// The least of a face's own depth moving with the path followed, across and down, as a
/// share of the face's size per screen's width (height) the dot travelled (see
/// [`crate::judge_following`]): set from the bench's distributions (`cargo bench --bench
/// liveness`; README, "Liveness").
pub const DEPTH_FOLLOWING_THRESHOLDS: [f32; 2] = [0.08, 0.05];

type Point = [f64; 2];

/// The face's own depth direction over the [`RIGID_POINTS`] it uses.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceDepth {
    /// The positions (in [`RIGID_POINTS`]' order) of the points used.
    used: Vec<usize>,
    direction: Vec<f64>,
}

/// The face's outline at the ears and temples: rigid, but where a turned picture shows no
/// edge the mesh model places them by its own idea of a head, which is a face's depth.
/// Left out: with them, a print bent about a horizontal axis showed up to 2.7 % on the
/// bench (`cargo bench --bench liveness`, 60 tries), and one of 60 passed the 3D check;
/// without, 1.3 % in the same tries (1.7 % at most in 100 others). The parallax keeps
/// them.
const OUTLINE_POINTS: [usize; 6] = [234, 454, 93, 323, 127, 356];

/// How many powers of x (and of y) the bends taken away may have.
const BEND_POWERS: i32 = 4;

impl FaceDepth {
    /// From the canonical face's 468 points (x, y, z); `None` when they are too few or
    /// hold no depth beyond bends (not a face).
    pub fn from_canonical(points: &[[f32; 3]]) -> Option<Self> {
        let used: Vec<usize> = RIGID_POINTS
            .iter()
            .enumerate()
            .filter(|(_, i)| !OUTLINE_POINTS.contains(i))
            .map(|(k, _)| k)
            .collect();
        let rigid: Vec<[f64; 3]> = used
            .iter()
            .map(|&k| points.get(RIGID_POINTS[k]).map(|p| p.map(f64::from)))
            .collect::<Option<_>>()?;
        let n = rigid.len() as f64;
        let mean = |axis: usize| rigid.iter().map(|p| p[axis]).sum::<f64>() / n;
        let (mx, my) = (mean(0), mean(1));
        let spread = (rigid
            .iter()
            .map(|p| (p[0] - mx).powi(2) + (p[1] - my).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        if spread <= f64::EPSILON {
            return None;
        }
        let x: Vec<f64> = rigid.iter().map(|p| (p[0] - mx) / spread).collect();
        let y: Vec<f64> = rigid.iter().map(|p| (p[1] - my) / spread).collect();
        let bends = bends(&x, &y);
        let depth: Vec<f64> = rigid.iter().map(|p| p[2]).collect();
        let off_plane = orthogonal_to(&depth, &bends[..3])?;
        let own = orthogonal_to(&depth, &bends)?;
        // Less than a hundredth of the depth off the plane: rounding, not a face's.
        if dot(&own, &own) < 1e-4 * dot(&off_plane, &off_plane) {
            return None;
        }
        Some(Self {
            used,
            direction: unit(&own)?,
        })
    }

    /// A reference no frames match (its figure is always 0): what a check falls back
    /// on when the canonical face holds no depth of its own, so that nothing is a head.
    pub fn unknown() -> Self {
        Self {
            used: (0..RIGID_POINTS.len()).collect(),
            direction: vec![0.0; RIGID_POINTS.len()],
        }
    }

    /// The figure (see the module's text) for `frames` (each the [`RIGID_POINTS`] in
    /// order, already smoothed and filtered); 0 with fewer than three frames.
    pub(crate) fn figure(&self, frames: &[Vec<Point>]) -> f64 {
        let Some((shown, size)) = self.shown(frames) else {
            return 0.0;
        };
        let n = frames.len() as f64;
        // How much of the direction the frames showed, changing.
        let energy: f64 = shown
            .iter()
            .map(|values| {
                let change = centred(values);
                dot(&change, &change)
            })
            .sum();
        (energy / (2.0 * n)).sqrt() / size
    }

    /// How much of the face's own depth the frames showed moving in step with `turns`
    /// (one per frame: where the dot the face followed was, across and down, as fractions
    /// of the screen), per axis: the slope of a regression of the depth shown on the turn,
    /// as a share of the face's size per screen's width (or height) the dot travelled.
    /// A slope, not the change itself: the same for a head whether its path went far or
    /// not (on a path of short moves the change is small, the slope is not), so one
    /// threshold holds for every path. Positive when it is a face's: a face turning to
    /// follow a dot that moves right (the customer's right, so the picture's left: the
    /// camera faces them) shows its nose moving left against its eyes' corners, more than
    /// they move; down, down. The canonical face's depth grows towards the camera, so a
    /// head shows a negative slope across and a positive one down; the signs are turned
    /// here so that both are positive for a head. Landmarks' jitter, not in step with the
    /// turn, adds little.
    pub(crate) fn following(&self, frames: &[Vec<Point>], turns: &[[f64; 2]]) -> [f64; 2] {
        let Some((shown, size)) = self.shown(frames) else {
            return [0.0; 2];
        };
        if turns.len() != frames.len() {
            return [0.0; 2];
        }
        let across = centred(&turns.iter().map(|t| t[0]).collect::<Vec<_>>());
        let down = centred(&turns.iter().map(|t| t[1]).collect::<Vec<_>>());
        let (xx, yy, xy) = (
            dot(&across, &across),
            dot(&down, &down),
            dot(&across, &down),
        );
        // Each axis's shown depth regressed on both turns at once: a path that moves
        // across and down together must not lend one axis the other's (the depth a model
        // makes up for a bent print turning left and right leaks into down otherwise).
        let determinant = xx * yy - xy * xy;
        let mut result = [0.0; 2];
        for (axis, values) in shown.iter().enumerate() {
            let values = centred(values);
            let (with_across, with_down) = (dot(&across, &values), dot(&down, &values));
            let slope = if determinant > 1e-6 * xx * yy {
                match axis {
                    0 => (yy * with_across - xy * with_down) / determinant,
                    _ => (xx * with_down - xy * with_across) / determinant,
                }
            } else {
                // One turn a multiple of the other (or none): each axis on its own.
                match axis {
                    0 if xx > f64::EPSILON => with_across / xx,
                    1 if yy > f64::EPSILON => with_down / yy,
                    _ => 0.0,
                }
            };
            result[axis] = slope / size;
        }
        [-result[0], result[1]]
    }

    /// Per frame, across and down, how much of the face's own depth `frames` show, and
    /// the face's size; `None` with fewer than three frames or none of a face's shape.
    fn shown(&self, frames: &[Vec<Point>]) -> Option<([Vec<f64>; 2], f64)> {
        if frames.len() < 3 || frames.iter().any(|frame| frame.len() != RIGID_POINTS.len()) {
            return None;
        }
        let frames: Vec<Vec<Point>> = frames
            .iter()
            .map(|frame| self.used.iter().map(|&k| frame[k]).collect())
            .collect();
        let count = self.direction.len();
        let n = frames.len() as f64;
        let mean: Vec<Point> = (0..count)
            .map(|i| {
                let (x, y) = frames.iter().fold((0.0, 0.0), |(x, y), frame| {
                    (x + frame[i][0], y + frame[i][1])
                });
                [x / n, y / n]
            })
            .collect();
        let centre = mean
            .iter()
            .fold([0.0, 0.0], |c, p| [c[0] + p[0], c[1] + p[1]]);
        let centre = [centre[0] / count as f64, centre[1] / count as f64];
        let size = (mean
            .iter()
            .map(|p| (p[0] - centre[0]).powi(2) + (p[1] - centre[1]).powi(2))
            .sum::<f64>()
            / count as f64)
            .sqrt();
        if size <= f64::EPSILON {
            return None;
        }
        // The bends again, now of this face's own mean x and y: a print's depth is a
        // function of where its points are, which differs a little from the canonical
        // face's.
        let bends = bends(
            &mean
                .iter()
                .map(|p| (p[0] - centre[0]) / size)
                .collect::<Vec<_>>(),
            &mean
                .iter()
                .map(|p| (p[1] - centre[1]) / size)
                .collect::<Vec<_>>(),
        );
        let direction = orthogonal_to(&self.direction, &bends).and_then(|d| unit(&d))?;
        let shown = [0, 1].map(|axis| {
            frames
                .iter()
                .map(|frame| frame.iter().zip(&direction).map(|(p, d)| p[axis] * d).sum())
                .collect()
        });
        Some((shown, size))
    }
}

/// 1, then x, y, x², y², … to the [`BEND_POWERS`]th power: the depths of a plane and
/// of any bend about either axis or both, over points at (`x`, `y`) (about unit spread).
fn bends(x: &[f64], y: &[f64]) -> Vec<Vec<f64>> {
    let mut bends = vec![vec![1.0; x.len()]];
    for power in 1..=BEND_POWERS {
        bends.push(x.iter().map(|v| v.powi(power)).collect());
        bends.push(y.iter().map(|v| v.powi(power)).collect());
    }
    bends
}

/// `vector` less its least-squares fit by `basis` (modified Gram–Schmidt; columns that
/// the others already hold are skipped); `None` when the numbers are not finite.
fn orthogonal_to(vector: &[f64], basis: &[Vec<f64>]) -> Option<Vec<f64>> {
    let mut done: Vec<Vec<f64>> = Vec::with_capacity(basis.len());
    for column in basis {
        let mut column = column.clone();
        for q in &done {
            let along = dot(&column, q);
            column.iter_mut().zip(q).for_each(|(c, q)| *c -= along * q);
        }
        if let Some(q) = unit(&column) {
            done.push(q);
        }
    }
    let mut rest = vector.to_vec();
    for q in &done {
        let along = dot(&rest, q);
        rest.iter_mut().zip(q).for_each(|(r, q)| *r -= along * q);
    }
    rest.iter().all(|v| v.is_finite()).then_some(rest)
}

/// `values` less their mean.
fn centred(values: &[f64]) -> Vec<f64> {
    let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
    values.iter().map(|v| v - mean).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `vector` scaled to length 1; `None` when it has (almost) none.
fn unit(vector: &[f64]) -> Option<Vec<f64>> {
    let length = dot(vector, vector).sqrt();
    (length > 1e-9 && length.is_finite()).then(|| vector.iter().map(|v| v / length).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The reference made from [`face`], for the other modules' tests.
    pub(crate) fn made_up() -> FaceDepth {
        FaceDepth::from_canonical(&face()).unwrap()
    }

    /// A made-up face: a bump at the centre (a nose) on a surface curved along both axes.
    fn face() -> Vec<[f32; 3]> {
        let mut points = vec![[0.0f32; 3]; 468];
        for (k, &i) in RIGID_POINTS.iter().enumerate() {
            let (x, y) = ((k % 5) as f32 - 2.0, (k / 5) as f32 - 2.5);
            let nose = 3.0 * (-(x * x + (y + 0.5).powi(2))).exp();
            points[i] = [x, y, nose - 0.2 * x * x];
        }
        points
    }

    #[test]
    fn the_direction_holds_no_bend_and_no_plane() {
        let depth = FaceDepth::from_canonical(&face()).unwrap();
        let points = face();
        let x: Vec<f64> = RIGID_POINTS
            .iter()
            .map(|&i| f64::from(points[i][0]))
            .collect();
        let y: Vec<f64> = RIGID_POINTS
            .iter()
            .map(|&i| f64::from(points[i][1]))
            .collect();
        for power in 0..=BEND_POWERS {
            let xs: Vec<f64> = x.iter().map(|v| v.powi(power)).collect();
            let ys: Vec<f64> = y.iter().map(|v| v.powi(power)).collect();
            assert!(dot(&depth.direction, &xs).abs() < 1e-9);
            assert!(dot(&depth.direction, &ys).abs() < 1e-9);
        }
        assert!((dot(&depth.direction, &depth.direction) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn turns_that_never_change_or_change_together_give_finite_figures() {
        let depth = made_up();
        let frames: Vec<Vec<Point>> = (0..6)
            .map(|t| {
                RIGID_POINTS
                    .iter()
                    .enumerate()
                    .map(|(k, _)| [k as f64 + 0.1 * t as f64, (k % 7) as f64])
                    .collect()
            })
            .collect();
        assert_eq!(depth.following(&frames, &[[0.0, 0.0]; 6]), [0.0, 0.0]);
        let together: Vec<[f64; 2]> = (0..6).map(|t| [t as f64, 2.0 * t as f64]).collect();
        assert!(depth
            .following(&frames, &together)
            .iter()
            .all(|v| v.is_finite()));
        // Fewer turns than frames: nothing to regress on.
        assert_eq!(depth.following(&frames, &together[..3]), [0.0, 0.0]);
    }

    #[test]
    fn a_surface_bent_along_one_axis_has_no_own_depth_and_too_few_points_give_none() {
        let mut bent = face();
        for p in &mut bent {
            p[2] = 0.3 * p[0] * p[0] - 0.01 * p[0].powi(4);
        }
        assert_eq!(FaceDepth::from_canonical(&bent), None);
        assert_eq!(FaceDepth::from_canonical(&face()[..100]), None);
    }
}
