//! *Save report…*'s PDF read back by poppler (Debian's `poppler-utils`, as a bank's PDF
//! reader would): the Vietnamese text comes out as written, the font is embedded, the
//! page renders.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at what it did not expect

mod common;

use std::process::Command;

use common::*;
use ekyc_kiosk::report::pdf::{render, PageText, Row, Thumbnail};

fn page() -> PageText {
    let front = card_with_qr(CARD_PAYLOAD);
    let jpeg = jpeg(&front);
    PageText {
        title: "Kết quả xác minh".into(),
        header: vec![
            "Chưa hoàn tất: chưa đánh giá kiểm tra người thật".into(),
            "branch-7-desk-2 · 2026-12-01T06:30:00.000Z".into(),
        ],
        columns: ["Trường".into(), "Giá trị".into(), "Điểm".into(), "Thẻ ghi".into()],
        rows: vec![
            Row {
                label: "Số / No.".into(),
                value: CARD_ID.into(),
                score: "99.10".into(),
                card: "✓ Mã QR".into(),
            },
            Row {
                label: "Họ và tên".into(),
                value: CARD_NAME.into(),
                score: "97.80".into(),
                card: "✓ Mã QR".into(),
            },
            Row {
                label: "Nơi thường trú".into(),
                value: "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh, a long address that wraps onto a second line".into(),
                score: "96.84".into(),
                card: String::new(),
            },
        ],
        checks: vec![
            "Kiểm tra người thật: chưa đánh giá".into(),
            "Khớp khuôn mặt: khớp, độ tương đồng 96.03 (ngưỡng 80)".into(),
        ],
        decision: Some("Quyết định: Từ chối (Khuôn mặt không khớp). Ghi chú của nhân viên".into()),
        thumbnails: vec![Thumbnail {
            caption: "Mặt trước".into(),
            jpeg,
            width: front.width(),
            height: front.height(),
        }],
        footer: "Báo cáo xác minh ekyc-kiosk.".into(),
    }
}

fn poppler(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!("{program} (Debian's poppler-utils, ./test installs it): {error}")
        });
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_report_reads_back_in_vietnamese_with_its_font_embedded() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("report.pdf");
    let pdf = render(&page()).unwrap();
    std::fs::write(&path, &pdf).unwrap();
    let file = path.to_str().unwrap();
    let text = poppler("pdftotext", &["-layout", file, "-"]);
    for expected in [
        "Kết quả xác minh",
        CARD_ID,
        CARD_NAME,
        "Quyết định: Từ chối (Khuôn mặt không khớp)",
        "độ tương đồng 96.03",
        "onto a second line",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    // The address wrapped inside its column: its end is on a line of its own.
    let address_line = text
        .lines()
        .find(|line| line.contains("12 Lê Lợi"))
        .unwrap();
    assert!(!address_line.contains("second line"), "{text}");
    let fonts = poppler("pdffonts", &[file]);
    let dejavu = fonts
        .lines()
        .find(|line| line.contains("DejaVuSans"))
        .unwrap_or_else(|| panic!("{fonts}"));
    assert!(dejavu.contains("CID TrueType"), "{fonts}");
    assert!(dejavu.contains(" yes "), "embedded: {fonts}");
    let info = poppler("pdfinfo", &[file]);
    assert!(
        info.lines()
            .any(|line| line.starts_with("Pages:") && line.trim_end().ends_with(" 1")),
        "{info}"
    );
    assert!(info.contains("595 x 842 pts"), "A4: {info}");
    // The thumbnail is the card's JPEG as it was.
    let images = poppler("pdfimages", &["-list", file]);
    assert!(images.lines().any(|line| line.contains("jpeg")), "{images}");
    // And the page renders.
    poppler(
        "pdftoppm",
        &[
            "-r",
            "40",
            "-png",
            "-singlefile",
            file,
            &folder.path().join("page").to_string_lossy(),
        ],
    );
    let png = image::open(folder.path().join("page.png")).unwrap();
    if let Ok(keep) = std::env::var("EKYC_KEEP_REPORT") {
        std::fs::copy(&path, keep).unwrap();
    }
    assert!(png.width() > 300 && png.height() > 400);
}
