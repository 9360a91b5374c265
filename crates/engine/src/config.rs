//! The engine's configuration: its `[engine]` section ([`EngineConfig`], in the kiosk's
//! file too), the whole of what `ekyc-engine` reads ([`ServerConfig`]), and the
//! [`EngineSettings`] built from them.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ekyc_face::{FaceDetector, FaceMatcher, FaceMesh, DEFAULT_MATCH_DISTANCE};
use ekyc_liveness::ParallaxThresholds;
use ekyc_secrets::Secret;
use ekyc_settings::{read_secret_file, section, ConfigError, Program};

use crate::enrolments::DatabaseSettings;
use crate::{
    ConnectionLimits, EngineSettings, Enrolments, LockoutLimits, TlsFiles, UploadLimits,
    DEFAULT_MAX_SESSIONS,
};

/// `ekyc-engine`'s files: `/etc/ekyc-engine/config.toml` (or `EKYC_ENGINE_CONFIG`), its
/// data under `$XDG_DATA_HOME/ekyc-engine` unless the configuration says where.
pub const PROGRAM: Program = Program {
    name: "ekyc-engine",
    config_env: "EKYC_ENGINE_CONFIG",
};

section! {
    /// The local engine: `ekyc-engine serve`, `ekyc-kiosk serve` and the kiosk's
    /// in-process engine.
    pub struct EngineConfig {
        /// Where `serve` listens.
        #[env = "EKYC_ENGINE_ADDR"]
        pub addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8480)),
        /// A session unused for this long (seconds) answers errorCode "403".
        #[env = "EKYC_ENGINE_SESSION_TTL_SECS"]
        pub session_ttl_secs: u64 = 600,
        /// The largest upload accepted, per file, in MB.
        #[env = "EKYC_ENGINE_MAX_UPLOAD_MB"]
        pub max_upload_mb: u32 = 15,
        /// Selfies a session accepts before it is complete.
        #[env = "EKYC_ENGINE_SELFIE_ATTEMPTS"]
        pub selfie_attempts: u32 = 3,
        /// Face match: embeddings closer than this are one person (dlib's 0.6; lower is
        /// stricter). The similarity the engine reports is 80 % at this distance.
        pub match_distance: f32 = DEFAULT_MATCH_DISTANCE,
        /// The folder with dlib's face-match models; unset: where `./fetch-models` and the
        /// package put them.
        pub face_match_models: Option<PathBuf> = None,
        /// The face detector model (BlazeFace, ONNX) for the selfie's check; unset: the
        /// kiosk's `capture.face_model`, else where `./fetch-models` and the package put it.
        #[env = "EKYC_ENGINE_FACE_MODEL"]
        pub face_model: Option<PathBuf> = None,
        /// The 3D check on a selfie's frames: the least parallax (a share of the face's
        /// size) that tells a head from a picture.
        pub min_parallax: f32 = ParallaxThresholds::default().min_parallax,
        /// The 3D check's second half: the least of a face's own depth (a share of the
        /// face's size) the frames must show, which a print bent in the hand does not.
        pub min_face_depth: f32 = ParallaxThresholds::default().min_face_depth,
        /// With the dot's path the engine drew: the least of a face's own depth moving in
        /// step with the face's turn left and right (a share of the face's size per
        /// screen's width the dot travelled), which a print bent about a horizontal axis
        /// does not show.
        pub min_depth_following_across: f32 = ParallaxThresholds::default().min_depth_following[0],
        /// Likewise up and down, which a print bent about a vertical axis does not show
        /// (the face mesh model makes some up across, not down).
        pub min_depth_following_down: f32 = ParallaxThresholds::default().min_depth_following[1],
        /// A file holding the Krypton company id the engine accepts (a credential, readable
        /// only by its owner); unset: a random one per start (the in-process engine gives
        /// it to the kiosk).
        #[env = "EKYC_ENGINE_COMPANY_ID_FILE"]
        pub company_id_file: Option<PathBuf> = None,
        /// The enrolment database (Krypton ENROLL/AUTH); unset: `enrolments.redb` in the
        /// data folder (`$XDG_DATA_HOME/<program>`, else `~/.local/share/<program>`). Made
        /// on the first enrolment, never before.
        #[env = "EKYC_ENROLMENT_DB"]
        pub enrolment_db: Option<PathBuf> = None,
        /// The key sealing the enrolments (64 hex digits, mode 600); unset:
        /// `enrolment.key` beside the database. Made with the database.
        #[env = "EKYC_ENROLMENT_KEY_FILE"]
        pub enrolment_key_file: Option<PathBuf> = None,
        /// PostgreSQL for a bank's engine replicas
        /// (`postgres://user@host:port/name?sslmode=verify-full`): the enrolments, open
        /// sessions, issued challenges and wrong keys in it, shared by every replica given
        /// the same `enrolment_key_file`; unset: the embedded database above and the
        /// engine's memory (one kiosk or one engine, no server to run).
        #[env = "EKYC_DATABASE_URL"]
        pub database_url: Option<String> = None,
        /// A file holding the database login's password (readable only by its owner).
        #[env = "EKYC_DATABASE_PASSWORD_FILE"]
        pub database_password_file: Option<PathBuf> = None,
        /// The bank's CA (PEM) the database server's certificate must chain to, its name
        /// checked too (libpq's `verify-full`); required when `database_url` asks for TLS.
        #[env = "EKYC_DATABASE_CA_FILE"]
        pub database_ca_file: Option<PathBuf> = None,
        /// Connections to the database one replica keeps at most.
        pub database_connections: u32 = 8,
        /// An enrolment older than this many days is forgotten.
        #[env = "EKYC_ENROLMENT_DAYS"]
        pub enrolment_days: u32 = 365,
        /// Tell at once that an AUTH customer has no enrolment (HTTP 403, code "412", when
        /// the session opens). Off: an unknown customer's AUTH looks like a known one's
        /// until the selfie, which is then answered as a face that does not match (303),
        /// so that nobody learns who banks here by trying numbers. On only for a bank's
        /// own system that needs the early answer and is not reachable by the public.
        pub reveal_not_enrolled: bool = false,
        /// The CSCA certificates trusted for chips (`/chip/verify`): PEM or DER files,
        /// folders of them, ICAO master lists. Without one, no chip is `valid`.
        pub csca: Vec<PathBuf> = Vec::new(),
        /// TLS for `serve`: the certificate chain (PEM). Required to listen on anything but
        /// loopback, unless `insecure_http`. Read again on SIGHUP.
        #[env = "EKYC_ENGINE_TLS_CERT"]
        pub tls_cert: Option<PathBuf> = None,
        /// The certificate's private key (PEM).
        #[env = "EKYC_ENGINE_TLS_KEY"]
        pub tls_key: Option<PathBuf> = None,
        /// Only clients with a certificate from this CA (PEM) connect (mutual TLS).
        #[env = "EKYC_ENGINE_TLS_CLIENT_CA"]
        pub tls_client_ca: Option<PathBuf> = None,
        /// Serve plain HTTP beyond loopback (photos of ID cards in clear on the LAN: a
        /// warning at every start).
        #[env = "EKYC_ENGINE_INSECURE_HTTP"]
        pub insecure_http: bool = false,
        /// Open connections at most.
        #[env = "EKYC_ENGINE_MAX_CONNECTIONS"]
        pub max_connections: u32 = 256,
        /// Uploads read and processed at once, one per core by default (each up to two
        /// files of `max_upload_mb`).
        #[env = "EKYC_ENGINE_UPLOADS_AT_ONCE"]
        pub uploads_at_once: u32 = crate::routes::guard::cores() as u32,
        /// Requests with images waiting for a turn, at most; one more is answered 503 at
        /// once with `Retry-After` (clients wait that long and send it again).
        #[env = "EKYC_ENGINE_QUEUE"]
        pub queue: u32 = 16,
        /// On SIGTERM, seconds `/readyz` answers 503 (while every request is still served)
        /// before the engine stops accepting: time for a load balancer's health checks to
        /// send the kiosks to another replica. 0: stop at once (one engine, no balancer).
        #[env = "EKYC_ENGINE_DRAIN_SECS"]
        pub drain_secs: u64 = 0,
        /// Wrong keys from one address within `lockout_secs` that lock it out for
        /// `lockout_secs` (HTTP 429 with `Retry-After`).
        #[env = "EKYC_ENGINE_LOCKOUT_FAILURES"]
        pub lockout_failures: u32 = 10,
        /// The lockout's window and length, in seconds.
        pub lockout_secs: u64 = 300,
        /// The load balancers in front of this engine (their addresses: HAProxy's). A
        /// request through one of them is locked out, and logged, as from the client
        /// address the balancer appended last to `X-Forwarded-For`; from any other peer
        /// the header is ignored (anyone can write it). Empty: the peer is the client.
        pub trusted_proxies: Vec<IpAddr> = Vec::new(),
    }
}

section! {
    /// What `ekyc-engine` reads (`/etc/ekyc-engine/config.toml`): the key the kiosks
    /// present and the `[engine]` section, with the same keys as in the kiosk's file.
    pub struct ServerConfig {
        /// A file holding the API key the kiosks must present, readable only by its owner
        /// (chmod 600). `EKYC_API_KEY` wins.
        #[env = "EKYC_API_KEY_FILE"]
        pub api_key_file: Option<PathBuf> = None,
        /// The engine.
        pub engine: EngineConfig = EngineConfig::default(),
    }
}

impl EngineConfig {
    /// Values the types allow but the engine does not; the key in the error is the
    /// section's own (`tls_cert`), [`ConfigError::in_section`] adds `engine.`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| Err(ConfigError::invalid(key, message));
        if !(0.2..=1.2).contains(&self.match_distance) {
            return invalid(
                "match_distance",
                "must be between 0.2 and 1.2 (dlib's default is 0.6)",
            );
        }
        if !(0.005..=0.2).contains(&self.min_parallax) {
            return invalid(
                "min_parallax",
                "must be between 0.005 and 0.2 (a share of the face's size)",
            );
        }
        if !(0.005..=0.2).contains(&self.min_face_depth) {
            return invalid(
                "min_face_depth",
                "must be between 0.005 and 0.2 (a share of the face's size)",
            );
        }
        for (key, value) in [
            (
                "min_depth_following_across",
                self.min_depth_following_across,
            ),
            ("min_depth_following_down", self.min_depth_following_down),
        ] {
            if !(0.005..=1.0).contains(&value) {
                return invalid(
                    key,
                    "must be between 0.005 and 1 (a share of the face's size per screen the \
                     dot travelled)",
                );
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert", "tls_cert and tls_key go together");
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            return invalid(
                "tls_client_ca",
                "client certificates need TLS: set tls_cert and tls_key too",
            );
        }
        if self.max_connections == 0 || self.uploads_at_once == 0 {
            return invalid(
                "max_connections",
                "max_connections and uploads_at_once must be at least 1",
            );
        }
        if self.lockout_failures == 0 || self.lockout_secs == 0 {
            return invalid(
                "lockout_failures",
                "lockout_failures and lockout_secs must be at least 1",
            );
        }
        if self.database_connections == 0 {
            return invalid("database_connections", "must be at least 1");
        }
        if self
            .database_url
            .as_deref()
            .is_some_and(|url| !url.starts_with("postgres://") && !url.starts_with("postgresql://"))
        {
            return invalid(
                "database_url",
                "must read postgres://user@host:port/name (PostgreSQL is the one server \
                 database the engine keeps enrolments in)",
            );
        }
        if self.max_upload_mb == 0 {
            return invalid("max_upload_mb", "size limits must be at least 1 MB");
        }
        Ok(())
    }

    /// The TLS files, when both the certificate and its key are set.
    pub fn tls_files(&self) -> Option<TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            _ => None,
        }
    }

    /// The engine's settings without its face models (which [`Self::model_loader`] loads):
    /// what the configuration says, read now so that a mistake in it stops the start.
    /// `api_keys` are the keys accepted (none: a random one is made at start);
    /// `data_dir` is where the enrolments go unless `enrolment_db` says.
    pub fn settings_without_models(
        &self,
        api_keys: Vec<Secret>,
        data_dir: Option<&Path>,
    ) -> Result<EngineSettings, ConfigError> {
        Ok(EngineSettings {
            api_keys,
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            max_file_bytes: u64::from(self.max_upload_mb) * 1_048_576,
            selfie_attempts: self.selfie_attempts,
            faces: None,
            matcher: None,
            match_distance: self.match_distance,
            mesh: None,
            parallax: ParallaxThresholds {
                min_parallax: self.min_parallax,
                min_face_depth: self.min_face_depth,
                min_depth_following: [
                    self.min_depth_following_across,
                    self.min_depth_following_down,
                ],
                ..ParallaxThresholds::default()
            },
            // Not `..EngineSettings::default()`: that would load the default face models
            // as well, even where the configuration names others.
            max_sessions: DEFAULT_MAX_SESSIONS,
            script: None,
            ocr: ekyc_reading::Tesseract::find(),
            company_ids: self
                .company_id_file
                .as_deref()
                .map(read_secret_file)
                .transpose()?
                .into_iter()
                .collect(),
            enrolments: self.enrolments(data_dir).map(Arc::new),
            reveal_not_enrolled: self.reveal_not_enrolled,
            csca: ekyc_chip::passive::TrustList::load(&self.csca).map_err(|error| {
                ConfigError::Invalid {
                    key: "engine.csca".into(),
                    message: error.to_string(),
                }
            })?,
            tls: self.tls_files(),
            connections: ConnectionLimits {
                max_connections: self.max_connections as usize,
                ..Default::default()
            },
            lockout: LockoutLimits {
                failures: self.lockout_failures,
                window: Duration::from_secs(self.lockout_secs),
                lockout: Duration::from_secs(self.lockout_secs),
            },
            trusted_proxies: self.trusted_proxies.clone(),
            uploads: UploadLimits {
                at_once: self.uploads_at_once as usize,
                queue: self.queue as usize,
                ..Default::default()
            },
        })
    }

    /// Loads the face models into the settings (~0.1 s and 30 MB of dlib weights here): a
    /// model that is missing or broken is logged and leaves its check off. `face_model`
    /// is the detector to use when `engine.face_model` is unset (the kiosk's own).
    pub fn model_loader(
        &self,
        face_model: Option<PathBuf>,
    ) -> impl FnOnce(&mut EngineSettings) + Send + 'static {
        let face_model = self.face_model.clone().or(face_model);
        let match_models = self.face_match_models.clone();
        move |settings| {
            let started = std::time::Instant::now();
            settings.faces = match FaceDetector::load(face_model.as_deref()) {
                Ok(detector) => Some(Arc::new(detector)),
                Err(error) => {
                    tracing::warn!("the engine will not check selfies for faces: {error}");
                    None
                }
            };
            settings.matcher = match match_models {
                Some(dir) => FaceMatcher::load(Some(&dir)).map(Arc::new),
                None => FaceMatcher::shared(),
            }
            .map_err(|error| tracing::warn!("face match is unavailable: {error}"))
            .ok();
            settings.mesh = FaceMesh::load(None)
                .map(Arc::new)
                .map_err(|error| tracing::warn!("liveness is unavailable: {error}"))
                .ok();
            tracing::info!(
                "the engine's face models loaded in {} ms",
                started.elapsed().as_millis()
            );
        }
    }

    /// The enrolment store as configured (opened on first use): PostgreSQL when
    /// `database_url` is set, else the embedded file; `None` when neither a database path
    /// nor a data folder is known (nor, for PostgreSQL, where the key file is).
    pub fn enrolments(&self, data_dir: Option<&Path>) -> Option<Enrolments> {
        let retention = Duration::from_secs(u64::from(self.enrolment_days) * 86_400);
        if let Some(url) = &self.database_url {
            let key = self
                .enrolment_key_file
                .clone()
                .or_else(|| Some(data_dir?.join("enrolment.key")))?;
            return Some(Enrolments::in_postgres(
                DatabaseSettings {
                    url: url.clone(),
                    password_file: self.database_password_file.clone(),
                    ca_file: self.database_ca_file.clone(),
                    max_connections: self.database_connections as usize,
                },
                key,
                retention,
            ));
        }
        let database = self
            .enrolment_db
            .clone()
            .or_else(|| Some(data_dir?.join("enrolments.redb")))?;
        let key = self.enrolment_key_file.clone().unwrap_or_else(|| {
            database
                .parent()
                .unwrap_or(Path::new("."))
                .join("enrolment.key")
        });
        Some(Enrolments::at(database, key, retention))
    }
}
