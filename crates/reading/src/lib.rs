//! What an ID card says and what it proves. The printed text, read with Tesseract
//! ([`tesseract`], its library loaded once) and sorted into labelled fields and MRZ lines
//! ([`card_text`]); the card's machine-readable copies of its fields: the MRZ with every
//! check digit ([`mrz`]) and the CCCD's QR code ([`cccd_qr`]); a whole document read and
//! merged, QR and MRZ values over printed ones ([`document`], what the engine's `/ocr`
//! answers and `inspect` prints); and whatever a back end read, checked against the card
//! ([`evidence`], [`cross_check`](mod@cross_check)).
//!
//! It may use `ekyc-contract` (field keys, OCR fields), `ekyc-imaging` (decoding, the card
//! found and flattened) and `ekyc-face` (the holder's photo painted out before OCR). The
//! engine and the kiosk use it; it knows neither.
#![warn(missing_docs)]

pub mod card_text;
pub mod cccd_qr;
pub mod cross_check;
pub mod date;
pub mod document;
pub mod evidence;
pub mod mrz;
pub mod tesseract;

pub use cccd_qr::{find_cccd_qr, find_cccd_qr_among, parse_cccd_qr, qr_codes, CccdQr, QrCode};
pub use cross_check::{cross_check, Agreement, ChipFacts, FieldAgreement, Proof};
pub use date::CardDate;
pub use document::{
    read_card_text, read_document, read_document_and_portrait, read_mrz, rotate_filled,
    without_portrait, CardReading, FieldSource, ReadField,
};
pub use evidence::CardEvidence;
pub use mrz::{parse_mrz, Mrz, MrzError, MrzFormat};
pub use tesseract::Tesseract;
