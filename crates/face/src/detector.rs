//! BlazeFace, MediaPipe's face detector (Apache-2.0), in its two sizes: the short-range
//! "front" model (128×128 input, one face near the camera; run with the pure-Rust `rten`
//! runtime from ONNX) finds the customer's face, and the full-range model (192×192 input,
//! faces up to a few metres away; run by our own TensorFlow Lite interpreter,
//! [`ekyc_tflite`]) anyone further back, for the selfie screen and the engine's check
//! ([`FaceDetector::detect_thorough`]); the liveness challenge's frames need only the
//! first ([`FaceDetector::detect`]).
//! `./fetch-models` fetches both (not committed; provenance and licences in
//! `assets/models/README.md`).
//!
//! Both look at a square picture and, for each anchor (short range: a 16×16 grid with 2
//! anchors per cell and an 8×8 grid with 6; full range: a 48×48 grid with 1), give a score
//! and a box with six landmarks as offsets from the anchor. The frame is letterboxed into
//! that square (its aspect kept, the rest grey), anchors above the score threshold are
//! kept, and overlapping ones are merged into one face by a score-weighted average, as
//! MediaPipe does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;
use rten::{Model, RunOptions, ThreadPool};
use rten_tensor::prelude::*;
use rten_tensor::{NdTensor, Tensor};

use ekyc_tflite::TfliteModel;

/// The file name `./fetch-models` gives the short-range model.
pub const FACE_MODEL_FILE: &str = "face_detection_front_128x128.onnx";
/// The full-range model's file, in `mediapipe/` below a model root.
pub const FULL_RANGE_MODEL_FILE: &str = "face_detection_full_range_sparse.tflite";

/// The short-range model's input side, in pixels.
const INPUT_SIDE: usize = 128;
/// The full-range model's input side, in pixels.
const FULL_RANGE_SIDE: usize = 192;
/// The full-range model's anchors: a 48×48 grid (stride 4), one per cell.
const FULL_RANGE_CELLS: usize = 48;
/// Anchors whose boxes overlap more than this (intersection over union) are one face.
const MERGE_OVERLAP: f32 = 0.3;

/// Why faces cannot be looked for.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// No model file where the app looks (`./fetch-models` puts it there).
    #[error("the face detector model is not installed (looked in: {})", display_paths(.0))]
    Missing(Vec<PathBuf>),
    /// The file is there but is not the expected model.
    #[error("the face detector model {path} cannot be loaded: {reason}")]
    Load {
        /// The model file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The model failed on a picture (should not happen with a good model file).
    #[error("face detection failed: {0}")]
    Run(String),
}

impl From<ekyc_tflite::TfliteError> for DetectorError {
    fn from(error: ekyc_tflite::TfliteError) -> Self {
        Self::Run(error.to_string())
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    shown.join(", ")
}

/// A point in the picture's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Across, in pixels.
    pub x: f32,
    /// Down, in pixels.
    pub y: f32,
}

/// One face found in a picture, in that picture's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Left, top, width, height.
    pub left: f32,
    /// The top edge, in pixels.
    pub top: f32,
    /// The width, in pixels.
    pub width: f32,
    /// The height, in pixels.
    pub height: f32,
    /// The model's confidence, 0–1.
    pub score: f32,
    /// BlazeFace's six landmarks, in its order: the person's right eye, left eye, nose
    /// tip, mouth centre, right ear, left ear (the person's right is the picture's left).
    pub landmarks: [Point; 6],
}

impl Face {
    /// The right eye (the person's right: on the left of the picture).
    pub fn right_eye(&self) -> Point {
        self.landmarks[0]
    }

    /// The left eye (on the right of the picture).
    pub fn left_eye(&self) -> Point {
        self.landmarks[1]
    }

    /// The box's centre.
    pub fn centre(&self) -> Point {
        Point {
            x: self.left + self.width / 2.0,
            y: self.top + self.height / 2.0,
        }
    }

    /// Whether two boxes (perhaps from the two models, which box a face differently)
    /// are one face: they overlap, or the centre of either is inside the other.
    fn is_same_face(&self, other: &Face) -> bool {
        let inside = |point: Point, face: &Face| {
            (face.left..face.left + face.width).contains(&point.x)
                && (face.top..face.top + face.height).contains(&point.y)
        };
        self.overlap(other) > MERGE_OVERLAP
            || inside(self.centre(), other)
            || inside(other.centre(), self)
    }

    fn overlap(&self, other: &Face) -> f32 {
        let left = self.left.max(other.left);
        let top = self.top.max(other.top);
        let right = (self.left + self.width).min(other.left + other.width);
        let bottom = (self.top + self.height).min(other.top + other.height);
        let inner = (right - left).max(0.0) * (bottom - top).max(0.0);
        let union = self.width * self.height + other.width * other.height - inner;
        if union <= 0.0 {
            0.0
        } else {
            inner / union
        }
    }
}

/// Where the app looks for the model: `blazeface/` under each of [`super::model_roots`].
pub fn model_search_paths() -> Vec<PathBuf> {
    let relative = Path::new("blazeface").join(FACE_MODEL_FILE);
    super::model_roots()
        .into_iter()
        .map(|root| root.join(&relative))
        .collect()
}

/// The first of [`model_search_paths`] that exists.
pub fn default_model_path() -> Result<PathBuf, DetectorError> {
    let paths = model_search_paths();
    paths
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or(DetectorError::Missing(paths))
}

/// Where the full-range model is looked for: `mediapipe/` under each model root.
pub fn full_range_search_paths() -> Vec<PathBuf> {
    super::model_roots()
        .into_iter()
        .map(|root| root.join("mediapipe").join(FULL_RANGE_MODEL_FILE))
        .collect()
}

/// The loaded models. Each runs on one thread of its own, so a detection never takes the
/// core the UI draws on, and the figures in the README are for one core.
pub struct FaceDetector {
    model: Model,
    threads: Arc<ThreadPool>,
    /// The full-range model, for [`detect_thorough`](Self::detect_thorough).
    full_range: Arc<TfliteModel>,
    /// Anchors scoring below this are not faces (0–1).
    pub min_score: f32,
    /// The same for the full-range model: 0.5, MediaPipe's own default for its face
    /// detection (its graph's filter says 0.6: on the face-count bench that found 98 of
    /// the 114 second faces of 8–20 % of the height, 0.5 finds 106, with no phantom face
    /// either way).
    pub min_full_range_score: f32,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FaceDetector")
            .field("min_score", &self.min_score)
            .finish_non_exhaustive()
    }
}

impl FaceDetector {
    /// Loads the short-range model from `path`, or from [`default_model_path`] when
    /// `None`, and the full-range model from the first of [`full_range_search_paths`].
    pub fn load(path: Option<&Path>) -> Result<Self, DetectorError> {
        let path = match path {
            Some(path) if path.is_file() => path.to_path_buf(),
            Some(path) => return Err(DetectorError::Missing(vec![path.to_path_buf()])),
            None => default_model_path()?,
        };
        let model = Model::load_file(&path).map_err(|error| DetectorError::Load {
            path: path.clone(),
            reason: error.to_string(),
        })?;
        let input_fits = model.input_ids().len() == 1 && model.output_ids().len() == 4;
        if !input_fits {
            return Err(DetectorError::Load {
                path,
                reason: "not the BlazeFace front model (one input, four outputs)".into(),
            });
        }
        let full_paths = full_range_search_paths();
        let full_path = full_paths
            .iter()
            .find(|path| path.is_file())
            .ok_or_else(|| DetectorError::Missing(full_paths.clone()))?;
        let full_range = TfliteModel::shared(full_path).map_err(|error| DetectorError::Load {
            path: full_path.clone(),
            reason: error.to_string(),
        })?;
        if full_range.input_shapes() != [vec![1, FULL_RANGE_SIDE, FULL_RANGE_SIDE, 3]]
            || full_range.output_names().len() != 2
        {
            return Err(DetectorError::Load {
                path: full_path.clone(),
                reason: "not BlazeFace's full-range model (192×192 in, two outputs)".into(),
            });
        }
        Ok(Self {
            model,
            threads: Arc::new(ThreadPool::with_num_threads(1)),
            full_range,
            min_score: 0.75,
            min_full_range_score: 0.5,
        })
    }

    /// Every face in `image`, the most confident first, in one pass over the whole
    /// picture: faces down to about a fifth of the picture's longer side (enough for a
    /// selfie preview, 30 times a second).
    pub fn detect(&self, image: &RgbImage) -> Result<Vec<Face>, DetectorError> {
        if image.width() == 0 || image.height() == 0 {
            return Ok(Vec::new());
        }
        self.detect_in(image, 0, 0)
    }

    /// Every face in a selfie (the selfie screen's preview, the engine's selfie and card
    /// checks), down to about a tenth of the picture's height: the short-range pass of
    /// [`detect`](Self::detect), whose boxes are kept, then the full-range model over
    /// overlapping squares of the picture's shorter side (the whole picture when it is
    /// nearly square), so that a second person further back is found too. About 29 ms
    /// on 1280×720 on one core, against 3–5 ms for [`detect`](Self::detect).
    pub fn detect_thorough(&self, image: &RgbImage) -> Result<Vec<Face>, DetectorError> {
        let mut faces = self.detect(image)?;
        let (width, height) = (image.width(), image.height());
        let side = width.min(height);
        let mut far = Vec::new();
        if side < 64 || width.max(height) - side < side / 4 {
            far.extend(self.detect_far_in(image, 0, 0)?);
        } else {
            // Squares along the longer side, each overlapping the next by half.
            let long = width.max(height);
            let steps = (2 * long).div_ceil(side) - 1;
            for step in 0..steps {
                let offset =
                    ((long - side) as u64 * u64::from(step) / u64::from(steps - 1).max(1)) as u32;
                let (left, top) = if width >= height {
                    (offset, 0)
                } else {
                    (0, offset)
                };
                let square = image::imageops::crop_imm(image, left, top, side, side).to_image();
                far.extend(self.detect_far_in(&square, left, top)?);
            }
        }
        // The short-range model's box of a face is kept (the face match is tuned to it);
        // the full range adds the faces it did not find.
        let near = faces.len();
        for face in merge_overlapping(far) {
            if !faces[..near].iter().any(|known| known.is_same_face(&face)) {
                faces.push(face);
            }
        }
        Ok(faces)
    }

    /// Faces found by the full-range model in `image`, moved by (`left`, `top`).
    fn detect_far_in(
        &self,
        image: &RgbImage,
        left: u32,
        top: u32,
    ) -> Result<Vec<Face>, DetectorError> {
        let (input, letterbox) = letterbox(image, FULL_RANGE_SIDE);
        let outputs = self.full_range.run(&[&input])?;
        let anchors = FULL_RANGE_CELLS * FULL_RANGE_CELLS;
        let (Some(boxes), Some(scores)) = (
            outputs.iter().find(|output| output.len() == 16 * anchors),
            outputs.iter().find(|output| output.len() == anchors),
        ) else {
            return Err(DetectorError::Run(
                "the full-range model gave no boxes and scores".into(),
            ));
        };
        let mut candidates = Vec::new();
        decode_layer(
            Anchors {
                side: FULL_RANGE_SIDE,
                cells: FULL_RANGE_CELLS,
                per_cell: 1,
            },
            scores,
            boxes,
            self.min_full_range_score,
            &mut candidates,
        );
        Ok(place(merge_overlapping(candidates), &letterbox, left, top))
    }

    /// Faces in `image`, moved by (`left`, `top`) into a larger picture's pixels.
    fn detect_in(&self, image: &RgbImage, left: u32, top: u32) -> Result<Vec<Face>, DetectorError> {
        let (input, letterbox) = letterbox(image, INPUT_SIDE);
        let input = NdTensor::from_data([1, INPUT_SIDE, INPUT_SIDE, 3], input);
        let options = RunOptions::default().with_thread_pool(Some(self.threads.clone()));
        let input_id = self.model.input_ids()[0];
        let names = ["Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"];
        let mut outputs = [input_id; 4];
        for (slot, name) in outputs.iter_mut().zip(names) {
            *slot = self
                .model
                .node_id(name)
                .map_err(|error| DetectorError::Run(error.to_string()))?;
        }
        let values = self
            .model
            .run_n(
                vec![(input_id, input.view().into())],
                outputs,
                Some(options),
            )
            .map_err(|error| DetectorError::Run(error.to_string()))?;
        let [scores_16, scores_8, boxes_16, boxes_8] = values.map(|value| {
            Tensor::<f32>::try_from(value)
                .map(|tensor| tensor.to_vec())
                .map_err(|error| DetectorError::Run(error.to_string()))
        });
        let mut candidates = Vec::new();
        let layer = |cells, per_cell| Anchors {
            side: INPUT_SIDE,
            cells,
            per_cell,
        };
        decode_layer(
            layer(16, 2),
            &scores_16?,
            &boxes_16?,
            self.min_score,
            &mut candidates,
        );
        decode_layer(
            layer(8, 6),
            &scores_8?,
            &boxes_8?,
            self.min_score,
            &mut candidates,
        );
        Ok(place(merge_overlapping(candidates), &letterbox, left, top))
    }
}

/// Faces in a model's square, in the pixels of the picture it was cut from at (`left`,
/// `top`).
fn place(faces: Vec<Face>, letterbox: &Letterbox, left: u32, top: u32) -> Vec<Face> {
    let (left, top) = (left as f32, top as f32);
    faces
        .into_iter()
        .map(|face| {
            let mut face = letterbox.to_image(face);
            face.left += left;
            face.top += top;
            for landmark in &mut face.landmarks {
                landmark.x += left;
                landmark.y += top;
            }
            face
        })
        .collect()
}

/// How the frame sits inside the model's square: scale and offset in model pixels.
struct Letterbox {
    side: usize,
    scale: f32,
    left: f32,
    top: f32,
}

impl Letterbox {
    /// A face in the square's 0–1 coordinates, back in the frame's pixels.
    fn to_image(&self, face: Face) -> Face {
        let side = self.side as f32;
        let point = |x: f32, y: f32| Point {
            x: (x * side - self.left) / self.scale,
            y: (y * side - self.top) / self.scale,
        };
        let corner = point(face.left, face.top);
        Face {
            left: corner.x,
            top: corner.y,
            width: face.width * side / self.scale,
            height: face.height * side / self.scale,
            score: face.score,
            landmarks: face.landmarks.map(|landmark| point(landmark.x, landmark.y)),
        }
    }
}

/// The frame shrunk into a `side`×`side` square (box average, aspect kept, grey bars),
/// as a model's input: NHWC, values in −1…1.
fn letterbox(image: &RgbImage, side: usize) -> (Vec<f32>, Letterbox) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let scale = side as f32 / width.max(height) as f32;
    let inner_width = ((width as f32 * scale).round() as usize).clamp(1, side);
    let inner_height = ((height as f32 * scale).round() as usize).clamp(1, side);
    let left = (side - inner_width) / 2;
    let top = (side - inner_height) / 2;
    let mut input = vec![0.0; side * side * 3];
    let raw = image.as_raw();
    for out_y in 0..inner_height {
        let y0 = out_y * height / inner_height;
        let y1 = ((out_y + 1) * height / inner_height).max(y0 + 1);
        for out_x in 0..inner_width {
            let x0 = out_x * width / inner_width;
            let x1 = ((out_x + 1) * width / inner_width).max(x0 + 1);
            let mut sum = [0u32; 3];
            for y in y0..y1 {
                let row = &raw[(y * width + x0) * 3..(y * width + x1) * 3];
                for pixel in row.chunks_exact(3) {
                    sum[0] += u32::from(pixel[0]);
                    sum[1] += u32::from(pixel[1]);
                    sum[2] += u32::from(pixel[2]);
                }
            }
            let count = ((y1 - y0) * (x1 - x0)) as f32;
            let at = ((top + out_y) * side + left + out_x) * 3;
            for channel in 0..3 {
                input[at + channel] = sum[channel] as f32 / count / 127.5 - 1.0;
            }
        }
    }
    let letterbox = Letterbox {
        side,
        scale: inner_width as f32 / width as f32,
        left: left as f32,
        top: top as f32,
    };
    (input, letterbox)
}

/// One output layer's anchors: a `cells`×`cells` grid over a `side`-pixel square,
/// `per_cell` anchors in each cell.
#[derive(Debug, Clone, Copy)]
struct Anchors {
    side: usize,
    cells: usize,
    per_cell: usize,
}

/// The anchors of one output layer that score above `min_score`, in the square's 0–1
/// coordinates.
fn decode_layer(
    Anchors {
        side,
        cells,
        per_cell,
    }: Anchors,
    scores: &[f32],
    boxes: &[f32],
    min_score: f32,
    out: &mut Vec<Face>,
) {
    let side = side as f32;
    for (index, raw_score) in scores.iter().enumerate() {
        let score = 1.0 / (1.0 + (-raw_score.clamp(-80.0, 80.0)).exp());
        if score < min_score {
            continue;
        }
        let cell = index / per_cell;
        let anchor_x = ((cell % cells) as f32 + 0.5) / cells as f32;
        let anchor_y = ((cell / cells) as f32 + 0.5) / cells as f32;
        let Some(values) = boxes.get(index * 16..index * 16 + 16) else {
            return;
        };
        let centre_x = anchor_x + values[0] / side;
        let centre_y = anchor_y + values[1] / side;
        let (width, height) = (values[2] / side, values[3] / side);
        let mut landmarks = [Point { x: 0.0, y: 0.0 }; 6];
        for (number, landmark) in landmarks.iter_mut().enumerate() {
            landmark.x = anchor_x + values[4 + number * 2] / side;
            landmark.y = anchor_y + values[5 + number * 2] / side;
        }
        out.push(Face {
            left: centre_x - width / 2.0,
            top: centre_y - height / 2.0,
            width,
            height,
            score,
            landmarks,
        });
    }
}

/// Groups anchors that overlap the most confident remaining one and averages each group,
/// weighted by score (MediaPipe's "weighted non-maximum suppression").
fn merge_overlapping(mut candidates: Vec<Face>) -> Vec<Face> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut faces = Vec::new();
    while let Some(best) = candidates.first().cloned() {
        let (group, rest): (Vec<Face>, Vec<Face>) = candidates
            .into_iter()
            .partition(|candidate| best.overlap(candidate) > MERGE_OVERLAP);
        candidates = rest;
        let total: f32 = group.iter().map(|face| face.score).sum();
        let weighted = |value: &dyn Fn(&Face) -> f32| {
            group
                .iter()
                .map(|face| value(face) * face.score)
                .sum::<f32>()
                / total
        };
        let mut merged = Face {
            left: weighted(&|face| face.left),
            top: weighted(&|face| face.top),
            width: weighted(&|face| face.width),
            height: weighted(&|face| face.height),
            score: best.score,
            landmarks: best.landmarks,
        };
        for (number, landmark) in merged.landmarks.iter_mut().enumerate() {
            landmark.x = weighted(&|face| face.landmarks[number].x);
            landmark.y = weighted(&|face| face.landmarks[number].y);
        }
        faces.push(merged);
    }
    faces
}
