//! The QR code on a Vietnamese chip ID card (CCCD):
//! `id|old id|name|DDMMYYYY|sex|address|DDMMYYYY` (birth, then issue). The old id may be
//! empty; some cards omit it altogether (six fields). Every field is checked on its own:
//! one that does not hold up is left out, never guessed.

use std::fmt;

use image::DynamicImage;

use super::CardDate;

/// The fields a CCCD QR code carries; `None` where the payload did not hold a valid value.
#[derive(Clone, PartialEq, Eq)]
pub struct CccdQr {
    /// The 12-digit personal identification number.
    pub id: String,
    /// The 9-digit number of the old identity card (CMND), when printed.
    pub old_id: Option<String>,
    /// The holder's name, with diacritics.
    pub name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<CardDate>,
    /// As printed: "Nam" or "Nữ".
    pub sex: Option<String>,
    /// Place of residence, as printed.
    pub address: Option<String>,
    /// The card's issue date.
    pub issue_date: Option<CardDate>,
}

/// Personal data: wiped from memory when dropped (with the session that read it).
impl Drop for CccdQr {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.id.zeroize();
        let texts = [
            &mut self.old_id,
            &mut self.name,
            &mut self.sex,
            &mut self.address,
        ];
        for text in texts.into_iter().flatten() {
            text.zeroize();
        }
    }
}

/// Personal data: `Debug` says which fields are present, not what they hold.
impl fmt::Debug for CccdQr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CccdQr")
            .field("old_id", &self.old_id.is_some())
            .field("name", &self.name.is_some())
            .field("date_of_birth", &self.date_of_birth.is_some())
            .field("sex", &self.sex.is_some())
            .field("address", &self.address.is_some())
            .field("issue_date", &self.issue_date.is_some())
            .finish_non_exhaustive()
    }
}

/// Longest text accepted for a name or an address: a payload longer than this is not a
/// card's.
const MAX_TEXT_CHARS: usize = 200;

/// Parses a CCCD QR payload. `None` when it is not one (no valid 12-digit id first).
pub fn parse_cccd_qr(payload: &str) -> Option<CccdQr> {
    let fields: Vec<&str> = payload.trim().split('|').map(str::trim).collect();
    let id = fields.first().copied().filter(|id| is_digits(id, 12))?;
    // Seven fields (or more, from a newer layout) have the old id second. Six fields are
    // either a card without the old id, or one without the issue date: the date's
    // position tells which.
    let (old_id, rest): (Option<&str>, &[&str]) = match fields.len() {
        count if count >= 7 => (Some(fields[1]), &fields[2..7]),
        6 if CardDate::parse_ddmmyyyy(fields[2]).is_some() => (None, &fields[1..6]),
        6 => (Some(fields[1]), &fields[2..6]),
        _ => return None,
    };
    let text = |index: usize| {
        rest.get(index)
            .map(|value| value.to_string())
            .filter(|value| !value.is_empty() && value.chars().count() <= MAX_TEXT_CHARS)
    };
    Some(CccdQr {
        id: id.to_owned(),
        old_id: old_id.filter(|old| is_digits(old, 9)).map(str::to_owned),
        name: text(0),
        date_of_birth: rest.get(1).and_then(|date| CardDate::parse_ddmmyyyy(date)),
        sex: text(2).filter(|sex| sex.chars().count() <= 5),
        address: text(3),
        issue_date: rest.get(4).and_then(|date| CardDate::parse_ddmmyyyy(date)),
    })
}

/// The first CCCD payload among the image's QR codes (rxing, the Rust port of ZXing, with
/// its local binarisation). Tried in turn: the picture as it is, sharpened (a camera
/// slightly out of focus), and the card found and flattened at a size where a module is
/// several pixels (a tilted card, a card far away).
pub fn find_cccd_qr(image: &DynamicImage) -> Option<CccdQr> {
    let grey = image.to_luma8();
    find_cccd_qr_among(image, &grey, &qr_codes(&grey))
}

/// [`find_cccd_qr`] where the picture as it is (`grey`, `image` in grey) was already
/// looked at and gave `found`: the engine looks once per card side, for the CCCD's code
/// and for the codes it blanks before OCR.
pub fn find_cccd_qr_among(
    image: &DynamicImage,
    grey: &image::GrayImage,
    found: &[QrCode],
) -> Option<CccdQr> {
    let cccd = |codes: &[QrCode]| codes.iter().find_map(|code| parse_cccd_qr(&code.text));
    cccd(found)
        .or_else(|| cccd(&qr_codes(&image::imageops::unsharpen(grey, 2.0, 0))))
        .or_else(|| {
            let rgb = image.to_rgb8();
            let quad = ekyc_imaging::card::find_card(&ekyc_imaging::metrics::Luma::from_rgb(&rgb))?;
            let flat = ekyc_imaging::card::flatten_card_at(&rgb, &quad, 1600);
            cccd(&qr_codes(&DynamicImage::ImageRgb8(flat).to_luma8()))
        })
}

/// One QR code found in a picture.
pub struct QrCode {
    /// Its payload, as UTF-8 (a CCCD's is).
    pub text: String,
    /// Where it is: the centres of its finder patterns (and of its alignment pattern,
    /// when found), in the picture's pixels.
    pub points: Vec<(f32, f32)>,
}

impl Drop for QrCode {
    fn drop(&mut self) {
        // A CCCD's payload is personal data: not left behind in freed memory.
        zeroize::Zeroize::zeroize(&mut self.text);
    }
}

/// Every QR code in `grey`. A decoder failure, even a panic inside it, is "none found".
pub fn qr_codes(grey: &image::GrayImage) -> Vec<QrCode> {
    let mut hints = rxing::DecodeHints {
        TryHarder: Some(true),
        CharacterSet: Some("UTF-8".into()),
        PossibleFormats: Some(std::iter::once(rxing::BarcodeFormat::QR_CODE).collect()),
        ..Default::default()
    };
    let (width, height) = grey.dimensions();
    let pixels = grey.as_raw().clone();
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rxing::helpers::detect_multiple_in_luma_with_hints(pixels, width, height, &mut hints)
    }));
    match found {
        Ok(Ok(results)) => results
            .iter()
            .map(|result| QrCode {
                text: result.getText().to_owned(),
                points: result
                    .getPoints()
                    .iter()
                    .map(|point| (point.x, point.y))
                    .collect(),
            })
            .collect(),
        Ok(Err(_)) => Vec::new(),
        Err(_) => {
            tracing::warn!("the QR decoder failed on a picture; no QR code read from it");
            Vec::new()
        }
    }
}

fn is_digits(text: &str, count: usize) -> bool {
    text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "001099012345|123456789|Nguyễn Văn An|15031990|Nam|Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội|20042021";

    #[test]
    fn seven_fields_parse_with_dates_in_contract_format() {
        let card = parse_cccd_qr(SAMPLE).unwrap();
        assert_eq!(card.id, "001099012345");
        assert_eq!(card.old_id.as_deref(), Some("123456789"));
        assert_eq!(card.name.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(card.date_of_birth.unwrap().to_string(), "15/03/1990");
        assert_eq!(card.sex.as_deref(), Some("Nam"));
        assert_eq!(
            card.address.as_deref(),
            Some("Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội")
        );
        assert_eq!(card.issue_date.unwrap().to_string(), "20/04/2021");
    }

    #[test]
    fn empty_old_id_and_six_field_variants() {
        let card = parse_cccd_qr("001099012345||Trần Thị Bình|01012000|Nữ|Huế|02022022").unwrap();
        assert_eq!(card.old_id, None);
        assert_eq!(card.sex.as_deref(), Some("Nữ"));

        let no_old_id =
            parse_cccd_qr("001099012345|Trần Thị Bình|01012000|Nữ|Huế|02022022").unwrap();
        assert_eq!(no_old_id.name.as_deref(), Some("Trần Thị Bình"));
        assert_eq!(no_old_id.issue_date.unwrap().to_string(), "02/02/2022");

        let no_issue =
            parse_cccd_qr("001099012345|123456789|Trần Thị Bình|01012000|Nữ|Huế").unwrap();
        assert_eq!(no_issue.old_id.as_deref(), Some("123456789"));
        assert_eq!(no_issue.address.as_deref(), Some("Huế"));
        assert_eq!(no_issue.issue_date, None);
    }

    #[test]
    fn invalid_fields_are_left_out_not_guessed() {
        let card = parse_cccd_qr("001099012345|12AB|Lê C|31021990|Nam||99999999").unwrap();
        assert_eq!(card.old_id, None);
        assert_eq!(card.date_of_birth, None, "31 February is no date");
        assert_eq!(card.address, None);
        assert_eq!(card.issue_date, None);
        assert_eq!(card.name.as_deref(), Some("Lê C"));
        assert_eq!(
            CardDate::parse_ddmmyyyy("29022000").unwrap().to_string(),
            "29/02/2000"
        );
        assert_eq!(CardDate::parse_ddmmyyyy("29021900"), None);
    }

    #[test]
    fn payloads_that_are_not_a_card_are_refused() {
        for payload in [
            "",
            "|",
            "https://example.com",
            "12345|a|b|c|d|e|f",
            "00109901234X|||||||",
            "001099012345|a|b",
        ] {
            assert!(parse_cccd_qr(payload).is_none(), "{payload:?}");
        }
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        // Every prefix of a real payload, and multi-byte characters at every boundary.
        for end in 0..=SAMPLE.len() {
            if SAMPLE.is_char_boundary(end) {
                let _ = parse_cccd_qr(&SAMPLE[..end]);
            }
        }
        for payload in [
            "ữữữữữữữữữữữữ|||||||",
            "001099012345|ữ|ữ|ữữữữữữữữ|ữ|ữ|ữữữữữữữữ",
            "\u{0}|\u{0}",
        ] {
            let _ = parse_cccd_qr(payload);
        }
    }

    #[test]
    fn debug_output_holds_no_personal_data() {
        let printed = format!("{:?}", parse_cccd_qr(SAMPLE).unwrap());
        assert!(
            !printed.contains("001099012345") && !printed.contains("Nguyễn"),
            "{printed}"
        );
    }
}
