//! The `[capture]` section: the gates' preset and any threshold that replaces the preset's
//! (`[capture.card]`, `[capture.selfie]`), and the automatic picture.

use std::path::PathBuf;

use ekyc_settings::{section, ConfigError};

use super::{Preset, Thresholds};

ekyc_settings::text_setting!(Preset);

section! {
    /// The capture screens' quality gates and the automatic picture. Every threshold
    /// comes from the preset unless set here (`[capture.card]`, `[capture.selfie]`).
    pub struct CaptureConfig {
        /// `strict`, `normal` (the vendor's published bar) or `relaxed`.
        #[env = "EKYC_CAPTURE_PRESET"]
        pub preset: Preset = Preset::Normal,
        /// Take the picture by itself when every gate holds (the Capture button stays).
        #[env = "EKYC_AUTO_CAPTURE"]
        pub auto_capture: bool = true,
        /// Frames in a row that must pass before the countdown starts (1–100).
        #[env = "EKYC_CAPTURE_STEADY_FRAMES"]
        pub steady_frames: u32 = 5,
        /// The countdown shown before an automatic picture, in ms (at most 10000).
        #[env = "EKYC_CAPTURE_COUNTDOWN_MS"]
        pub countdown_ms: u64 = 1500,
        /// The face detector model; unset: where `./fetch-models` and the package put it.
        #[env = "EKYC_FACE_MODEL"]
        pub face_model: Option<PathBuf> = None,
        /// The detector's confidence (0.05–0.99) from which a face counts as one.
        pub face_min_score: f32 = 0.75,
        /// The camera's picture, at least, in pixels: its width.
        pub min_frame_width: Option<u32> = None,
        /// ... and its height.
        pub min_frame_height: Option<u32> = None,
        /// Card thresholds that replace the preset's.
        pub card: CardOverrides = CardOverrides::default(),
        /// Selfie thresholds that replace the preset's.
        pub selfie: SelfieOverrides = SelfieOverrides::default(),
    }
}

section! {
    /// Card thresholds that replace the preset's (see
    /// [`CardThresholds`](super::gates::CardThresholds) for each).
    pub struct CardOverrides {
        /// Variance of the Laplacian inside the card, at least.
        pub min_sharpness: Option<f32> = None,
        /// Mean grey level inside the card, in percent of white, at least.
        pub min_brightness: Option<f32> = None,
        /// ... and at most.
        pub max_brightness: Option<f32> = None,
        /// Share of saturated pixels inside the card, at most.
        pub max_glare: Option<f32> = None,
        /// Standard deviation of grey levels inside the card, at least.
        pub min_contrast: Option<f32> = None,
        /// The card's width in camera pixels, at least (what the back end gets to read).
        pub min_card_pixels: Option<f32> = None,
        /// The card's width over the on-screen outline's width, at least ("move closer").
        pub min_fill: Option<f32> = None,
        /// ... and at most ("move back").
        pub max_fill: Option<f32> = None,
        /// How far a corner may move between two frames, as a share of the card's width.
        pub max_movement: Option<f32> = None,
        /// On the back's screen, a card this alike (correlation of small grey crops, −1…1)
        /// to the captured front is the front again.
        pub max_side_similarity: Option<f32> = None,
    }
}

section! {
    /// Selfie thresholds that replace the preset's (see
    /// [`SelfieThresholds`](super::gates::SelfieThresholds) for each).
    pub struct SelfieOverrides {
        /// The face box's height over the frame's height, at least.
        pub min_face_height: Option<f32> = None,
        /// How far the face's centre may be from the frame's, as a share of the frame.
        pub max_off_centre: Option<f32> = None,
        /// Mean grey level of the face, in percent of white, at least.
        pub min_brightness: Option<f32> = None,
        /// ... and at most.
        pub max_brightness: Option<f32> = None,
        /// How far the face may move between two frames, as a share of its height.
        pub max_movement: Option<f32> = None,
    }
}

impl CaptureConfig {
    /// The preset's thresholds with the ones set here in their place.
    pub fn thresholds(&self) -> Thresholds {
        let mut thresholds = Thresholds::preset(self.preset);
        let set = |slot: &mut f32, value: Option<f32>| {
            if let Some(value) = value {
                *slot = value;
            }
        };
        let (card, overrides) = (&mut thresholds.card, &self.card);
        set(&mut card.min_sharpness, overrides.min_sharpness);
        set(&mut card.min_brightness, overrides.min_brightness);
        set(&mut card.max_brightness, overrides.max_brightness);
        set(&mut card.max_glare, overrides.max_glare);
        set(&mut card.min_contrast, overrides.min_contrast);
        set(&mut card.min_card_pixels, overrides.min_card_pixels);
        set(&mut card.min_fill, overrides.min_fill);
        set(&mut card.max_fill, overrides.max_fill);
        set(&mut card.max_movement, overrides.max_movement);
        set(&mut card.max_side_similarity, overrides.max_side_similarity);
        let (selfie, overrides) = (&mut thresholds.selfie, &self.selfie);
        set(&mut selfie.min_face_height, overrides.min_face_height);
        set(&mut selfie.max_off_centre, overrides.max_off_centre);
        set(&mut selfie.min_brightness, overrides.min_brightness);
        set(&mut selfie.max_brightness, overrides.max_brightness);
        set(&mut selfie.max_movement, overrides.max_movement);
        if let Some(width) = self.min_frame_width {
            thresholds.min_frame_width = width;
        }
        if let Some(height) = self.min_frame_height {
            thresholds.min_frame_height = height;
        }
        thresholds
    }

    /// Checks the ranges and every threshold; the key in the error is the section's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.steady_frames == 0 || self.steady_frames > 100 {
            return Err(ConfigError::invalid(
                "steady_frames",
                "must be between 1 and 100",
            ));
        }
        if !(0.05..=0.99).contains(&self.face_min_score) {
            return Err(ConfigError::invalid(
                "face_min_score",
                "must be between 0.05 and 0.99",
            ));
        }
        if self.countdown_ms > 10_000 {
            return Err(ConfigError::invalid(
                "countdown_ms",
                "must be at most 10000 (10 seconds)",
            ));
        }
        // The message names the threshold (`selfie.min_face_height`); the key is the
        // section itself.
        self.thresholds()
            .validate()
            .map_err(|message| ConfigError::invalid("", message))
    }
}
