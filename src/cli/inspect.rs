//! `ekyc-kiosk inspect`: what the card itself says, read on this machine with no back end
//! and no network: the QR code, the MRZ with every check digit, and the printed fields
//! (Tesseract, when installed). Exit 0 when something was read, 3 when nothing was, 2 for
//! a file that is not an image.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use ekyc_contract::{DocumentType, FieldKey};
use ekyc_imaging::decode_upright;
use ekyc_reading::{find_cccd_qr, parse_mrz, CardDate, Mrz};
use ekyc_reading::{read_document_and_portrait, Tesseract};

#[derive(Serialize)]
struct InspectReport {
    schema: &'static str,
    exit_code: u8,
    document_type: DocumentType,
    /// Fields in the contract's order; `source` is `qr`, `mrz` or `ocr`; `score` is
    /// Tesseract's confidence (null for QR and MRZ values).
    fields: Vec<InspectField>,
    qr_read: bool,
    /// The MRZ with every check's verdict, when one was read.
    mrz: Option<Mrz>,
    ocr_available: bool,
    warning: Option<String>,
}

#[derive(Serialize)]
struct InspectField {
    key: &'static str,
    value: String,
    source: &'static str,
    score: Option<f32>,
}

pub fn run(
    front: &Path,
    back: Option<&PathBuf>,
    document: DocumentType,
    json: bool,
    max_bytes: u64,
) -> ExitCode {
    let mut images = Vec::new();
    for path in std::iter::once(front).chain(back.map(PathBuf::as_path)) {
        match load(path, max_bytes) {
            Ok(image) => images.push(image),
            Err(message) => {
                eprintln!("error: {}: {message}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let ocr = Tesseract::find();
    // The holder's photo is kept out of the text reading, as the engine does.
    let detector = ekyc_face::FaceDetector::load(None).ok();
    let (reading, _) =
        read_document_and_portrait(document, &images, ocr.as_ref(), detector.as_ref());
    let qr_read =
        document == DocumentType::Idr && images.iter().any(|image| find_cccd_qr(image).is_some());
    let today = CardDate::today();
    let mrz = reading
        .fields
        .iter()
        .find(|field| field.key == FieldKey::Mrz)
        .and_then(|field| parse_mrz(&field.value, today).ok());
    let exit_code = if reading.fields.is_empty() { 3 } else { 0 };
    let report = InspectReport {
        schema: "ekyc-kiosk/inspect/1",
        exit_code,
        document_type: document,
        fields: reading
            .fields
            .iter()
            .map(|field| InspectField {
                key: field.key.as_str(),
                value: field.value.clone(),
                source: field.source.as_str(),
                score: field.score,
            })
            .collect(),
        qr_read,
        mrz,
        ocr_available: ocr.is_some(),
        warning: reading.warning,
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: cannot write the report: {error}"),
        }
    } else {
        print!("{}", render(&report, today));
    }
    ExitCode::from(exit_code)
}

fn load(path: &Path, max_bytes: u64) -> Result<image::DynamicImage, String> {
    let size = std::fs::metadata(path)
        .map_err(|error| error.to_string())?
        .len();
    if size > max_bytes {
        return Err(format!(
            "{} MB, over the {} MB limit (images.max_file_mb)",
            size / 1_048_576,
            max_bytes / 1_048_576
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| error.to_string())?;
    decode_upright(&bytes).map_err(|error| error.to_string())
}

fn render(report: &InspectReport, today: CardDate) -> String {
    let mut text = String::new();
    if let Some(warning) = &report.warning {
        text.push_str(&format!("Note: {warning}\n"));
    }
    text.push_str(&format!(
        "QR code: {}\n",
        if report.qr_read { "read" } else { "none found" }
    ));
    if report.fields.is_empty() {
        text.push_str("Nothing could be read from these images (exit 3).\n");
        return text;
    }
    let width = report
        .fields
        .iter()
        .map(|field| field.key.len())
        .max()
        .unwrap_or(5);
    text.push_str(&format!(
        "\n  {:<width$}  {:<6}  {:>6}  Value\n",
        "Field", "Source", "Score"
    ));
    for field in report
        .fields
        .iter()
        .filter(|field| field.key != FieldKey::Mrz.as_str())
    {
        let score = field
            .score
            .map_or("N/A".to_owned(), |score| format!("{score:.1}"));
        text.push_str(&format!(
            "  {:<width$}  {:<6}  {score:>6}  {}\n",
            field.key, field.source, field.value
        ));
    }
    match &report.mrz {
        Some(mrz) => {
            text.push_str("\nMRZ:\n");
            text.push_str(&super::mrz::render(mrz, today));
        }
        None => text.push_str("\nMRZ: none read\n"),
    }
    text
}
