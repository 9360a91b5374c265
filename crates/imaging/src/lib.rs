//! Images, for the client, the engine and the card checks alike: decoded (with a bound on
//! size) and turned upright by their EXIF orientation ([`decode_upright`]), and prepared
//! once before upload: the longest side capped, JPEG re-encoded ([`prepare_image`]).
//! Anything that is not a decodable image, or too big, is refused here, before any request
//! is made. Also the grey levels and what is measured on them ([`metrics`]: sharpness,
//! brightness, glare), and an ID-1 card found in a picture and flattened ([`card`]), for
//! the kiosk's capture gates and for reading the card alike.
//!
//! It may use only `ekyc-settings` (its `[images]` section).
#![warn(missing_docs)]

pub mod card;
pub mod config;
pub mod homography;
pub mod jpeg2000;
pub mod metrics;

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader};

/// An image refused: `name` is the file (or upload), `reason` a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ImageError {
    /// The image's name (its file, or the screen's picture).
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

/// How images are prepared for upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageLimits {
    /// Longest side after preparation, in pixels.
    pub max_side: u32,
    /// JPEG quality of the re-encoded image, 1–100.
    pub jpeg_quality: u8,
    /// Largest input file accepted, in bytes.
    pub max_file_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_side: 1920,
            jpeg_quality: 90,
            max_file_bytes: 15 * 1024 * 1024,
        }
    }
}

/// Dimensions past which a file is refused rather than decoded: a 16k × 16k image is no
/// photo of an ID card, and decoding it would take gigabytes.
const MAX_DECODED_SIDE: u32 = 16_384;
const MAX_DECODE_ALLOCATION: u64 = 512 * 1024 * 1024;

/// Pixels a file may declare per byte it holds, past a megapixel. A camera's JPEG holds a
/// pixel in about a fifth of a byte, a flat synthetic picture in a hundredth; a file
/// declaring more is built to make the decoder (and the QR and OCR passes after it) work:
/// the fuzzer's 413-byte JPEG declaring 4096 × 4096 took seconds of CPU per upload.
const MAX_PIXELS_PER_BYTE: u64 = 1_000;

/// A JPEG ready to upload. It holds a customer's face or card, so `Debug` shows no bytes
/// and the bytes are zeroed when it is dropped.
#[derive(Clone)]
pub struct PreparedImage {
    /// The name sent with it (`front.jpg`).
    pub file_name: String,
    /// The JPEG bytes sent.
    pub jpeg: Vec<u8>,
    /// Its width, in pixels.
    pub width: u32,
    /// Its height, in pixels.
    pub height: u32,
}

impl std::fmt::Debug for PreparedImage {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "PreparedImage({}, {}×{}, {} bytes)",
            self.file_name,
            self.width,
            self.height,
            self.jpeg.len()
        )
    }
}

impl Drop for PreparedImage {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.jpeg);
    }
}

/// Reads and prepares an image file.
pub fn prepare_image_file(path: &Path, limits: &ImageLimits) -> Result<PreparedImage, ImageError> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let refuse = |reason: String| ImageError {
        name: path.display().to_string(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|error| refuse(error.to_string()))?;
    if !metadata.is_file() {
        return Err(refuse("not a file".into()));
    }
    if metadata.len() > limits.max_file_bytes {
        return Err(refuse(too_large(metadata.len(), limits)));
    }
    let bytes = std::fs::read(path).map_err(|error| refuse(error.to_string()))?;
    prepare_image(&bytes, &jpeg_name(&name), limits)
}

/// Prepares image bytes (a file's content, a camera still). `name` is the upload's file name.
pub fn prepare_image(
    bytes: &[u8],
    name: &str,
    limits: &ImageLimits,
) -> Result<PreparedImage, ImageError> {
    let refuse = |reason: String| ImageError {
        name: name.to_owned(),
        reason,
    };
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(refuse(too_large(bytes.len() as u64, limits)));
    }
    let image = decode_upright(bytes).map_err(|error| refuse(error.to_string()))?;
    prepare_decoded(image, name, limits)
}

/// Prepares an image already in memory (a camera frame): longest side capped, JPEG.
pub fn prepare_decoded(
    image: DynamicImage,
    name: &str,
    limits: &ImageLimits,
) -> Result<PreparedImage, ImageError> {
    let image = cap_longest_side(image, limits.max_side);
    let (width, height) = (image.width(), image.height());
    let jpeg = encode_jpeg(&image, limits.jpeg_quality).map_err(|reason| ImageError {
        name: name.to_owned(),
        reason,
    })?;
    Ok(PreparedImage {
        file_name: jpeg_name(name),
        jpeg,
        width,
        height,
    })
}

/// Why bytes are no usable picture. Each reads after the picture's name ("front.jpg is not
/// an image …"), a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes cannot be read at all.
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// Not a picture of a kind we read.
    #[error("is not an image (JPEG or PNG expected)")]
    NotAnImage,
    /// A picture whose data is broken or beyond the decoder's limits.
    #[error("is not a readable image: {0}")]
    Undecodable(String),
    /// Far more pixels than its size can hold: a decompression bomb, not a photo.
    #[error("declares {width} × {height} pixels in only {bytes} bytes: not a photo")]
    Implausible {
        /// Its declared width.
        width: u32,
        /// Its declared height.
        height: u32,
        /// Its size in bytes.
        bytes: usize,
    },
    /// No pixels.
    #[error("is an empty image")]
    Empty,
}

/// Decodes a photo that may be JPEG 2000 (an identity chip's DG2) or any format
/// [`decode_upright`] reads.
pub fn decode_photo(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    if jpeg2000::is_jpeg2000(bytes) {
        jpeg2000::decode(bytes)
    } else {
        decode_upright(bytes)
    }
}

/// Decodes any supported image and turns it upright according to its EXIF orientation.
pub fn decode_upright(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| DecodeError::Unreadable(error.to_string()))?;
    if reader.format().is_none() {
        return Err(DecodeError::NotAnImage);
    }
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(MAX_DECODED_SIDE);
    decoder_limits.max_image_height = Some(MAX_DECODED_SIDE);
    decoder_limits.max_alloc = Some(MAX_DECODE_ALLOCATION);
    reader.limits(decoder_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|error| DecodeError::Undecodable(error.to_string()))?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    refuse_implausible(width, height, bytes.len())?;
    // A missing or broken EXIF block is no reason to refuse the photo itself.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)
        .map_err(|error| DecodeError::Undecodable(error.to_string()))?;
    image.apply_orientation(orientation);
    if image.width() == 0 || image.height() == 0 {
        return Err(DecodeError::Empty);
    }
    Ok(image)
}

/// A picture that declares far more pixels than its bytes could hold (past a megapixel,
/// more than [`MAX_PIXELS_PER_BYTE`] per byte): a decompression bomb, refused before decoding.
fn refuse_implausible(width: u32, height: u32, bytes: usize) -> Result<(), DecodeError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > 1_000_000 && pixels > MAX_PIXELS_PER_BYTE * bytes as u64 {
        return Err(DecodeError::Implausible {
            width,
            height,
            bytes,
        });
    }
    Ok(())
}

fn cap_longest_side(image: DynamicImage, max_side: u32) -> DynamicImage {
    let max_side = max_side.max(1);
    if image.width().max(image.height()) <= max_side {
        return image;
    }
    image.resize(max_side, max_side, image::imageops::FilterType::Triangle)
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let rgb = image.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality.clamp(1, 100))
        .encode_image(&rgb)
        .map_err(|error| format!("cannot be re-encoded as JPEG: {error}"))?;
    Ok(jpeg)
}

fn too_large(size: u64, limits: &ImageLimits) -> String {
    format!(
        "is {:.1} MB, over the {:.1} MB limit",
        size as f64 / 1_048_576.0,
        limits.max_file_bytes as f64 / 1_048_576.0
    )
}

/// The upload's file name: the original stem with a `.jpg` extension.
fn jpeg_name(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "image".into());
    format!("{stem}.jpg")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage};

    fn png_bytes(image: &RgbImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    /// A JPEG with an EXIF APP1 segment that says "rotate 90° clockwise" (orientation 6).
    fn jpeg_with_orientation_6(image: &RgbImage) -> Vec<u8> {
        let mut plain = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95)
            .encode_image(image)
            .unwrap();
        // TIFF header (little endian), one IFD entry: tag 0x0112, type SHORT, count 1, value 6.
        let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0];
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let length = (app1.len() + 2) as u16;
        let mut jpeg = plain[..2].to_vec(); // SOI
        jpeg.extend_from_slice(&[0xff, 0xe1]);
        jpeg.extend_from_slice(&length.to_be_bytes());
        jpeg.extend_from_slice(&app1);
        jpeg.extend_from_slice(&plain[2..]);
        jpeg
    }

    #[test]
    fn exif_orientation_is_applied() {
        // 40 wide, 20 high, left half red, right half blue.
        let image = RgbImage::from_fn(40, 20, |x, _| {
            if x < 20 {
                Rgb([255, 0, 0])
            } else {
                Rgb([0, 0, 255])
            }
        });
        let prepared = prepare_image(
            &jpeg_with_orientation_6(&image),
            "front.jpg",
            &ImageLimits::default(),
        )
        .unwrap();
        assert_eq!((prepared.width, prepared.height), (20, 40));
        let decoded = image::load_from_memory(&prepared.jpeg).unwrap();
        // Rotated 90° clockwise: the red (left) half is now on top.
        let top = decoded.get_pixel(10, 5);
        let bottom = decoded.get_pixel(10, 35);
        assert!(top[0] > 200 && top[2] < 60, "top is {top:?}");
        assert!(bottom[2] > 200 && bottom[0] < 60, "bottom is {bottom:?}");
    }

    #[test]
    fn longest_side_is_capped_keeping_the_aspect_ratio() {
        let image = RgbImage::from_pixel(3000, 1500, Rgb([120, 130, 140]));
        let limits = ImageLimits {
            max_side: 1000,
            ..ImageLimits::default()
        };
        let prepared = prepare_image(&png_bytes(&image), "scan.png", &limits).unwrap();
        assert_eq!((prepared.width, prepared.height), (1000, 500));
        assert_eq!(prepared.file_name, "scan.jpg");
        assert_eq!(&prepared.jpeg[..2], &[0xff, 0xd8], "output is a JPEG");
    }

    #[test]
    fn jpeg_quality_is_configurable() {
        let image = RgbImage::from_fn(300, 300, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 13 % 256) as u8,
                ((x ^ y) % 256) as u8,
            ])
        });
        let bytes = png_bytes(&image);
        let low = prepare_image(
            &bytes,
            "a.png",
            &ImageLimits {
                jpeg_quality: 30,
                ..ImageLimits::default()
            },
        )
        .unwrap();
        let high = prepare_image(
            &bytes,
            "a.png",
            &ImageLimits {
                jpeg_quality: 95,
                ..ImageLimits::default()
            },
        )
        .unwrap();
        assert!(low.jpeg.len() < high.jpeg.len());
    }

    #[test]
    fn non_images_and_oversized_files_are_refused_with_a_reason() {
        let error = prepare_image(
            b"%PDF-1.4 not an image",
            "card.pdf",
            &ImageLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, ImageError { reason, .. } if reason.contains("not an image")),
            "{error}"
        );

        let truncated = &png_bytes(&RgbImage::new(50, 50))[..60];
        let error = prepare_image(truncated, "cut.png", &ImageLimits::default()).unwrap_err();
        assert!(matches!(error, ImageError { .. }));

        let limits = ImageLimits {
            max_file_bytes: 100,
            ..ImageLimits::default()
        };
        let error =
            prepare_image(&png_bytes(&RgbImage::new(64, 64)), "big.png", &limits).unwrap_err();
        assert!(error.to_string().contains("over the"), "{error}");
    }

    #[test]
    fn debug_output_shows_no_image_bytes() {
        let prepared = prepare_image(
            &png_bytes(&RgbImage::new(8, 8)),
            "selfie.png",
            &ImageLimits::default(),
        )
        .unwrap();
        assert_eq!(
            format!("{prepared:?}"),
            format!(
                "PreparedImage(selfie.jpg, 8×8, {} bytes)",
                prepared.jpeg.len()
            )
        );
    }
}
