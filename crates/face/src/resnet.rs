//! dlib's face recognition network (`dlib_face_recognition_resnet_model_v1.dat`): a
//! 29-layer ResNet that turns a 150×150 face chip into 128 numbers, placed so that two
//! pictures of one person lie less than 0.6 apart (Euclidean distance) and two people
//! further. The layer structure is the one in dlib's `dnn_face_recognition_ex.cpp`; the
//! file holds the weights, read here in the order dlib writes them.
//!
//! The forward pass runs on one thread. Convolutions are a matrix product (the weights,
//! packed once at load, times the input unrolled into columns) done by `rten-gemm`, the
//! SIMD matrix multiply the BlazeFace runtime already brings; the affine layer that
//! follows every convolution is folded into its weights and bias at load.

use rten_gemm::{BiasVector, GemmExecutor, GemmInputA, GemmInputB, GemmOptions, PackedAMatrix};
use rten_tensor::NdTensorView;

use super::chip::CHIP_SIDE;
use super::dlib_format::{Reader, Result};
use image::RgbImage;

/// The embedding's length.
pub const EMBEDDING_SIZE: usize = 128;

/// A feature map: channels × rows × columns, row-major.
#[derive(Debug, Clone, PartialEq)]
struct Map {
    channels: usize,
    rows: usize,
    columns: usize,
    values: Vec<f32>,
}

impl Map {
    fn zeros(channels: usize, rows: usize, columns: usize) -> Self {
        Self {
            channels,
            rows,
            columns,
            values: vec![0.0; channels * rows * columns],
        }
    }

    fn relu(mut self) -> Self {
        for value in &mut self.values {
            *value = value.max(0.0);
        }
        self
    }

    /// dlib's `add_prev`: the sum of two maps of possibly different sizes, the smaller one
    /// taken as zero where it does not reach.
    fn add(self, other: &Map) -> Self {
        if (self.channels, self.rows, self.columns) == (other.channels, other.rows, other.columns) {
            let mut sum = self;
            for (value, add) in sum.values.iter_mut().zip(&other.values) {
                *value += add;
            }
            return sum;
        }
        let mut sum = Map::zeros(
            self.channels.max(other.channels),
            self.rows.max(other.rows),
            self.columns.max(other.columns),
        );
        for part in [&self, other] {
            for channel in 0..part.channels {
                for row in 0..part.rows {
                    let from = (channel * part.rows + row) * part.columns;
                    let to = (channel * sum.rows + row) * sum.columns;
                    for column in 0..part.columns {
                        sum.values[to + column] += part.values[from + column];
                    }
                }
            }
        }
        sum
    }

    /// Max or average over `window × window` squares `stride` apart, no padding (dlib's
    /// pools with a stride above 1 have none).
    fn pool(&self, window: usize, stride: usize, take_max: bool) -> Self {
        let rows = (self.rows - window) / stride + 1;
        let columns = (self.columns - window) / stride + 1;
        let mut out = Map::zeros(self.channels, rows, columns);
        let area = (window * window) as f32;
        for channel in 0..self.channels {
            let plane = &self.values[channel * self.rows * self.columns..];
            for row in 0..rows {
                for column in 0..columns {
                    let mut best = f32::NEG_INFINITY;
                    let mut sum = 0.0f32;
                    for y in row * stride..row * stride + window {
                        for x in column * stride..column * stride + window {
                            let value = plane[y * self.columns + x];
                            best = best.max(value);
                            sum += value;
                        }
                    }
                    out.values[(channel * rows + row) * columns + column] =
                        if take_max { best } else { sum / area };
                }
            }
        }
        out
    }
}

/// A convolution with the affine layer after it folded in.
struct Conv {
    filters: usize,
    inputs: usize,
    size: usize,
    stride: usize,
    padding: usize,
    weights: PackedAMatrix<f32>,
    bias: Vec<f32>,
}

impl Conv {
    #[expect(
        clippy::expect_used,
        reason = "the shapes are checked when the model is read; a mismatch is a bug here"
    )]
    fn run(&self, gemm: &GemmExecutor<f32>, input: &Map, columns_buffer: &mut Vec<f32>) -> Map {
        debug_assert_eq!(input.channels, self.inputs);
        let rows = (input.rows + 2 * self.padding - self.size) / self.stride + 1;
        let columns = (input.columns + 2 * self.padding - self.size) / self.stride + 1;
        let positions = rows * columns;
        let depth = self.inputs * self.size * self.size;
        // Unroll: one row per (input channel, kernel row, kernel column), one column per
        // output position; zeros where the kernel hangs over the padding.
        columns_buffer.clear();
        columns_buffer.resize(depth * positions, 0.0);
        for channel in 0..self.inputs {
            let plane = &input.values[channel * input.rows * input.columns..];
            for ky in 0..self.size {
                for kx in 0..self.size {
                    let line = (channel * self.size + ky) * self.size + kx;
                    let target = &mut columns_buffer[line * positions..(line + 1) * positions];
                    for out_row in 0..rows {
                        let y = (out_row * self.stride + ky) as isize - self.padding as isize;
                        if y < 0 || y >= input.rows as isize {
                            continue;
                        }
                        let source = &plane[y as usize * input.columns..];
                        let target = &mut target[out_row * columns..(out_row + 1) * columns];
                        for (out_column, value) in target.iter_mut().enumerate() {
                            let x =
                                (out_column * self.stride + kx) as isize - self.padding as isize;
                            if x >= 0 && (x as usize) < input.columns {
                                *value = source[x as usize];
                            }
                        }
                    }
                }
            }
        }
        let mut out = Map::zeros(self.filters, rows, columns);
        let unrolled = NdTensorView::from_data([depth, positions], columns_buffer.as_slice());
        gemm.gemm(
            &mut out.values,
            GemmInputA::Packed(&self.weights),
            GemmInputB::Unpacked(unrolled),
            GemmOptions {
                bias: Some(BiasVector::Column(&self.bias)),
                ..GemmOptions::default()
            },
        )
        .expect("convolution shapes are checked when the model is read");
        out
    }
}

/// Two 3×3 convolutions with a skip connection around them; a downsampling block starts
/// with a stride of 2 and averages its input 2×2 for the skip.
struct Block {
    first: Conv,
    second: Conv,
    downsamples: bool,
}

/// The loaded network.
pub struct FaceNet {
    /// dlib's input layer subtracts these from R, G, B and divides by 256.
    channel_means: [f32; 3],
    stem: Conv,
    blocks: Vec<Block>,
    /// `inputs × 128`, row-major.
    projection: Vec<f32>,
    projection_inputs: usize,
}

impl std::fmt::Debug for FaceNet {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FaceNet")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

/// One entry of the network as dlib nests it, outermost (the loss) first.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layer {
    Fc,
    GlobalAveragePool,
    Relu,
    AddPrevious,
    AveragePool,
    MaxPool,
    Affine,
    Con {
        filters: usize,
        size: usize,
        stride: usize,
    },
    Tag,
    Skip,
}

/// The layers from the fully connected one down to the first convolution, as
/// `dnn_face_recognition_ex.cpp` declares them (its `anet_type`), outermost first.
fn layer_stack() -> Vec<Layer> {
    use Layer::*;
    let residual = |filters: usize, downsample: bool| -> Vec<Layer> {
        let stride = if downsample { 2 } else { 1 };
        let mut layers = vec![Relu, AddPrevious];
        if downsample {
            layers.extend([AveragePool, Skip, Tag]);
        }
        layers.extend([
            Affine,
            Con {
                filters,
                size: 3,
                stride: 1,
            },
            Relu,
            Affine,
            Con {
                filters,
                size: 3,
                stride,
            },
            Tag,
        ]);
        layers
    };
    let mut stack = vec![Fc, GlobalAveragePool];
    for (filters, downsample) in block_plan() {
        stack.extend(residual(filters, downsample));
    }
    stack.extend([
        MaxPool,
        Relu,
        Affine,
        Con {
            filters: 32,
            size: 7,
            stride: 2,
        },
    ]);
    stack
}

/// The residual blocks, outermost first: (filters, downsamples).
fn block_plan() -> Vec<(usize, bool)> {
    let mut plan = vec![(256, true)];
    plan.extend([(256, false), (256, false), (256, true)]);
    plan.extend([(128, false), (128, false), (128, true)]);
    plan.extend([(64, false), (64, false), (64, false), (64, true)]);
    plan.extend([(32, false), (32, false), (32, false)]);
    plan
}

/// What a layer's serialised details held, for the layers with weights.
enum Details {
    None,
    Con {
        filters: usize,
        inputs: usize,
        size: usize,
        stride: usize,
        padding: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    Affine {
        gamma: Vec<f32>,
        beta: Vec<f32>,
    },
    /// `inputs × 128` weights, row-major.
    Fc {
        inputs: usize,
        weights: Vec<f32>,
    },
}

fn read_flags_and_buffers(reader: &mut Reader, version: i64, bottom: bool) -> Result<()> {
    for _ in 0..3 {
        reader.bool()?;
    }
    reader.tensor()?; // x_grad
    reader.tensor()?; // cached_output
    if bottom || version == 2 {
        reader.tensor()?; // params_grad / grad_final
    }
    if bottom && version == 3 {
        reader.int()?; // sample expansion factor
    }
    Ok(())
}

fn read_details(reader: &mut Reader, layer: Layer) -> Result<Details> {
    use Layer::*;
    Ok(match layer {
        Relu => {
            if reader.tag(&["relu_", "relu_2"])? == "relu_2" {
                reader.bool()?;
            }
            Details::None
        }
        AddPrevious => {
            reader.tag(&["add_prev_"])?;
            Details::None
        }
        AveragePool | GlobalAveragePool | MaxPool => {
            let (tag, window, stride) = match layer {
                AveragePool => ("avg_pool_2", 2, 2),
                GlobalAveragePool => ("avg_pool_2", 0, 1),
                _ => ("max_pool_2", 3, 2),
            };
            reader.tag(&[tag])?;
            let (rows, columns) = (reader.int()?, reader.int()?);
            let (stride_y, stride_x) = (reader.int()?, reader.int()?);
            let (padding_y, padding_x) = (reader.int()?, reader.int()?);
            if (rows, columns, stride_y, stride_x, padding_y, padding_x)
                != (window, window, stride, stride, 0, 0)
            {
                return reader.error(format!(
                    "a {window}×{window} pool, stride {stride}, no padding"
                ));
            }
            Details::None
        }
        Affine => {
            let tag = reader.tag(&["affine_", "affine_2"])?;
            let (_, params) = reader.tensor()?;
            let gamma_shape = reader.alias_tensor()?;
            let beta_shape = reader.alias_tensor()?;
            let mode = reader.int()?; // 0: one gamma and beta per channel
            if tag == "affine_2" {
                reader.bool()?;
            }
            let channels: usize = gamma_shape.iter().product();
            if beta_shape.iter().product::<usize>() != channels
                || params.len() != 2 * channels
                || mode != 0
            {
                return reader.error("a per-channel affine layer");
            }
            Details::Affine {
                gamma: params[..channels].to_vec(),
                beta: params[channels..].to_vec(),
            }
        }
        Con {
            filters,
            size,
            stride,
        } => {
            let tag = reader.tag(&["con_4", "con_5", "con_6"])?;
            let (_, params) = reader.tensor()?;
            let found_filters = reader.count()?;
            let (rows, columns) = (reader.count()?, reader.count()?);
            let (stride_y, stride_x) = (reader.count()?, reader.count()?);
            let (padding_y, padding_x) = (reader.count()?, reader.count()?);
            let filter_shape = reader.alias_tensor()?;
            let bias_shape = reader.alias_tensor()?;
            for _ in 0..4 {
                reader.float()?; // learning rate and weight decay multipliers
            }
            if tag != "con_4" {
                reader.bool()?; // use_bias
            }
            if tag == "con_6" {
                reader.bool()?; // use_relu
            }
            let expected_padding = if stride == 1 { size / 2 } else { 0 };
            let inputs = filter_shape[1];
            let weight_count = filters * inputs * size * size;
            let fits = found_filters == filters
                && (rows, columns, stride_y, stride_x) == (size, size, stride, stride)
                && (padding_y, padding_x) == (expected_padding, expected_padding)
                && filter_shape == [filters, inputs, size, size]
                && bias_shape.iter().product::<usize>() == filters
                && params.len() == weight_count + filters;
            if !fits {
                return reader.error(format!(
                    "a {filters}-filter {size}×{size} convolution, stride {stride}"
                ));
            }
            Details::Con {
                filters,
                inputs,
                size,
                stride,
                padding: expected_padding,
                weights: params[..weight_count].to_vec(),
                bias: params[weight_count..].to_vec(),
            }
        }
        Fc => {
            let tag = reader.tag(&["fc_2", "fc_3"])?;
            let outputs = reader.count()?;
            let inputs = reader.count()?;
            let (_, params) = reader.tensor()?;
            reader.alias_tensor()?; // weights: the whole of params
            reader.alias_tensor()?; // biases: none
            let bias_mode = reader.int()?; // 1: no bias
            for _ in 0..4 {
                reader.float()?; // learning rate and weight decay multipliers
            }
            if tag == "fc_3" {
                reader.bool()?; // use_bias
            }
            if outputs != EMBEDDING_SIZE || bias_mode != 1 || params.len() != inputs * outputs {
                return reader.error("a 128-output fully connected layer without bias");
            }
            Details::Fc {
                inputs,
                weights: params,
            }
        }
        Tag | Skip => Details::None,
    })
}

impl FaceNet {
    /// Reads the network as dlib serialised it (`loss_metric` over the ResNet).
    pub fn read(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(bytes);
        reader.version(&[1], "add_loss_layer")?;
        if reader.tag(&["loss_metric_", "loss_metric_2"])? == "loss_metric_2" {
            reader.float()?; // margin
            reader.float()?; // distance threshold used in training
        }
        let stack = layer_stack();
        let Some((bottom, above)) = stack.split_last() else {
            return reader.error("layers");
        };
        // Going in: each layer's version, outermost first.
        let mut versions = Vec::with_capacity(above.len());
        for layer in above {
            versions.push(match layer {
                Layer::Tag | Layer::Skip => reader.version(&[1], "tag or skip layer")?,
                _ => reader.version(&[1, 2], "add_layer")?,
            });
        }
        // The first convolution sits on the input layer and is written in one go.
        let bottom_version = reader.version(&[2, 3], "add_layer on the input")?;
        let input = reader.tag(&["input_rgb_image_sized", "input_rgb_image"])?;
        let channel_means = [reader.float32()?, reader.float32()?, reader.float32()?];
        if input == "input_rgb_image_sized" {
            let (rows, columns) = (reader.count()?, reader.count()?);
            if (rows, columns) != (CHIP_SIDE as usize, CHIP_SIDE as usize) {
                return reader.error("a 150×150 input");
            }
        }
        // Coming out: each layer's details, innermost (the first to run) first.
        let mut details = vec![read_details(&mut reader, *bottom)?];
        read_flags_and_buffers(&mut reader, bottom_version, true)?;
        for (layer, version) in above.iter().zip(&versions).rev() {
            if matches!(layer, Layer::Tag | Layer::Skip) {
                continue;
            }
            details.push(read_details(&mut reader, *layer)?);
            read_flags_and_buffers(&mut reader, *version, false)?;
        }
        if !reader.at_end() {
            return reader.error("the end of the file");
        }

        let gemm = GemmExecutor::<f32>::default();
        let mut convs = Vec::new();
        let mut pending = None;
        let mut projection = None;
        for detail in details {
            match detail {
                con @ Details::Con { .. } => pending = Some(con),
                Details::Affine { gamma, beta } => match pending.take() {
                    Some(Details::Con {
                        filters,
                        inputs,
                        size,
                        stride,
                        padding,
                        mut weights,
                        bias,
                    }) => {
                        if gamma.len() != filters {
                            return reader.error("an affine layer as wide as its convolution");
                        }
                        // gamma · (w · x + b) + beta = (gamma · w) · x + (gamma · b + beta)
                        let depth = inputs * size * size;
                        for (row, scale) in weights.chunks_exact_mut(depth).zip(&gamma) {
                            row.iter_mut().for_each(|w| *w *= scale);
                        }
                        let bias = bias
                            .iter()
                            .zip(&gamma)
                            .zip(&beta)
                            .map(|((b, g), c)| g * b + c)
                            .collect();
                        let packed = gemm.prepack_a(NdTensorView::from_data(
                            [filters, depth],
                            weights.as_slice(),
                        ));
                        convs.push(Conv {
                            filters,
                            inputs,
                            size,
                            stride,
                            padding,
                            weights: packed,
                            bias,
                        });
                    }
                    _ => return reader.error("an affine layer after each convolution"),
                },
                Details::Fc { inputs, weights } => projection = Some((inputs, weights)),
                Details::None => {}
            }
        }
        let Some((projection_inputs, projection)) = projection else {
            return reader.error("a fully connected layer");
        };
        let mut convs = convs.into_iter();
        let Some(stem) = convs.next() else {
            return reader.error("convolutions");
        };
        let mut blocks = Vec::new();
        for (_, downsamples) in block_plan().into_iter().rev() {
            let (Some(first), Some(second)) = (convs.next(), convs.next()) else {
                return reader.error("two convolutions per residual block");
            };
            blocks.push(Block {
                first,
                second,
                downsamples,
            });
        }
        let last_filters = blocks.last().map_or(0, |block| block.second.filters);
        if projection_inputs != last_filters {
            return reader.error("a projection from the last block's channels");
        }
        Ok(Self {
            channel_means,
            stem,
            blocks,
            projection,
            projection_inputs,
        })
    }

    /// The 128-d embedding of a 150×150 face chip. Runs on the calling thread, with
    /// whatever rayon pool it is in (the matcher keeps a one-thread pool for it).
    pub fn embed(&self, chip: &RgbImage) -> [f32; EMBEDDING_SIZE] {
        let side = CHIP_SIDE as usize;
        let chip = if chip.dimensions() == (CHIP_SIDE, CHIP_SIDE) {
            std::borrow::Cow::Borrowed(chip)
        } else {
            std::borrow::Cow::Owned(image::imageops::resize(
                chip,
                CHIP_SIDE,
                CHIP_SIDE,
                image::imageops::FilterType::Triangle,
            ))
        };
        let mut input = Map::zeros(3, side, side);
        for (index, pixel) in chip.pixels().enumerate() {
            for channel in 0..3 {
                input.values[channel * side * side + index] =
                    (f32::from(pixel.0[channel]) - self.channel_means[channel]) / 256.0;
            }
        }
        let gemm = GemmExecutor::<f32>::default();
        let mut buffer = Vec::new();
        let mut x = self
            .stem
            .run(&gemm, &input, &mut buffer)
            .relu()
            .pool(3, 2, true);
        for block in &self.blocks {
            let inner = block.first.run(&gemm, &x, &mut buffer).relu();
            let inner = block.second.run(&gemm, &inner, &mut buffer);
            x = if block.downsamples {
                x.pool(2, 2, false).add(&inner)
            } else {
                inner.add(&x)
            }
            .relu();
        }
        // Average each channel over the whole map, then project to 128.
        let plane = x.rows * x.columns;
        let pooled: Vec<f32> = x
            .values
            .chunks_exact(plane)
            .map(|channel| channel.iter().sum::<f32>() / plane as f32)
            .collect();
        let mut embedding = [0.0f32; EMBEDDING_SIZE];
        for (value, weights) in pooled
            .iter()
            .zip(self.projection.chunks_exact(EMBEDDING_SIZE))
        {
            for (out, weight) in embedding.iter_mut().zip(weights) {
                *out += value * weight;
            }
        }
        debug_assert_eq!(pooled.len(), self.projection_inputs);
        embedding
    }
}

/// Euclidean distance between two embeddings; dlib's models call two faces the same
/// person below 0.6.
pub fn distance(a: &[f32; EMBEDDING_SIZE], b: &[f32; EMBEDDING_SIZE]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_of_different_sizes_add_as_if_zero_padded() {
        let small = Map {
            channels: 1,
            rows: 1,
            columns: 1,
            values: vec![2.0],
        };
        let large = Map {
            channels: 2,
            rows: 2,
            columns: 1,
            values: vec![1.0, 1.0, 1.0, 1.0],
        };
        assert_eq!(small.add(&large).values, vec![3.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn pools_take_the_max_or_mean_of_each_window() {
        let map = Map {
            channels: 1,
            rows: 3,
            columns: 3,
            values: (1..=9).map(|v| v as f32).collect(),
        };
        assert_eq!(map.pool(2, 1, true).values, vec![5.0, 6.0, 8.0, 9.0]);
        assert_eq!(map.pool(2, 2, false).values, vec![3.0]);
        assert_eq!(map.pool(3, 2, true).values, vec![9.0]);
    }

    #[test]
    fn the_layer_stack_has_dlibs_29_convolutions() {
        let convs = layer_stack()
            .iter()
            .filter(|layer| matches!(layer, Layer::Con { .. }))
            .count();
        assert_eq!(convs, 29);
        assert_eq!(block_plan().len(), 14);
    }

    #[test]
    fn a_convolution_is_a_cross_correlation_with_zero_padding() {
        let gemm = GemmExecutor::<f32>::default();
        // One 3×3 filter picking the right-hand neighbour, bias 1.
        let mut weights = vec![0.0f32; 9];
        weights[5] = 1.0;
        let conv = Conv {
            filters: 1,
            inputs: 1,
            size: 3,
            stride: 1,
            padding: 1,
            weights: gemm.prepack_a(NdTensorView::from_data([1, 9], weights.as_slice())),
            bias: vec![1.0],
        };
        let input = Map {
            channels: 1,
            rows: 2,
            columns: 3,
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        };
        let out = conv.run(&gemm, &input, &mut Vec::new());
        assert_eq!(out.values, vec![3.0, 4.0, 1.0, 6.0, 7.0, 1.0]);
    }
}
