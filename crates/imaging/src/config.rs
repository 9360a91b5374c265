//! The `[images]` section: how pictures are prepared before they are sent.

use ekyc_settings::{section, ConfigError};

use crate::ImageLimits;

section! {
    /// How pictures are prepared before they are sent (see [`ImageLimits`]).
    pub struct ImagesConfig {
        /// The longest side after preparation, in pixels (at least 320).
        #[env = "EKYC_IMAGE_MAX_SIDE"]
        pub max_side: u32 = ImageLimits::default().max_side,
        /// JPEG quality of the re-encoded picture, 1–100.
        #[env = "EKYC_JPEG_QUALITY"]
        pub jpeg_quality: u8 = ImageLimits::default().jpeg_quality,
        /// The largest picture file accepted, in MB.
        #[env = "EKYC_IMAGE_MAX_FILE_MB"]
        pub max_file_mb: u32 = (ImageLimits::default().max_file_bytes / 1_048_576) as u32,
    }
}

impl ImagesConfig {
    /// Checks the ranges; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=100).contains(&self.jpeg_quality) {
            return Err(ConfigError::invalid(
                "jpeg_quality",
                "must be between 1 and 100",
            ));
        }
        if self.max_side < 320 {
            return Err(ConfigError::invalid(
                "max_side",
                "must be at least 320 pixels",
            ));
        }
        if self.max_file_mb == 0 {
            return Err(ConfigError::invalid(
                "max_file_mb",
                "size limits must be at least 1 MB",
            ));
        }
        Ok(())
    }

    /// The limits pictures are prepared within.
    pub fn limits(&self) -> ImageLimits {
        ImageLimits {
            max_side: self.max_side,
            jpeg_quality: self.jpeg_quality,
            max_file_bytes: u64::from(self.max_file_mb) * 1_048_576,
        }
    }
}
