//! What the local engine reads from a card image. In this version: the CCCD QR code.
//! Every field it returns was decoded from the card; none is invented.

use image::DynamicImage;

use crate::api::DocumentType;
use crate::verify::{find_cccd_qr, CccdQr};

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
