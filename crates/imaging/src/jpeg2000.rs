//! JPEG 2000, as some identity chips hold their holder's photo (DG2: ICAO allows JPEG and
//! JPEG 2000, and both are found on cards): a JP2 file or a bare codestream, decoded by
//! `hayro-jpeg2000` (pure Rust) into 8-bit RGB, with the same bounds as every other
//! picture. `tests` compare its pixels with OpenJPEG's (`opj_decompress`).

use image::{DynamicImage, GrayImage, RgbImage};

use crate::DecodeError;

/// The JP2 file's signature box.
const JP2: &[u8] = &[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20];
/// A bare codestream's first markers (SOC, SIZ).
const CODESTREAM: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];

/// Whether `bytes` begin as JPEG 2000 does.
pub fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(JP2) || bytes.starts_with(CODESTREAM)
}

/// Decodes a JPEG 2000 picture: grey stays grey, colour becomes RGB (an alpha channel is
/// dropped). Sides over 16,384 pixels, or far more pixels than the bytes could hold, are
/// refused before decoding.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    if !is_jpeg2000(bytes) {
        return Err(DecodeError::NotAnImage);
    }
    let settings = hayro_jpeg2000::DecodeSettings::default();
    let picture = hayro_jpeg2000::Image::new(bytes, &settings)
        .map_err(|error| DecodeError::Undecodable(format!("{error:?}")))?;
    let (width, height) = (picture.width(), picture.height());
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty);
    }
    if width > crate::MAX_DECODED_SIDE || height > crate::MAX_DECODED_SIDE {
        return Err(DecodeError::Implausible {
            width,
            height,
            bytes: bytes.len(),
        });
    }
    crate::refuse_implausible(width, height, bytes.len())?;
    let pixels = u64::from(width) * u64::from(height);
    let channels = usize::from(picture.color_space().num_channels());
    let alpha = usize::from(picture.has_alpha());
    let mut context = hayro_jpeg2000::DecoderContext::default();
    let decoded = picture
        .decode(&mut context)
        .map_err(|error| DecodeError::Undecodable(format!("{error:?}")))?;
    let samples = decoded.data_u8();
    let stride = channels + alpha;
    let expected = pixels as usize * stride;
    if samples.len() != expected {
        return Err(DecodeError::Undecodable(format!(
            "{} samples for {width} × {height} × {stride}",
            samples.len()
        )));
    }
    let image = match channels {
        1 => {
            let grey: Vec<u8> = samples.chunks_exact(stride).map(|pixel| pixel[0]).collect();
            GrayImage::from_raw(width, height, grey).map(DynamicImage::ImageLuma8)
        }
        3 => {
            let rgb: Vec<u8> = samples
                .chunks_exact(stride)
                .flat_map(|pixel| [pixel[0], pixel[1], pixel[2]])
                .collect();
            RgbImage::from_raw(width, height, rgb).map(DynamicImage::ImageRgb8)
        }
        other => {
            return Err(DecodeError::Undecodable(format!(
                "{other} colour channels (grey or RGB expected)"
            )))
        }
    };
    image.ok_or_else(|| DecodeError::Undecodable("its pixels do not fill it".into()))
}
