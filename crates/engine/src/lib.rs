//! The local engine: a server that speaks the FPT.AI and Krypton v3 contracts. It is the
//! kiosk's default back end (in-process, on loopback), a branch's or a bank's server (the
//! headless binary `ekyc-engine`), and the target of every integration test; it reports
//! only what it measured: what it cannot evaluate is "N/A". Its endpoints ([`start`],
//! [`router`]), sessions, enrolments, connections and TLS are here; its configuration in
//! [`config`], its commands (`serve`, `enrolments`) in [`cli`].
//!
//! It may use every crate below the kiosk but the clients: `ekyc-reading` (what a card
//! says), `ekyc-face`, `ekyc-liveness`, `ekyc-imaging`, `ekyc-contract`, `ekyc-settings`,
//! `ekyc-secrets`, `ekyc-process`. No GUI crate is in its build (`tests/layout.rs`).
#![warn(missing_docs)]

pub mod challenges;
pub mod cli;
pub mod config;
pub mod database;
pub mod enrolments;
pub mod kept;
pub mod key_failures;
mod routes;
pub mod script;
mod server;
pub mod sessions;
pub mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use ekyc_contract::Secret;
use ekyc_face::{FaceDetector, FaceMatcher, FaceMesh, DEFAULT_MATCH_DISTANCE};
use ekyc_liveness::ParallaxThresholds;
use ekyc_reading::Tesseract;
pub use enrolments::{EnrolmentStore, Enrolments};
pub use routes::guard::{LockoutLimits, UploadLimits};
pub use script::{Script, ScriptError, ScriptedEndpoint};
pub use server::ConnectionLimits;
pub use tls::{ServerTls, TlsError, TlsFiles};

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Accepted API keys. Empty: a random key is made at start-up.
    pub api_keys: Vec<Secret>,
    /// A session unused for this long answers errorCode "403".
    pub session_ttl: Duration,
    /// Largest accepted upload, per file.
    pub max_file_bytes: u64,
    /// TLS from these files; without them plain HTTP (loopback, or `--insecure-http`).
    pub tls: Option<TlsFiles>,
    /// Open connections, handshake, header and idle times, the grace at a stop.
    pub connections: ConnectionLimits,
    /// Wrong keys from one address that lock it out, and for how long.
    pub lockout: LockoutLimits,
    /// Load balancers in front of the engine: through one of them, the client is the
    /// address it appended last to `X-Forwarded-For` (`engine.trusted_proxies`).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Uploads processed at once, their wait for a turn, a request's deadline.
    pub uploads: UploadLimits,
    /// Most sessions open at once (bounds memory).
    pub max_sessions: usize,
    /// Selfies a session accepts before it is complete (`is_complete_session: true`).
    pub selfie_attempts: u32,
    /// Canned answers and faults, for tests and staff training.
    pub script: Option<Script>,
    /// Tesseract for the printed text and the MRZ; without it only QR codes are read.
    pub ocr: Option<Tesseract>,
    /// The face detector for the selfie (0 faces: an error; 2 or more: code 407); without
    /// it the selfie is accepted unchecked, with a warning.
    pub faces: Option<Arc<FaceDetector>>,
    /// dlib's landmark and recognition models for the face match; without them (or
    /// without the detector) face match answers "N/A" and says it is unavailable.
    pub matcher: Option<Arc<FaceMatcher>>,
    /// Embeddings closer than this are one person (dlib's 0.6 by default).
    pub match_distance: f32,
    /// MediaPipe's face mesh and iris models, for liveness on several selfie frames;
    /// without them liveness answers "N/A" and says why.
    pub mesh: Option<Arc<FaceMesh>>,
    /// The 3D check's thresholds (`[liveness] min_parallax`).
    pub parallax: ParallaxThresholds,
    /// Accepted Krypton company ids (`companyId`). Empty: a random one is made at
    /// start-up (the in-process engine hands it to its client).
    pub company_ids: Vec<Secret>,
    /// Where ENROLL keeps templates and AUTH finds them; without it, Krypton sessions
    /// that enrol or authenticate are refused (code 503) and say why.
    pub enrolments: Option<Arc<Enrolments>>,
    /// Say at once that an AUTH customer has no enrolment (code 412, when the session
    /// opens). Off (the default): an unknown customer's AUTH runs as a known one's and its
    /// selfie is answered as a face that does not match, so that nobody learns who is
    /// enrolled by asking.
    pub reveal_not_enrolled: bool,
    /// The CSCAs trusted for chips (`engine.csca`); empty: no chip is `valid`.
    pub csca: ekyc_chip::passive::TrustList,
}

/// Most sessions open at once unless set otherwise.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            session_ttl: Duration::from_secs(600),
            max_file_bytes: 15 * 1024 * 1024,
            tls: None,
            connections: ConnectionLimits::default(),
            lockout: LockoutLimits::default(),
            trusted_proxies: Vec::new(),
            uploads: UploadLimits::default(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            selfie_attempts: 3,
            script: None,
            ocr: Tesseract::find(),
            faces: FaceDetector::load(None).ok().map(Arc::new),
            matcher: FaceMatcher::shared().ok(),
            match_distance: DEFAULT_MATCH_DISTANCE,
            mesh: FaceMesh::load(None).ok().map(Arc::new),
            parallax: ParallaxThresholds::default(),
            company_ids: Vec::new(),
            enrolments: None,
            reveal_not_enrolled: false,
            csca: ekyc_chip::passive::TrustList::default(),
        }
    }
}

/// The engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The OS gave no randomness for the generated API key.
    #[error("cannot make an API key: {0}")]
    KeyGeneration(String),
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}

/// How many requests each endpoint received (scripted ones included).
#[derive(Debug, Default)]
pub struct RequestCounts {
    session_init: AtomicUsize,
    ocr: AtomicUsize,
    face_liveness: AtomicUsize,
    krypton: AtomicUsize,
    chip_verify: AtomicUsize,
    liveness_challenge: AtomicUsize,
}

impl RequestCounts {
    fn counter(&self, endpoint: ScriptedEndpoint) -> &AtomicUsize {
        match endpoint {
            ScriptedEndpoint::SessionInit => &self.session_init,
            ScriptedEndpoint::Ocr => &self.ocr,
            ScriptedEndpoint::FaceLiveness => &self.face_liveness,
            ScriptedEndpoint::Krypton => &self.krypton,
            ScriptedEndpoint::ChipVerify => &self.chip_verify,
            ScriptedEndpoint::LivenessChallenge => &self.liveness_challenge,
        }
    }

    fn record(&self, endpoint: ScriptedEndpoint) {
        self.counter(endpoint).fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests `endpoint` received.
    pub fn get(&self, endpoint: ScriptedEndpoint) -> usize {
        self.counter(endpoint).load(Ordering::Relaxed)
    }
}

/// A running engine. Dropping it stops the server.
#[derive(Debug)]
pub struct EngineHandle {
    base_url: String,
    address: SocketAddr,
    api_key: Secret,
    key_was_generated: bool,
    company_id: Secret,
    company_id_was_generated: bool,
    counts: Arc<RequestCounts>,
    tls: Option<Arc<ServerTls>>,
    /// Set by [`Self::drain`]: `/readyz` answers 503.
    draining: Arc<std::sync::atomic::AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl EngineHandle {
    /// `http://127.0.0.1:PORT`, or `https://…` with TLS.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address it listens on (the port chosen, for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A key the engine accepts (the generated one when none was configured).
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// Whether the key was made up at start (none was configured).
    pub fn key_was_generated(&self) -> bool {
        self.key_was_generated
    }

    /// A Krypton company id the engine accepts (the generated one when none was
    /// configured).
    pub fn company_id(&self) -> &Secret {
        &self.company_id
    }

    /// Whether the company id was made up at start (none was configured).
    pub fn company_id_was_generated(&self) -> bool {
        self.company_id_was_generated
    }

    /// How many requests `endpoint` received.
    pub fn requests(&self, endpoint: ScriptedEndpoint) -> usize {
        self.counts.get(endpoint)
    }

    /// Whether it speaks TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Reads the TLS files again for the next connections (open ones and sessions stay);
    /// on failure the certificate in use stays. Without TLS there is nothing to do.
    pub fn reload_tls(&self) -> Result<(), TlsError> {
        match &self.tls {
            Some(tls) => tls.reload(),
            None => Ok(()),
        }
    }

    /// Tells the load balancer to send no more: `/readyz` answers 503 from now on, while
    /// every request that still comes is served as before. `serve` drains for
    /// `engine.drain_secs` on SIGTERM before it stops accepting.
    pub fn drain(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stops accepting requests and waits for the ones in flight.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Runs until the server ends by itself (it does not, short of an I/O failure).
    pub async fn wait(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The engine's endpoints on their own, without a listener or its connection limits: what
/// the fuzz targets drive (`fuzz/`), one request at a time. The API keys and company ids
/// are taken as given (none: every key is refused); the face models are those in
/// `settings`.
pub fn router(settings: EngineSettings) -> axum::Router {
    routes::router(
        settings,
        Arc::new(RequestCounts::default()),
        "http://127.0.0.1".into(),
        Arc::default(),
    )
}

/// Starts the engine on `addr` (port 0: any free port) on the current tokio runtime.
pub async fn start(
    addr: SocketAddr,
    settings: EngineSettings,
) -> Result<EngineHandle, EngineError> {
    start_loading(addr, settings, |_| {}).await
}

/// [`start`], with `load_models` filling in the settings' face models on a blocking thread
/// after the address is bound: the kiosk's window opens without waiting for them. Requests
/// that come meanwhile wait in the listening socket's queue and are answered once the
/// models are in (a tenth of a second here).
pub async fn start_loading(
    addr: SocketAddr,
    mut settings: EngineSettings,
    load_models: impl FnOnce(&mut EngineSettings) + Send + 'static,
) -> Result<EngineHandle, EngineError> {
    settings.api_keys.retain(|key| !key.is_empty());
    let key_was_generated = settings.api_keys.is_empty();
    let api_key = match settings.api_keys.first() {
        Some(key) => key.clone(),
        None => {
            let key =
                Secret::random().map_err(|error| EngineError::KeyGeneration(error.to_string()))?;
            settings.api_keys.push(key.clone());
            key
        }
    };
    settings.company_ids.retain(|id| !id.is_empty());
    let company_id_was_generated = settings.company_ids.is_empty();
    let company_id = match settings.company_ids.first() {
        Some(id) => id.clone(),
        None => {
            let id =
                Secret::random().map_err(|error| EngineError::KeyGeneration(error.to_string()))?;
            settings.company_ids.push(id.clone());
            id
        }
    };
    let tls = match settings.tls.take() {
        Some(files) => Some(Arc::new(ServerTls::load(files)?)),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| EngineError::Bind { addr, source })?;
    let address = listener
        .local_addr()
        .map_err(|source| EngineError::Bind { addr, source })?;
    let counts = Arc::new(RequestCounts::default());
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = format!("{scheme}://{address}");
    let connections = settings.connections;
    let server_tls = tls.clone();
    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let router_counts = counts.clone();
    let router_url = base_url.clone();
    let draining = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let router_draining = draining.clone();
    let server = tokio::spawn(async move {
        let loaded = tokio::task::spawn_blocking(move || {
            load_models(&mut settings);
            settings
        })
        .await;
        let settings = match loaded {
            Ok(settings) => settings,
            Err(error) => {
                // The listener closes: the kiosk is told the back end cannot be reached.
                tracing::error!("local engine: its face models could not be loaded: {error}");
                return;
            }
        };
        let router = routes::router(settings, router_counts, router_url, router_draining);
        server::serve(listener, router, server_tls, connections, async {
            let _ = shutdown_signal.await;
        })
        .await;
    });
    tracing::info!("local engine listening on {address}");
    Ok(EngineHandle {
        base_url,
        address,
        api_key,
        key_was_generated,
        company_id,
        company_id_was_generated,
        counts,
        tls,
        draining,
        shutdown: Some(shutdown),
        server: Some(server),
    })
}
