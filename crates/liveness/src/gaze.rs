//! Where the customer looks, from one frame's face mesh, as a signal for the challenge's
//! score ([`super::challenge::score`]). Calibration-free: the score is a correlation, so
//! only the signal's direction and its changes matter, not its scale or offset.
//!
//! Two parts, both in fractions of the face's (or the eye's) own size, added:
//! - the head's turn: the tip of the nose (mesh point 1) against the middle of the face's
//!   sides (234 and 454) across, and against the middle of forehead (10) and chin (152)
//!   up and down: a head turning towards something moves its nose tip that way;
//! - the eyes' turn: where each iris sits between its eye's corners
//!   ([`ekyc_face::Eye::iris_position`]), averaged over both eyes.
//!
//! Axes as the screen's, seen by the customer: x to their right, y down. The camera faces
//! the customer, so looking to their right moves the nose and the irises towards the
//! picture's left: x is the picture's motion reversed.

use ekyc_face::Mesh;

/// How much the eyes' turn counts against the head's: the iris moves some 0.3 of the
/// eye's width between looking far left and far right, the nose tip some 0.2 of the
/// face's width for a head turn of ±15°.
const EYE_WEIGHT: f32 = 0.7;

/// The gaze signal of one frame; `None` when the mesh's points are degenerate.
pub fn gaze(mesh: &Mesh) -> Option<[f32; 2]> {
    let point = |i: usize| mesh.points.get(i).map(|p| [p[0], p[1]]);
    let (nose, right_side, left_side, forehead, chin) =
        (point(1)?, point(234)?, point(454)?, point(10)?, point(152)?);
    let width = distance(right_side, left_side);
    let height = distance(forehead, chin);
    if width <= f32::EPSILON || height <= f32::EPSILON {
        return None;
    }
    let head_across = (nose[0] - (right_side[0] + left_side[0]) / 2.0) / width;
    let head_down = (nose[1] - (forehead[1] + chin[1]) / 2.0) / height;
    let [along_a, across_a] = mesh.eyes[0].iris_position();
    let [along_b, across_b] = mesh.eyes[1].iris_position();
    // Both eyes' corners are taken left to right in the picture, so "along" grows to the
    // picture's right for both.
    let eyes_across = (along_a + along_b) / 2.0 - 0.5;
    let eyes_down = (across_a + across_b) / 2.0;
    let gaze = [
        -(head_across + EYE_WEIGHT * eyes_across),
        head_down + EYE_WEIGHT * eyes_down,
    ];
    gaze.iter().all(|v| v.is_finite()).then_some(gaze)
}

fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}
