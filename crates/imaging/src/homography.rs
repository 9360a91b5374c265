//! Plane-to-plane maps (homographies): the card's outline to a flat card
//! (`quality::card`), a face's rigid points from one frame to another
//! (`liveness::parallax`). A homography is a 3×3 matrix, row by row, with h₃₃ = 1.

/// Solves the eight equations of a homography's unknowns h₁₁…h₃₂ (each row: eight
/// coefficients, then the right-hand side) by Gaussian elimination with partial
/// pivoting; `None` when they do not determine it.
pub fn solve(mut system: [[f64; 9]; 8]) -> Option<[f64; 9]> {
    for column in 0..8 {
        let pivot = (column..8).max_by(|a, b| {
            system[*a][column]
                .abs()
                .total_cmp(&system[*b][column].abs())
        })?;
        if system[pivot][column].abs() < 1e-12 {
            return None;
        }
        system.swap(column, pivot);
        let pivot_row = system[column];
        for row in system.iter_mut().skip(column + 1) {
            let factor = row[column] / pivot_row[column];
            for (value, above) in row.iter_mut().zip(&pivot_row).skip(column) {
                *value -= factor * above;
            }
        }
    }
    let mut h = [1.0; 9];
    for row in (0..8).rev() {
        let known: f64 = (row + 1..8).map(|k| system[row][k] * h[k]).sum();
        h[row] = (system[row][8] - known) / system[row][row];
    }
    h.iter().all(|value| value.is_finite()).then_some(h)
}

/// The two equations one point pair `(x, y) → (u, v)` gives.
pub fn equations([x, y]: [f64; 2], [u, v]: [f64; 2]) -> [[f64; 9]; 2] {
    [
        [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u],
        [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v],
    ]
}

/// Where `h` maps `p`.
pub fn apply(h: &[f64; 9], [x, y]: [f64; 2]) -> [f64; 2] {
    let w = h[6] * x + h[7] * y + h[8];
    [
        (h[0] * x + h[1] * y + h[2]) / w,
        (h[3] * x + h[4] * y + h[5]) / w,
    ]
}
