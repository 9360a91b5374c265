//! The local engine reads a card for real: printed fields with Tesseract (its confidence
//! as the score), the QR code and the MRZ, which override the printed text and say so.
//! Cards are rendered by `common::card` with a made-up person unlike the demo card's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use common::card::{character_error_rate, render_back, render_front, Person};
use common::*;
use ekyc_client::{DocumentType, OcrRequest};
use ekyc_engine::EngineSettings;
use ekyc_reading::tesseract::{parse_tsv, Reading, TextLine};
use ekyc_reading::{
    parse_mrz, read_document, read_document_and_portrait, CardDate, CardReading, FieldSource,
    ReadField, Tesseract,
};
use image::DynamicImage;

fn person() -> Person {
    Person {
        id: "001092000123".into(),
        old_id: "013456789".into(),
        name: "Đặng Văn Quốc Khánh".into(),
        birth: "15/03/1992".into(),
        sex: "Nam".into(),
        nationality: "Việt Nam".into(),
        home: "Thạch Thất, Hà Nội".into(),
        address: "45 Trần Hưng Đạo, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội".into(),
        expiry: "15/03/2032".into(),
        features: "Sẹo chấm cách 2cm dưới sau mép phải".into(),
        issue: "20/04/2021".into(),
    }
}

fn images(person: &Person) -> Vec<DynamicImage> {
    vec![
        DynamicImage::ImageRgb8(render_front(person)),
        DynamicImage::ImageRgb8(render_back(person)),
    ]
}

fn field_of<'a>(reading: &'a CardReading, key: &str) -> &'a ReadField {
    reading
        .fields
        .iter()
        .find(|field| field.key == key)
        .unwrap_or_else(|| panic!("{key} was not read: {:?}", reading.fields))
}

fn tesseract() -> Tesseract {
    Tesseract::find().expect("Tesseract with vie and eng is installed (./test installs it)")
}

#[test]
fn printed_fields_come_with_tesseracts_confidence_and_proven_ones_with_their_source() {
    let person = person();
    let reading = read_document(DocumentType::Idr, &images(&person), Some(&tesseract()));
    assert_eq!(reading.warning, None);
    let field = |key: &str| field_of(&reading, key);
    // From the QR code: no score.
    for (key, value) in [
        ("ID", person.id.as_str()),
        ("Name", person.name.as_str()),
        ("Date of birth", person.birth.as_str()),
        ("Address", person.address.as_str()),
        ("Issue Date", person.issue.as_str()),
    ] {
        assert_eq!(field(key).value, value, "{key}");
        assert_eq!(field(key).source, FieldSource::Qr, "{key}");
        assert_eq!(field(key).score, None, "{key}");
    }
    // From the valid MRZ: the expiry.
    assert_eq!(field("Expired Date").value, person.expiry);
    assert_eq!(field("Expired Date").source, FieldSource::Mrz);
    // Printed only: read by Tesseract, with its confidence. OCR may miss a diacritic
    // (Tesseract 5.3 reads "Sẹo" as "Seo" on this card): at most 1 character in 20 wrong.
    for (key, value) in [
        ("Nationality", person.nationality.as_str()),
        ("Home", person.home.as_str()),
        ("Features", person.features.as_str()),
    ] {
        let error_rate = character_error_rate(&field(key).value, value);
        assert!(
            error_rate <= 0.05,
            "{key}: {:?} for {value:?}",
            field(key).value
        );
        assert_eq!(field(key).source, FieldSource::Ocr, "{key}");
        let score = field(key).score.expect("a confidence");
        assert!((50.0..=100.0).contains(&score), "{key}: {score}");
    }
    let mrz = parse_mrz(&field("MRZ").value, CardDate::today()).unwrap();
    assert!(mrz.is_valid(), "{:?}", mrz.checks);
    assert_eq!(mrz.vn_id.as_deref(), Some(person.id.as_str()));
}

#[test]
fn without_a_qr_code_the_printed_text_and_the_mrz_are_used() {
    let person = person();
    let mut front = render_front(&person);
    // Cover the QR code: a card photographed with a thumb over it.
    for y in 0..220 {
        for x in front.width() - 220..front.width() {
            front.put_pixel(x, y, image::Rgb([200, 190, 180]));
        }
    }
    let images = [
        DynamicImage::ImageRgb8(front),
        DynamicImage::ImageRgb8(render_back(&person)),
    ];
    // The photo beside the name is kept out of the text reading (the face detector finds it).
    let detector = ekyc_face::FaceDetector::load(None).expect("./fetch-models");
    let (reading, portrait) = read_document_and_portrait(
        DocumentType::Idr,
        &images,
        Some(&tesseract()),
        Some(&detector),
    );
    assert!(portrait.is_some(), "the holder's photo is found");
    let field = |key: &str| {
        reading
            .fields
            .iter()
            .find(|field| field.key == key)
            .unwrap()
    };
    assert_eq!(field("ID").value, person.id);
    assert_eq!(
        field("ID").source,
        FieldSource::Mrz,
        "the MRZ proves the ID"
    );
    assert_eq!(field("Date of birth").source, FieldSource::Mrz);
    assert_eq!(field("Sex").value, "Nam");
    assert_eq!(
        field("Name").source,
        FieldSource::Ocr,
        "the MRZ has no diacritics"
    );
    assert!(character_error_rate(&field("Name").value, &person.name.to_uppercase()) <= 0.05);
    assert!(field("Name").score.is_some());
}

#[test]
fn without_tesseract_only_the_qr_code_is_read_and_the_reading_says_so() {
    let person = person();
    let reading = read_document(DocumentType::Idr, &images(&person), None);
    assert!(reading.warning.unwrap().contains("Tesseract"));
    assert!(reading
        .fields
        .iter()
        .all(|field| field.source == FieldSource::Qr));
    assert_eq!(reading.fields[0].value, person.id);
    assert!(reading
        .fields
        .iter()
        .all(|field| field.key != "Nationality"));
}

#[tokio::test]
async fn the_engine_answers_with_the_printed_fields_and_a_warning_when_it_cannot_read_text() {
    let person = person();
    let front = prepared(&png(&render_front(&person)), "front.png");
    let back = prepared(&png(&render_back(&person)), "back.png");
    for ocr in [Some(tesseract()), None] {
        let engine = start_engine(EngineSettings {
            ocr: ocr.clone(),
            ..EngineSettings::default()
        })
        .await;
        let client = client_for(&engine);
        let session = client.init_session(false).await.unwrap();
        let result = client
            .ocr(
                &session,
                &OcrRequest::both_sides(DocumentType::Idr, front.clone(), Some(back.clone())),
            )
            .await
            .unwrap();
        let keys: Vec<&str> = result
            .fields
            .iter()
            .map(|field| field.key.as_str())
            .collect();
        if ocr.is_some() {
            assert!(
                keys.contains(&"Features") && keys.contains(&"MRZ"),
                "{keys:?}"
            );
        } else {
            assert_eq!(
                keys,
                [
                    "ID",
                    "Name",
                    "Date of birth",
                    "Sex",
                    "Address",
                    "Issue Date"
                ]
            );
        }
    }
}

#[test]
fn the_character_error_rate_counts_edits_against_the_truth() {
    assert_eq!(character_error_rate("Seo", "Sẹo"), 1.0 / 3.0);
    assert_eq!(character_error_rate("abc", "abc"), 0.0);
    assert_eq!(character_error_rate("", "abcd"), 1.0);
    assert_eq!(character_error_rate("abxcd", "abcd"), 0.25);
}

#[test]
fn a_passport_is_read_from_its_data_pages_mrz() {
    // ICAO Doc 9303's specimen passport MRZ, printed on a blank page.
    let mut page = image::RgbImage::from_pixel(1100, 420, image::Rgb([245, 245, 240]));
    common::card::draw_text(&mut page, "PASSPORT / HỘ CHIẾU", 40.0, 40.0, 30.0, true);
    for (row, line) in [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ]
    .iter()
    .enumerate()
    {
        common::card::draw_text(
            &mut page,
            line,
            40.0,
            260.0 + row as f32 * 60.0,
            34.0,
            false,
        );
    }
    let reading = read_document(
        DocumentType::Passport,
        &[DynamicImage::ImageRgb8(page)],
        Some(&tesseract()),
    );
    let field = |key: &str| field_of(&reading, key);
    assert_eq!(field("ID").value, "L898902C3");
    assert_eq!(
        field("ID").source,
        FieldSource::Mrz,
        "every check digit held"
    );
    assert_eq!(field("Name").value, "ANNA MARIA ERIKSSON");
    assert_eq!(field("Date of birth").value, "12/08/1974");
    assert_eq!(field("Nationality").value, "UTO");
}

/// The card's QR code read from photos a customer would take: tilted, a little out of
/// focus, in dim light, with sensor noise, saved as JPEG (the kiosk's rqrr-based reader,
/// before rxing, read none of these three). The payload's Vietnamese letters come through
/// (it is UTF-8). `EKYC_SAVE_RENDERS=DIR` keeps the photos.
#[test]
fn the_qr_code_is_read_from_tilted_soft_and_dim_photos() {
    use common::photo::{photograph, PhotoConditions};
    let person = person();
    let card = render_front(&person);
    let tilted = [(0.03, -0.02), (-0.04, 0.03), (0.02, 0.04), (-0.03, -0.03)];
    // Size (of the largest that fits), blur σ, light, the noise's seed.
    let cases = [
        (0.6, 0.5, 0.45, 7),
        (0.7, 0.8, 0.45, 15),
        (0.7, 0.8, 0.6, 16),
    ];
    for (number, (size, blur, light, noise_seed)) in cases.into_iter().enumerate() {
        let conditions = PhotoConditions {
            size,
            place: (0.4, 0.6),
            degrees: 6.0,
            tilt: tilted,
            blur,
            light,
            noise: 5.0,
            noise_seed,
            quality: 72,
        };
        let jpeg = photograph(&card, &conditions).expect("the card fits the frame");
        if let Ok(folder) = std::env::var("EKYC_SAVE_RENDERS") {
            std::fs::write(format!("{folder}/qr-{number}.jpg"), &jpeg).unwrap();
        }
        let photo = image::load_from_memory(&jpeg).unwrap();
        let qr = ekyc_reading::find_cccd_qr(&photo)
            .unwrap_or_else(|| panic!("{conditions:?}: no QR code read"));
        assert_eq!(qr.id, person.id, "{conditions:?}");
        assert_eq!(
            qr.name.as_deref(),
            Some(person.name.as_str()),
            "{conditions:?}"
        );
    }
}

/// Pictures with no QR code, or nothing at all, are "none found", never a failure.
#[test]
fn pictures_without_a_qr_code_give_none() {
    let person = person();
    for picture in [
        DynamicImage::ImageRgb8(render_back(&person)),
        DynamicImage::new_rgb8(1, 1),
        DynamicImage::new_luma8(640, 480),
    ] {
        assert!(ekyc_reading::find_cccd_qr(&picture).is_none());
    }
}

/// Tesseract's own program, Debian's `tesseract`, run on `image` as the engine's reading
/// was configured before it loaded the library in its process (the reference).
fn tesseract_program(image: &image::GrayImage, reading: Reading) -> Vec<TextLine> {
    use std::io::Write;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut command = std::process::Command::new("tesseract");
    command.args(["-", "-", "--psm", "6"]);
    match reading {
        Reading::CardText => command.args(["-l", "vie+eng"]),
        Reading::Mrz => command.args([
            "-l",
            "eng",
            "-c",
            "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
        ]),
    };
    let mut child = command
        .arg("tsv")
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Debian's tesseract program is installed (./test installs it)");
    child.stdin.take().unwrap().write_all(&png).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    parse_tsv(&String::from_utf8_lossy(&output.stdout))
}

#[test]
fn the_engine_reads_each_word_with_the_confidence_tesseracts_own_program_gives() {
    let person = person();
    let ocr = tesseract();
    let front = render_front(&person);
    let back = DynamicImage::ImageRgb8(render_back(&person)).to_luma8();
    let tilted =
        ekyc_reading::document::rotate(&DynamicImage::ImageRgb8(front.clone()).to_luma8(), 2.0);
    let mrz_zone =
        image::imageops::crop_imm(&back, 0, back.height() / 2, back.width(), back.height() / 2)
            .to_image();
    let cases = [
        (
            "front",
            DynamicImage::ImageRgb8(front).to_luma8(),
            Reading::CardText,
        ),
        ("back", back.clone(), Reading::CardText),
        ("tilted front", tilted, Reading::CardText),
        ("MRZ zone", mrz_zone, Reading::Mrz),
        ("back, MRZ characters only", back, Reading::Mrz),
    ];
    for (what, image, reading) in cases {
        // Twice: the second reading is by the engine kept from the first.
        for round in 0..2 {
            let ours = ocr.read(&image, reading).unwrap();
            assert!(ours.len() >= 3, "{what}: {ours:?}");
            assert_eq!(
                ours,
                tesseract_program(&image, reading),
                "{what}, reading {round}: the library's words or confidences differ from the program's"
            );
        }
    }
}
