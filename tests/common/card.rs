//! Renders made-up CCCD cards with real printed text (DejaVu Sans, which has every
//! Vietnamese letter), a real QR code on the front and a real MRZ on the back: what the
//! engine's OCR is tested and benchmarked on. Fake people only.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

pub const CARD_WIDTH: u32 = 1012;
pub const CARD_HEIGHT: u32 = 638;
const INK: Rgb<u8> = Rgb([25, 30, 40]);

/// A made-up card holder: every value as the card prints it.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub old_id: String,
    pub name: String,
    /// dd/mm/yyyy
    pub birth: String,
    pub sex: String,
    pub nationality: String,
    pub home: String,
    pub address: String,
    pub expiry: String,
    pub features: String,
    pub issue: String,
}

impl Person {
    /// The demo card's person (tests/common CARD_PAYLOAD).
    pub fn demo() -> Self {
        Self {
            id: "079203004512".into(),
            old_id: "272345678".into(),
            name: "Phạm Thị Hồng Nhung".into(),
            birth: "05/11/1993".into(),
            sex: "Nữ".into(),
            nationality: "Việt Nam".into(),
            home: "Tân Bình, Hồ Chí Minh".into(),
            address: "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh".into(),
            expiry: "05/11/2033".into(),
            features: "Nốt ruồi C:1cm trên đầu mày trái".into(),
            issue: "14/08/2021".into(),
        }
    }

    /// The CCCD QR payload: id|old id|name|DDMMYYYY|sex|address|DDMMYYYY.
    pub fn qr_payload(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.id,
            self.old_id,
            self.name,
            self.birth.replace('/', ""),
            self.sex,
            self.address,
            self.issue.replace('/', "")
        )
    }

    /// The three TD1 lines.
    pub fn mrz(&self) -> String {
        let yymmdd = |date: &str| format!("{}{}{}", &date[8..10], &date[3..5], &date[0..2]);
        let folded = ekyc_reading::cross_check::fold(&self.name);
        let mut parts = folded.split(' ');
        let surname = parts.next().unwrap_or("");
        let given: Vec<&str> = parts.collect();
        let name = format!("{surname}<<{}", given.join("<"));
        let sex = if self.sex == "Nam" { 'M' } else { 'F' };
        ekyc_reading::mrz::write_vietnamese_td1(
            &self.id,
            &yymmdd(&self.birth),
            sex,
            &yymmdd(&self.expiry),
            &name,
        )
        .expect("made-up values fit an MRZ")
    }
}

/// Draws `text` with its top-left corner at (x, y), `size` pixels high.
pub fn draw_text(image: &mut RgbImage, text: &str, x: f32, y: f32, size: f32, bold: bool) {
    let font = FontRef::try_from_slice(if bold { BOLD } else { REGULAR }).expect("bundled font");
    let scaled = font.as_scaled(PxScale::from(size));
    let mut caret = x;
    let mut previous = None;
    for character in text.chars() {
        let id = scaled.glyph_id(character);
        if let Some(previous) = previous {
            caret += scaled.kern(previous, id);
        }
        let glyph =
            id.with_scale_and_position(PxScale::from(size), point(caret, y + scaled.ascent()));
        caret += scaled.h_advance(id);
        previous = Some(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i32 + gx as i32,
                bounds.min.y as i32 + gy as i32,
            );
            if px < 0 || py < 0 || px >= image.width() as i32 || py >= image.height() as i32 {
                return;
            }
            let pixel = image.get_pixel_mut(px as u32, py as u32);
            for channel in 0..3 {
                let background = f32::from(pixel[channel]);
                let ink = f32::from(INK[channel]);
                pixel[channel] = (background + (ink - background) * coverage.min(1.0)) as u8;
            }
        });
    }
}

fn background() -> RgbImage {
    RgbImage::from_fn(CARD_WIDTH, CARD_HEIGHT, |x, y| {
        Rgb([236 + (x % 17) as u8 / 4, 240, 232 + (y % 13) as u8 / 3])
    })
}

/// `payload` as a QR code with its quiet zone, top-left corner at (left, top).
pub fn draw_qr(card: &mut RgbImage, payload: &str, left: u32, top: u32, module_px: u32) {
    let code = qrcode::QrCode::new(payload.as_bytes()).expect("payload fits a QR code");
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4 * module_px;
    let size = modules * module_px + 2 * quiet;
    for y in 0..size {
        for x in 0..size {
            let (mx, my) = (x as i64 - quiet as i64, y as i64 - quiet as i64);
            let inside = mx >= 0
                && my >= 0
                && (mx as u32) < modules * module_px
                && (my as u32) < modules * module_px;
            let dark = inside
                && colors[((my as u32 / module_px) * modules + mx as u32 / module_px) as usize]
                    == qrcode::Color::Dark;
            let value = if dark {
                Rgb([20, 20, 30])
            } else {
                Rgb([252, 252, 252])
            };
            card.put_pixel(left + x, top + y, value);
        }
    }
}

/// The holder's photo on every rendered card: the public-domain astronaut portrait of the
/// demo selfie (assets/demo/README.md), cut to head and shoulders like an ID photo, so the
/// engine's face match sees the same person on the card and in the demo selfie.
pub fn card_portrait() -> RgbImage {
    static PORTRAIT: std::sync::OnceLock<RgbImage> = std::sync::OnceLock::new();
    PORTRAIT
        .get_or_init(|| {
            let photo =
                image::load_from_memory(include_bytes!("../../assets/demo/selfie-astronaut.jpg"))
                    .expect("the demo selfie decodes")
                    .to_rgb8();
            // The face is a 94 px square around (225, 128); the photo box is 180×230.
            let cut = image::imageops::crop_imm(&photo, 125, 22, 200, 255).to_image();
            image::imageops::resize(
                &cut,
                PHOTO_BOX.2,
                PHOTO_BOX.3,
                image::imageops::FilterType::Triangle,
            )
        })
        .clone()
}

/// The front's photo box: left, top, width, height.
pub const PHOTO_BOX: (u32, u32, u32, u32) = (30, 170, 180, 230);

/// The front: national header, title, the holder's photo, the QR code and the labelled
/// fields.
pub fn render_front(person: &Person) -> RgbImage {
    render_front_with_photo(person, Some(&card_portrait()))
}

/// The front with another photo, or an empty grey photo box (`None`).
pub fn render_front_with_photo(person: &Person, photo: Option<&RgbImage>) -> RgbImage {
    let mut card = background();
    draw_text(
        &mut card,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        250.0,
        24.0,
        24.0,
        true,
    );
    draw_text(
        &mut card,
        "Độc lập - Tự do - Hạnh phúc",
        360.0,
        56.0,
        22.0,
        true,
    );
    draw_text(&mut card, "CĂN CƯỚC CÔNG DÂN", 330.0, 96.0, 34.0, true);
    let (left, top, width, height) = PHOTO_BOX;
    match photo {
        Some(photo) => {
            let fitted = image::imageops::resize(
                photo,
                width,
                height,
                image::imageops::FilterType::Triangle,
            );
            image::imageops::replace(&mut card, &fitted, i64::from(left), i64::from(top));
        }
        None => {
            for y in top..top + height {
                for x in left..left + width {
                    card.put_pixel(x, y, Rgb([170, 180, 195]));
                }
            }
        }
    }
    draw_qr(&mut card, &person.qr_payload(), CARD_WIDTH - 200, 10, 3);
    let (x, size) = (240.0, 25.0);
    let rows = [
        format!("Số / No.: {}", person.id),
        "Họ và tên / Full name:".to_owned(),
        person.name.to_uppercase(),
        format!("Ngày sinh / Date of birth: {}", person.birth),
        format!(
            "Giới tính / Sex: {}   Quốc tịch / Nationality: {}",
            person.sex, person.nationality
        ),
        format!("Quê quán / Place of origin: {}", person.home),
        format!(
            "Nơi thường trú / Place of residence: {}",
            first_part(&person.address)
        ),
        second_part(&person.address).to_owned(),
    ];
    for (row, text) in rows.iter().enumerate() {
        let bold = row == 2 || row == 0;
        draw_text(&mut card, text, x, 160.0 + row as f32 * 50.0, size, bold);
    }
    draw_text(
        &mut card,
        &format!("Có giá trị đến: {}", person.expiry),
        30.0,
        560.0,
        22.0,
        false,
    );
    card
}

/// The back: identifying features, the issue date, the issuer, and the MRZ.
pub fn render_back(person: &Person) -> RgbImage {
    let mut card = background();
    let size = 24.0;
    draw_text(
        &mut card,
        "Đặc điểm nhân dạng / Personal identification:",
        40.0,
        40.0,
        size,
        false,
    );
    draw_text(&mut card, &person.features, 40.0, 80.0, size, false);
    draw_text(
        &mut card,
        &format!("Ngày, tháng, năm / Date, month, year: {}", person.issue),
        40.0,
        140.0,
        size,
        false,
    );
    draw_text(
        &mut card,
        "CỤC TRƯỞNG CỤC CẢNH SÁT",
        40.0,
        190.0,
        22.0,
        true,
    );
    draw_text(
        &mut card,
        "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI",
        40.0,
        222.0,
        22.0,
        true,
    );
    for y in 400..CARD_HEIGHT {
        for x in 0..CARD_WIDTH {
            card.put_pixel(x, y, Rgb([246, 246, 244]));
        }
    }
    for (row, line) in person.mrz().lines().enumerate() {
        draw_text(
            &mut card,
            line,
            40.0,
            430.0 + row as f32 * 60.0,
            38.0,
            false,
        );
    }
    card
}

/// The address up to its second comma, then the rest: two printed lines.
fn first_part(address: &str) -> &str {
    split_address(address).0
}

fn second_part(address: &str) -> &str {
    split_address(address).1
}

fn split_address(address: &str) -> (&str, &str) {
    match address.match_indices(',').nth(1) {
        Some((index, _)) => (&address[..index + 1], address[index + 1..].trim()),
        None => (address, ""),
    }
}

/// Character error rate: the edit distance (Levenshtein, over characters) from `read` to
/// `truth`, divided by the truth's length.
pub fn character_error_rate(read: &str, truth: &str) -> f64 {
    let read: Vec<char> = read.chars().collect();
    let truth: Vec<char> = truth.chars().collect();
    if truth.is_empty() {
        return if read.is_empty() { 0.0 } else { 1.0 };
    }
    let mut previous: Vec<usize> = (0..=read.len()).collect();
    for (i, t) in truth.iter().enumerate() {
        let mut current = vec![i + 1; read.len() + 1];
        for (j, r) in read.iter().enumerate() {
            let substitution = previous[j] + usize::from(r != t);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[read.len()] as f64 / truth.len() as f64
}
