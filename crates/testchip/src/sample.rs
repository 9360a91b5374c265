//! The sample card the tests read: a CCCD of a made-up holder (the demo card's: its number,
//! name, dates and addresses),
//! its TD1 MRZ, the public-domain face of `assets/demo/` as small as an issuer's photo,
//! and its DG13 in Vietnamese.

use crate::bac::check_digit;
use crate::lds::{data_groups, files, Holder, PhotoType};
use crate::pki::TestPki;
use crate::SoftChip;

/// The card's 12-digit number.
pub const ID: &str = "079203004512";
/// The MRZ's document number: the number's last 9 digits.
pub const DOCUMENT: &str = "203004512";
/// Birth, `YYMMDD`.
pub const BIRTH: &str = "931105";
/// Expiry, `YYMMDD`.
pub const EXPIRY: &str = "331105";
/// The full name in DG13.
pub const FULL_NAME: &str = "Phạm Thị Hồng Nhung";
/// The MRZ's name field.
pub const MRZ_NAME: &str = "PHAM<<THI<HONG<NHUNG";

/// The CCCD's TD1 MRZ, 90 characters (`IDVNM` + document number + its digit + the ID +
/// `<<` + the ID's digit; dates; the name line).
pub fn mrz() -> String {
    let first = format!(
        "IDVNM{DOCUMENT}{}{ID}<<{}",
        check_digit(DOCUMENT),
        check_digit(ID)
    );
    let dates = format!(
        "{BIRTH}{}F{EXPIRY}{}VNM<<<<<<<<<<<",
        check_digit(BIRTH),
        check_digit(EXPIRY)
    );
    let composite = format!(
        "{}{}{}{}",
        &first[5..30],
        &dates[..7],
        &dates[8..15],
        &dates[18..29]
    );
    format!("{first}{dates}{}{:<<30}", check_digit(&composite), MRZ_NAME)
}

/// The public-domain face (`assets/demo/selfie-astronaut.jpg`) at 300 × 400, JPEG
/// quality 80: about the size of a CCCD's DG2.
pub fn photo() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/selfie-astronaut.jpg"
    );
    let face = image::open(path)
        .unwrap_or_else(|error| panic!("{path}: {error}"))
        .resize(300, 400, image::imageops::FilterType::Triangle);
    let mut jpeg = Vec::new();
    face.to_rgb8()
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 80,
        ))
        .unwrap_or_else(|error| panic!("JPEG: {error}"));
    jpeg
}

/// The holder, every DG13 entry filled.
pub fn holder() -> Holder {
    let text = |value: &str| vec![value.to_owned()];
    Holder {
        mrz: mrz(),
        photo: photo(),
        photo_type: PhotoType::Jpeg,
        dg13: vec![
            (1, text(ID)),
            (2, text(FULL_NAME)),
            (3, text("05/11/1993")),
            (4, text("Nữ")),
            (5, text("Việt Nam")),
            (6, text("Kinh")),
            (7, text("Không")),
            (8, text("Tân Bình, Hồ Chí Minh")),
            (
                9,
                text("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh"),
            ),
            (10, text("Nốt ruồi C:1cm trên đầu mày trái")),
            (11, text("14/08/2021")),
            (12, text("05/11/2033")),
            (13, vec!["Nguyễn Văn An".into(), "Trần Thị Bình".into()]),
            (16, text("272345678")),
        ],
    }
}

/// The sample card's chip, signed under `pki`.
pub fn chip(pki: &TestPki) -> SoftChip {
    let groups = data_groups(&holder());
    SoftChip::new(files(&groups, pki.sod(&groups)), DOCUMENT, BIRTH, EXPIRY)
}

/// The sample card's chip with active authentication: DG15 publishes the key of
/// `published` (a seed), signed into the SOD; the chip signs with the key of `held`. A
/// genuine chip holds what it publishes; a clone of it does not.
pub fn chip_with_active_authentication(pki: &TestPki, published: u8, held: u8) -> SoftChip {
    use der::Encode;
    let key = |seed: u8| {
        p256::ecdsa::SigningKey::from_slice(&[seed.max(1); 32]).unwrap_or_else(|_| unreachable!())
    };
    let mut groups = data_groups(&holder());
    let info = crate::pki::public_key_info(&key(published))
        .to_der()
        .unwrap_or_else(|_| unreachable!());
    groups.insert(15, crate::lds::dg15(&info));
    SoftChip::new(files(&groups, pki.sod(&groups)), DOCUMENT, BIRTH, EXPIRY)
        .with_active_authentication(key(held))
}

/// EF.CardAccess offering PACE (generic mapping, ECDH, AES-128: OID 0.4.0.127.0.7.2.2.4.2.2,
/// version 2, the NIST P-256 parameters, 12): a SET of one PACEInfo, DER.
pub const PACE_CARD_ACCESS: [u8; 22] = [
    0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02,
    0x02, 0x01, 0x02, 0x02, 0x01, 0x0C,
];

/// The sample card's chip with chip authentication on `curve`: DG14 publishes the key of
/// `published` (a seed), signed into the SOD; the chip agrees keys with the key of `held`.
/// A genuine chip holds what it publishes; a clone does not.
pub fn chip_with_chip_authentication(
    pki: &TestPki,
    curve: crate::pace::Curve,
    aes: bool,
    published: u8,
    held: u8,
) -> SoftChip {
    let secret = |seed: u8| [seed.max(1); 32];
    let public = curve
        .public(&secret(published))
        .unwrap_or_else(|| unreachable!("a seed below the order"));
    let mut groups = data_groups(&holder());
    groups.insert(14, crate::lds::dg14(curve, &public, aes));
    SoftChip::new(files(&groups, pki.sod(&groups)), DOCUMENT, BIRTH, EXPIRY)
        .with_chip_authentication(crate::chip_auth::ChipAuthKey {
            curve,
            secret: secret(held),
            aes,
        })
}
