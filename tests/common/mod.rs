//! Shared by the integration tests: generated card images and an engine on a free port.
#![allow(dead_code)]

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ekyc_client::{FptClient, FptSettings, ImageLimits, PreparedImage, RetryPolicy, Secret};
use ekyc_engine::{EngineHandle, EngineSettings, Script};
use image::{Rgb, RgbImage};

pub mod card;
pub mod chip;
pub mod frames;
pub mod photo;
pub mod postgres;
pub mod receiver;
pub mod tls;

/// The kiosk's binary with a clean environment: no EKYC_* from the developer's shell, and
/// `home` as a HOME without a config file. (Cargo names the binary to integration tests;
/// the examples that share this module never start it.)
pub fn kiosk_command(home: &Path) -> std::process::Command {
    let binary = option_env!("CARGO_BIN_EXE_ekyc-kiosk").unwrap_or("ekyc-kiosk");
    let mut command = std::process::Command::new(binary);
    command
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Made-up card data; the values the engine must read back.
pub const CARD_ID: &str = "079203004512";
pub const CARD_NAME: &str = "Phạm Thị Hồng Nhung";
pub const CARD_PAYLOAD: &str =
    "079203004512|272345678|Phạm Thị Hồng Nhung|05111993|Nữ|12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|14082021";

/// A card-shaped image (ID-1 aspect) with `payload` as a QR code in the top-right corner,
/// the way a CCCD front carries it, some dark "print" so it is not a bare QR, and the
/// holder's photo.
pub fn card_with_qr(payload: &str) -> RgbImage {
    let mut card = plain_card();
    // The holder's photo (the demo selfie's astronaut), clear of the stripes and the QR.
    image::imageops::replace(&mut card, &card::card_portrait(), 450, 330);
    let modules = qrcode::QrCode::new(payload.as_bytes())
        .expect("payload fits a QR code")
        .width() as u32;
    let size = (modules + 8) * 4;
    let left = card.width() - size - 30;
    card::draw_qr(&mut card, payload, left, 30, 4);
    card
}

/// A card without any code: what the back of a CCCD looks like to a QR reader.
pub fn plain_card() -> RgbImage {
    RgbImage::from_fn(1012, 638, |x, y| {
        let print = (60..400).contains(&x) && y % 60 < 14 && y > 200;
        if print {
            Rgb([40, 50, 60])
        } else {
            Rgb([200 + (x % 40) as u8, 215, 225 - (y % 30) as u8])
        }
    })
}

pub fn png(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("PNG encodes");
    bytes
}

pub fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92)
        .encode_image(image)
        .expect("JPEG encodes");
    bytes
}

pub fn selfie_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/selfie-astronaut.jpg")
}

pub fn prepared(bytes: &[u8], name: &str) -> PreparedImage {
    ekyc_client::prepare_image(bytes, name, &ImageLimits::default()).expect("test image prepares")
}

pub fn front() -> PreparedImage {
    prepared(&jpeg(&card_with_qr(CARD_PAYLOAD)), "front.jpg")
}

pub fn back() -> PreparedImage {
    prepared(&jpeg(&plain_card()), "back.jpg")
}

pub fn selfie() -> PreparedImage {
    prepared(
        &std::fs::read(selfie_path()).expect("selfie asset"),
        "selfie.jpg",
    )
}

pub async fn start_engine(settings: EngineSettings) -> EngineHandle {
    ekyc_engine::start(SocketAddr::from(([127, 0, 0, 1], 0)), settings)
        .await
        .expect("engine starts on a free port")
}

pub async fn scripted_engine(script: &str) -> EngineHandle {
    let script = Script::from_toml(script).expect("test script parses");
    start_engine(EngineSettings {
        script: Some(script),
        ..EngineSettings::default()
    })
    .await
}

/// Engine settings with an enrolment store in `folder` (database and key file made there
/// on first use).
#[allow(dead_code)]
pub fn with_enrolments_in(folder: &std::path::Path, settings: EngineSettings) -> EngineSettings {
    EngineSettings {
        enrolments: Some(std::sync::Arc::new(ekyc_engine::Enrolments::at(
            folder.join("enrolments.redb"),
            folder.join("enrolment.key"),
            Duration::from_secs(30 * 86_400),
        ))),
        ..settings
    }
}

/// Quick retries so failure tests take milliseconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

pub fn settings_for(base_url: &str, api_key: Secret) -> FptSettings {
    FptSettings {
        retry: fast_retry(),
        request_timeout: Duration::from_secs(10),
        ..FptSettings::new(base_url, api_key)
    }
}

pub fn client_for(engine: &EngineHandle) -> FptClient {
    FptClient::new(settings_for(engine.base_url(), engine.api_key().clone()))
        .expect("client builds")
}

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file writes");
    path
}
