//! What the local engine reads from a card image. In this version: the CCCD QR code.
//! Every field it returns was decoded from the card; none is invented.

use image::DynamicImage;

use crate::api::DocumentType;
use crate::verify::{parse_cccd_qr, CccdQr};

/// One field in the contract's shape. `score` is `None` ("N/A"): a QR decode verifies its
/// own error-correction codes but yields no confidence figure, and the engine reports only
/// what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadField {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub score: Option<f32>,
}

/// Reads the first CCCD QR code found in the images (front first). Empty when none is
/// readable, or when the document type has no QR code.
pub fn read_document(document: DocumentType, images: &[DynamicImage]) -> Vec<ReadField> {
    if document != DocumentType::Idr {
        return Vec::new();
    }
    images
        .iter()
        .find_map(find_cccd_qr)
        .map(|card| qr_fields(&card))
        .unwrap_or_default()
}

/// The first CCCD payload among the image's QR codes. rqrr misses codes whose modules
/// are a fractional 3–4 pixels (a card photographed from a little further away), and a
/// resampled copy often reads: the image is tried as it is, then at twice and at 0.6 of
/// its size.
pub fn find_cccd_qr(image: &DynamicImage) -> Option<CccdQr> {
    read_qr(image).or_else(|| {
        [2.0f32, 0.6]
            .into_iter()
            .filter(|scale| image.width().max(image.height()) as f32 * scale <= 4096.0)
            .find_map(|scale| {
                let width = (image.width() as f32 * scale) as u32;
                let height = (image.height() as f32 * scale) as u32;
                read_qr(&image.resize(width, height, image::imageops::FilterType::CatmullRom))
            })
    })
}

fn read_qr(image: &DynamicImage) -> Option<CccdQr> {
    let mut prepared = rqrr::PreparedImage::prepare(image.to_luma8());
    prepared.detect_grids().into_iter().find_map(|grid| {
        let mut payload = Vec::new();
        grid.decode_to(&mut payload).ok()?;
        parse_cccd_qr(&String::from_utf8_lossy(&payload))
    })
}

/// The QR's fields with their contract keys, in the contract's order.
fn qr_fields(card: &CccdQr) -> Vec<ReadField> {
    let field = |key, label, value: Option<String>| {
        value.map(|value| ReadField {
            key,
            label,
            value,
            score: None,
        })
    };
    [
        field("ID", "Số / No.", Some(card.id.clone())),
        field("Name", "Họ và tên / Full name", card.name.clone()),
        field(
            "Date of birth",
            "Ngày sinh / Date of birth",
            card.date_of_birth.map(|date| date.to_string()),
        ),
        field("Sex", "Giới tính / Sex", card.sex.clone()),
        field(
            "Address",
            "Nơi thường trú / Place of residence",
            card.address.clone(),
        ),
        field(
            "Issue Date",
            "Ngày cấp / Date of issue",
            card.issue_date.map(|date| date.to_string()),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
