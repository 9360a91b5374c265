//! What the local engine reads from card images: the CCCD QR code, the printed fields
//! (Tesseract) and the MRZ. Where the QR code or a valid MRZ carries a field, its value
//! wins over the printed text's, and the field says where it came from. Every field
//! returned was read from the images; none is invented.

use image::{DynamicImage, GrayImage, ImageBuffer, Pixel, RgbImage};

use super::card_text::{find_mrz_lines, read_printed_fields, PrintedField};
use super::tesseract::{OcrError, Reading, Tesseract, TextLine};
use crate::{find_cccd_qr_among, parse_mrz, qr_codes, CardDate, CccdQr, Mrz, QrCode};
pub use ekyc_contract::FieldSource;
use ekyc_contract::{DocumentType, FieldKey};
use ekyc_face::{Face, FaceDetector};

/// One field in the contract's shape. `score` is Tesseract's confidence for printed
/// text; `None` ("N/A") for a QR or MRZ value, which has none.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadField {
    /// Which field.
    pub key: FieldKey,
    /// The label, as the contract names it.
    pub label: &'static str,
    /// The value read.
    pub value: String,
    /// Tesseract's confidence in percent; `None` for QR and MRZ values.
    pub score: Option<f32>,
    /// Where the value came from.
    pub source: FieldSource,
}

/// The fields of a document and what could not be done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardReading {
    /// The fields, in the contract's order.
    pub fields: Vec<ReadField>,
    /// For the response's `warning`: e.g. OCR is not installed.
    pub warning: Option<String>,
}

/// The contract's keys for an identity card, in its order, with the printed labels.
const IDR_KEYS: [(FieldKey, &str); 11] = [
    (FieldKey::Id, "Số / No."),
    (FieldKey::Name, "Họ và tên / Full name"),
    (FieldKey::DateOfBirth, "Ngày sinh / Date of birth"),
    (FieldKey::Sex, "Giới tính / Sex"),
    (FieldKey::Nationality, "Quốc tịch / Nationality"),
    (FieldKey::Home, "Quê quán / Place of origin"),
    (FieldKey::Address, "Nơi thường trú / Place of residence"),
    (FieldKey::ExpiredDate, "Có giá trị đến / Date of expiry"),
    (
        FieldKey::Features,
        "Đặc điểm nhân dạng / Personal identification",
    ),
    (FieldKey::IssueDate, "Ngày cấp / Date of issue"),
    (FieldKey::Mrz, "MRZ"),
];

/// Reads `images` (front first) as [`read_document`] does, with the holder's photo on the
/// front kept out of the text reading: the largest face `detector` finds on the front is
/// the portrait, and its head-and-shoulders area is painted white for Tesseract (a face
/// photo beside the name line makes it read the name as noise). Also returns that face,
/// in the front's pixels, for the face match. Without a detector this is
/// [`read_document`].
pub fn read_document_and_portrait(
    document: DocumentType,
    images: &[DynamicImage],
    ocr: Option<&Tesseract>,
    detector: Option<&FaceDetector>,
) -> (CardReading, Option<Face>) {
    let portrait = match (detector, images.first()) {
        (Some(detector), Some(front)) => match detector.detect_thorough(&front.to_rgb8()) {
            Ok(faces) => faces
                .into_iter()
                .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height))),
            Err(error) => {
                tracing::warn!("face detection on the document failed: {error}");
                None
            }
        },
        _ => None,
    };
    let Some(face) = portrait.as_ref().filter(|_| ocr.is_some()) else {
        return (read_document(document, images, ocr), portrait);
    };
    let mut for_text = images.to_vec();
    for_text[0] = DynamicImage::ImageRgb8(without_portrait(&for_text[0].to_rgb8(), face));
    (read_document(document, &for_text, ocr), portrait)
}

/// `front` with the head-and-shoulders area around `face` (the holder's photo) painted
/// white, for Tesseract.
pub fn without_portrait(front: &RgbImage, face: &Face) -> RgbImage {
    let mut front = front.clone();
    let (width, height) = (front.width() as f32, front.height() as f32);
    let left = (face.left - 0.55 * face.width).clamp(0.0, width) as u32;
    let right = (face.left + 1.55 * face.width).clamp(0.0, width) as u32;
    let top = (face.top - 0.75 * face.height).clamp(0.0, height) as u32;
    let bottom = (face.top + 2.4 * face.height).clamp(0.0, height) as u32;
    for y in top..bottom {
        for x in left..right {
            front.put_pixel(x, y, image::Rgb([255, 255, 255]));
        }
    }
    front
}

/// Reads `images` (front first). `ocr` is `None` where Tesseract is not installed: then
/// only a CCCD's QR code is read, and the reading says so.
pub fn read_document(
    document: DocumentType,
    images: &[DynamicImage],
    ocr: Option<&Tesseract>,
) -> CardReading {
    let warning = ocr.is_none().then(|| {
        "Tesseract OCR is not installed on this engine: only the card's QR code was read".to_owned()
    });
    let grays: Vec<GrayImage> = images.iter().map(DynamicImage::to_luma8).collect();
    // Each side's QR codes, looked for once: the CCCD's is read, and all are blanked
    // before OCR.
    let codes: Vec<Vec<QrCode>> = match (document, ocr) {
        (DocumentType::Idr, _) | (_, Some(_)) => grays.iter().map(qr_codes).collect(),
        _ => Vec::new(),
    };
    let qr = match document {
        DocumentType::Idr => images
            .iter()
            .zip(&grays)
            .zip(&codes)
            .find_map(|((image, gray), codes)| find_cccd_qr_among(image, gray, codes)),
        _ => None,
    };
    let mut printed: Vec<PrintedField> = Vec::new();
    let mut mrz: Option<(Mrz, String, f32)> = None;
    if let Some(ocr) = ocr {
        // The MRZ is on the last image: an ID card's back, a passport's data page.
        let mrz_side = images.len().saturating_sub(1);
        for (side, (gray, codes)) in grays.iter().zip(&codes).enumerate() {
            let lines = match read_card_text_blanking(ocr, gray, codes) {
                Ok(lines) => lines,
                Err(error) => {
                    tracing::warn!("OCR failed: {error}");
                    continue;
                }
            };
            for field in read_printed_fields(&lines) {
                if !printed.iter().any(|known| known.key == field.key) {
                    printed.push(field);
                }
            }
            if side == mrz_side {
                mrz = read_mrz(ocr, gray, &lines);
            }
        }
    }
    let fields = match document {
        DocumentType::Idr => idr_fields(qr.as_ref(), mrz.as_ref(), &printed),
        DocumentType::Passport => mrz.as_ref().map(passport_fields).unwrap_or_default(),
        DocumentType::Dlr => Vec::new(),
    };
    CardReading { fields, warning }
}

/// A card side's printed text as the engine reads it: QR codes blanked, the card levelled
/// (a long line tilted by 2° drifts by more than its own height across a card, and
/// Tesseract splits it), then Tesseract.
pub fn read_card_text(ocr: &Tesseract, gray: &GrayImage) -> Result<Vec<TextLine>, OcrError> {
    read_card_text_blanking(ocr, gray, &qr_codes(gray))
}

/// [`read_card_text`] with the side's QR codes already found (`codes`).
fn read_card_text_blanking(
    ocr: &Tesseract,
    gray: &GrayImage,
    codes: &[QrCode],
) -> Result<Vec<TextLine>, OcrError> {
    let mut blanked = gray.clone();
    blank_qr_codes(&mut blanked, codes);
    let skew = skew_angle(&blanked);
    if skew.abs() >= 0.5 {
        // Turning resamples the print; on a larger copy the diacritics of the bold
        // capitals (Ễ, Ầ) survive it.
        if blanked.width() < 1600 {
            blanked = image::imageops::resize(
                &blanked,
                blanked.width() * 3 / 2,
                blanked.height() * 3 / 2,
                image::imageops::FilterType::CatmullRom,
            );
        }
        blanked = rotate(&blanked, -skew);
    }
    ocr.read(&blanked, Reading::CardText)
}

/// How far, in degrees (within ±4), text lines slope in `gray`: the angle along which the
/// dark pixels fall into the most sharply separated rows (lines of print, gaps between).
/// Positive when lines fall to the right, as [`rotate`] by that angle would make them.
pub fn skew_angle(gray: &GrayImage) -> f32 {
    let scale = (600.0 / gray.width().max(1) as f32).min(1.0);
    let small = image::imageops::resize(
        gray,
        ((gray.width() as f32 * scale) as u32).max(1),
        ((gray.height() as f32 * scale) as u32).max(1),
        image::imageops::FilterType::Triangle,
    );
    let mean = small.pixels().map(|pixel| u64::from(pixel[0])).sum::<u64>()
        / u64::from((small.width() * small.height()).max(1));
    let threshold = (mean as f32 * 0.7) as u8;
    let dark: Vec<(f32, f32)> = small
        .enumerate_pixels()
        .filter(|(_, _, pixel)| pixel[0] < threshold)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    if dark.len() < 50 {
        return 0.0;
    }
    let rows = (small.height() + small.width()) as usize * 2;
    let peakedness = |degrees: f32| {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let mut histogram = vec![0u32; rows];
        for &(x, y) in &dark {
            let row = (y * cos - x * sin + small.width() as f32) as usize;
            if let Some(count) = histogram.get_mut(row) {
                *count += 1;
            }
        }
        histogram
            .iter()
            .map(|&count| u64::from(count) * u64::from(count))
            .sum::<u64>()
    };
    (-16..=16)
        .map(|step| step as f32 * 0.25)
        .max_by_key(|&degrees| peakedness(degrees))
        .unwrap_or(0.0)
}

/// Paints QR codes white: their modules read as rows of garbage letters that Tesseract
/// merges into the text lines beside them. A code's square reaches 3.5 modules past its
/// finder patterns' centres: a quarter of their spread for the smallest code (21
/// modules), and a quiet zone's worth more for the larger ones.
fn blank_qr_codes(gray: &mut image::GrayImage, codes: &[QrCode]) {
    for code in codes {
        let xs = code.points.iter().map(|point| point.0);
        let ys = code.points.iter().map(|point| point.1);
        let (left, right) = (
            xs.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
        );
        let (top, bottom) = (
            ys.clone().fold(f32::MAX, f32::min),
            ys.fold(f32::MIN, f32::max),
        );
        if left > right || top > bottom {
            continue;
        }
        let margin = (right - left).max(bottom - top) / 4.0 + 4.0;
        let (width, height) = (gray.width() as f32, gray.height() as f32);
        let clamp_x = |x: f32| x.clamp(0.0, width) as u32;
        let clamp_y = |y: f32| y.clamp(0.0, height) as u32;
        for y in clamp_y(top - margin)..clamp_y(bottom + margin) {
            for x in clamp_x(left - margin)..clamp_x(right + margin) {
                gray.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
}

/// The MRZ from the text already read, or else from the image's lower part read again
/// with only MRZ characters allowed. Only an MRZ of the right shape counts; with it, its
/// text and Tesseract's mean confidence.
pub fn read_mrz(
    ocr: &Tesseract,
    gray: &GrayImage,
    lines: &[TextLine],
) -> Option<(Mrz, String, f32)> {
    let parsed = |(text, confidence): (String, f32)| {
        parse_mrz(&text, CardDate::today())
            .ok()
            .map(|mrz| (mrz, text, confidence))
    };
    let from_text = find_mrz_lines(lines).and_then(parsed);
    if from_text.as_ref().is_some_and(|(mrz, _, _)| mrz.is_valid()) {
        return from_text;
    }
    // The MRZ alone, from the lower part; a card photographed a little askew gets its
    // MRZ misread by a character or two, so small rotations are tried until one holds.
    let read_lower_part = |image: &GrayImage| {
        let top = image.height() * 55 / 100;
        let bottom = image::imageops::crop_imm(image, 0, top, image.width(), image.height() - top)
            .to_image();
        ocr.read(&bottom, Reading::Mrz)
            .ok()
            .and_then(|lines| find_mrz_lines(&lines))
            .and_then(parsed)
    };
    let is_valid =
        |read: &Option<(Mrz, String, f32)>| read.as_ref().is_some_and(|(mrz, _, _)| mrz.is_valid());
    let mut best = from_text;
    for degrees in [0.0, -1.0, 1.0, -2.0, 2.0, -3.0, 3.0] {
        let read = if degrees == 0.0 {
            read_lower_part(gray)
        } else {
            read_lower_part(&rotate(gray, degrees))
        };
        if is_valid(&read) {
            return read;
        }
        if best.is_none() {
            best = read;
        }
    }
    best
}

/// `image` turned by `degrees` about its centre (bilinear; uncovered corners white).
pub fn rotate(image: &GrayImage, degrees: f32) -> GrayImage {
    rotate_filled(image, degrees, image::Luma([255]))
}

/// `image` turned by `degrees` about its centre, bilinear, the uncovered corners `fill`.
pub fn rotate_filled<P>(
    image: &ImageBuffer<P, Vec<u8>>,
    degrees: f32,
    fill: P,
) -> ImageBuffer<P, Vec<u8>>
where
    P: Pixel<Subpixel = u8>,
{
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (width, height) = (image.width() as f32, image.height() as f32);
    let (cx, cy) = (width / 2.0, height / 2.0);
    ImageBuffer::from_fn(image.width(), image.height(), |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let (sx, sy) = (cos * dx + sin * dy + cx, -sin * dx + cos * dy + cy);
        if sx < 0.0 || sy < 0.0 || sx >= width - 1.0 || sy >= height - 1.0 {
            return fill;
        }
        let (x0, y0) = (sx as u32, sy as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let mut out = fill;
        for (channel, value) in out.channels_mut().iter_mut().enumerate() {
            let at = |x: u32, y: u32| f32::from(image.get_pixel(x, y).channels()[channel]);
            let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
            let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
            *value = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
        out
    })
}

fn idr_fields(
    qr: Option<&CccdQr>,
    mrz: Option<&(Mrz, String, f32)>,
    printed: &[PrintedField],
) -> Vec<ReadField> {
    let valid_mrz = mrz.map(|(mrz, _, _)| mrz).filter(|mrz| mrz.is_valid());
    IDR_KEYS
        .iter()
        .filter_map(|&(key, label)| {
            let proven = |source, value: Option<String>| {
                value.map(|value| ReadField {
                    key,
                    label,
                    value,
                    score: None,
                    source,
                })
            };
            if key == FieldKey::Mrz {
                return mrz.map(|(_, text, confidence)| ReadField {
                    key,
                    label,
                    value: text.clone(),
                    score: Some(*confidence),
                    source: FieldSource::Ocr,
                });
            }
            qr.and_then(|qr| proven(FieldSource::Qr, qr_value(qr, key)))
                .or_else(|| valid_mrz.and_then(|mrz| proven(FieldSource::Mrz, mrz_value(mrz, key))))
                .or_else(|| {
                    printed
                        .iter()
                        .find(|field| field.key == key)
                        .map(|field| ReadField {
                            key,
                            label,
                            value: field.value.clone(),
                            score: Some(field.confidence),
                            source: FieldSource::Ocr,
                        })
                })
        })
        .collect()
}

fn qr_value(qr: &CccdQr, key: FieldKey) -> Option<String> {
    match key {
        FieldKey::Id => Some(qr.id.clone()),
        FieldKey::Name => qr.name.clone(),
        FieldKey::DateOfBirth => qr.date_of_birth.map(|date| date.to_string()),
        FieldKey::Sex => qr.sex.clone(),
        FieldKey::Address => qr.address.clone(),
        FieldKey::IssueDate => qr.issue_date.map(|date| date.to_string()),
        _ => None,
    }
}

/// What a valid MRZ proves of an identity card (its name has no diacritics: not used).
fn mrz_value(mrz: &Mrz, key: FieldKey) -> Option<String> {
    match key {
        FieldKey::Id => mrz.vn_id.clone(),
        FieldKey::DateOfBirth => mrz.date_of_birth.map(|date| date.to_string()),
        FieldKey::Sex => match mrz.sex {
            Some('M') => Some("Nam".to_owned()),
            Some('F') => Some("Nữ".to_owned()),
            _ => None,
        },
        FieldKey::ExpiredDate => mrz.date_of_expiry.map(|date| date.to_string()),
        _ => None,
    }
}

/// A passport's data from its MRZ: proven when every check digit holds, else as read,
/// with Tesseract's confidence.
fn passport_fields((mrz, text, confidence): &(Mrz, String, f32)) -> Vec<ReadField> {
    let (source, score) = if mrz.is_valid() {
        (FieldSource::Mrz, None)
    } else {
        (FieldSource::Ocr, Some(*confidence))
    };
    let field = |key, label, value: Option<String>| {
        value
            .filter(|value| !value.is_empty())
            .map(|value| ReadField {
                key,
                label,
                value,
                score,
                source,
            })
    };
    [
        field(
            FieldKey::Id,
            "Số hộ chiếu / Passport No.",
            Some(mrz.document_number.clone()),
        ),
        field(
            FieldKey::Name,
            "Họ và tên / Full name",
            Some(mrz.full_name()),
        ),
        field(
            FieldKey::DateOfBirth,
            "Ngày sinh / Date of birth",
            mrz.date_of_birth.map(|d| d.to_string()),
        ),
        field(FieldKey::Sex, "Giới tính / Sex", mrz.sex.map(String::from)),
        field(
            FieldKey::Nationality,
            "Quốc tịch / Nationality",
            Some(mrz.nationality.clone()),
        ),
        field(
            FieldKey::ExpiredDate,
            "Có giá trị đến / Date of expiry",
            mrz.date_of_expiry.map(|d| d.to_string()),
        ),
        Some(ReadField {
            key: FieldKey::Mrz,
            label: "MRZ",
            value: text.clone(),
            score: Some(*confidence),
            source: FieldSource::Ocr,
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark horizontal bars like lines of print on a light card.
    fn lines_of_print() -> GrayImage {
        GrayImage::from_fn(1000, 630, |x, y| {
            let print = (100..900).contains(&x) && y % 60 < 18 && (60..560).contains(&y);
            image::Luma([if print && (x / 23) % 4 != 3 { 30 } else { 235 }])
        })
    }

    #[test]
    fn the_skew_of_rotated_print_is_measured_and_levelled() {
        let level = lines_of_print();
        assert_eq!(skew_angle(&level), 0.0);
        for degrees in [-3.0f32, -1.5, 1.0, 2.5] {
            let tilted = rotate(&level, degrees);
            let measured = skew_angle(&tilted);
            assert!(
                (measured - degrees).abs() <= 0.25,
                "{degrees}°: measured {measured}°"
            );
            assert!(skew_angle(&rotate(&tilted, -measured)).abs() <= 0.25);
        }
    }
}
