//! A TensorFlow Lite model read and run in pure Rust, for MediaPipe's face and iris
//! landmark models and its full-range face detector: the FlatBuffers file read with every offset checked (a truncated or
//! foreign file is an error naming the byte, never a panic), and the operators those
//! graphs use: CONV_2D (im2col and `rten-gemm`, weights packed once at load),
//! DEPTHWISE_CONV_2D, PRELU, ADD (with broadcasting), MAX_POOL_2D, PAD, RESHAPE,
//! DEPTH_TO_SPACE, RESIZE_BILINEAR, and DENSIFY and DEQUANTIZE of sparse or float16
//! weights (done once, at load). Float32 only, batch 1, NHWC, as
//! TensorFlow Lite lays tensors out. The results are checked against Google's own
//! interpreter (LiteRT's reference kernels) in `tests/tflite.rs`.
//!
//! Running costs the arithmetic, little else: each run's tensors are written into the
//! memory of an earlier run's (fresh memory for every tensor made the kernel clear more
//! pages than the models multiplied), PRELU and ADD work in their input's memory when
//! nothing reads it after them, and PRELU selects rather than branches. The price: one
//! run's tensors stay allocated for each run made at once (the face mesh's: about 9 MB of
//! resident memory, measured; the iris model's: too little to show).
//!
//! Why not a crate: `tract-tflite` refuses these files (the float16 weights go through
//! DEQUANTIZE, and a broadcast ADD is unsupported), and converting them to ONNX needs
//! TensorFlow.
//!
//! It uses no other crate of ours; `ekyc-face` runs the models on it.
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use rten::ThreadPool;
use rten_gemm::{BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmOptions, PackedBMatrix};
use rten_tensor::NdTensorView;

/// A model that cannot be read or run.
#[derive(Debug, thiserror::Error)]
pub enum TfliteError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a TensorFlow Lite model, or one cut short.
    #[error("not a TensorFlow Lite model: byte {at}: {what}")]
    Format {
        /// The byte where it went wrong.
        at: usize,
        /// What was expected there.
        what: String,
    },
    /// A model this interpreter cannot run (an operator or type it does not know).
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// Inputs of the wrong number or size.
    #[error("wrong input: {0}")]
    Input(String),
}

/// The FlatBuffers file, read with every position checked.
#[derive(Clone, Copy)]
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8], TfliteError> {
        at.checked_add(len)
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| format_error(at, format!("{len} bytes past the end of the file")))
    }

    fn u8(&self, at: usize) -> Result<u8, TfliteError> {
        Ok(self.slice(at, 1)?[0])
    }

    fn u16(&self, at: usize) -> Result<u16, TfliteError> {
        let bytes = self.slice(at, 2)?;
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&self, at: usize) -> Result<u32, TfliteError> {
        let bytes = self.slice(at, 4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn i32(&self, at: usize) -> Result<i32, TfliteError> {
        Ok(self.u32(at)? as i32)
    }

    /// The position an unsigned offset stored at `at` points to.
    fn follow(&self, at: usize) -> Result<usize, TfliteError> {
        let offset = self.u32(at)? as usize;
        at.checked_add(offset)
            .filter(|target| *target < self.0.len())
            .ok_or_else(|| format_error(at, "an offset past the end of the file".into()))
    }

    fn table(&self, at: usize) -> Result<Table<'a>, TfliteError> {
        let vtable = (at as i64) - i64::from(self.i32(at)?);
        if vtable < 0 {
            return Err(format_error(
                at,
                "a table whose vtable is before the file".into(),
            ));
        }
        let vtable = vtable as usize;
        let vtable_len = self.u16(vtable)? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(format_error(
                vtable,
                format!("a vtable of {vtable_len} bytes"),
            ));
        }
        self.slice(vtable, vtable_len)?;
        Ok(Table {
            bytes: *self,
            at,
            vtable,
            fields: (vtable_len - 4) / 2,
        })
    }
}

/// One FlatBuffers table.
#[derive(Clone, Copy)]
struct Table<'a> {
    bytes: Bytes<'a>,
    at: usize,
    vtable: usize,
    fields: usize,
}

impl<'a> Table<'a> {
    /// Where field `index` is, if it is present.
    fn field(&self, index: usize) -> Result<Option<usize>, TfliteError> {
        if index >= self.fields {
            return Ok(None);
        }
        let offset = self.bytes.u16(self.vtable + 4 + 2 * index)? as usize;
        Ok((offset != 0).then_some(self.at + offset))
    }

    fn u8_or(&self, index: usize, default: u8) -> Result<u8, TfliteError> {
        self.field(index)?
            .map_or(Ok(default), |at| self.bytes.u8(at))
    }

    fn i32_or(&self, index: usize, default: i32) -> Result<i32, TfliteError> {
        self.field(index)?
            .map_or(Ok(default), |at| self.bytes.i32(at))
    }

    fn u32_or(&self, index: usize, default: u32) -> Result<u32, TfliteError> {
        self.field(index)?
            .map_or(Ok(default), |at| self.bytes.u32(at))
    }

    fn table(&self, index: usize) -> Result<Option<Table<'a>>, TfliteError> {
        match self.field(index)? {
            Some(at) => Ok(Some(self.bytes.table(self.bytes.follow(at)?)?)),
            None => Ok(None),
        }
    }

    /// A vector of `element_size`-byte elements: its first element's position and length.
    fn vector(&self, index: usize, element_size: usize) -> Result<(usize, usize), TfliteError> {
        let Some(at) = self.field(index)? else {
            return Ok((0, 0));
        };
        let start = self.bytes.follow(at)?;
        let len = self.bytes.u32(start)? as usize;
        let bytes = len
            .checked_mul(element_size)
            .ok_or_else(|| format_error(start, "a vector too long".into()))?;
        self.bytes.slice(start + 4, bytes)?;
        Ok((start + 4, len))
    }

    fn tables(&self, index: usize) -> Result<Vec<Table<'a>>, TfliteError> {
        let (start, len) = self.vector(index, 4)?;
        (0..len)
            .map(|i| {
                let at = start + 4 * i;
                self.bytes.table(self.bytes.follow(at)?)
            })
            .collect()
    }

    fn i32s(&self, index: usize) -> Result<Vec<i32>, TfliteError> {
        let (start, len) = self.vector(index, 4)?;
        (0..len).map(|i| self.bytes.i32(start + 4 * i)).collect()
    }

    /// A union's vector of indices (`SparseIndexVector`: 1 int32, 2 uint16, 3 uint8),
    /// its type in field `index` and its table in the next.
    fn indices(&self, index: usize) -> Result<Vec<usize>, TfliteError> {
        let kind = self.u8_or(index, 0)?;
        let Some(values) = self.table(index + 1)? else {
            return Err(unsupported("sparse weights without their indices"));
        };
        let size = match kind {
            1 => 4,
            2 => 2,
            3 => 1,
            other => return Err(unsupported(format!("sparse indices of type {other}"))),
        };
        let (start, len) = values.vector(0, size)?;
        (0..len)
            .map(|i| {
                let at = start + size * i;
                match size {
                    4 => usize::try_from(values.bytes.i32(at)?)
                        .map_err(|_| unsupported("a negative sparse index")),
                    2 => values.bytes.u16(at).map(usize::from),
                    _ => values.bytes.u8(at).map(usize::from),
                }
            })
            .collect()
    }

    fn bytes_field(&self, index: usize) -> Result<&'a [u8], TfliteError> {
        let (start, len) = self.vector(index, 1)?;
        self.bytes.slice(start, len)
    }

    fn string(&self, index: usize) -> Result<String, TfliteError> {
        Ok(String::from_utf8_lossy(self.bytes_field(index)?).into_owned())
    }
}

fn format_error(at: usize, what: String) -> TfliteError {
    TfliteError::Format { at, what }
}

fn unsupported(what: impl Into<String>) -> TfliteError {
    TfliteError::Unsupported(what.into())
}

/// TensorFlow Lite's builtin operator codes used here (`schema.fbs`, `BuiltinOperator`).
mod code {
    pub const ADD: i32 = 0;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEPTH_TO_SPACE: i32 = 5;
    pub const DEQUANTIZE: i32 = 6;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RESHAPE: i32 = 22;
    pub const RESIZE_BILINEAR: i32 = 23;
    pub const PAD: i32 = 34;
    pub const PRELU: i32 = 54;
    pub const DENSIFY: i32 = 124;
}

/// `TensorType` values used here.
const FLOAT32: u8 = 0;
const FLOAT16: u8 = 1;
const INT32: u8 = 2;

/// The activation fused into an operator.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    /// None.
    Linear,
    /// max(0, x).
    Relu,
    /// min(6, max(0, x)).
    Relu6,
}

impl Activation {
    fn read(value: u8) -> Result<Self, TfliteError> {
        match value {
            0 => Ok(Self::Linear),
            1 => Ok(Self::Relu),
            3 => Ok(Self::Relu6),
            other => Err(unsupported(format!("fused activation {other}"))),
        }
    }

    fn apply(self, values: &mut [f32]) {
        match self {
            Self::Linear => {}
            Self::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Self::Relu6 => values.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        }
    }
}

/// A window's placement: where the first one starts, before the input (SAME padding puts
/// the smaller half of the padding first), and its step.
#[derive(Debug, Clone, Copy)]
struct Window {
    size: usize,
    stride: usize,
    dilation: usize,
    /// Padding before the first input position.
    before: usize,
}

impl Window {
    /// `padding` is the schema's: 0 SAME, 1 VALID.
    fn new(
        padding: u8,
        size: usize,
        stride: usize,
        dilation: usize,
        input: usize,
        output: usize,
    ) -> Result<Self, TfliteError> {
        let effective = (size - 1) * dilation + 1;
        let before = match padding {
            0 => ((output - 1) * stride + effective).saturating_sub(input) / 2,
            1 => 0,
            other => return Err(unsupported(format!("padding {other}"))),
        };
        Ok(Self {
            size,
            stride,
            dilation,
            before,
        })
    }

    /// The input position of tap `tap` of window `index`, if inside the input.
    fn input(&self, index: usize, tap: usize, input: usize) -> Option<usize> {
        let position = (index * self.stride + tap * self.dilation) as isize - self.before as isize;
        (position >= 0 && (position as usize) < input).then_some(position as usize)
    }

    /// The windows (of `outputs`) whose tap `tap` falls inside an input of `input`
    /// positions: those whose [`Self::input`] is `Some`.
    fn inside(&self, tap: usize, input: usize, outputs: usize) -> std::ops::Range<usize> {
        let offset = tap * self.dilation;
        // index · stride + offset ≥ before, and < input + before.
        let first = self.before.saturating_sub(offset).div_ceil(self.stride);
        let end = (input + self.before)
            .saturating_sub(offset)
            .div_ceil(self.stride)
            .min(outputs);
        first.min(end)..end
    }
}

/// The row and column windows of an operator: `padding` as the schema's (0 SAME,
/// 1 VALID), then kernel size, stride and dilation as `[rows, columns]`.
fn windows(
    padding: u8,
    size: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    in_shape: [usize; 4],
    out_shape: [usize; 4],
) -> Result<(Window, Window), TfliteError> {
    Ok((
        Window::new(
            padding,
            size[0],
            stride[0],
            dilation[0],
            in_shape[1],
            out_shape[1],
        )?,
        Window::new(
            padding,
            size[1],
            stride[1],
            dilation[1],
            in_shape[2],
            out_shape[2],
        )?,
    ))
}

/// The most values one tensor may hold (256 MB of float32): far above the largest tensor
/// of the models run here (404,352 values, in the face mesh model), far below what a
/// damaged file's shape could make the interpreter allocate.
const MAX_TENSOR_VALUES: usize = 1 << 26;

/// Refuses a shape whose tensor would be larger than [`MAX_TENSOR_VALUES`].
fn check_size(shape: &[usize]) -> Result<(), TfliteError> {
    let values = shape
        .iter()
        .try_fold(1usize, |product, dimension| product.checked_mul(*dimension));
    match values {
        Some(values) if values <= MAX_TENSOR_VALUES => Ok(()),
        _ => Err(unsupported(format!(
            "a tensor of shape {shape:?}, larger than {MAX_TENSOR_VALUES} values"
        ))),
    }
}

/// A tensor's shape as NHWC with batch 1 (shorter shapes are padded in front with 1s).
fn nhwc(shape: &[usize]) -> Result<[usize; 4], TfliteError> {
    if shape.len() > 4 || shape.iter().product::<usize>() == 0 && !shape.is_empty() {
        return Err(unsupported(format!("a tensor of shape {shape:?}")));
    }
    let mut out = [1; 4];
    out[4 - shape.len()..].copy_from_slice(shape);
    Ok(out)
}

/// One operator, with its constants prepared at load.
enum Operator {
    Conv {
        input: usize,
        output: usize,
        /// The weights as the right-hand matrix `[kh·kw·in, out]`, packed.
        weights: PackedBMatrix<f32>,
        bias: Vec<f32>,
        rows: Window,
        columns: Window,
        in_shape: [usize; 4],
        out_shape: [usize; 4],
        activation: Activation,
    },
    Depthwise {
        input: usize,
        output: usize,
        /// `[kh, kw, channels]`.
        weights: Vec<f32>,
        bias: Vec<f32>,
        rows: Window,
        columns: Window,
        in_shape: [usize; 4],
        out_shape: [usize; 4],
        activation: Activation,
    },
    MaxPool {
        input: usize,
        output: usize,
        rows: Window,
        columns: Window,
        in_shape: [usize; 4],
        out_shape: [usize; 4],
        activation: Activation,
    },
    /// Element-wise with broadcasting: `Add` sums, `Prelu` is `x ≥ 0 ? x : alpha·x`.
    Binary {
        kind: BinaryKind,
        left: usize,
        right: usize,
        output: usize,
        left_shape: [usize; 4],
        right_shape: [usize; 4],
        out_shape: [usize; 4],
        activation: Activation,
    },
    Pad {
        input: usize,
        output: usize,
        /// Before and after, per NHWC dimension.
        padding: [[usize; 2]; 4],
        in_shape: [usize; 4],
        out_shape: [usize; 4],
    },
    /// The same values under another shape.
    Reshape { input: usize, output: usize },
    /// Each pixel's channels spread over a `block`×`block` square.
    DepthToSpace {
        input: usize,
        output: usize,
        block: usize,
        in_shape: [usize; 4],
    },
    /// A larger (or smaller) picture, each value between its four nearest inputs.
    ResizeBilinear {
        input: usize,
        output: usize,
        /// For each output row (column): the two input rows (columns) and the weight of
        /// the second.
        rows: Vec<(usize, usize, f32)>,
        columns: Vec<(usize, usize, f32)>,
        in_shape: [usize; 4],
        out_shape: [usize; 4],
    },
}

/// Where each of `out_size` outputs falls between the `in_size` inputs, as TensorFlow
/// Lite's RESIZE_BILINEAR places them.
fn resize_taps(
    in_size: usize,
    out_size: usize,
    align_corners: bool,
    half_pixel_centers: bool,
) -> Vec<(usize, usize, f32)> {
    let scale = if align_corners && out_size > 1 {
        (in_size as f32 - 1.0) / (out_size as f32 - 1.0)
    } else {
        in_size as f32 / out_size as f32
    };
    (0..out_size)
        .map(|out| {
            let position = if half_pixel_centers {
                ((out as f32 + 0.5) * scale - 0.5).max(0.0)
            } else {
                out as f32 * scale
            };
            let first = (position.floor() as usize).min(in_size - 1);
            let second = (first + 1).min(in_size - 1);
            (first, second, position - first as f32)
        })
        .collect()
}

/// A sparse constant's values (in storage order) laid out dense in `shape`, from its
/// `SparsityParameters`: each dimension dense or compressed (CSR), in the traversal order
/// given; blocked sparsity is not supported.
fn densify(values: &[f32], shape: &[usize], sparsity: Table<'_>) -> Result<Vec<f32>, TfliteError> {
    let order: Vec<usize> = sparsity
        .i32s(0)?
        .into_iter()
        .map(|axis| usize::try_from(axis).map_err(|_| unsupported("a negative axis")))
        .collect::<Result<_, _>>()?;
    if !sparsity.i32s(1)?.is_empty() {
        return Err(unsupported("blocked sparsity"));
    }
    let levels = sparsity.tables(2)?;
    let rank = shape.len();
    let mut seen = vec![false; rank];
    for axis in &order {
        if *axis >= rank || std::mem::replace(&mut seen[*axis], true) {
            return Err(unsupported(format!(
                "traversal order {order:?} for rank {rank}"
            )));
        }
    }
    if order.len() != rank || levels.len() != rank {
        return Err(unsupported(
            "a traversal order or metadata not covering every axis",
        ));
    }
    enum Level {
        Dense(usize),
        Compressed {
            segments: Vec<usize>,
            indices: Vec<usize>,
        },
    }
    let levels = levels
        .iter()
        .zip(&order)
        .map(|(level, axis)| match level.u8_or(0, 0)? {
            0 => {
                let size = usize::try_from(level.i32_or(1, 0)?)
                    .map_err(|_| unsupported("a negative dense size"))?;
                if size != shape[*axis] {
                    return Err(unsupported("a dense size that is not the axis's"));
                }
                Ok(Level::Dense(size))
            }
            1 => Ok(Level::Compressed {
                segments: level.indices(2)?,
                indices: level.indices(4)?,
            }),
            other => Err(unsupported(format!("dimension format {other}"))),
        })
        .collect::<Result<Vec<Level>, TfliteError>>()?;
    let mut strides = vec![1; rank];
    for axis in (0..rank.saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    let mut dense = vec![0.0; shape.iter().product()];
    // Depth-first over the levels: (level, position in that level's storage, offset in
    // the dense array so far).
    let mut stack = vec![(0usize, 0usize, 0usize)];
    let bad = || unsupported("sparse indices outside the tensor");
    while let Some((level, position, offset)) = stack.pop() {
        if level == rank {
            *dense.get_mut(offset).ok_or_else(bad)? = *values.get(position).ok_or_else(bad)?;
            continue;
        }
        let stride = strides[order[level]];
        match &levels[level] {
            Level::Dense(size) => {
                for index in 0..*size {
                    stack.push((level + 1, position * size + index, offset + index * stride));
                }
            }
            Level::Compressed { segments, indices } => {
                let start = *segments.get(position).ok_or_else(bad)?;
                let end = *segments.get(position + 1).ok_or_else(bad)?;
                for stored in start..end {
                    let index = *indices.get(stored).ok_or_else(bad)?;
                    if index >= shape[order[level]] {
                        return Err(bad());
                    }
                    stack.push((level + 1, stored, offset + index * stride));
                }
            }
        }
    }
    Ok(dense)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BinaryKind {
    Add,
    Prelu,
}

/// A TensorFlow Lite model ready to run.
pub struct TfliteModel {
    shapes: Vec<Vec<usize>>,
    names: Vec<String>,
    /// Constant tensors (weights, float16 ones dequantised), by tensor index.
    constants: Vec<Option<Vec<f32>>>,
    operators: Vec<Operator>,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    /// By tensor index, the operator (its number) that reads it last.
    last_reader: Vec<Option<usize>>,
    /// One thread: a frame's landmarks must not take the other core from the camera, the
    /// preview's analysis and the window.
    threads: ThreadPool,
    /// The tensors' memory of earlier runs, one set per run at once, written over by the
    /// next: fresh memory for every tensor of every run cost more than the arithmetic
    /// (the kernel clearing pages).
    scratch: Mutex<Vec<Scratch>>,
}

/// One run's tensors.
#[derive(Default)]
struct Scratch {
    /// By tensor index; a tensor's values are those of this run only where `written`.
    values: Vec<Vec<f32>>,
    written: Vec<bool>,
    /// A convolution's windows unrolled into rows.
    columns: Vec<f32>,
}

impl std::fmt::Debug for TfliteModel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TfliteModel")
            .field("operators", &self.operators.len())
            .field("inputs", &self.input_shapes())
            .finish_non_exhaustive()
    }
}

impl TfliteModel {
    /// Reads a `.tflite` file.
    pub fn load(path: &Path) -> Result<Self, TfliteError> {
        let bytes = std::fs::read(path).map_err(|source| TfliteError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }

    /// The model in `path`, read once per process while anything holds it: the engine, the
    /// capture screens and the demo camera run the same face models, and each copy held
    /// megabytes of weights and a thread.
    pub fn shared(path: &Path) -> Result<Arc<Self>, TfliteError> {
        static LOADED: Mutex<Vec<(PathBuf, Weak<TfliteModel>)>> = Mutex::new(Vec::new());
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let mut loaded = LOADED.lock().unwrap_or_else(|poison| poison.into_inner());
        loaded.retain(|(_, model)| model.strong_count() > 0);
        if let Some(model) = loaded
            .iter()
            .filter(|(path, _)| *path == key)
            .find_map(|(_, model)| model.upgrade())
        {
            return Ok(model);
        }
        let model = Arc::new(Self::load(path)?);
        loaded.push((key, Arc::downgrade(&model)));
        Ok(model)
    }

    /// Reads a model from its bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Self, TfliteError> {
        let bytes = Bytes(data);
        if bytes.slice(4, 4)? != b"TFL3" {
            return Err(format_error(4, "no TFL3 file identifier".into()));
        }
        let model = bytes.table(bytes.follow(0)?)?;
        let codes = model
            .tables(1)?
            .iter()
            .map(|opcode| {
                let deprecated = i32::from(opcode.u8_or(0, 0)? as i8);
                Ok(deprecated.max(opcode.i32_or(3, 0)?))
            })
            .collect::<Result<Vec<i32>, TfliteError>>()?;
        let subgraphs = model.tables(2)?;
        let [graph] = subgraphs.as_slice() else {
            return Err(unsupported(format!(
                "{} subgraphs (one expected)",
                subgraphs.len()
            )));
        };
        let buffers = model.tables(4)?;
        let tensors = graph.tables(0)?;
        let mut shapes = Vec::with_capacity(tensors.len());
        let mut names = Vec::with_capacity(tensors.len());
        let mut types = Vec::with_capacity(tensors.len());
        let mut data = Vec::with_capacity(tensors.len());
        let mut sparsity = Vec::with_capacity(tensors.len());
        for tensor in &tensors {
            sparsity.push(tensor.table(6)?);
            let shape = tensor
                .i32s(0)?
                .into_iter()
                .map(|dimension| {
                    usize::try_from(dimension)
                        .map_err(|_| unsupported(format!("a dimension of {dimension}")))
                })
                .collect::<Result<Vec<usize>, TfliteError>>()?;
            check_size(&shape)?;
            shapes.push(shape);
            types.push(tensor.u8_or(1, FLOAT32)?);
            names.push(tensor.string(3)?);
            let buffer = tensor.u32_or(2, 0)? as usize;
            let contents = match buffers.get(buffer) {
                Some(buffer) => buffer.bytes_field(0)?,
                None => return Err(unsupported(format!("buffer {buffer} does not exist"))),
            };
            data.push(contents);
        }
        let tensor_index = |index: i32| -> Result<usize, TfliteError> {
            usize::try_from(index)
                .ok()
                .filter(|index| *index < tensors.len())
                .ok_or_else(|| unsupported(format!("tensor {index} does not exist")))
        };
        let mut constants: Vec<Option<Vec<f32>>> = vec![None; tensors.len()];
        for (index, contents) in data.iter().enumerate() {
            if contents.is_empty() {
                continue;
            }
            let count: usize = shapes[index].iter().product();
            let floats = match types[index] {
                FLOAT32 => Some(
                    contents
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect::<Vec<f32>>(),
                ),
                FLOAT16 => Some(
                    contents
                        .chunks_exact(2)
                        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                        .collect(),
                ),
                _ => None,
            };
            constants[index] = match (floats, sparsity[index]) {
                // Sparse weights: the stored values are the non-zero ones, made dense here.
                (Some(values), Some(sparsity)) => {
                    Some(densify(&values, &shapes[index], sparsity).map_err(|error| {
                        unsupported(format!("sparse tensor {}: {error}", names[index]))
                    })?)
                }
                (Some(values), None) if values.len() == count => Some(values),
                // Integer constants (shapes, paddings) are read by their operators.
                (None, None) if types[index] == INT32 && contents.len() == 4 * count => None,
                _ => {
                    return Err(unsupported(format!(
                        "tensor {} of type {} with {} bytes for {count} values",
                        names[index],
                        types[index],
                        contents.len()
                    )))
                }
            };
        }
        let int_constant = |index: usize| -> Result<Vec<i32>, TfliteError> {
            if types[index] != INT32 || data[index].is_empty() {
                return Err(unsupported(format!(
                    "tensor {} is not a constant of integers",
                    names[index]
                )));
            }
            Ok(data[index]
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };

        let gemm = GemmExecutor::<f32>::default();
        let mut operators = Vec::new();
        for (number, operator) in graph.tables(3)?.iter().enumerate() {
            let opcode_index = operator.u32_or(0, 0)? as usize;
            let opcode = *codes
                .get(opcode_index)
                .ok_or_else(|| unsupported(format!("operator code {opcode_index}")))?;
            let inputs = operator.i32s(1)?;
            let outputs = operator.i32s(2)?;
            let options = operator.table(4)?;
            let input =
                |i: usize| -> Result<usize, TfliteError> {
                    tensor_index(*inputs.get(i).ok_or_else(|| {
                        unsupported(format!("operator {number} has no input {i}"))
                    })?)
                };
            let output = tensor_index(
                *outputs
                    .first()
                    .ok_or_else(|| unsupported(format!("operator {number} has no output")))?,
            )?;
            let option = |index: usize, default: i32| -> Result<i32, TfliteError> {
                options.map_or(Ok(default), |options| options.i32_or(index, default))
            };
            let option_u8 = |index: usize, default: u8| -> Result<u8, TfliteError> {
                options.map_or(Ok(default), |options| options.u8_or(index, default))
            };
            let positive = |value: i32, what: &str| -> Result<usize, TfliteError> {
                usize::try_from(value)
                    .ok()
                    .filter(|value| *value > 0)
                    .ok_or_else(|| unsupported(format!("operator {number}: {what} {value}")))
            };
            match opcode {
                code::DEQUANTIZE | code::DENSIFY => {
                    // Float16 or sparse weights: made dense float32 once, here (at reading).
                    let source = input(0)?;
                    let values = constants[source].clone().ok_or_else(|| {
                        unsupported(format!(
                            "operator {number}: DEQUANTIZE or DENSIFY of a non-constant"
                        ))
                    })?;
                    constants[output] = Some(values);
                }
                code::CONV_2D => {
                    let (source, weights, bias) = (input(0)?, input(1)?, input(2)?);
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let weight_shape = nhwc(&shapes[weights])?;
                    let [filters, kernel_rows, kernel_columns, channels] = weight_shape;
                    if channels != in_shape[3] || filters != out_shape[3] {
                        return Err(unsupported(format!(
                            "operator {number}: CONV_2D weights {weight_shape:?} for {in_shape:?} → {out_shape:?}"
                        )));
                    }
                    let weights = constant(&constants, weights, &names)?;
                    let depth = kernel_rows * kernel_columns * channels;
                    // `[filters, depth]` as stored; the right-hand matrix is its transpose.
                    let matrix = NdTensorView::from_data([filters, depth], weights.as_slice());
                    let packed = gemm.prepack_b(matrix.transposed());
                    let padding = option_u8(0, 0)?;
                    let (rows, columns) = windows(
                        padding,
                        [kernel_rows, kernel_columns],
                        [
                            positive(option(2, 1)?, "stride")?,
                            positive(option(1, 1)?, "stride")?,
                        ],
                        [
                            positive(option(5, 1)?, "dilation")?,
                            positive(option(4, 1)?, "dilation")?,
                        ],
                        in_shape,
                        out_shape,
                    )?;
                    operators.push(Operator::Conv {
                        input: source,
                        output,
                        weights: packed,
                        bias: bias_of(&constants, bias, filters, &names)?,
                        rows,
                        columns,
                        in_shape,
                        out_shape,
                        activation: Activation::read(option_u8(3, 0)?)?,
                    });
                }
                code::DEPTHWISE_CONV_2D => {
                    let (source, weights, bias) = (input(0)?, input(1)?, input(2)?);
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let [one, kernel_rows, kernel_columns, channels] = nhwc(&shapes[weights])?;
                    if one != 1 || channels != in_shape[3] || channels != out_shape[3] {
                        return Err(unsupported(format!(
                            "operator {number}: DEPTHWISE_CONV_2D with a depth multiplier"
                        )));
                    }
                    let padding = option_u8(0, 0)?;
                    let (rows, columns) = windows(
                        padding,
                        [kernel_rows, kernel_columns],
                        [
                            positive(option(2, 1)?, "stride")?,
                            positive(option(1, 1)?, "stride")?,
                        ],
                        [
                            positive(option(6, 1)?, "dilation")?,
                            positive(option(5, 1)?, "dilation")?,
                        ],
                        in_shape,
                        out_shape,
                    )?;
                    operators.push(Operator::Depthwise {
                        input: source,
                        output,
                        weights: constant(&constants, weights, &names)?,
                        bias: bias_of(&constants, bias, channels, &names)?,
                        rows,
                        columns,
                        in_shape,
                        out_shape,
                        activation: Activation::read(option_u8(4, 0)?)?,
                    });
                }
                code::MAX_POOL_2D => {
                    let source = input(0)?;
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let padding = option_u8(0, 0)?;
                    let (rows, columns) = windows(
                        padding,
                        [
                            positive(option(4, 1)?, "filter height")?,
                            positive(option(3, 1)?, "filter width")?,
                        ],
                        [
                            positive(option(2, 1)?, "stride")?,
                            positive(option(1, 1)?, "stride")?,
                        ],
                        [1, 1],
                        in_shape,
                        out_shape,
                    )?;
                    operators.push(Operator::MaxPool {
                        input: source,
                        output,
                        rows,
                        columns,
                        in_shape,
                        out_shape,
                        activation: Activation::read(option_u8(5, 0)?)?,
                    });
                }
                code::ADD | code::PRELU => {
                    let (left, right) = (input(0)?, input(1)?);
                    let (kind, activation) = if opcode == code::ADD {
                        (BinaryKind::Add, Activation::read(option_u8(0, 0)?)?)
                    } else {
                        (BinaryKind::Prelu, Activation::Linear)
                    };
                    let (left_shape, right_shape) = (nhwc(&shapes[left])?, nhwc(&shapes[right])?);
                    let out_shape = nhwc(&shapes[output])?;
                    for axis in 0..4 {
                        let fits = |size: usize| size == out_shape[axis] || size == 1;
                        if !fits(left_shape[axis]) || !fits(right_shape[axis]) {
                            return Err(unsupported(format!(
                                "operator {number}: shapes {left_shape:?} and {right_shape:?} do not broadcast to {out_shape:?}"
                            )));
                        }
                    }
                    operators.push(Operator::Binary {
                        kind,
                        left,
                        right,
                        output,
                        left_shape,
                        right_shape,
                        out_shape,
                        activation,
                    });
                }
                code::PAD => {
                    let source = input(0)?;
                    let amounts = int_constant(input(1)?)?;
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let rank = shapes[source].len();
                    if amounts.len() != 2 * rank || amounts.iter().any(|amount| *amount < 0) {
                        return Err(unsupported(format!("operator {number}: PAD amounts")));
                    }
                    let mut padding = [[0; 2]; 4];
                    for axis in 0..rank {
                        padding[4 - rank + axis] =
                            [amounts[2 * axis] as usize, amounts[2 * axis + 1] as usize];
                    }
                    operators.push(Operator::Pad {
                        input: source,
                        output,
                        padding,
                        in_shape,
                        out_shape,
                    });
                }
                code::DEPTH_TO_SPACE => {
                    let source = input(0)?;
                    let block = positive(option(0, 0)?, "block size")?;
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let fits = out_shape[1] == in_shape[1] * block
                        && out_shape[2] == in_shape[2] * block
                        && out_shape[3] * block * block == in_shape[3];
                    if !fits {
                        return Err(unsupported(format!(
                            "operator {number}: DEPTH_TO_SPACE {in_shape:?} → {out_shape:?}"
                        )));
                    }
                    operators.push(Operator::DepthToSpace {
                        input: source,
                        output,
                        block,
                        in_shape,
                    });
                }
                code::RESIZE_BILINEAR => {
                    let source = input(0)?;
                    let in_shape = nhwc(&shapes[source])?;
                    let out_shape = nhwc(&shapes[output])?;
                    let size = int_constant(input(1)?)?;
                    if size != [out_shape[1] as i32, out_shape[2] as i32]
                        || in_shape[3] != out_shape[3]
                    {
                        return Err(unsupported(format!(
                            "operator {number}: RESIZE_BILINEAR to {size:?} for {out_shape:?}"
                        )));
                    }
                    let align_corners = option_u8(2, 0)? != 0;
                    let half_pixel_centers = option_u8(3, 0)? != 0;
                    operators.push(Operator::ResizeBilinear {
                        input: source,
                        output,
                        rows: resize_taps(
                            in_shape[1],
                            out_shape[1],
                            align_corners,
                            half_pixel_centers,
                        ),
                        columns: resize_taps(
                            in_shape[2],
                            out_shape[2],
                            align_corners,
                            half_pixel_centers,
                        ),
                        in_shape,
                        out_shape,
                    });
                }
                code::RESHAPE => {
                    let source = input(0)?;
                    let count = |index: usize| shapes[index].iter().product::<usize>();
                    if count(source) != count(output) {
                        return Err(unsupported(format!("operator {number}: RESHAPE sizes")));
                    }
                    operators.push(Operator::Reshape {
                        input: source,
                        output,
                    });
                }
                other => {
                    return Err(unsupported(format!(
                        "operator {number}: builtin code {other} is not implemented"
                    )))
                }
            }
        }
        for operator in &operators {
            operator.check_shapes()?;
            if operator.reads().contains(&operator.output()) {
                return Err(unsupported("an operator reads its own output"));
            }
        }
        let outputs = graph
            .i32s(2)?
            .into_iter()
            .map(tensor_index)
            .collect::<Result<Vec<_>, _>>()?;
        // Only the constants read as they are when the model runs stay: the weights of
        // convolutions now live packed (or copied) in their operators, and a float16 or
        // sparse tensor's dense copy was made above; keeping both doubled the models' memory.
        let mut read_at_run = vec![false; constants.len()];
        for index in operators
            .iter()
            .flat_map(Operator::reads)
            .chain(outputs.iter().copied())
        {
            read_at_run[index] = true;
        }
        for (constant, read) in constants.iter_mut().zip(read_at_run) {
            if !read {
                *constant = None;
            }
        }
        let inputs = graph
            .i32s(1)?
            .into_iter()
            .map(tensor_index)
            .collect::<Result<Vec<_>, _>>()?;
        // The operator that reads each tensor last; the graph's outputs are read after all.
        let mut last_reader = vec![None; shapes.len()];
        for (number, operator) in operators.iter().enumerate() {
            for index in operator.reads() {
                last_reader[index] = Some(number);
            }
        }
        for &index in &outputs {
            last_reader[index] = Some(usize::MAX);
        }
        Ok(Self {
            shapes,
            names,
            constants,
            operators,
            inputs,
            outputs,
            last_reader,
            threads: ThreadPool::with_num_threads(1),
            scratch: Mutex::new(Vec::new()),
        })
    }

    /// The shape of each input, in order.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        self.inputs
            .iter()
            .map(|i| self.shapes[*i].clone())
            .collect()
    }

    /// The names of the outputs, in order.
    pub fn output_names(&self) -> Vec<&str> {
        self.outputs
            .iter()
            .map(|i| self.names[*i].as_str())
            .collect()
    }

    /// Runs the model on `inputs` (NHWC float32, one slice per input) and returns its
    /// outputs, in order. On one thread of its own.
    pub fn run(&self, inputs: &[&[f32]]) -> Result<Vec<Vec<f32>>, TfliteError> {
        self.threads.run(|| self.run_here(inputs))
    }

    fn run_here(&self, inputs: &[&[f32]]) -> Result<Vec<Vec<f32>>, TfliteError> {
        if inputs.len() != self.inputs.len() {
            return Err(TfliteError::Input(format!(
                "{} input(s) given, the model takes {}",
                inputs.len(),
                self.inputs.len()
            )));
        }
        let mut scratch = self
            .scratch
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default();
        scratch.values.resize_with(self.shapes.len(), Vec::new);
        scratch.written.clear();
        scratch.written.resize(self.shapes.len(), false);
        let outputs = self.run_with(inputs, &mut scratch);
        if let Ok(mut pool) = self.scratch.lock() {
            pool.push(scratch);
        }
        outputs
    }

    fn run_with(
        &self,
        inputs: &[&[f32]],
        scratch: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, TfliteError> {
        let Scratch {
            values,
            written,
            columns,
        } = scratch;
        for (index, given) in self.inputs.iter().zip(inputs) {
            let expected: usize = self.shapes[*index].iter().product();
            if given.len() != expected {
                return Err(TfliteError::Input(format!(
                    "{} values given for input {} of shape {:?}",
                    given.len(),
                    self.names[*index],
                    self.shapes[*index]
                )));
            }
            values[*index].clear();
            values[*index].extend_from_slice(given);
            written[*index] = true;
        }
        // Made per run (it is not `Send`); it picks the same kernel the weights were
        // packed for at load.
        let gemm = GemmExecutor::<f32>::default();
        for (number, operator) in self.operators.iter().enumerate() {
            let output = operator.output();
            // Out of the set while it is written (no operator reads its own output: checked
            // at load).
            let mut out = std::mem::take(&mut values[output]);
            out.clear();
            // An element-wise operator whose first input nobody reads after it works in
            // that input's memory (copying it was a tenth of a model's time); the input
            // keeps the output's memory for the next run.
            let in_place = operator
                .works_in_place()
                .filter(|&input| written[input] && self.last_reader[input] == Some(number));
            if let Some(input) = in_place {
                std::mem::swap(&mut out, &mut values[input]);
                written[input] = false;
            }
            let result = operator.run(
                self,
                &gemm,
                values,
                written,
                &mut out,
                in_place.is_some(),
                columns,
            );
            values[output] = out;
            result?;
            written[output] = true;
        }
        self.outputs
            .iter()
            .map(|&index| {
                self.value(values, written, index)
                    .map(<[f32]>::to_vec)
                    .map_err(|_| {
                        unsupported(format!("output {} is never written", self.names[index]))
                    })
            })
            .collect()
    }

    fn value<'a>(
        &'a self,
        values: &'a [Vec<f32>],
        written: &[bool],
        index: usize,
    ) -> Result<&'a [f32], TfliteError> {
        written[index]
            .then_some(values[index].as_slice())
            .or(self.constants[index].as_deref())
            .ok_or_else(|| {
                unsupported(format!(
                    "tensor {} is read before it is written",
                    self.names[index]
                ))
            })
    }
}

fn constant(
    constants: &[Option<Vec<f32>>],
    index: usize,
    names: &[String],
) -> Result<Vec<f32>, TfliteError> {
    constants[index]
        .clone()
        .ok_or_else(|| unsupported(format!("tensor {} is not a constant", names[index])))
}

fn bias_of(
    constants: &[Option<Vec<f32>>],
    index: usize,
    len: usize,
    names: &[String],
) -> Result<Vec<f32>, TfliteError> {
    let bias = constant(constants, index, names)?;
    if bias.len() != len {
        return Err(unsupported(format!(
            "bias {} has {} values, not {len}",
            names[index],
            bias.len()
        )));
    }
    Ok(bias)
}

impl Operator {
    /// The tensors it reads when it runs (a constant among them is kept for it).
    fn reads(&self) -> Vec<usize> {
        match self {
            Self::Binary { left, right, .. } => vec![*left, *right],
            Self::Conv { input, .. }
            | Self::Depthwise { input, .. }
            | Self::MaxPool { input, .. }
            | Self::Pad { input, .. }
            | Self::Reshape { input, .. }
            | Self::DepthToSpace { input, .. }
            | Self::ResizeBilinear { input, .. } => vec![*input],
        }
    }

    /// The shapes the operator relies on when it runs: batch 1, and padding that adds up.
    fn check_shapes(&self) -> Result<(), TfliteError> {
        let ok = match self {
            Self::Conv {
                in_shape,
                out_shape,
                ..
            }
            | Self::Depthwise {
                in_shape,
                out_shape,
                ..
            }
            | Self::MaxPool {
                in_shape,
                out_shape,
                ..
            } => in_shape[0] == 1 && out_shape[0] == 1,
            Self::Pad {
                padding,
                in_shape,
                out_shape,
                ..
            } => {
                padding[0] == [0, 0]
                    && (0..4).all(|axis| {
                        in_shape[axis] + padding[axis][0] + padding[axis][1] == out_shape[axis]
                    })
            }
            Self::Binary { .. }
            | Self::Reshape { .. }
            | Self::DepthToSpace { .. }
            | Self::ResizeBilinear { .. } => true,
        };
        if ok {
            Ok(())
        } else {
            Err(unsupported(
                "an operator's output shape does not follow from its input",
            ))
        }
    }

    /// The tensor the operator writes.
    fn output(&self) -> usize {
        match self {
            Self::Conv { output, .. }
            | Self::Depthwise { output, .. }
            | Self::MaxPool { output, .. }
            | Self::Binary { output, .. }
            | Self::Pad { output, .. }
            | Self::Reshape { output, .. }
            | Self::DepthToSpace { output, .. }
            | Self::ResizeBilinear { output, .. } => *output,
        }
    }

    /// The input whose values an element-wise operator can turn into its output where
    /// they lie: the first, when it has the output's shape and is not also the second.
    fn works_in_place(&self) -> Option<usize> {
        match self {
            Self::Binary {
                left,
                right,
                left_shape,
                out_shape,
                ..
            } => (left != right && left_shape == out_shape).then_some(*left),
            Self::Reshape { input, .. } => Some(*input),
            _ => None,
        }
    }

    /// Writes the operator's output into `out`: empty, its memory kept from earlier runs,
    /// or, `in_place`, holding the values of [`Self::works_in_place`]'s input.
    #[allow(clippy::too_many_arguments)] // the run's state, each part borrowed its own way
    fn run(
        &self,
        model: &TfliteModel,
        gemm: &GemmExecutor<f32>,
        values: &[Vec<f32>],
        written: &[bool],
        out: &mut Vec<f32>,
        in_place: bool,
        columns_buffer: &mut Vec<f32>,
    ) -> Result<(), TfliteError> {
        match self {
            Self::Conv {
                input,
                weights,
                bias,
                rows,
                columns,
                in_shape,
                out_shape,
                activation,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                let [_, in_rows, in_columns, channels] = *in_shape;
                let [_, out_rows, out_columns, filters] = *out_shape;
                let positions = out_rows * out_columns;
                let depth = rows.size * columns.size * channels;
                let pointwise = rows.size == 1
                    && columns.size == 1
                    && rows.stride == 1
                    && columns.stride == 1
                    && rows.before == 0
                    && columns.before == 0
                    && (in_rows, in_columns) == (out_rows, out_columns);
                let unrolled: &[f32] = if pointwise {
                    source
                } else {
                    // One row per output position: the window's taps, channels innermost
                    // (the weights' `[kh, kw, in]` order); zeros over the padding.
                    columns_buffer.clear();
                    columns_buffer.resize(positions * depth, 0.0);
                    for out_row in 0..out_rows {
                        for out_column in 0..out_columns {
                            let row = &mut columns_buffer
                                [(out_row * out_columns + out_column) * depth..][..depth];
                            for ky in 0..rows.size {
                                let Some(y) = rows.input(out_row, ky, in_rows) else {
                                    continue;
                                };
                                for kx in 0..columns.size {
                                    let Some(x) = columns.input(out_column, kx, in_columns) else {
                                        continue;
                                    };
                                    let from = (y * in_columns + x) * channels;
                                    let to = (ky * columns.size + kx) * channels;
                                    row[to..to + channels]
                                        .copy_from_slice(&source[from..from + channels]);
                                }
                            }
                        }
                    }
                    columns_buffer
                };
                out.resize(positions * filters, 0.0);
                gemm.gemm(
                    out,
                    GemmInputA::Unpacked(NdTensorView::from_data([positions, depth], unrolled)),
                    GemmInputB::Packed(weights),
                    GemmOptions {
                        bias: Some(BiasVector::Row(bias)),
                        ..GemmOptions::default()
                    },
                )
                .map_err(|error| unsupported(format!("matrix product: {error:?}")))?;
                activation.apply(out);
            }
            Self::Depthwise {
                input,
                weights,
                bias,
                rows,
                columns,
                in_shape,
                out_shape,
                activation,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                let [_, in_rows, in_columns, channels] = *in_shape;
                let [_, out_rows, out_columns, _] = *out_shape;
                out.reserve(out_rows * out_columns * channels);
                for _ in 0..out_rows * out_columns {
                    out.extend_from_slice(bias);
                }
                for (out_row, sums) in out.chunks_exact_mut(out_columns * channels).enumerate() {
                    // Tap by tap over the whole output row (each output's sum still adds
                    // its taps in the same order), the columns a tap falls outside the
                    // input skipped once rather than asked of every output.
                    for ky in 0..rows.size {
                        let Some(y) = rows.input(out_row, ky, in_rows) else {
                            continue;
                        };
                        let source_row =
                            &source[y * in_columns * channels..][..in_columns * channels];
                        for kx in 0..columns.size {
                            let taps = &weights[(ky * columns.size + kx) * channels..][..channels];
                            let inside = columns.inside(kx, in_columns, out_columns);
                            for out_column in inside {
                                let x = out_column * columns.stride + kx * columns.dilation
                                    - columns.before;
                                let pixel = &source_row[x * channels..][..channels];
                                let sum = &mut sums[out_column * channels..][..channels];
                                for ((sum, value), weight) in sum.iter_mut().zip(pixel).zip(taps) {
                                    *sum += value * weight;
                                }
                            }
                        }
                    }
                }
                activation.apply(out);
            }
            Self::MaxPool {
                input,
                rows,
                columns,
                in_shape,
                out_shape,
                activation,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                let [_, in_rows, in_columns, channels] = *in_shape;
                let [_, out_rows, out_columns, _] = *out_shape;
                out.resize(out_rows * out_columns * channels, f32::NEG_INFINITY);
                for out_row in 0..out_rows {
                    for out_column in 0..out_columns {
                        let best =
                            &mut out[(out_row * out_columns + out_column) * channels..][..channels];
                        for ky in 0..rows.size {
                            let Some(y) = rows.input(out_row, ky, in_rows) else {
                                continue;
                            };
                            for kx in 0..columns.size {
                                let Some(x) = columns.input(out_column, kx, in_columns) else {
                                    continue;
                                };
                                let pixel = &source[(y * in_columns + x) * channels..][..channels];
                                for (best, value) in best.iter_mut().zip(pixel) {
                                    *best = best.max(*value);
                                }
                            }
                        }
                    }
                }
                activation.apply(out);
            }
            Self::Binary {
                kind,
                left,
                right,
                left_shape,
                right_shape,
                out_shape,
                activation,
                ..
            } => {
                if !in_place {
                    broadcast_into(
                        out,
                        model.value(values, written, *left)?,
                        left_shape,
                        out_shape,
                    );
                }
                let b = model.value(values, written, *right)?;
                // One value per channel (PReLU's slopes, a bias) is repeated as it is read;
                // any other broadcast is spread out first.
                let per_channel = right_shape[..3] == [1, 1, 1] && right_shape[3] == out_shape[3];
                if per_channel || right_shape == out_shape {
                    combine_into(*kind, out, b);
                } else {
                    let mut spread = Vec::new();
                    broadcast_into(&mut spread, b, right_shape, out_shape);
                    combine_into(*kind, out, &spread);
                }
                activation.apply(out);
            }
            Self::Pad {
                input,
                padding,
                in_shape,
                out_shape,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                out.resize(out_shape.iter().product(), 0.0);
                let [_, in_rows, in_columns, channels] = *in_shape;
                let [_, _, out_columns, out_channels] = *out_shape;
                for y in 0..in_rows {
                    for x in 0..in_columns {
                        let from = (y * in_columns + x) * channels;
                        let to = ((y + padding[1][0]) * out_columns + x + padding[2][0])
                            * out_channels
                            + padding[3][0];
                        out[to..to + channels].copy_from_slice(&source[from..from + channels]);
                    }
                }
            }
            Self::Reshape { input, .. } => {
                if !in_place {
                    out.extend_from_slice(model.value(values, written, *input)?)
                }
            }
            Self::DepthToSpace {
                input,
                block,
                in_shape,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                let [_, in_rows, in_columns, in_channels] = *in_shape;
                let channels = in_channels / (block * block);
                let out_columns = in_columns * block;
                out.resize(source.len(), 0.0);
                for y in 0..in_rows {
                    for x in 0..in_columns {
                        let pixel = &source[(y * in_columns + x) * in_channels..][..in_channels];
                        for (square, part) in pixel.chunks_exact(channels).enumerate() {
                            let (dy, dx) = (square / block, square % block);
                            let to = ((y * block + dy) * out_columns + x * block + dx) * channels;
                            out[to..to + channels].copy_from_slice(part);
                        }
                    }
                }
            }
            Self::ResizeBilinear {
                input,
                rows,
                columns,
                in_shape,
                out_shape,
                ..
            } => {
                let source = model.value(values, written, *input)?;
                let [_, _, in_columns, channels] = *in_shape;
                out.reserve(out_shape.iter().product());
                let at =
                    |y: usize, x: usize| &source[(y * in_columns + x) * channels..][..channels];
                for (top, bottom, down) in rows {
                    for (left, right, across) in columns {
                        let (a, b) = (at(*top, *left), at(*top, *right));
                        let (c, d) = (at(*bottom, *left), at(*bottom, *right));
                        for channel in 0..channels {
                            let upper = a[channel] + (b[channel] - a[channel]) * across;
                            let lower = c[channel] + (d[channel] - c[channel]) * across;
                            out.push(upper + (lower - upper) * down);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `left` becomes `left ⊕ right`, `right` repeated along `left` (whose length is a
/// multiple of the right's).
fn combine_into(kind: BinaryKind, left: &mut [f32], right: &[f32]) {
    for part in left.chunks_exact_mut(right.len()) {
        match kind {
            BinaryKind::Add => part.iter_mut().zip(right).for_each(|(x, y)| *x += y),
            // A selection, not a branch: the signs are as good as random, and a
            // mispredicted branch per value cost more than the rest of the model.
            BinaryKind::Prelu => part
                .iter_mut()
                .zip(right)
                .for_each(|(x, alpha)| *x = if *x < 0.0 { *x * alpha } else { *x }),
        }
    }
}

/// `values` of `shape` written into `out` (empty) spread to `out_shape`: every axis of
/// `shape` either the same or 1.
fn broadcast_into(out: &mut Vec<f32>, values: &[f32], shape: &[usize; 4], out_shape: &[usize; 4]) {
    if shape == out_shape {
        out.extend_from_slice(values);
        return;
    }
    let mut strides = [0; 4];
    let mut step = 1;
    for axis in (0..4).rev() {
        strides[axis] = if shape[axis] == 1 { 0 } else { step };
        step *= shape[axis];
    }
    out.reserve(out_shape.iter().product());
    for n in 0..out_shape[0] {
        for h in 0..out_shape[1] {
            for w in 0..out_shape[2] {
                let at = n * strides[0] + h * strides[1] + w * strides[2];
                out.extend((0..out_shape[3]).map(|c| values[at + c * strides[3]]));
            }
        }
    }
}

/// IEEE 754 half precision to single precision, exactly.
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let value = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: mantissa · 2^-24.
            let magnitude = mantissa as f32 * f32::powi(2.0, -24);
            return if sign != 0 { -magnitude } else { magnitude };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000,
        _ => sign | ((exponent + 127 - 15) << 23) | (mantissa << 13),
    };
    f32::from_bits(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_too_large_to_be_a_face_model_are_refused() {
        assert!(check_size(&[1, 192, 192, 3]).is_ok());
        assert!(check_size(&[]).is_ok());
        let error = check_size(&[1, 100_000, 100_000, 3]).unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
        // A product that overflows is refused, not wrapped.
        assert!(check_size(&[usize::MAX, 2]).is_err());
    }

    #[test]
    fn half_precision_converts_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x8000), -0.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn same_padding_puts_the_smaller_half_first() {
        // 192 → 96 with a 3×3 window, stride 2: one pixel of padding in all, after.
        let window = Window::new(0, 3, 2, 1, 192, 96).unwrap();
        assert_eq!(window.before, 0);
        // 5×5, stride 1: two before, two after.
        assert_eq!(Window::new(0, 5, 1, 1, 64, 64).unwrap().before, 2);
        assert_eq!(window.input(95, 2, 192), None, "the last tap is padding");
    }

    #[test]
    fn the_windows_a_tap_falls_inside_are_those_it_reads() {
        for (padding, size, stride, dilation, input) in (0..2u8).flat_map(|padding| {
            (1..6).flat_map(move |size| {
                (1..4).flat_map(move |stride| {
                    (1..3).flat_map(move |dilation| {
                        (1..12usize).map(move |input| (padding, size, stride, dilation, input))
                    })
                })
            })
        }) {
            let effective = (size - 1) * dilation + 1;
            let output = if padding == 0 {
                input.div_ceil(stride)
            } else if input >= effective {
                (input - effective) / stride + 1
            } else {
                continue;
            };
            let window = Window::new(padding, size, stride, dilation, input, output).unwrap();
            for tap in 0..size {
                let reads: Vec<usize> = (0..output)
                    .filter(|&index| window.input(index, tap, input).is_some())
                    .collect();
                let inside: Vec<usize> = window.inside(tap, input, output).collect();
                assert_eq!(
                    inside, reads,
                    "padding {padding}, size {size}, stride {stride}, dilation {dilation}, \
                     input {input}, tap {tap}"
                );
            }
        }
    }

    #[test]
    fn garbage_and_cut_files_are_errors_naming_the_byte() {
        for bytes in [&b""[..], b"TFL3", b"\x10\0\0\0TFL3\0\0\0\0", &[0xff; 64]] {
            let error = TfliteModel::from_bytes(bytes).unwrap_err();
            assert!(matches!(error, TfliteError::Format { .. }), "{error}");
        }
    }
}

#[cfg(test)]
mod weights_tests {
    use super::*;

    #[test]
    fn weights_are_held_once_in_the_operators_not_again_as_constants() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/models/mediapipe");
        for file in [
            "face_landmark.tflite",
            "iris_landmark.tflite",
            "face_detection_full_range_sparse.tflite",
        ] {
            let path = folder.join(file);
            let model = TfliteModel::load(&path)
                .unwrap_or_else(|error| panic!("{error} (run ./fetch-models)"));
            let file_bytes = std::fs::metadata(&path).unwrap().len() as usize;
            // What stays besides the operators: PReLU slopes and other operands read as
            // they are (face_landmark: 1,744 floats of a 1.2 MB file; before, every weight).
            let kept: usize = model.constants.iter().flatten().map(Vec::len).sum();
            assert!(4 * kept < file_bytes / 100, "{file}: {kept} floats kept");
            let read: Vec<usize> = model.operators.iter().flat_map(Operator::reads).collect();
            for (index, constant) in model.constants.iter().enumerate() {
                if constant.is_some() {
                    assert!(read.contains(&index) || model.outputs.contains(&index));
                }
            }
        }
    }

    #[test]
    fn a_model_is_read_once_while_it_is_held_and_again_after() {
        // A copy of its own: no other test holds it.
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("iris_landmark.tflite");
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../assets/models/mediapipe/iris_landmark.tflite"),
            &path,
        )
        .expect("run ./fetch-models");
        let first = TfliteModel::shared(&path).unwrap();
        let second = TfliteModel::shared(&folder.path().join("./iris_landmark.tflite")).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the same file, the same model"
        );
        let weak = Arc::downgrade(&first);
        drop((first, second));
        assert!(
            weak.upgrade().is_none(),
            "nothing keeps a model nobody holds"
        );
        let again = TfliteModel::shared(&path).unwrap();
        assert_eq!(again.output_names().len(), 2);
        assert!(TfliteModel::shared(Path::new("/nonexistent/model.tflite")).is_err());
    }
}
