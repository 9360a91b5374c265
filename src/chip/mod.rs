//! The card's chip at the kiosk: the `[chip]` settings, the PC/SC reader ([`reader`]),
//! and one read from the reader to the verdict ([`read_and_check`]), with the selfie
//! matched against the chip's photo ([`match_with_photo`]). The protocol, the files and
//! passive authentication are `ekyc-chip`'s.

pub mod reader;

use std::path::PathBuf;
use std::time::SystemTime;

use ekyc_chip::lds::PhotoFormat;
use ekyc_chip::passive::{authenticate, TrustList, TrustListError, Verdict};
use ekyc_chip::{read_chip, ChipError, ChipRead, MrzKey, Progress};
use image::RgbImage;

/// When the kiosk reads the chip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChipMode {
    /// Never (the printed card alone).
    #[default]
    Off,
    /// When a reader is plugged in; without one, the journey goes on without the chip.
    WhenPresent,
    /// Always: no result without the chip (a bank that must have it).
    Required,
}

ekyc_settings::text_setting!(ChipMode);

ekyc_settings::section! {
    /// The card's chip (ICAO 9303: the CCCD's), read through a PC/SC reader.
    pub struct ChipConfig {
        /// `off`, `when_present` (read it when a reader is plugged in) or `required` (no
        /// result without it). Only `off` for now: the journeys do not read the chip yet.
        #[env = "EKYC_CHIP_MODE"]
        pub mode: ChipMode = ChipMode::Off,
        /// The reader: part of its name, as `ekyc-kiosk chip readers` lists them; empty:
        /// the first reader holding a card.
        #[env = "EKYC_CHIP_READER"]
        pub reader: String = String::new(),
        /// The CSCA certificates the bank trusts: PEM or DER files, folders of them, ICAO
        /// master lists. Without one, no chip is `valid` (only `untrusted`).
        pub csca: Vec<PathBuf> = Vec::new(),
    }
}

impl ChipConfig {
    /// `mode` other than `off` is refused for now, with what to do: the journeys do not read
    /// the chip yet, and a bank that requires it must not get results without it.
    pub fn validate(&self) -> Result<(), ekyc_settings::ConfigError> {
        if self.mode != ChipMode::Off {
            return Err(ekyc_settings::ConfigError::invalid(
                "mode",
                "the kiosk's journeys do not read the chip yet in this version: keep \"off\", and read chips at the desk with `ekyc-kiosk chip read`",
            ));
        }
        Ok(())
    }
}

/// A chip read and checked.
#[derive(Debug, Clone)]
pub struct ChipOutcome {
    /// The reader it was read on.
    pub reader: String,
    /// What the chip gave.
    pub read: ChipRead,
    /// Passive authentication's verdict (the kiosk's: the engine makes its own).
    pub verdict: Verdict,
}

/// Why a chip read ended without a chip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipReadError {
    /// No reader, no service, no card.
    #[error(transparent)]
    Reader(#[from] reader::ReaderError),
    /// The chip itself.
    #[error(transparent)]
    Chip(#[from] ChipError),
}

/// The trust list of `paths` (the `chip.csca` setting, or the CLI's `--csca`).
pub fn trust_list(paths: &[PathBuf]) -> Result<TrustList, TrustListError> {
    TrustList::load(paths)
}

/// Reads the chip on the reader `wanted` names with `key`, then checks it against `trust`.
pub fn read_and_check(
    wanted: &str,
    key: &MrzKey,
    trust: &TrustList,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ChipOutcome, ChipReadError> {
    let mut card = reader::connect(wanted)?;
    let reader = card.name().to_owned();
    let read = read_chip(&mut card, key, progress)?;
    let verdict = authenticate(
        &read.files.sod,
        &read.files.groups,
        trust,
        SystemTime::now(),
    );
    Ok(ChipOutcome {
        reader,
        read,
        verdict,
    })
}

/// The chip's photo as pixels, JPEG or JPEG 2000.
pub fn photo_pixels(read: &ChipRead) -> Result<RgbImage, String> {
    let photo = read.photo.as_ref().ok_or("the chip holds no photo (DG2)")?;
    let decoded = match photo.format {
        PhotoFormat::Jpeg => ekyc_imaging::decode_upright(&photo.bytes),
        PhotoFormat::Jpeg2000 => ekyc_imaging::jpeg2000::decode(&photo.bytes),
    };
    decoded
        .map(|image| image.to_rgb8())
        .map_err(|error| format!("the chip's photo {error}"))
}

/// A face match: the contract's similarity (0–100) and its verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceMatch {
    /// 0–100, 80 at dlib's threshold.
    pub similarity: f32,
    /// Above the threshold.
    pub is_match: bool,
}

/// The selfie matched against the chip's photo: the most confident face of each,
/// embedded by dlib's network, their distance as the engine's similarity.
pub fn match_with_photo(photo: &RgbImage, selfie: &RgbImage) -> Result<FaceMatch, String> {
    let detector = ekyc_face::FaceDetector::load(None).map_err(|error| error.to_string())?;
    let matcher = ekyc_face::FaceMatcher::shared().map_err(|error| error.to_string())?;
    let face_of = |image: &RgbImage, what: &str| {
        detector
            .detect_thorough(image)
            .map_err(|error| error.to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| format!("no face was found on {what}"))
    };
    let chip_face = face_of(photo, "the chip's photo")?;
    let selfie_face = face_of(selfie, "the selfie")?;
    let distance = matcher
        .embed_face(photo, &chip_face)
        .distance(&matcher.embed_face(selfie, &selfie_face));
    let threshold = ekyc_face::DEFAULT_MATCH_DISTANCE;
    Ok(FaceMatch {
        similarity: ekyc_face::similarity(distance, threshold),
        is_match: distance < threshold,
    })
}
