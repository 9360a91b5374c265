//! A real webcam through nokhwa (V4L2 on Linux). Frames are requested as MJPEG at
//! 1280×720 or the closest the camera offers, and decoded here with `image` (pure Rust).

use image::{Rgb, RgbImage};
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
    Resolution,
};

use super::{CameraError, FrameSource};

/// Which camera to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSelector {
    /// By position in the system's list.
    Index(u32),
    /// The first camera whose name contains this text (case-insensitive).
    Name(String),
}

/// A camera as `ekyc-kiosk cameras` lists it.
#[derive(Debug, Clone)]
pub struct CameraDescription {
    pub index: String,
    pub name: String,
    pub description: String,
    /// "1280×720 MJPEG @30", … or why they could not be read.
    pub formats: Result<Vec<String>, String>,
}

/// The cameras the system lists, as (index, name): names only, no camera is opened (staff
/// choose one while another is in use).
pub fn camera_names() -> Vec<(String, String)> {
    nokhwa::query(ApiBackend::Auto)
        .map(|cameras| {
            cameras
                .into_iter()
                .map(|info| (info.index().to_string(), info.human_name()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every camera the system offers, with its formats.
pub fn list_cameras() -> Result<Vec<CameraDescription>, CameraError> {
    let cameras = nokhwa::query(ApiBackend::Auto)
        .map_err(|error| CameraError::NotFound(error.to_string()))?;
    Ok(cameras
        .into_iter()
        .map(|info| {
            let formats = nokhwa::Camera::new(
                info.index().clone(),
                RequestedFormat::new::<RgbFormat>(RequestedFormatType::None),
            )
            .and_then(|mut camera| camera.compatible_camera_formats())
            .map(|formats| {
                formats
                    .iter()
                    .map(|format| {
                        format!(
                            "{}×{} {} @{}",
                            format.width(),
                            format.height(),
                            format.format(),
                            format.frame_rate()
                        )
                    })
                    .collect()
            })
            .map_err(|error| error.to_string());
            CameraDescription {
                index: info.index().to_string(),
                name: info.human_name(),
                description: info.description().to_owned(),
                formats,
            }
        })
        .collect())
}

/// A webcam, opened on the camera thread.
pub struct DeviceSource {
    selector: CameraSelector,
    camera: Option<nokhwa::Camera>,
    name: String,
}

impl DeviceSource {
    pub fn new(selector: CameraSelector) -> Self {
        let name = match &selector {
            CameraSelector::Index(index) => format!("Camera {index}"),
            CameraSelector::Name(name) => name.clone(),
        };
        Self {
            selector,
            camera: None,
            name,
        }
    }

    fn resolve(&self) -> Result<CameraIndex, CameraError> {
        match &self.selector {
            CameraSelector::Index(index) => Ok(CameraIndex::Index(*index)),
            CameraSelector::Name(wanted) => {
                let wanted = wanted.to_lowercase();
                nokhwa::query(ApiBackend::Auto)
                    .map_err(|error| CameraError::NotFound(error.to_string()))?
                    .into_iter()
                    .find(|info| info.human_name().to_lowercase().contains(&wanted))
                    .map(|info| info.index().clone())
                    .ok_or_else(|| {
                        CameraError::NotFound(format!("no camera named like \"{wanted}\""))
                    })
            }
        }
    }
}

impl FrameSource for DeviceSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn open(&mut self) -> Result<(), CameraError> {
        let index = self.resolve()?;
        let wanted = CameraFormat::new(Resolution::new(1280, 720), FrameFormat::MJPEG, 30);
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let mut camera = nokhwa::Camera::new(index, format)
            .map_err(|error| CameraError::CannotOpen(error.to_string()))?;
        camera
            .open_stream()
            .map_err(|error| CameraError::CannotOpen(error.to_string()))?;
        self.name = camera.info().human_name();
        self.camera = Some(camera);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let camera = self
            .camera
            .as_mut()
            .ok_or_else(|| CameraError::Stopped("not open".into()))?;
        let buffer = camera
            .frame()
            .map_err(|error| CameraError::Stopped(error.to_string()))?;
        let resolution = buffer.resolution();
        decode_frame(
            buffer.source_frame_format(),
            resolution.width(),
            resolution.height(),
            buffer.buffer(),
        )
    }

    fn skip_frame(&mut self) -> Result<(), CameraError> {
        let camera = self
            .camera
            .as_mut()
            .ok_or_else(|| CameraError::Stopped("not open".into()))?;
        camera
            .frame_raw()
            .map(|_| ())
            .map_err(|error| CameraError::Stopped(error.to_string()))
    }

    fn close(&mut self) {
        if let Some(mut camera) = self.camera.take() {
            let _ = camera.stop_stream();
        }
    }
}

/// Decodes one raw frame into RGB.
pub fn decode_frame(
    format: FrameFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<RgbImage, CameraError> {
    let pixels = width as usize * height as usize;
    let short = |needed: usize| {
        CameraError::Decode(format!(
            "{format} frame of {} bytes, {needed} expected",
            data.len()
        ))
    };
    match format {
        FrameFormat::MJPEG => image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
            .map(|image| image.to_rgb8())
            .map_err(|error| CameraError::Decode(error.to_string())),
        FrameFormat::YUYV => {
            if data.len() < pixels * 2 {
                return Err(short(pixels * 2));
            }
            Ok(RgbImage::from_fn(width, height, |x, y| {
                let pair = ((y * width + (x & !1)) * 2) as usize;
                let luma = data[pair + if x % 2 == 0 { 0 } else { 2 }];
                yuv_to_rgb(luma, data[pair + 1], data[pair + 3])
            }))
        }
        FrameFormat::NV12 => {
            if data.len() < pixels * 3 / 2 {
                return Err(short(pixels * 3 / 2));
            }
            let (luma_plane, chroma_plane) = data.split_at(pixels);
            Ok(RgbImage::from_fn(width, height, |x, y| {
                let chroma = ((y / 2) * width + (x & !1)) as usize;
                yuv_to_rgb(
                    luma_plane[(y * width + x) as usize],
                    chroma_plane[chroma],
                    chroma_plane[chroma + 1],
                )
            }))
        }
        FrameFormat::GRAY => {
            if data.len() < pixels {
                return Err(short(pixels));
            }
            Ok(RgbImage::from_fn(width, height, |x, y| {
                let grey = data[(y * width + x) as usize];
                Rgb([grey, grey, grey])
            }))
        }
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            let rgb = data.get(..pixels * 3).ok_or_else(|| short(pixels * 3))?;
            let mut image =
                RgbImage::from_raw(width, height, rgb.to_vec()).ok_or_else(|| short(pixels * 3))?;
            if format == FrameFormat::RAWBGR {
                image.pixels_mut().for_each(|pixel| pixel.0.swap(0, 2));
            }
            Ok(image)
        }
    }
}

/// BT.601 limited range, as webcams send it.
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> Rgb<u8> {
    let c = f32::from(y) - 16.0;
    let d = f32::from(u) - 128.0;
    let e = f32::from(v) - 128.0;
    let clamp = |value: f32| value.round().clamp(0.0, 255.0) as u8;
    Rgb([
        clamp(1.164 * c + 1.596 * e),
        clamp(1.164 * c - 0.392 * d - 0.813 * e),
        clamp(1.164 * c + 2.017 * d),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_frames_decode_to_the_right_colours() {
        // Two pixels: white then black, no colour (U = V = 128).
        let frame = [235, 128, 16, 128];
        let image = decode_frame(FrameFormat::YUYV, 2, 1, &frame).unwrap();
        assert_eq!(image.get_pixel(0, 0), &Rgb([255, 255, 255]));
        assert_eq!(image.get_pixel(1, 0), &Rgb([0, 0, 0]));
        // Pure red in BT.601: Y 81, U 90, V 240.
        let red = decode_frame(FrameFormat::YUYV, 2, 1, &[81, 90, 81, 240]).unwrap();
        let pixel = red.get_pixel(0, 0);
        assert!(
            pixel[0] > 240 && pixel[1] < 15 && pixel[2] < 15,
            "{pixel:?}"
        );
    }

    #[test]
    fn short_or_broken_frames_are_decode_errors_not_panics() {
        assert!(matches!(
            decode_frame(FrameFormat::YUYV, 640, 480, &[0; 10]),
            Err(CameraError::Decode(_))
        ));
        assert!(matches!(
            decode_frame(FrameFormat::NV12, 4, 4, &[0; 5]),
            Err(CameraError::Decode(_))
        ));
        assert!(matches!(
            decode_frame(FrameFormat::RAWRGB, 4, 4, &[0; 5]),
            Err(CameraError::Decode(_))
        ));
        assert!(matches!(
            decode_frame(FrameFormat::MJPEG, 4, 4, b"not a jpeg"),
            Err(CameraError::Decode(_))
        ));
        let bgr = decode_frame(FrameFormat::RAWBGR, 1, 1, &[1, 2, 3]).unwrap();
        assert_eq!(bgr.get_pixel(0, 0), &Rgb([3, 2, 1]));
    }
}
