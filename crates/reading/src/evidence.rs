//! What the card itself says, read on this machine from the captured images: its CCCD QR
//! code (and its MRZ, once this machine reads text). The back end's OCR is cross-checked
//! against it.

use image::DynamicImage;

use super::{
    cross_check, find_cccd_qr, parse_mrz, CardDate, CccdQr, ChipFacts, FieldAgreement, Mrz,
};
use ekyc_contract::{FieldKey, OcrField};
use ekyc_imaging::{decode_upright, PreparedImage};

/// The card's machine-readable copies of its fields, where the images yield them.
#[derive(Debug, Clone, Default)]
pub struct CardEvidence {
    /// The QR code's payload, when one was read.
    pub qr: Option<CccdQr>,
    /// The MRZ the back end returned, when its check digits hold.
    pub mrz: Option<Mrz>,
    /// What the card's chip says, when it was read.
    pub chip: Option<ChipFacts>,
}

impl CardEvidence {
    /// Reads the images (front first). An image that does not decode yields nothing.
    pub fn read(images: &[DynamicImage]) -> Self {
        Self {
            qr: images.iter().find_map(find_cccd_qr),
            mrz: None,
            chip: None,
        }
    }

    /// [`CardEvidence::read`] on prepared uploads.
    pub fn read_uploads(uploads: &[PreparedImage]) -> Self {
        let images: Vec<DynamicImage> = uploads
            .iter()
            .filter_map(|upload| decode_upright(&upload.jpeg).ok())
            .collect();
        Self::read(&images)
    }

    /// The OCR's fields against the card. An MRZ the back end returned as a field (key
    /// `MRZ`, lines separated by line breaks) counts as the card's when this machine read
    /// none and every check digit holds: the check digits prove it was read right.
    pub fn cross_check(&self, fields: &[OcrField]) -> Vec<FieldAgreement> {
        let from_ocr = || {
            fields
                .iter()
                .find(|field| field.field_key() == Some(FieldKey::Mrz))
                .and_then(|field| parse_mrz(&field.value, CardDate::today()).ok())
        };
        let mrz = self.mrz.clone().or_else(from_ocr);
        cross_check(fields, self.qr.as_ref(), mrz.as_ref(), self.chip.as_ref())
    }
}
