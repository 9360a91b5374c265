//! MediaPipe's face mesh and iris models on a camera frame, as MediaPipe's own graphs
//! prepare their inputs (read, not copied, from its `face_detection_front_detection_to_roi`,
//! `face_landmark_cpu`, `iris_landmark_left_and_right_from_face_landmarks_cpu` and
//! `iris_landmark_cpu` graphs):
//!
//! - the face's region: the detector's box, turned so that the line from the right eye to
//!   the left is level, made square on its longer side and enlarged 1.5 times; sampled
//!   into 192×192 (bilinear), pixels / 255;
//! - each eye's region: centred between the eye's two corners (mesh points 33 and 133,
//!   362 and 263), turned along them, 2.3 times their distance wide; sampled into 64×64,
//!   the second eye mirrored (the model knows one eye only);
//! - the outputs mapped back into the frame's pixels.
//!
//! Models: `face_landmark.tflite` and `iris_landmark.tflite`, run by [`TfliteModel`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;

use super::canonical::{CanonicalFace, CANONICAL_FACE_FILE};
use super::Face;
use ekyc_tflite::{TfliteError, TfliteModel};

/// The face mesh model's file, in `mediapipe/` below a model root.
pub const MESH_MODEL_FILE: &str = "face_landmark.tflite";
/// The iris model's file, beside it.
pub const IRIS_MODEL_FILE: &str = "iris_landmark.tflite";

const FACE_INPUT: usize = 192;
const EYE_INPUT: usize = 64;
/// The mesh points at the corners of each eye, in the order MediaPipe's iris graph takes
/// them; the second eye is mirrored for the iris model.
const EYE_CORNERS: [[usize; 2]; 2] = [[33, 133], [362, 263]];
/// The points whose line is level in the region a face is followed in (MediaPipe's
/// `face_landmark_landmarks_to_roi`: one eye's outer and inner corner).
const TRACKING_LINE: [usize; 2] = [33, 133];

/// The models could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// No folder holds the models.
    #[error("the face mesh models are not installed (looked in {looked}); run ./fetch-models")]
    NotInstalled {
        /// The folders looked in.
        looked: String,
    },
    /// A model file is broken or not supported.
    #[error("{file}: {source}")]
    Model {
        /// The model file.
        file: PathBuf,
        /// Why.
        source: TfliteError,
    },
    /// The canonical face beside the models is missing or broken.
    #[error("{0}; run ./fetch-models")]
    Geometry(super::canonical::CanonicalFaceError),
    /// The frame gives nothing to work on.
    #[error("the face is not in the frame")]
    NoFace,
}

/// One eye as the iris model sees it, in the frame's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Eye {
    /// The iris: its centre first, then four points on its edge.
    pub iris: [[f32; 2]; 5],
    /// The eye's two corners (from the mesh), in the order of `EYE_CORNERS`.
    pub corners: [[f32; 2]; 2],
}

impl Eye {
    /// Where the iris sits between the corners: 0 at the first corner, 1 at the second,
    /// along the line between them; and across it, as a fraction of the corners'
    /// distance (positive downwards in the picture).
    pub fn iris_position(&self) -> [f32; 2] {
        let [a, b] = self.corners;
        let axis = [b[0] - a[0], b[1] - a[1]];
        let length_squared = axis[0] * axis[0] + axis[1] * axis[1];
        if length_squared <= f32::EPSILON {
            return [0.5, 0.0];
        }
        let offset = [self.iris[0][0] - a[0], self.iris[0][1] - a[1]];
        [
            (offset[0] * axis[0] + offset[1] * axis[1]) / length_squared,
            (offset[1] * axis[0] - offset[0] * axis[1]) / length_squared,
        ]
    }
}

/// The mesh of one face in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    /// 468 points, x and y in the frame's pixels, z (depth, negative towards the camera) in
    /// the same scale. The model's depth is its guess from one picture, also for a
    /// photograph: nothing here proves depth.
    pub points: Vec<[f32; 3]>,
    /// How sure the model is that a face fills its input, 0–1.
    pub presence: f32,
    /// The picture's left eye and right eye (the person's right and left).
    pub eyes: [Eye; 2],
}

impl Mesh {
    /// The box that holds all the points: left, top, right, bottom, in the frame's pixels.
    pub fn bounds(&self) -> [f32; 4] {
        let mut bounds = [
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ];
        for point in &self.points {
            bounds = [
                bounds[0].min(point[0]),
                bounds[1].min(point[1]),
                bounds[2].max(point[0]),
                bounds[3].max(point[1]),
            ];
        }
        bounds
    }
}

/// A square region of the frame, turned by `angle` (radians) about its centre.
#[derive(Debug, Clone, Copy)]
struct Region {
    centre: [f32; 2],
    side: f32,
    angle: f32,
}

impl Region {
    /// Where a point given in the region's `size`×`size` input pixels lies in the frame.
    /// The turn's sine and cosine are worked out once (per pixel, they were a third of the
    /// sampling's time).
    fn frame_positions(&self, size: usize) -> impl Fn(f32, f32) -> [f32; 2] {
        let (sin, cos) = self.angle.sin_cos();
        let (centre, side, size) = (self.centre, self.side, size as f32);
        move |x, y| {
            let (u, v) = ((x / size - 0.5) * side, (y / size - 0.5) * side);
            [centre[0] + u * cos - v * sin, centre[1] + u * sin + v * cos]
        }
    }

    /// The region sampled into `size`×`size` (bilinear, the edge repeated beyond the
    /// frame), mirrored left to right when `mirror`, as the model's input: RGB / 255.
    fn sample(&self, frame: &RgbImage, size: usize, mirror: bool) -> Vec<f32> {
        let mut input = Vec::with_capacity(size * size * 3);
        let (width, height) = (frame.width() as usize, frame.height() as usize);
        let pixels = frame.as_raw();
        let to_frame = self.frame_positions(size);
        for row in 0..size {
            for column in 0..size {
                let column = if mirror { size - 1 - column } else { column };
                let [x, y] = to_frame(column as f32 + 0.5, row as f32 + 0.5);
                let x = (x - 0.5).clamp(0.0, (width - 1) as f32);
                let y = (y - 0.5).clamp(0.0, (height - 1) as f32);
                // Not negative after the clamp: truncation is the floor.
                let (x0, y0) = (x as usize, y as usize);
                let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let at = |x: usize, y: usize| &pixels[(y * width + x) * 3..][..3];
                let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
                for channel in 0..3 {
                    let top = f32::from(a[channel]) * (1.0 - fx) + f32::from(b[channel]) * fx;
                    let bottom = f32::from(c[channel]) * (1.0 - fx) + f32::from(d[channel]) * fx;
                    input.push((top * (1.0 - fy) + bottom * fy) * (1.0 / 255.0));
                }
            }
        }
        input
    }
}

/// The face mesh and iris models, loaded once, and the canonical face their points
/// are numbered on.
pub struct FaceMesh {
    mesh: Arc<TfliteModel>,
    iris: Arc<TfliteModel>,
    canonical: Arc<CanonicalFace>,
}

impl std::fmt::Debug for FaceMesh {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("FaceMesh").finish_non_exhaustive()
    }
}

impl FaceMesh {
    /// The models from `folder`, or from `mediapipe/` below the first model root that has
    /// them ([`super::model_roots`]).
    pub fn load(folder: Option<&Path>) -> Result<Self, MeshError> {
        let folders: Vec<PathBuf> = match folder {
            Some(folder) => vec![folder.to_path_buf()],
            None => super::model_roots()
                .into_iter()
                .map(|root| root.join("mediapipe"))
                .collect(),
        };
        let Some(folder) = folders
            .iter()
            .find(|folder| folder.join(MESH_MODEL_FILE).is_file())
        else {
            return Err(MeshError::NotInstalled {
                looked: folders
                    .iter()
                    .map(|folder| folder.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let load = |file: &str| {
            let path = folder.join(file);
            TfliteModel::shared(&path).map_err(|source| MeshError::Model { file: path, source })
        };
        Ok(Self {
            mesh: load(MESH_MODEL_FILE)?,
            iris: load(IRIS_MODEL_FILE)?,
            canonical: Arc::new(
                CanonicalFace::read(&folder.join(CANONICAL_FACE_FILE))
                    .map_err(MeshError::Geometry)?,
            ),
        })
    }

    /// MediaPipe's canonical face, point for point as the mesh numbers them.
    pub fn canonical(&self) -> &CanonicalFace {
        &self.canonical
    }

    /// The mesh and irises of `face` (the detector's) in `frame`.
    pub fn landmarks(&self, frame: &RgbImage, face: &Face) -> Result<Mesh, MeshError> {
        let (right_eye, left_eye) = (face.right_eye(), face.left_eye());
        let centre = face.centre();
        self.mesh_in(
            frame,
            Region {
                centre: [centre.x, centre.y],
                side: face.width.max(face.height) * 1.5,
                angle: (left_eye.y - right_eye.y).atan2(left_eye.x - right_eye.x),
            },
        )
    }

    /// The mesh and irises of the face whose mesh in the frame before was `previous`, with
    /// no detector: the region is drawn around the previous points, as MediaPipe's
    /// `face_landmark_landmarks_to_roi` graph tracks a face from frame to frame (the box
    /// that holds all the points, turned along the eye's corners 33 and 133, square on its
    /// longer side, 1.5 times as large). When the face has left that region, the mesh's
    /// [`Mesh::presence`] says so.
    pub fn follow(&self, frame: &RgbImage, previous: &Mesh) -> Result<Mesh, MeshError> {
        let [left, top, right, bottom] = previous.bounds();
        let (a, b) = (
            previous
                .points
                .get(TRACKING_LINE[0])
                .ok_or(MeshError::NoFace)?,
            previous
                .points
                .get(TRACKING_LINE[1])
                .ok_or(MeshError::NoFace)?,
        );
        self.mesh_in(
            frame,
            Region {
                centre: [(left + right) / 2.0, (top + bottom) / 2.0],
                side: (right - left).max(bottom - top) * 1.5,
                angle: (b[1] - a[1]).atan2(b[0] - a[0]),
            },
        )
    }

    fn mesh_in(&self, frame: &RgbImage, region: Region) -> Result<Mesh, MeshError> {
        if frame.width() == 0 || frame.height() == 0 {
            return Err(MeshError::NoFace);
        }
        if !(region.side.is_finite()
            && region.side > 1.0
            && region.angle.is_finite()
            && region.centre.iter().all(|v| v.is_finite()))
        {
            return Err(MeshError::NoFace);
        }
        let outputs = self
            .mesh
            .run(&[&region.sample(frame, FACE_INPUT, false)])
            .map_err(|source| MeshError::Model {
                file: MESH_MODEL_FILE.into(),
                source,
            })?;
        let (raw, presence) = match outputs.as_slice() {
            [raw, presence, ..] if raw.len() == 468 * 3 && !presence.is_empty() => {
                (raw, presence[0])
            }
            _ => {
                return Err(MeshError::Model {
                    file: MESH_MODEL_FILE.into(),
                    source: TfliteError::Unsupported("unexpected outputs".into()),
                })
            }
        };
        let depth_scale = region.side / FACE_INPUT as f32;
        let to_frame = region.frame_positions(FACE_INPUT);
        let points: Vec<[f32; 3]> = raw
            .chunks_exact(3)
            .map(|p| {
                let [x, y] = to_frame(p[0], p[1]);
                [x, y, p[2] * depth_scale]
            })
            .collect();
        let eyes = [
            self.eye(frame, &points, EYE_CORNERS[0], false)?,
            self.eye(frame, &points, EYE_CORNERS[1], true)?,
        ];
        Ok(Mesh {
            points,
            presence: 1.0 / (1.0 + (-presence).exp()),
            eyes,
        })
    }

    fn eye(
        &self,
        frame: &RgbImage,
        points: &[[f32; 3]],
        [first, second]: [usize; 2],
        mirror: bool,
    ) -> Result<Eye, MeshError> {
        let (a, b) = (points[first], points[second]);
        let region = Region {
            centre: [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0],
            side: ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt() * 2.3,
            angle: (b[1] - a[1]).atan2(b[0] - a[0]),
        };
        let outputs = self
            .iris
            .run(&[&region.sample(frame, EYE_INPUT, mirror)])
            .map_err(|source| MeshError::Model {
                file: IRIS_MODEL_FILE.into(),
                source,
            })?;
        let iris = outputs
            .get(1)
            .filter(|iris| iris.len() == 15)
            .ok_or_else(|| MeshError::Model {
                file: IRIS_MODEL_FILE.into(),
                source: TfliteError::Unsupported("unexpected outputs".into()),
            })?;
        let mut points_out = [[0.0; 2]; 5];
        let to_frame = region.frame_positions(EYE_INPUT);
        for (out, p) in points_out.iter_mut().zip(iris.chunks_exact(3)) {
            let x = if mirror {
                EYE_INPUT as f32 - p[0]
            } else {
                p[0]
            };
            *out = to_frame(x, p[1]);
        }
        Ok(Eye {
            iris: points_out,
            corners: [[a[0], a[1]], [b[0], b[1]]],
        })
    }
}
