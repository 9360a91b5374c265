//! dlib's 5-point face landmark predictor (`shape_predictor_5_face_landmarks.dat`): an
//! ensemble of regression trees (Kazemi and Sullivan, 2014) run as a cascade. Each stage
//! reads the brightness of a few hundred pixels placed relative to the current guess of
//! the shape, and each tree of the stage compares pairs of them to pick a leaf whose
//! offset is added to the shape. Reimplemented from dlib's `shape_predictor.h` so that the
//! points are the ones dlib gives for the same box (the tests hold dlib's numbers).
//!
//! The five points are, in dlib's order: the outer and inner corner of the person's left
//! eye (right in the picture), the outer and inner corner of the other eye, and the bottom
//! of the nose.

use image::RgbImage;

use super::dlib_format::{Reader, Result};

/// A box in dlib's convention: inclusive pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaceBox {
    /// The left edge, in pixels.
    pub left: i64,
    /// The top edge, in pixels.
    pub top: i64,
    /// The right edge, in pixels.
    pub right: i64,
    /// The bottom edge, in pixels.
    pub bottom: i64,
}

/// A landmark, in pixels of the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    /// Across, in pixels.
    pub x: f64,
    /// Down, in pixels.
    pub y: f64,
}

/// Indices as `u32` and the leaves in one array per tree: the 5-point model has 209,580
/// leaves, and one allocation each (with `usize` indices) held 9 MB more than the values.
struct Split {
    first: u32,
    second: u32,
    threshold: f32,
}

struct Tree {
    splits: Vec<Split>,
    /// One shape offset per leaf, `2 × points` values each, one leaf after the other.
    leaves: Vec<f32>,
}

impl Tree {
    fn leaf(&self, pixels: &[f32]) -> &[f32] {
        let mut node = 0;
        while node < self.splits.len() {
            let split = &self.splits[node];
            node = if pixels[split.first as usize] - pixels[split.second as usize] > split.threshold
            {
                2 * node + 1
            } else {
                2 * node + 2
            };
        }
        let size = self.leaves.len() / (self.splits.len() + 1);
        let leaf = node - self.splits.len();
        &self.leaves[leaf * size..(leaf + 1) * size]
    }
}

struct Stage {
    trees: Vec<Tree>,
    /// For each sampled pixel: the landmark it hangs off, and its offset from it in the
    /// mean shape's coordinates.
    anchors: Vec<usize>,
    offsets: Vec<[f32; 2]>,
}

/// The loaded predictor.
pub struct ShapePredictor {
    /// The mean shape in box-relative coordinates (0–1), x and y interleaved.
    mean_shape: Vec<f32>,
    stages: Vec<Stage>,
}

impl std::fmt::Debug for ShapePredictor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ShapePredictor")
            .field("points", &self.points())
            .field("stages", &self.stages.len())
            .finish()
    }
}

impl ShapePredictor {
    /// Reads a predictor serialised by dlib (`shape_predictor` version 1).
    pub fn read(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(bytes);
        reader.version(&[1], "shape_predictor")?;
        let (rows, columns, mean_shape) = reader.matrix()?;
        if columns != 1 || rows % 2 != 0 || rows == 0 {
            return reader.error("a mean shape of x, y pairs");
        }
        let points = rows / 2;
        let forests = reader.vec(|reader| {
            reader.vec(|reader| {
                let splits = reader.vec(|reader| {
                    let (first, second) = (reader.count()?, reader.count()?);
                    let (Ok(first), Ok(second)) = (u32::try_from(first), u32::try_from(second))
                    else {
                        return reader.error("a pixel index");
                    };
                    Ok(Split {
                        first,
                        second,
                        threshold: reader.float32()?,
                    })
                })?;
                let leaves = reader.vec(|reader| {
                    let (rows, columns, values) = reader.matrix()?;
                    if rows != 2 * points || columns != 1 {
                        return reader.error("a leaf the size of the shape");
                    }
                    Ok(values)
                })?;
                if leaves.len() != splits.len() + 1 {
                    return reader.error("one more leaf than splits");
                }
                Ok(Tree {
                    splits,
                    leaves: leaves.concat(),
                })
            })
        })?;
        let anchors = reader.vec(|reader| reader.vec(Reader::count))?;
        let offsets =
            reader.vec(|reader| reader.vec(|reader| Ok([reader.float32()?, reader.float32()?])))?;
        if anchors.len() != forests.len() || offsets.len() != forests.len() {
            return reader.error("pixel anchors and offsets for every stage");
        }
        let mut stages = Vec::with_capacity(forests.len());
        for ((trees, anchors), offsets) in forests.into_iter().zip(anchors).zip(offsets) {
            let pixels = offsets.len();
            let consistent = anchors.len() == pixels
                && anchors.iter().all(|&anchor| anchor < points)
                && trees.iter().all(|tree| {
                    tree.splits.iter().all(|split| {
                        (split.first as usize) < pixels && (split.second as usize) < pixels
                    })
                });
            if !consistent {
                return reader.error("splits that read the stage's own pixels");
            }
            stages.push(Stage {
                trees,
                anchors,
                offsets,
            });
        }
        if !reader.at_end() {
            return reader.error("the end of the file");
        }
        Ok(Self { mean_shape, stages })
    }

    /// How many landmarks it places.
    pub fn points(&self) -> usize {
        self.mean_shape.len() / 2
    }

    /// The landmarks of the face in `face_box`, in image pixels (dlib rounds them to whole
    /// pixels; these are the values before that rounding).
    pub fn predict(&self, image: &RgbImage, face_box: FaceBox) -> Vec<Landmark> {
        let (width, height) = (i64::from(image.width()), i64::from(image.height()));
        let to_image = BoxTransform::new(face_box);
        let mut shape = self.mean_shape.clone();
        let mut pixels = Vec::new();
        for stage in &self.stages {
            // The similarity that carries the mean shape onto the current one, in f32 as
            // dlib has it, places the stage's pixels on this face.
            let [[a, b], [c, d]] = similarity_2x2(&self.mean_shape, &shape);
            pixels.clear();
            pixels.extend(
                stage
                    .anchors
                    .iter()
                    .zip(&stage.offsets)
                    .map(|(&anchor, offset)| {
                        let x = (a * offset[0] + b * offset[1]) + shape[2 * anchor];
                        let y = (c * offset[0] + d * offset[1]) + shape[2 * anchor + 1];
                        let (x, y) = to_image.apply(f64::from(x), f64::from(y));
                        let (x, y) = (round_half_up(x), round_half_up(y));
                        if (0..width).contains(&x) && (0..height).contains(&y) {
                            let pixel = image.get_pixel(x as u32, y as u32).0;
                            let sum =
                                u32::from(pixel[0]) + u32::from(pixel[1]) + u32::from(pixel[2]);
                            (sum / 3) as f32
                        } else {
                            0.0
                        }
                    }),
            );
            for tree in &stage.trees {
                for (value, delta) in shape.iter_mut().zip(tree.leaf(&pixels)) {
                    *value += delta;
                }
            }
        }
        shape
            .chunks_exact(2)
            .map(|point| {
                let (x, y) = to_image.apply(f64::from(point[0]), f64::from(point[1]));
                Landmark { x, y }
            })
            .collect()
    }
}

/// dlib's conversion of a floating point position to a pixel: `floor(v + 0.5)`.
fn round_half_up(value: f64) -> i64 {
    (value + 0.5).floor() as i64
}

/// The map from box-relative coordinates (0–1) to image pixels: (0,0) is the box's
/// top-left pixel, (1,1) its bottom-right one.
struct BoxTransform {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl BoxTransform {
    fn new(face_box: FaceBox) -> Self {
        Self {
            left: face_box.left as f64,
            top: face_box.top as f64,
            width: (face_box.right - face_box.left) as f64,
            height: (face_box.bottom - face_box.top) as f64,
        }
    }

    fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (self.left + self.width * x, self.top + self.height * y)
    }
}

/// The rotation-and-scale part of the least-squares similarity transform taking the
/// points of `from` onto those of `to` (Umeyama's method restricted to the plane, where it
/// has a closed form), as the f32 matrix dlib uses.
fn similarity_2x2(from: &[f32], to: &[f32]) -> [[f32; 2]; 2] {
    let count = (from.len() / 2) as f64;
    let mean = |shape: &[f32], axis: usize| {
        shape
            .iter()
            .skip(axis)
            .step_by(2)
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / count
    };
    let (from_x, from_y, to_x, to_y) = (mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1));
    let (mut dot, mut cross, mut spread) = (0.0, 0.0, 0.0);
    for (source, target) in from.chunks_exact(2).zip(to.chunks_exact(2)) {
        let (sx, sy) = (f64::from(source[0]) - from_x, f64::from(source[1]) - from_y);
        let (tx, ty) = (f64::from(target[0]) - to_x, f64::from(target[1]) - to_y);
        dot += sx * tx + sy * ty;
        cross += sx * ty - sy * tx;
        spread += sx * sx + sy * sy;
    }
    if spread == 0.0 {
        return [[1.0, 0.0], [0.0, 1.0]];
    }
    let (a, b) = (dot / spread, cross / spread);
    [[a as f32, -b as f32], [b as f32, a as f32]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_similarity_between_a_shape_and_its_rotated_scaled_copy_is_found() {
        let from = [0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        // Rotated 90° and doubled, then moved.
        let to: Vec<f32> = from
            .chunks_exact(2)
            .flat_map(|p| [-2.0 * p[1] + 5.0, 2.0 * p[0] - 3.0])
            .collect();
        let m = similarity_2x2(&from, &to);
        for (got, want) in m.iter().flatten().zip([0.0, -2.0, 2.0, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{m:?}");
        }
    }

    #[test]
    fn a_file_that_is_not_a_predictor_is_refused() {
        assert!(ShapePredictor::read(&[0x01, 0x02]).is_err());
        assert!(ShapePredictor::read(&[]).is_err());
        // Version 1, then a 1×1 matrix: an odd number of coordinates.
        assert!(ShapePredictor::read(&[
            0x01, 0x01, 0x81, 0x01, 0x81, 0x01, 0x01, 0x00, 0x01, 0x00
        ])
        .is_err());
    }
}
