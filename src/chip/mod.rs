//! The card's chip at the kiosk: the `[chip]` settings, where cards are found
//! ([`ChipReaders`]: PC/SC, [`reader`]), the key from the card's MRZ ([`key_of`]), one
//! read from the reader to the verdict ([`read_and_check`]), what the chip says for the
//! cross-checks ([`ChipOutcome::facts`]) and for the back end ([`ChipOutcome::request`]),
//! and the selfie matched against the chip's photo ([`match_with_photo`]). The protocol,
//! the files and passive authentication are `ekyc-chip`'s.

pub mod reader;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

use base64::Engine as _;
use ekyc_chip::passive::{authenticate, TrustList, TrustListError, Verdict};
use ekyc_chip::{read_chip, Card, ChipError, ChipKey, ChipRead, MrzKey, Progress};
use ekyc_contract::ChipVerifyRequest;
use ekyc_reading::{CardDate, ChipFacts, Mrz};
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
        /// result without it). ENROLL with a CCCD or a passport reads it after the card's
        /// pictures.
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

/// Where the kiosk finds cards: the PC/SC readers ([`Pcsc`]), or a test's software chip.
pub trait ChipReaders: Send + Sync {
    /// The readers plugged in now, by name.
    fn readers(&self) -> Result<Vec<String>, reader::ReaderError>;
    /// The card on the reader whose name contains `wanted` (empty: the first reader
    /// holding one), and that reader's name.
    fn connect(&self, wanted: &str) -> Result<(Box<dyn Card>, String), reader::ReaderError>;
}

/// The PC/SC readers (Debian's `pcscd`).
pub struct Pcsc;

impl ChipReaders for Pcsc {
    fn readers(&self) -> Result<Vec<String>, reader::ReaderError> {
        reader::readers()
    }

    fn connect(&self, wanted: &str) -> Result<(Box<dyn Card>, String), reader::ReaderError> {
        let card = reader::connect(wanted)?;
        let name = card.name().to_owned();
        Ok((Box::new(card), name))
    }
}

/// The key that opens the chip, from the MRZ read on the card's back: its document
/// number and dates, when every check digit holds.
pub fn key_of(mrz: &Mrz) -> Option<MrzKey> {
    let yymmdd = |date: CardDate| format!("{:02}{:02}{:02}", date.year % 100, date.month, date.day);
    if !mrz.is_valid() {
        return None;
    }
    let key = MrzKey {
        document_number: mrz.document_number.clone(),
        birth: yymmdd(mrz.date_of_birth?),
        expiry: yymmdd(mrz.date_of_expiry?),
    };
    key.check().ok().map(|()| key)
}

/// Reads the chip on the reader `wanted` names with `key` (the MRZ's numbers or the CAN),
/// then checks it against `trust`.
pub fn read_and_check(
    readers: &dyn ChipReaders,
    wanted: &str,
    key: impl Into<ChipKey>,
    trust: &TrustList,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ChipOutcome, ChipReadError> {
    let (mut card, reader) = readers.connect(wanted)?;
    let read = read_chip(card.as_mut(), key, progress)?;
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

impl ChipOutcome {
    /// What the chip says of the fields the result cross-checks: DG13's, and DG1's MRZ
    /// for what DG13 lacks (a passport has no DG13).
    pub fn facts(&self) -> ChipFacts {
        let mrz = ekyc_reading::parse_mrz(&self.read.mrz.text, CardDate::today()).ok();
        let dg13 = self.read.dg13.clone().unwrap_or_default();
        let from_mrz = |pick: fn(&Mrz) -> Option<CardDate>| mrz.as_ref().and_then(pick);
        let date = |text: &Option<String>| text.as_deref().and_then(ChipFacts::date);
        ChipFacts {
            id: dg13
                .id_number
                .clone()
                .or_else(|| mrz.as_ref().and_then(|mrz| mrz.vn_id.clone())),
            name: dg13.full_name.clone(),
            date_of_birth: date(&dg13.date_of_birth).or_else(|| from_mrz(|mrz| mrz.date_of_birth)),
            sex: dg13
                .sex
                .as_deref()
                .and_then(ChipFacts::sex)
                .or_else(|| mrz.as_ref().and_then(|mrz| mrz.sex)),
            date_of_expiry: date(&dg13.date_of_expiry)
                .or_else(|| from_mrz(|mrz| mrz.date_of_expiry)),
            date_of_issue: date(&dg13.date_of_issue),
        }
    }

    /// The chip's raw files for the back end to check (`/chip/verify`).
    pub fn request(&self) -> ChipVerifyRequest {
        let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        ChipVerifyRequest {
            sod: base64(&self.read.files.sod),
            data_groups: self
                .read
                .files
                .groups
                .iter()
                .map(|(number, content)| (number.to_string(), base64(content)))
                .collect::<BTreeMap<_, _>>(),
        }
    }
}

/// The chip's photo as pixels, JPEG or JPEG 2000.
pub fn photo_pixels(read: &ChipRead) -> Result<RgbImage, String> {
    let photo = read.photo.as_ref().ok_or("the chip holds no photo (DG2)")?;
    ekyc_imaging::decode_photo(&photo.bytes)
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

/// Where the kiosk's chip step is, as its screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipStatus {
    /// Reading the MRZ on the card's pictures for the key.
    FindingKey,
    /// Waiting for a card on the reader.
    WaitingForCard,
    /// Reading the chip: where it is.
    Reading(Progress),
    /// The read ended without the chip: why.
    Failed(ChipProblem),
}

/// Why the chip step stopped, in the words its screen uses (the customer's and staff's
/// ways forward differ by kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipProblem {
    /// The MRZ could not be read on the card's pictures: staff type the numbers.
    NoKey,
    /// The numbers do not open the chip: retake the back, or staff type them.
    WrongKey,
    /// The card was moved away mid-read: put it back and keep it still.
    MovedAway,
    /// The chip does not answer (damaged, or not a chip card).
    NoAnswer,
    /// PACE only, with parameters this version cannot use.
    PaceOnly,
    /// A CAN was typed for a chip that offers no PACE: the MRZ's numbers open it.
    NoPace,
    /// Anything else, in words for staff.
    Other(String),
}

impl ChipProblem {
    /// The code in the attempt log (never personal data).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoKey => "no_key",
            Self::WrongKey => "wrong_key",
            Self::MovedAway => "moved_away",
            Self::NoAnswer => "no_answer",
            Self::PaceOnly => "pace_only",
            Self::NoPace => "no_pace",
            Self::Other(_) => "other",
        }
    }
}

impl From<&ChipReadError> for ChipProblem {
    fn from(error: &ChipReadError) -> Self {
        use ekyc_chip::LinkError;
        match error {
            ChipReadError::Chip(ChipError::WrongKey) => Self::WrongKey,
            ChipReadError::Chip(ChipError::BadKey(_)) => Self::NoKey,
            ChipReadError::Chip(ChipError::Link(LinkError::Removed))
            | ChipReadError::Chip(ChipError::SecureMessaging(_)) => Self::MovedAway,
            ChipReadError::Chip(ChipError::Link(LinkError::NoAnswer(_)))
            | ChipReadError::Chip(ChipError::NotADocument) => Self::NoAnswer,
            ChipReadError::Chip(ChipError::BacNotOffered(_)) => Self::PaceOnly,
            ChipReadError::Chip(ChipError::PaceNotOffered) => Self::NoPace,
            other => Self::Other(other.to_string()),
        }
    }
}
