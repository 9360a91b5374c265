//! `config.toml` (`--config`/`EKYC_CONFIG`, else the first of the XDG config dir and
//! `/etc/ekyc-kiosk/config.toml` that exists), then `EKYC_…` environment
//! variables, then flags (`--set key=value` and the named ones). Every key is listed once,
//! in [`KEYS`], with its environment variable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::{ClientTls, FptSettings, RetryPolicy};
pub use crate::camera::DemoFace;
pub use crate::contract::LivenessModel;
use crate::contract::{Lang, Secret};
use crate::engine::EngineSettings;
use crate::imaging::ImageLimits;
use crate::liveness::{ChallengeThresholds, ParallaxThresholds};
use crate::quality::{Preset, Thresholds};

/// Which back end the app talks to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The local engine, started in-process on a free loopback port.
    #[default]
    Local,
    /// An FPT.AI-contract back end at `fpt.base_url`.
    Fpt,
    /// A Krypton v3 back end at `krypton.url`.
    Krypton,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub backend: Backend,
    pub lang: Lang,
    /// Sent as `device-type`; the back end binds the session to it.
    pub device_type: String,
    /// Sent as `client_uuid`: this kiosk's stable id. Not sent when unset.
    pub client_uuid: Option<String>,
    /// A file holding the API key, readable only by its owner. `EKYC_API_KEY` wins.
    pub api_key_file: Option<PathBuf>,
    pub fpt: FptConfig,
    pub krypton: KryptonConfig,
    pub network: NetworkConfig,
    pub images: ImagesConfig,
    pub engine: EngineConfig,
    pub ui: UiConfig,
    pub camera: CameraConfig,
    pub capture: CaptureConfig,
    pub liveness: LivenessConfig,
    pub journey: JourneyConfig,
    pub desk: DeskConfig,
    pub staff: StaffConfig,
    pub report: ReportConfig,
}

/// A journey's name in the configuration (Krypton's action, in lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JourneyName {
    /// A new customer: document and selfie.
    Enroll,
    /// A returning customer: who they are, then a selfie against their enrolment.
    Auth,
    /// A selfie with the liveness check only.
    Liveness,
}

impl From<JourneyName> for crate::contract::KryptonAction {
    fn from(name: JourneyName) -> Self {
        match name {
            JourneyName::Enroll => Self::Enroll,
            JourneyName::Auth => Self::Auth,
            JourneyName::Liveness => Self::Liveness,
        }
    }
}

/// Which journeys the kiosk offers, and how ENROLL runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JourneyConfig {
    /// The journey Start begins.
    pub action: JourneyName,
    /// More journeys offered beside `action`: with any, the Welcome screen shows one
    /// button per journey (staff pick at a desk).
    pub journeys: Vec<JourneyName>,
    /// ENROLL: `card_first` or `face_first`.
    pub flow: crate::contract::KryptonFlow,
    /// ENROLL: keep the customer's face for a later AUTH, under the card's ID number (read
    /// from its QR code). Needs the local engine or a Krypton back end.
    pub keep_face: bool,
}

impl Default for JourneyConfig {
    fn default() -> Self {
        Self {
            action: JourneyName::Enroll,
            journeys: Vec::new(),
            flow: crate::contract::KryptonFlow::CardFirst,
            keep_face: false,
        }
    }
}

impl JourneyConfig {
    /// `action`, then the other journeys, each once.
    pub fn offered(&self) -> Vec<crate::contract::KryptonAction> {
        let mut offered = Vec::new();
        for name in std::iter::once(self.action).chain(self.journeys.iter().copied()) {
            let action = name.into();
            if !offered.contains(&action) {
                offered.push(action);
            }
        }
        offered
    }
}

/// The kiosk's own state: the attempt log and the report outbox (`kiosk.redb`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskConfig {
    /// This kiosk's name in reports (default: `client_uuid`, else the host's name).
    pub kiosk_id: Option<String>,
    /// The state database (default: `kiosk.redb` in the data folder).
    pub state_db: Option<PathBuf>,
    /// The outbox's sealing key (default: `outbox.key` beside the state database).
    pub outbox_key_file: Option<PathBuf>,
    /// Record each step of each attempt (no personal data) for `stats` and the dashboard.
    pub attempt_log: bool,
    /// Attempt records older than this are deleted.
    pub retention_days: u32,
}

impl Default for DeskConfig {
    fn default() -> Self {
        Self {
            kiosk_id: None,
            state_db: None,
            outbox_key_file: None,
            attempt_log: true,
            retention_days: 90,
        }
    }
}

/// Staff mode: its PIN and how long it stays open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StaffConfig {
    /// The PIN's Argon2id hash, as `staff set-pin` prints it; `pin_file` instead keeps it
    /// out of the configuration.
    pub pin_hash: Option<String>,
    /// A file holding the hash, readable by its owner alone (default: `staff.pin` in the
    /// data folder, where `staff set-pin` writes it).
    pub pin_file: Option<PathBuf>,
    /// Wrong PINs before the pad locks.
    pub max_wrong: u32,
    /// How long the pad stays locked.
    pub lock_secs: u64,
    /// Staff mode closes by itself after this long without a touch.
    pub exit_secs: u64,
    /// The staff id written in reports.
    pub id: Option<String>,
}

impl Default for StaffConfig {
    fn default() -> Self {
        Self {
            pin_hash: None,
            pin_file: None,
            max_wrong: 5,
            lock_secs: 300,
            exit_secs: 120,
            id: None,
        }
    }
}

/// The report to the bank's onboarding system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Where each finished verification is POSTed (HTTPS; the bank's CA is
    /// `network.ca_file`). Unset: no report.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 signing key, shared with the bank (at least 32 bytes, mode 0600).
    pub key_file: Option<PathBuf>,
    /// The first wait after a failed delivery, doubled each time up to `retry_max_secs`.
    pub retry_first_ms: u64,
    pub retry_max_secs: u64,
    /// A report undelivered this long alerts staff.
    pub alert_after_hours: u64,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            webhook_url: None,
            key_file: None,
            retry_first_ms: 5000,
            retry_max_secs: 600,
            alert_after_hours: 24,
        }
    }
}

/// Who stands at the kiosk: a customer alone, or a customer with a clerk who decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UiMode {
    /// Self-service: the result, then Finish.
    #[default]
    Kiosk,
    /// Staff-assisted: the result is reviewed and decided before Finish.
    Desk,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `kiosk` (self-service) or `desk` (a clerk decides each result).
    pub mode: UiMode,
    /// Fullscreen, no window decorations, close refused outside staff mode. The packaged
    /// app's config turns it on; `--windowed` turns it off for one run.
    pub kiosk_mode: bool,
    /// No touch for this long after Welcome: "Do you need more time?", then a wipe.
    pub idle_timeout_secs: u64,
    /// How long "Do you need more time?" waits for an answer (at least 20 seconds,
    /// WCAG 2.2.1).
    pub more_time_secs: u64,
    /// Spoken instructions in the UI language (`voice_command`, espeak-ng by default).
    pub voice: bool,
    /// The speech engine: a program and its arguments; `{voice}` becomes the language
    /// (`en`, `vi`); the text comes on its standard input.
    pub voice_command: Vec<String>,
    /// The result's values (name, ID number) are read aloud too. Off: a voice in a bank
    /// hall is heard by everyone near the kiosk.
    pub voice_reads_values: bool,
    /// OCR scores below this (percent) are flagged on the result screen.
    pub score_threshold: u32,
    /// Face-match similarity threshold (percent) shown with the similarity.
    pub face_match_threshold: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            mode: UiMode::Kiosk,
            kiosk_mode: false,
            idle_timeout_secs: 60,
            more_time_secs: 20,
            voice: false,
            voice_command: ["espeak-ng", "-v", "{voice}", "--stdin"]
                .map(String::from)
                .to_vec(),
            voice_reads_values: false,
            score_threshold: 80,
            face_match_threshold: 80,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// `auto` (the first camera, else the demo camera), `demo`, an index (`0`) or part
    /// of a camera's name.
    pub device: String,
    /// What the demo camera shows during the liveness challenge: `live` (a synthetic head
    /// that follows the dot) or `print` (the same photo as a flat print moved the same
    /// way: the attack the kiosk must refuse).
    pub demo_face: DemoFace,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            device: "auto".into(),
            demo_face: DemoFace::Live,
        }
    }
}

/// The follow-the-dot liveness challenge (`gaze`) or one selfie (`passive`), and what
/// the kiosk's check of the challenge must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessConfig {
    /// `gaze` (the challenge) or `passive` (one selfie: liveness is left to the back end,
    /// which our local engine cannot judge from one picture).
    pub model: LivenessModel,
    /// How long the dot moves, 2000 to 8000 ms, after a one-second wait at its start
    /// (longer: the same path, slower, for customers who need the time).
    pub challenge_ms: u64,
    /// The least correlation (0 to 1) between the dot's path and the customer's gaze.
    pub min_correlation: f32,
    /// The least share (0 to 1) of the challenge in which a face was seen.
    pub min_coverage: f32,
    /// The local engine's 3D check: the least parallax (a share of the face's size) that
    /// tells a head from a picture.
    pub min_parallax: f32,
    /// Failed challenges before the customer is asked to see a member of staff.
    pub attempts: u32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        let challenge = ChallengeThresholds::default();
        Self {
            model: LivenessModel::Gaze,
            challenge_ms: crate::liveness::challenge::DEFAULT_LENGTH.as_millis() as u64,
            min_correlation: challenge.min_correlation,
            min_coverage: challenge.min_coverage,
            min_parallax: ParallaxThresholds::default().min_parallax,
            attempts: 2,
        }
    }
}

impl LivenessConfig {
    pub fn challenge_thresholds(&self) -> ChallengeThresholds {
        ChallengeThresholds {
            min_correlation: self.min_correlation,
            min_coverage: self.min_coverage,
        }
    }

    pub fn parallax_thresholds(&self) -> ParallaxThresholds {
        ParallaxThresholds {
            min_parallax: self.min_parallax,
            ..ParallaxThresholds::default()
        }
    }
}

/// The capture screens' quality gates and auto-capture. Every threshold comes from the
/// preset unless set here (`[capture.card]`, `[capture.selfie]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// `strict`, `normal` (the vendor's published bar) or `relaxed`.
    pub preset: Preset,
    /// Take the picture by itself when every gate holds (the Capture button stays).
    pub auto_capture: bool,
    /// Frames in a row that must pass before the countdown starts.
    pub steady_frames: u32,
    /// The countdown shown before an automatic picture.
    pub countdown_ms: u64,
    /// The face detector model; unset: where `./fetch-models` and the package put it.
    pub face_model: Option<PathBuf>,
    /// The detector's confidence (0–1) from which a face counts as one.
    pub face_min_score: f32,
    /// The camera's picture, at least, in pixels.
    pub min_frame_width: Option<u32>,
    pub min_frame_height: Option<u32>,
    pub card: CardOverrides,
    pub selfie: SelfieOverrides,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            preset: Preset::Normal,
            auto_capture: true,
            steady_frames: 5,
            countdown_ms: 1500,
            face_model: None,
            face_min_score: 0.75,
            min_frame_width: None,
            min_frame_height: None,
            card: CardOverrides::default(),
            selfie: SelfieOverrides::default(),
        }
    }
}

/// Card thresholds that replace the preset's (see
/// [`CardThresholds`](crate::quality::gates::CardThresholds) for each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CardOverrides {
    pub min_sharpness: Option<f32>,
    pub min_brightness: Option<f32>,
    pub max_brightness: Option<f32>,
    pub max_glare: Option<f32>,
    pub min_contrast: Option<f32>,
    pub min_card_pixels: Option<f32>,
    pub min_fill: Option<f32>,
    pub max_fill: Option<f32>,
    pub max_movement: Option<f32>,
    pub max_side_similarity: Option<f32>,
}

/// Selfie thresholds that replace the preset's (see
/// [`SelfieThresholds`](crate::quality::gates::SelfieThresholds) for each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfieOverrides {
    pub min_face_height: Option<f32>,
    pub max_off_centre: Option<f32>,
    pub min_brightness: Option<f32>,
    pub max_brightness: Option<f32>,
    pub max_movement: Option<f32>,
}

impl CaptureConfig {
    /// The preset's thresholds with the ones set here in their place.
    pub fn thresholds(&self) -> Thresholds {
        let mut thresholds = Thresholds::preset(self.preset);
        let set = |slot: &mut f32, value: Option<f32>| {
            if let Some(value) = value {
                *slot = value;
            }
        };
        let (card, overrides) = (&mut thresholds.card, &self.card);
        set(&mut card.min_sharpness, overrides.min_sharpness);
        set(&mut card.min_brightness, overrides.min_brightness);
        set(&mut card.max_brightness, overrides.max_brightness);
        set(&mut card.max_glare, overrides.max_glare);
        set(&mut card.min_contrast, overrides.min_contrast);
        set(&mut card.min_card_pixels, overrides.min_card_pixels);
        set(&mut card.min_fill, overrides.min_fill);
        set(&mut card.max_fill, overrides.max_fill);
        set(&mut card.max_movement, overrides.max_movement);
        set(&mut card.max_side_similarity, overrides.max_side_similarity);
        let (selfie, overrides) = (&mut thresholds.selfie, &self.selfie);
        set(&mut selfie.min_face_height, overrides.min_face_height);
        set(&mut selfie.max_off_centre, overrides.max_off_centre);
        set(&mut selfie.min_brightness, overrides.min_brightness);
        set(&mut selfie.max_brightness, overrides.max_brightness);
        set(&mut selfie.max_movement, overrides.max_movement);
        if let Some(width) = self.min_frame_width {
            thresholds.min_frame_width = width;
        }
        if let Some(height) = self.min_frame_height {
            thresholds.min_frame_height = height;
        }
        thresholds
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FptConfig {
    pub base_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KryptonConfig {
    /// The Krypton server, or the bank's gateway in front of it.
    pub url: Option<String>,
    /// A file holding the company id (a credential), readable only by its owner.
    pub company_id_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    pub connect_timeout_secs: u64,
    pub request_timeout_secs: u64,
    /// Tries in all for a transient failure (connect error, timeout, 429, 5xx).
    pub retries: u32,
    pub retry_backoff_ms: u64,
    /// The bank's CA bundle (PEM) for HTTPS back ends.
    pub ca_file: Option<PathBuf>,
    /// Trust the public web's roots besides `ca_file`; `false`: only the bank's CA.
    pub web_roots: bool,
    /// This kiosk's certificate chain and key (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// The back end is the bank's gateway, which adds the FPT.AI API key and the Krypton
    /// company id itself: this kiosk holds neither and sends no credential (it identifies
    /// itself with its client certificate).
    pub gateway: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImagesConfig {
    pub max_side: u32,
    pub jpeg_quality: u8,
    pub max_file_mb: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Where `serve` listens.
    pub addr: SocketAddr,
    pub session_ttl_secs: u64,
    pub max_upload_mb: u32,
    pub selfie_attempts: u32,
    /// Face match: embeddings closer than this are one person (dlib's 0.6; lower is
    /// stricter). The similarity the engine reports is 80 % at this distance.
    pub match_distance: f32,
    /// The folder with dlib's face-match models; unset: where `./fetch-models` and the
    /// package put them.
    pub face_match_models: Option<PathBuf>,
    /// A file holding the Krypton company id the engine accepts (a credential, readable
    /// only by its owner); unset: a random one per start (the in-process engine gives it
    /// to the kiosk).
    pub company_id_file: Option<PathBuf>,
    /// The enrolment database (Krypton ENROLL/AUTH); unset: `enrolments.redb` in the
    /// data folder (`$XDG_DATA_HOME/ekyc-kiosk`, else `~/.local/share/ekyc-kiosk`). Made
    /// on the first enrolment, never before.
    pub enrolment_db: Option<PathBuf>,
    /// The key sealing the enrolments (64 hex digits, mode 600); unset: `enrolment.key`
    /// beside the database. Made with the database.
    pub enrolment_key_file: Option<PathBuf>,
    /// An enrolment older than this many days is forgotten.
    pub enrolment_days: u32,
    /// TLS for `serve`: certificate chain and key (PEM). Required to listen on anything
    /// but loopback, unless `insecure_http`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Only clients with a certificate from this CA (PEM) connect (mutual TLS).
    pub tls_client_ca: Option<PathBuf>,
    /// Serve plain HTTP beyond loopback (photos of ID cards in clear on the LAN: a
    /// warning at every start).
    pub insecure_http: bool,
    /// Open connections at most.
    pub max_connections: u32,
    /// Uploads read and processed at once (each up to two files of `max_upload_mb`).
    pub uploads_at_once: u32,
    /// Wrong keys from one address within `lockout_secs` that lock it out for
    /// `lockout_secs` (HTTP 429 with `Retry-After`).
    pub lockout_failures: u32,
    pub lockout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            backend: Backend::Local,
            lang: Lang::En,
            device_type: "web-sdk".into(),
            client_uuid: None,
            api_key_file: None,
            fpt: FptConfig::default(),
            krypton: KryptonConfig::default(),
            network: NetworkConfig::default(),
            images: ImagesConfig::default(),
            engine: EngineConfig::default(),
            ui: UiConfig::default(),
            camera: CameraConfig::default(),
            capture: CaptureConfig::default(),
            liveness: LivenessConfig::default(),
            journey: JourneyConfig::default(),
            desk: DeskConfig::default(),
            staff: StaffConfig::default(),
            report: ReportConfig::default(),
        }
    }
}

impl Default for FptConfig {
    fn default() -> Self {
        Self {
            base_url: "https://ekyc.fpt.ai".into(),
        }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            connect_timeout_secs: 5,
            request_timeout_secs: 30,
            retries: 3,
            retry_backoff_ms: 500,
            ca_file: None,
            web_roots: true,
            client_cert: None,
            client_key: None,
            gateway: false,
        }
    }
}

impl Default for ImagesConfig {
    fn default() -> Self {
        let limits = ImageLimits::default();
        Self {
            max_side: limits.max_side,
            jpeg_quality: limits.jpeg_quality,
            max_file_mb: (limits.max_file_bytes / 1_048_576) as u32,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8480)),
            session_ttl_secs: 600,
            max_upload_mb: 15,
            selfie_attempts: 3,
            match_distance: crate::face::DEFAULT_MATCH_DISTANCE,
            face_match_models: None,
            company_id_file: None,
            enrolment_db: None,
            enrolment_key_file: None,
            enrolment_days: 365,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            insecure_http: false,
            max_connections: 256,
            uploads_at_once: 4,
            lockout_failures: 10,
            lockout_secs: 300,
        }
    }
}

/// The type of a key's value, for overrides given as text.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Kept as text.
    Text,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// Every configuration key, its environment variable and its kind.
pub const KEYS: &[(&str, &str)] = &[
    ("backend", "EKYC_BACKEND"),
    ("lang", "EKYC_LANG"),
    ("device_type", "EKYC_DEVICE_TYPE"),
    ("client_uuid", "EKYC_CLIENT_UUID"),
    ("api_key_file", "EKYC_API_KEY_FILE"),
    ("fpt.base_url", "EKYC_BASE_URL"),
    ("krypton.url", "EKYC_KRYPTON_URL"),
    ("krypton.company_id_file", "EKYC_KRYPTON_COMPANY_ID_FILE"),
    ("network.connect_timeout_secs", "EKYC_CONNECT_TIMEOUT_SECS"),
    ("network.request_timeout_secs", "EKYC_REQUEST_TIMEOUT_SECS"),
    ("network.retries", "EKYC_RETRIES"),
    ("network.retry_backoff_ms", "EKYC_RETRY_BACKOFF_MS"),
    ("network.ca_file", "EKYC_CA_FILE"),
    ("network.web_roots", "EKYC_WEB_ROOTS"),
    ("network.client_cert", "EKYC_CLIENT_CERT"),
    ("network.client_key", "EKYC_CLIENT_KEY"),
    ("network.gateway", "EKYC_GATEWAY"),
    ("images.max_side", "EKYC_IMAGE_MAX_SIDE"),
    ("images.jpeg_quality", "EKYC_JPEG_QUALITY"),
    ("images.max_file_mb", "EKYC_IMAGE_MAX_FILE_MB"),
    ("engine.addr", "EKYC_ENGINE_ADDR"),
    ("engine.session_ttl_secs", "EKYC_ENGINE_SESSION_TTL_SECS"),
    ("engine.max_upload_mb", "EKYC_ENGINE_MAX_UPLOAD_MB"),
    ("engine.selfie_attempts", "EKYC_ENGINE_SELFIE_ATTEMPTS"),
    ("engine.company_id_file", "EKYC_ENGINE_COMPANY_ID_FILE"),
    ("engine.enrolment_db", "EKYC_ENROLMENT_DB"),
    ("engine.enrolment_key_file", "EKYC_ENROLMENT_KEY_FILE"),
    ("engine.enrolment_days", "EKYC_ENROLMENT_DAYS"),
    ("engine.tls_cert", "EKYC_ENGINE_TLS_CERT"),
    ("engine.tls_key", "EKYC_ENGINE_TLS_KEY"),
    ("engine.tls_client_ca", "EKYC_ENGINE_TLS_CLIENT_CA"),
    ("engine.insecure_http", "EKYC_ENGINE_INSECURE_HTTP"),
    ("engine.max_connections", "EKYC_ENGINE_MAX_CONNECTIONS"),
    ("engine.uploads_at_once", "EKYC_ENGINE_UPLOADS_AT_ONCE"),
    ("engine.lockout_failures", "EKYC_ENGINE_LOCKOUT_FAILURES"),
    ("ui.kiosk_mode", "EKYC_KIOSK_MODE"),
    ("ui.idle_timeout_secs", "EKYC_IDLE_TIMEOUT_SECS"),
    ("ui.more_time_secs", "EKYC_MORE_TIME_SECS"),
    ("ui.voice", "EKYC_VOICE"),
    ("ui.score_threshold", "EKYC_SCORE_THRESHOLD"),
    ("ui.face_match_threshold", "EKYC_FACE_MATCH_THRESHOLD"),
    ("camera.device", "EKYC_CAMERA"),
    ("camera.demo_face", "EKYC_DEMO_FACE"),
    ("capture.preset", "EKYC_CAPTURE_PRESET"),
    ("capture.auto_capture", "EKYC_AUTO_CAPTURE"),
    ("capture.steady_frames", "EKYC_CAPTURE_STEADY_FRAMES"),
    ("capture.countdown_ms", "EKYC_CAPTURE_COUNTDOWN_MS"),
    ("capture.face_model", "EKYC_FACE_MODEL"),
    ("liveness.model", "EKYC_LIVENESS_MODEL"),
    ("liveness.challenge_ms", "EKYC_LIVENESS_CHALLENGE_MS"),
    ("liveness.attempts", "EKYC_LIVENESS_ATTEMPTS"),
    ("journey.action", "EKYC_JOURNEY"),
    ("journey.flow", "EKYC_JOURNEY_FLOW"),
    ("journey.keep_face", "EKYC_KEEP_FACE"),
    ("ui.mode", "EKYC_UI_MODE"),
    ("desk.kiosk_id", "EKYC_KIOSK_ID"),
    ("desk.state_db", "EKYC_STATE_DB"),
    ("desk.outbox_key_file", "EKYC_OUTBOX_KEY_FILE"),
    ("desk.attempt_log", "EKYC_ATTEMPT_LOG"),
    ("desk.retention_days", "EKYC_RETENTION_DAYS"),
    ("staff.pin_file", "EKYC_STAFF_PIN_FILE"),
    ("staff.max_wrong", "EKYC_STAFF_MAX_WRONG"),
    ("staff.lock_secs", "EKYC_STAFF_LOCK_SECS"),
    ("staff.exit_secs", "EKYC_STAFF_EXIT_SECS"),
    ("staff.id", "EKYC_STAFF_ID"),
    ("report.webhook_url", "EKYC_WEBHOOK_URL"),
    ("report.key_file", "EKYC_REPORT_KEY_FILE"),
    ("report.retry_first_ms", "EKYC_REPORT_RETRY_FIRST_MS"),
    ("report.retry_max_secs", "EKYC_REPORT_RETRY_MAX_SECS"),
    ("report.alert_after_hours", "EKYC_REPORT_ALERT_AFTER_HOURS"),
];

/// The API key itself comes from the environment or a file, never from config.toml.
pub const API_KEY_ENV: &str = "EKYC_API_KEY";
/// A config file other than the default one.
pub const CONFIG_PATH_ENV: &str = "EKYC_CONFIG";

fn kind_of(key: &str) -> Kind {
    let integer = key.ends_with("_secs")
        || key.ends_with("_ms")
        || key.ends_with("_mb")
        || key.ends_with("_threshold")
        || matches!(
            key,
            "network.retries"
                | "images.max_side"
                | "images.jpeg_quality"
                | "engine.selfie_attempts"
                | "engine.enrolment_days"
                | "engine.max_connections"
                | "engine.uploads_at_once"
                | "engine.lockout_failures"
                | "capture.steady_frames"
                | "liveness.attempts"
                | "desk.retention_days"
                | "staff.max_wrong"
                | "report.alert_after_hours"
        );
    if matches!(
        key,
        "ui.kiosk_mode"
            | "capture.auto_capture"
            | "journey.keep_face"
            | "network.web_roots"
            | "network.gateway"
            | "engine.insecure_http"
            | "desk.attempt_log"
    ) {
        Kind::Boolean
    } else if integer {
        Kind::Integer
    } else {
        Kind::Text
    }
}

/// A configuration problem, naming the file, line or key to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key or a value of the wrong type; toml's message gives line,
    /// column and key.
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// An environment variable or flag that cannot be applied.
    #[error("{origin}: {message}")]
    Override { origin: String, message: String },
    /// A value of the right type but out of range.
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    /// A credential file that is missing, empty or readable by others.
    #[error("{path}: {message}")]
    SecretFile { path: PathBuf, message: String },
}

/// Where the configuration came from, for `config` output and error messages.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if one was.
    pub path: Option<PathBuf>,
    api_key_from_env: Option<Secret>,
    krypton_company_from_env: Option<Secret>,
    /// `$XDG_DATA_HOME/ekyc-kiosk` or `~/.local/share/ekyc-kiosk`, when either is known.
    data_dir: Option<PathBuf>,
}

/// The Krypton company id (a credential); it wins over `krypton.company_id_file`.
pub const KRYPTON_COMPANY_ENV: &str = "EKYC_KRYPTON_COMPANY_ID";

/// The system-wide file, installed by the Debian package and managed by IT.
pub const SYSTEM_CONFIG_PATH: &str = "/etc/ekyc-kiosk/config.toml";

/// Where a configuration file is looked for without `--config`/`EKYC_CONFIG`: the
/// user's own file first, then the system's. The first that exists is read, alone.
pub fn config_search_path(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    default_config_path(env)
        .into_iter()
        .chain([PathBuf::from(SYSTEM_CONFIG_PATH)])
        .collect()
}

/// The user's file: `$XDG_CONFIG_HOME/ekyc-kiosk/config.toml`, or under `~/.config`.
pub fn default_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_CONFIG_HOME")
        .filter(|dir| Path::new(dir).is_absolute())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".config")))?;
    Some(base.join("ekyc-kiosk").join("config.toml"))
}

/// Where the engine keeps its enrolments unless told otherwise.
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = env("XDG_DATA_HOME")
        .filter(|dir| Path::new(dir).is_absolute())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".local").join("share")))?;
    Some(base.join("ekyc-kiosk"))
}

impl Config {
    /// Loads from the process environment. `path` is `--config`; `sets` are
    /// `--set key=value` and the named flags, applied last.
    pub fn load(
        path: Option<&Path>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::load_with(path, &|name| vars.get(name).cloned(), sets)
    }

    /// [`Config::load`] with the environment given as a function, for tests.
    pub fn load_with(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        Self::load_searching(path, &config_search_path(env), env, sets)
    }

    /// [`Config::load_with`] with the files to look for given, for tests that must not
    /// depend on this machine's `/etc`.
    pub fn load_searching(
        path: Option<&Path>,
        search: &[PathBuf],
        env: &dyn Fn(&str) -> Option<String>,
        sets: &[(String, String)],
    ) -> Result<LoadedConfig, ConfigError> {
        let explicit = path.map(Path::to_path_buf).or_else(|| {
            env(CONFIG_PATH_ENV)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
        });
        let (mut table, path) = match explicit {
            Some(path) => (read_table(&path)?, Some(path)),
            None => match search.iter().find(|path| path.exists()) {
                Some(path) => (read_table(path)?, Some(path.clone())),
                None => (toml::Table::new(), None),
            },
        };
        let mut config: Config =
            Config::deserialize(table.clone()).map_err(|error| ConfigError::Parse {
                path: path.clone().unwrap_or_default(),
                message: error.to_string(),
            })?;
        let env_overrides = KEYS.iter().filter_map(|(key, variable)| {
            env(variable).map(|value| (*key, value, variable.to_string()))
        });
        let flag_overrides = sets
            .iter()
            .map(|(key, value)| (key.as_str(), value.clone(), format!("--set {key}")));
        for (key, value, origin) in env_overrides
            .collect::<Vec<_>>()
            .into_iter()
            .chain(flag_overrides)
        {
            config = apply_override(&mut table, key, &value).map_err(|message| {
                ConfigError::Override {
                    origin: format!("{origin}={value}"),
                    message,
                }
            })?;
        }
        config.validate()?;
        Ok(LoadedConfig {
            config,
            path,
            api_key_from_env: env(API_KEY_ENV)
                .filter(|key| !key.trim().is_empty())
                .map(|key| Secret::new(key.trim())),
            krypton_company_from_env: env(KRYPTON_COMPANY_ENV)
                .filter(|id| !id.trim().is_empty())
                .map(|id| Secret::new(id.trim())),
            data_dir: default_data_dir(env),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        if self.device_type.trim().is_empty() {
            return invalid("device_type", "must not be empty");
        }
        if !is_http_url(&self.fpt.base_url) {
            return invalid("fpt.base_url", "must start with http:// or https://");
        }
        if self
            .krypton
            .url
            .as_deref()
            .is_some_and(|url| !is_http_url(url))
        {
            return invalid("krypton.url", "must start with http:// or https://");
        }
        if self.backend == Backend::Krypton && self.krypton.url.is_none() {
            return invalid("krypton.url", "is required when backend = \"krypton\"");
        }
        if !(1..=10).contains(&self.network.retries) {
            return invalid("network.retries", "must be between 1 and 10 (tries in all)");
        }
        if self.network.connect_timeout_secs == 0 || self.network.request_timeout_secs == 0 {
            return invalid(
                "network.request_timeout_secs",
                "timeouts must be at least 1 second",
            );
        }
        if !(1..=100).contains(&self.images.jpeg_quality) {
            return invalid("images.jpeg_quality", "must be between 1 and 100");
        }
        if self.images.max_side < 320 {
            return invalid("images.max_side", "must be at least 320 pixels");
        }
        if self.ui.score_threshold > 100 || self.ui.face_match_threshold > 100 {
            return invalid("ui.score_threshold", "thresholds are percentages, 0 to 100");
        }
        if self.ui.idle_timeout_secs < 10 {
            return invalid("ui.idle_timeout_secs", "must be at least 10 seconds");
        }
        if self.ui.more_time_secs < 20 {
            return invalid(
                "ui.more_time_secs",
                "must be at least 20 seconds (WCAG 2.2.1: time to ask for more time)",
            );
        }
        if self.ui.voice && self.ui.voice_command.is_empty() {
            return invalid(
                "ui.voice_command",
                "names no program (voice = true needs one)",
            );
        }
        if self.capture.steady_frames == 0 || self.capture.steady_frames > 100 {
            return invalid("capture.steady_frames", "must be between 1 and 100");
        }
        if !(0.05..=0.99).contains(&self.capture.face_min_score) {
            return invalid("capture.face_min_score", "must be between 0.05 and 0.99");
        }
        if !(0.2..=1.2).contains(&self.engine.match_distance) {
            return invalid(
                "engine.match_distance",
                "must be between 0.2 and 1.2 (dlib's default is 0.6)",
            );
        }
        if self.capture.countdown_ms > 10_000 {
            return invalid("capture.countdown_ms", "must be at most 10000 (10 seconds)");
        }
        if let Err(message) = self.capture.thresholds().validate() {
            return Err(ConfigError::Invalid {
                key: "capture",
                message,
            });
        }
        let engine = &self.engine;
        if engine.tls_cert.is_some() != engine.tls_key.is_some() {
            return invalid("engine.tls_cert", "tls_cert and tls_key go together");
        }
        if engine.tls_client_ca.is_some() && engine.tls_cert.is_none() {
            return invalid(
                "engine.tls_client_ca",
                "client certificates need TLS: set tls_cert and tls_key too",
            );
        }
        if engine.max_connections == 0 || engine.uploads_at_once == 0 {
            return invalid(
                "engine.max_connections",
                "max_connections and uploads_at_once must be at least 1",
            );
        }
        if engine.lockout_failures == 0 || engine.lockout_secs == 0 {
            return invalid(
                "engine.lockout_failures",
                "lockout_failures and lockout_secs must be at least 1",
            );
        }
        if let Some(url) = &self.report.webhook_url {
            if !is_http_url(url) {
                return invalid(
                    "report.webhook_url",
                    "must be an http:// or https:// address",
                );
            }
            if self.report.key_file.is_none() {
                return invalid(
                    "report.key_file",
                    "a webhook needs its signing key file (shared with the bank)",
                );
            }
        }
        if self.staff.max_wrong == 0 || self.staff.exit_secs == 0 {
            return invalid(
                "staff.max_wrong",
                "max_wrong and exit_secs must be at least 1",
            );
        }
        if self.network.client_cert.is_some() != self.network.client_key.is_some() {
            return invalid(
                "network.client_cert",
                "client_cert and client_key go together",
            );
        }
        if self.images.max_file_mb == 0 || self.engine.max_upload_mb == 0 {
            return invalid("images.max_file_mb", "size limits must be at least 1 MB");
        }
        let liveness = &self.liveness;
        if !(2000..=8000).contains(&liveness.challenge_ms) {
            return invalid(
                "liveness.challenge_ms",
                "must be between 2000 and 8000 (longer: a slower dot, for customers who need the time)",
            );
        }
        if !(0.3..=0.99).contains(&liveness.min_correlation) {
            return invalid("liveness.min_correlation", "must be between 0.3 and 0.99");
        }
        if !(0.3..=1.0).contains(&liveness.min_coverage) {
            return invalid("liveness.min_coverage", "must be between 0.3 and 1.0");
        }
        if !(0.005..=0.2).contains(&liveness.min_parallax) {
            return invalid(
                "liveness.min_parallax",
                "must be between 0.005 and 0.2 (a share of the face's size)",
            );
        }
        if !(1..=5).contains(&liveness.attempts) {
            return invalid("liveness.attempts", "must be between 1 and 5");
        }
        Ok(())
    }
}

impl LoadedConfig {
    /// The API key: `EKYC_API_KEY`, else `api_key_file`. `None` when neither is set.
    pub fn api_key(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(key) = &self.api_key_from_env {
            return Ok(Some(key.clone()));
        }
        self.config
            .api_key_file
            .as_deref()
            .map(read_secret_file)
            .transpose()
    }

    /// The Krypton company id: `EKYC_KRYPTON_COMPANY_ID`, else `krypton.company_id_file`.
    pub fn krypton_company_id(&self) -> Result<Option<Secret>, ConfigError> {
        if let Some(id) = &self.krypton_company_from_env {
            return Ok(Some(id.clone()));
        }
        self.config
            .krypton
            .company_id_file
            .as_deref()
            .map(read_secret_file)
            .transpose()
    }

    pub fn image_limits(&self) -> ImageLimits {
        let images = &self.config.images;
        ImageLimits {
            max_side: images.max_side,
            jpeg_quality: images.jpeg_quality,
            max_file_bytes: u64::from(images.max_file_mb) * 1_048_576,
        }
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.config.network.retries,
            initial_backoff: Duration::from_millis(self.config.network.retry_backoff_ms),
            max_backoff: Duration::from_millis(
                self.config.network.retry_backoff_ms.saturating_mul(8),
            ),
        }
    }

    /// Client settings for an FPT.AI-contract back end at `base_url` with `api_key`.
    pub fn fpt_settings(&self, base_url: &str, api_key: Secret) -> FptSettings {
        let config = &self.config;
        FptSettings {
            base_url: base_url.to_owned(),
            api_key,
            device_type: config.device_type.clone(),
            client_uuid: config.client_uuid.clone(),
            lang: config.lang,
            connect_timeout: Duration::from_secs(config.network.connect_timeout_secs),
            request_timeout: Duration::from_secs(config.network.request_timeout_secs),
            retry: self.retry_policy(),
            tls: self.client_tls(),
            gateway: config.network.gateway,
        }
    }

    /// The clients' TLS: the bank's CA, this kiosk's certificate.
    pub fn client_tls(&self) -> ClientTls {
        let network = &self.config.network;
        ClientTls {
            ca_file: network.ca_file.clone(),
            web_roots: network.web_roots,
            client_cert: network.client_cert.clone(),
            client_key: network.client_key.clone(),
        }
    }

    /// The kiosk's state database (attempt log, outbox); `None` when neither
    /// `desk.state_db` nor a data folder is known.
    pub fn state_db(&self) -> Option<crate::desk::StateDb> {
        let path = self
            .config
            .desk
            .state_db
            .clone()
            .or_else(|| Some(self.data_dir.as_ref()?.join("kiosk.redb")))?;
        Some(crate::desk::StateDb::at(path))
    }

    /// The attempt log, started (off with `desk.attempt_log = false`).
    pub fn attempt_log(&self) -> Option<crate::desk::AttemptLog> {
        let desk = &self.config.desk;
        if !desk.attempt_log {
            return None;
        }
        let retention = Duration::from_secs(u64::from(desk.retention_days) * 86_400);
        Some(crate::desk::AttemptLog::start(self.state_db()?, retention))
    }

    /// This kiosk's name in reports: `desk.kiosk_id`, else `client_uuid`, else the host's.
    pub fn kiosk_id(&self) -> String {
        self.config
            .desk
            .kiosk_id
            .clone()
            .or_else(|| self.config.client_uuid.clone())
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
            })
            .unwrap_or_else(|| "kiosk".into())
    }

    /// Where `staff set-pin` writes the PIN's hash.
    pub fn staff_pin_file(&self) -> Option<PathBuf> {
        self.config
            .staff
            .pin_file
            .clone()
            .or_else(|| Some(self.data_dir.as_ref()?.join("staff.pin")))
    }

    /// The staff PIN's hash: `staff.pin_hash`, else the PIN file; `Ok(None)` when no PIN
    /// is set (staff mode then cannot be opened from the screen).
    pub fn staff_pin_hash(&self) -> Result<Option<String>, ConfigError> {
        if let Some(hash) = &self.config.staff.pin_hash {
            return Ok(Some(hash.clone()));
        }
        match self.staff_pin_file() {
            Some(path) if path.exists() => crate::desk::pin::read_pin_file(&path)
                .map(Some)
                .map_err(|error| ConfigError::SecretFile {
                    path,
                    message: error.to_string(),
                }),
            _ => Ok(None),
        }
    }

    /// The report outbox and where it delivers; `Ok(None)` without `report.webhook_url`.
    /// A signing key file that is missing, readable by others or too short is refused.
    pub fn report_outbox(
        &self,
    ) -> Result<Option<(crate::desk::outbox::Outbox, crate::desk::outbox::Webhook)>, ConfigError>
    {
        use crate::desk::outbox::{Backoff, Outbox, Webhook};
        let report = &self.config.report;
        let Some(url) = report.webhook_url.clone() else {
            return Ok(None);
        };
        let key_path = report.key_file.clone().ok_or(ConfigError::Invalid {
            key: "report.key_file",
            message: "a webhook needs its signing key file".into(),
        })?;
        let key = crate::desk::report::SigningKey::read(&key_path).map_err(|message| {
            ConfigError::SecretFile {
                path: key_path.clone(),
                message,
            }
        })?;
        let network = &self.config.network;
        let client = crate::api::http_client(
            Duration::from_secs(network.connect_timeout_secs),
            Duration::from_secs(network.request_timeout_secs),
            &self.client_tls(),
        )
        .map_err(|error| ConfigError::Invalid {
            key: "network.ca_file",
            message: error.to_string(),
        })?;
        let state = self.state_db().ok_or(ConfigError::Invalid {
            key: "desk.state_db",
            message: "no data folder known (HOME unset): set desk.state_db".into(),
        })?;
        let key_file = self.config.desk.outbox_key_file.clone().unwrap_or_else(|| {
            state
                .path()
                .parent()
                .unwrap_or(Path::new("."))
                .join("outbox.key")
        });
        let backoff = Backoff {
            first: Duration::from_millis(report.retry_first_ms.max(10)),
            max: Duration::from_secs(report.retry_max_secs.max(1))
                .max(Duration::from_millis(report.retry_first_ms)),
        };
        let outbox =
            Outbox::open(state, &key_file, backoff).map_err(|message| ConfigError::SecretFile {
                path: key_file.clone(),
                message,
            })?;
        Ok(Some((outbox, Webhook { url, client, key })))
    }

    /// Engine settings with the face models loaded; accepted keys are `extra_keys` (from
    /// `--api-key`) or this configuration's API key.
    pub fn engine_settings(&self, extra_keys: &[String]) -> Result<EngineSettings, ConfigError> {
        let mut settings = self.engine_settings_without_models(extra_keys)?;
        self.engine_models()(&mut settings);
        Ok(settings)
    }

    /// Engine settings without the face models (which [`Self::engine_models`] loads): what
    /// the configuration says, read now so that a mistake in it stops the start.
    pub fn engine_settings_without_models(
        &self,
        extra_keys: &[String],
    ) -> Result<EngineSettings, ConfigError> {
        let mut api_keys: Vec<Secret> = extra_keys
            .iter()
            .map(|key| Secret::new(key.trim()))
            .collect();
        if api_keys.is_empty() {
            api_keys.extend(self.api_key()?);
        }
        let engine = &self.config.engine;
        Ok(EngineSettings {
            api_keys,
            session_ttl: Duration::from_secs(engine.session_ttl_secs),
            max_file_bytes: u64::from(engine.max_upload_mb) * 1_048_576,
            selfie_attempts: engine.selfie_attempts,
            faces: None,
            matcher: None,
            match_distance: engine.match_distance,
            mesh: None,
            parallax: self.config.liveness.parallax_thresholds(),
            // Not `..EngineSettings::default()`: that would load the default face models
            // as well, even where the config names others.
            max_sessions: crate::engine::DEFAULT_MAX_SESSIONS,
            script: None,
            ocr: crate::engine::Tesseract::find(),
            company_ids: engine
                .company_id_file
                .as_deref()
                .map(read_secret_file)
                .transpose()?
                .into_iter()
                .collect(),
            enrolments: self.enrolments().map(std::sync::Arc::new),
            tls: match (&engine.tls_cert, &engine.tls_key) {
                (Some(cert), Some(key)) => Some(crate::engine::TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: engine.tls_client_ca.clone(),
                }),
                _ => None,
            },
            connections: crate::engine::ConnectionLimits {
                max_connections: engine.max_connections as usize,
                ..Default::default()
            },
            lockout: crate::engine::LockoutLimits {
                failures: engine.lockout_failures,
                window: Duration::from_secs(engine.lockout_secs),
                lockout: Duration::from_secs(engine.lockout_secs),
            },
            uploads: crate::engine::UploadLimits {
                at_once: engine.uploads_at_once as usize,
                ..Default::default()
            },
        })
    }

    /// Loads the engine's face models into its settings (~0.1 s and 30 MB of dlib weights
    /// here): a model that is missing or broken is logged and leaves its check off.
    pub fn engine_models(&self) -> impl FnOnce(&mut EngineSettings) + Send + 'static {
        let face_model = self.config.capture.face_model.clone();
        let match_models = self.config.engine.face_match_models.clone();
        move |settings| {
            let started = std::time::Instant::now();
            settings.faces = match crate::face::FaceDetector::load(face_model.as_deref()) {
                Ok(detector) => Some(std::sync::Arc::new(detector)),
                Err(error) => {
                    tracing::warn!("the engine will not check selfies for faces: {error}");
                    None
                }
            };
            settings.matcher = match match_models {
                Some(dir) => crate::face::FaceMatcher::load(Some(&dir)).map(std::sync::Arc::new),
                None => crate::face::FaceMatcher::shared(),
            }
            .map_err(|error| tracing::warn!("face match is unavailable: {error}"))
            .ok();
            settings.mesh = crate::face::FaceMesh::load(None)
                .map(std::sync::Arc::new)
                .map_err(|error| tracing::warn!("liveness is unavailable: {error}"))
                .ok();
            tracing::info!(
                "the engine's face models loaded in {} ms",
                started.elapsed().as_millis()
            );
        }
    }

    /// The enrolment store as configured (opened on first use); `None` when neither a
    /// database path nor a data folder is known.
    pub fn enrolments(&self) -> Option<crate::engine::Enrolments> {
        let engine = &self.config.engine;
        let database = engine
            .enrolment_db
            .clone()
            .or_else(|| Some(self.data_dir.as_ref()?.join("enrolments.redb")))?;
        let key = engine.enrolment_key_file.clone().unwrap_or_else(|| {
            database
                .parent()
                .unwrap_or(Path::new("."))
                .join("enrolment.key")
        });
        let retention = Duration::from_secs(u64::from(engine.enrolment_days) * 86_400);
        Some(crate::engine::Enrolments::at(database, key, retention))
    }
}

fn is_http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len()
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    // Parsed as `Config` first so unknown keys and wrong types are reported with their line.
    toml::from_str::<Config>(&text).map_err(|error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    toml::from_str::<toml::Table>(&text).map_err(|error| ConfigError::Parse {
        path: path.to_path_buf(),
        message: error.to_string(),
    })
}

/// Sets `key` (dotted) to `value` in `table` and returns the configuration it makes.
fn apply_override(table: &mut toml::Table, key: &str, value: &str) -> Result<Config, String> {
    if !KEYS.iter().any(|(known, _)| *known == key) {
        let known: Vec<_> = KEYS.iter().map(|(known, _)| *known).collect();
        return Err(format!(
            "unknown key `{key}`; known keys: {}",
            known.join(", ")
        ));
    }
    let typed = match kind_of(key) {
        Kind::Integer => toml::Value::Integer(
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("`{key}` takes a whole number"))?,
        ),
        Kind::Boolean => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(format!("`{key}` takes true or false")),
        },
        Kind::Text => toml::Value::String(value.to_owned()),
    };
    let mut parts: Vec<&str> = key.split('.').collect();
    let leaf = parts.pop().unwrap_or(key);
    let mut section = &mut *table;
    for part in parts {
        let entry = section
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        section = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is not a section in the config file"))?;
    }
    section.insert(leaf.to_owned(), typed);
    Config::deserialize(table.clone()).map_err(|error| error.to_string())
}

/// Reads a credential file, refusing one that other users can read.
pub fn read_secret_file(path: &Path) -> Result<Secret, ConfigError> {
    let problem = |message: String| ConfigError::SecretFile {
        path: path.to_path_buf(),
        message,
    };
    crate::contract::secret::check_owner_only(path).map_err(problem)?;
    let text = std::fs::read_to_string(path)
        .map_err(|error| problem(format!("cannot read it: {error}")))?;
    let secret = Secret::new(text.trim());
    if secret.is_empty() {
        return Err(problem("it is empty".into()));
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn write_config(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn defaults_without_a_file() {
        let env = |name: &str| (name == "HOME").then(|| "/nonexistent-home".to_string());
        let search = [default_config_path(&env).unwrap()];
        let loaded = Config::load_searching(None, &search, &env, &[]).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.config.backend, Backend::Local);
        assert!(loaded.path.is_none());
    }

    #[test]
    fn file_then_environment_then_flags() {
        let file = write_config("backend = \"fpt\"\nlang = \"vi\"\n[network]\nretries = 2\n[fpt]\nbase_url = \"https://file.example\"\n");
        let env = |name: &str| match name {
            "EKYC_BASE_URL" => Some("https://env.example".to_string()),
            "EKYC_RETRIES" => Some("5".to_string()),
            _ => None,
        };
        let sets = [("network.retries".to_string(), "4".to_string())];
        let loaded = Config::load_with(Some(file.path()), &env, &sets).unwrap();
        assert_eq!(loaded.config.backend, Backend::Fpt);
        assert_eq!(loaded.config.lang, Lang::Vi);
        assert_eq!(loaded.config.fpt.base_url, "https://env.example");
        assert_eq!(
            loaded.config.network.retries, 4,
            "flags win over the environment"
        );
    }

    #[test]
    fn config_file_from_the_environment_and_xdg() {
        let file = write_config("lang = \"vi\"\n");
        let path = file.path().to_string_lossy().into_owned();
        let env = |name: &str| (name == CONFIG_PATH_ENV).then(|| path.clone());
        assert_eq!(
            Config::load_with(None, &env, &[]).unwrap().config.lang,
            Lang::Vi
        );

        let xdg = |name: &str| (name == "XDG_CONFIG_HOME").then(|| "/etc/xdg-test".to_string());
        assert_eq!(
            default_config_path(&xdg).unwrap(),
            Path::new("/etc/xdg-test/ekyc-kiosk/config.toml")
        );
    }

    #[test]
    fn the_users_file_comes_before_the_systems_and_only_one_is_read() {
        let env = |name: &str| (name == "HOME").then(|| "/home/clerk".to_string());
        assert_eq!(
            config_search_path(&env),
            [
                PathBuf::from("/home/clerk/.config/ekyc-kiosk/config.toml"),
                PathBuf::from(SYSTEM_CONFIG_PATH)
            ]
        );

        let user = write_config("lang = \"vi\"\n");
        let system = write_config("lang = \"en\"\ndevice_type = \"kiosk-7\"\n");
        let missing = PathBuf::from("/nonexistent-home/.config/ekyc-kiosk/config.toml");
        let both = [user.path().to_path_buf(), system.path().to_path_buf()];
        let loaded = Config::load_searching(None, &both, &no_env, &[]).unwrap();
        assert_eq!(loaded.path.as_deref(), Some(user.path()));
        assert_eq!(loaded.config.lang, Lang::Vi);
        assert_eq!(loaded.config.device_type, Config::default().device_type);

        let system_only = [missing, system.path().to_path_buf()];
        let loaded = Config::load_searching(None, &system_only, &no_env, &[]).unwrap();
        assert_eq!(loaded.path.as_deref(), Some(system.path()));
        assert_eq!(loaded.config.device_type, "kiosk-7");
    }

    #[test]
    fn malformed_files_name_the_key_and_line() {
        let file = write_config("lang = \"en\"\n\n[network]\nretries = \"three\"\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 4") && error.contains("retries"),
            "{error}"
        );

        let file = write_config("backend = \"local\"\nbase_urll = \"x\"\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("line 2") && error.contains("base_urll"),
            "{error}"
        );

        let file = write_config("backend = \n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 1"), "{error}");
    }

    #[test]
    fn bad_overrides_name_their_origin() {
        let env = |name: &str| (name == "EKYC_RETRIES").then(|| "lots".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(error.starts_with("EKYC_RETRIES=lots"), "{error}");

        let env = |name: &str| (name == "EKYC_BACKEND").then(|| "cloud".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("EKYC_BACKEND") && error.contains("cloud"),
            "{error}"
        );

        let sets = [("network.retriez".to_string(), "2".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown key `network.retriez`"), "{error}");
    }

    #[test]
    fn kiosk_mode_and_camera_come_from_the_environment() {
        let env = |name: &str| match name {
            "EKYC_KIOSK_MODE" => Some("true".to_string()),
            "EKYC_CAMERA" => Some("demo".to_string()),
            _ => None,
        };
        let loaded = Config::load_with(None, &env, &[]).unwrap();
        assert!(loaded.config.ui.kiosk_mode);
        assert_eq!(loaded.config.camera.device, "demo");
        let env = |name: &str| (name == "EKYC_KIOSK_MODE").then(|| "maybe".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(error.contains("true or false"), "{error}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        let sets = [("images.jpeg_quality".to_string(), "0".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("images.jpeg_quality"), "{error}");
        let sets = [("backend".to_string(), "krypton".to_string())];
        let error = Config::load_with(None, &no_env, &sets)
            .unwrap_err()
            .to_string();
        assert!(error.contains("krypton.url"), "{error}");
    }

    #[test]
    fn liveness_settings_are_read_and_every_key_is_checked() {
        let file = write_config(
            "[liveness]\nmodel = \"passive\"\nchallenge_ms = 4000\nattempts = 3\nmin_parallax = 0.03\n[camera]\ndemo_face = \"print\"\n",
        );
        let config = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap()
            .config;
        assert_eq!(config.liveness.model, LivenessModel::Passive);
        assert_eq!(config.liveness.challenge_ms, 4000);
        assert_eq!(config.liveness.attempts, 3);
        assert_eq!(config.liveness.parallax_thresholds().min_parallax, 0.03);
        assert_eq!(config.camera.demo_face, DemoFace::Print);
        for (key, value) in [
            ("liveness.challenge_ms", "8500"),
            ("liveness.challenge_ms", "500"),
            ("liveness.attempts", "0"),
            ("liveness.min_correlation", "1.5"),
            ("liveness.min_coverage", "0.1"),
            ("liveness.min_parallax", "0.5"),
        ] {
            let file = write_config(&format!(
                "[liveness]\n{} = {value}\n",
                key.trim_start_matches("liveness.")
            ));
            let error = Config::load_with(Some(file.path()), &no_env, &[])
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{key} = {value}: {error}");
        }
        // WCAG 2.2.1: at least 20 seconds to ask for more time; 20 itself is fine.
        let file = write_config("[ui]\nmore_time_secs = 19\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("ui.more_time_secs"), "{error}");
        let file = write_config("[ui]\nmore_time_secs = 45\nvoice = true\n");
        let loaded = Config::load_with(Some(file.path()), &no_env, &[]).unwrap();
        assert_eq!(loaded.config.ui.more_time_secs, 45);
        assert_eq!(loaded.config.ui.voice_command[0], "espeak-ng");
        let env = |name: &str| (name == "EKYC_LIVENESS_MODEL").then(|| "blink".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("blink") || error.contains("liveness.model"),
            "{error}"
        );
    }

    #[test]
    fn capture_thresholds_come_from_the_preset_and_the_file_and_nonsense_is_named() {
        let file = write_config(
            "[capture]\npreset = \"strict\"\nauto_capture = false\n[capture.card]\nmax_glare = 0.03\n",
        );
        let loaded = Config::load_with(Some(file.path()), &no_env, &[]).unwrap();
        let thresholds = loaded.config.capture.thresholds();
        assert!(!loaded.config.capture.auto_capture);
        assert_eq!(thresholds.card.max_glare, 0.03, "the file's value");
        assert_eq!(
            thresholds.card.min_sharpness,
            Thresholds::preset(Preset::Strict).card.min_sharpness,
            "the preset's value"
        );
        let file = write_config("[capture.selfie]\nmin_face_height = 1.5\n");
        let error = Config::load_with(Some(file.path()), &no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("selfie.min_face_height"), "{error}");
        let env = |name: &str| (name == "EKYC_CAPTURE_PRESET").then(|| "lenient".to_string());
        let error = Config::load_with(None, &env, &[]).unwrap_err().to_string();
        assert!(
            error.contains("capture.preset") || error.contains("lenient"),
            "{error}"
        );
    }

    #[test]
    fn api_key_from_environment_or_a_private_file() {
        let env = |name: &str| (name == API_KEY_ENV).then(|| " key-from-env \n".to_string());
        let loaded = Config::load_with(None, &env, &[]).unwrap();
        assert_eq!(loaded.api_key().unwrap().unwrap().expose(), "key-from-env");

        let key_file = write_config("key-from-file\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(key_file.path(), std::fs::Permissions::from_mode(0o644))
                .unwrap();
            let config = write_config(&format!("api_key_file = {:?}\n", key_file.path()));
            let loaded = Config::load_with(Some(config.path()), &no_env, &[]).unwrap();
            let error = loaded.api_key().unwrap_err().to_string();
            assert!(error.contains("chmod 600"), "{error}");
            assert!(
                !error.contains("key-from-file"),
                "the key must not be printed: {error}"
            );
            std::fs::set_permissions(key_file.path(), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            assert_eq!(loaded.api_key().unwrap().unwrap().expose(), "key-from-file");
        }
    }
}
