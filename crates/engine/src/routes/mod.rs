//! The engine's HTTP endpoints, one file each: [`sessions`] (`/session/init`, Krypton's
//! `/api/v3/ekyc`), [`ocr`] (`/ocr`), [`face`] (`/face/liveness`), [`chip`] (ours:
//! `/chip/verify`). Every answer is
//! written through the contract's types ([`ekyc_contract`]); each handler is a list of
//! named steps (admit, read uploads, detect, decide, reply) whose refusals are the
//! answers themselves.

// A step that refuses hands back the finished answer; its size does not matter here.
#![allow(clippy::result_large_err)]

mod challenge;
mod chip;
mod face;
pub mod guard;
mod metrics;
mod ocr;
mod sessions;

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use image::DynamicImage;
use serde_json::json;

use super::challenges::ChallengeStore;
use super::script::{play, ScriptPlayer, ScriptedEndpoint};
use super::sessions::{EngineSession, OpenProblem, SessionProblem, SessionStore};
use super::{EngineSettings, EnrolmentStore, Enrolments, RequestCounts};
use ekyc_contract::{Code, Lang, Secret, Shape, StatusReply};
use ekyc_face::{FaceDetector, FaceMatcher, FaceMesh};
use ekyc_imaging::decode_upright;
use ekyc_liveness::ParallaxThresholds;
use ekyc_reading::Tesseract;

struct EngineState {
    api_keys: Vec<Secret>,
    lockout: guard::KeyLockout,
    /// Load balancers whose `X-Forwarded-For` names the client.
    trusted_proxies: Vec<std::net::IpAddr>,
    uploads: guard::UploadTurns,
    max_file_bytes: u64,
    selfie_attempts: u32,
    /// Open sessions: in memory, or in the database the replicas share.
    sessions: Arc<SessionStore>,
    /// The follow-the-dot paths issued and not yet answered (kept where the sessions are).
    challenges: Arc<ChallengeStore>,
    script: Option<ScriptPlayer>,
    counts: Arc<RequestCounts>,
    ocr: Option<Tesseract>,
    faces: Option<Arc<FaceDetector>>,
    matcher: Option<Arc<FaceMatcher>>,
    match_distance: f32,
    mesh: Option<Arc<FaceMesh>>,
    parallax: ParallaxThresholds,
    company_ids: Vec<Secret>,
    enrolments: Option<Arc<Enrolments>>,
    /// Code 412 at once for an AUTH customer without an enrolment (else: a mismatch later).
    reveal_not_enrolled: bool,
    /// Where this engine answers: the `krPath` of its Krypton sessions.
    base_url: String,
    /// The CSCAs the engine trusts for chips (`engine.csca`).
    csca: ekyc_chip::passive::TrustList,
    /// Requests counted and timed, for `/metrics`.
    metrics: metrics::Metrics,
    /// Stopping soon ([`crate::EngineHandle::drain`]): `/readyz` answers 503.
    draining: Arc<std::sync::atomic::AtomicBool>,
}

/// How long an issued challenge waits for its frames: the dot's few seconds, the frames'
/// upload on a slow link, and a queue for the engine's turn.
const CHALLENGE_TTL: std::time::Duration = std::time::Duration::from_secs(120);

/// What a step answers with when it refuses: the finished response.
type Refusal = Response;

pub(super) fn router(
    settings: EngineSettings,
    counts: Arc<RequestCounts>,
    base_url: String,
    draining: Arc<std::sync::atomic::AtomicBool>,
) -> Router {
    // Two card sides plus the multipart framing.
    let body_limit = usize::try_from(settings.max_file_bytes.saturating_mul(2))
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    // Replicas on one PostgreSQL share their sessions and challenges there too: a session
    // opened on one continues on any other.
    let (sessions, challenges) = match &settings.enrolments {
        Some(enrolments) if enrolments.is_server() => (
            SessionStore::in_database(
                enrolments.clone(),
                settings.session_ttl,
                settings.max_sessions,
            ),
            ChallengeStore::in_database(enrolments.clone(), CHALLENGE_TTL, settings.max_sessions),
        ),
        _ => (
            SessionStore::new(settings.session_ttl, settings.max_sessions),
            ChallengeStore::new(CHALLENGE_TTL, settings.max_sessions),
        ),
    };
    let state = Arc::new(EngineState {
        api_keys: settings.api_keys,
        lockout: guard::KeyLockout::new(settings.lockout),
        trusted_proxies: settings.trusted_proxies,
        uploads: guard::UploadTurns::new(settings.uploads),
        max_file_bytes: settings.max_file_bytes,
        selfie_attempts: settings.selfie_attempts.max(1),
        sessions: Arc::new(sessions),
        challenges: Arc::new(challenges),
        script: settings.script.map(ScriptPlayer::new),
        counts,
        ocr: settings.ocr,
        faces: settings.faces,
        matcher: settings.matcher,
        match_distance: settings.match_distance,
        mesh: settings.mesh,
        parallax: settings.parallax,
        company_ids: settings.company_ids,
        enrolments: settings.enrolments,
        reveal_not_enrolled: settings.reveal_not_enrolled,
        base_url,
        csca: settings.csca,
        metrics: metrics::Metrics::default(),
        draining,
    });
    Router::new()
        .route("/session/init", post(sessions::session_init))
        .route("/ocr", post(ocr::ocr))
        .route("/face/liveness", post(face::face_liveness))
        .route("/api/v3/ekyc", post(sessions::krypton_session))
        .route("/chip/verify", post(chip::chip_verify))
        .route("/liveness/challenge", post(challenge::liveness_challenge))
        .route("/health", axum::routing::get(health))
        .route("/healthz", axum::routing::get(health))
        .route("/readyz", axum::routing::get(ready))
        .route("/metrics", axum::routing::get(metrics_text))
        .fallback(|| async {
            reply(
                Shape::Code,
                StatusCode::NOT_FOUND,
                Code::NotFound,
                "no such endpoint",
            )
        })
        .method_not_allowed_fallback(|| async {
            reply(
                Shape::Code,
                StatusCode::METHOD_NOT_ALLOWED,
                Code::MethodNotAllowed,
                "use POST for this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn_with_state(state.clone(), guard::take_turns))
        .layer(from_fn_with_state(
            state.clone(),
            guard::lock_out_key_guessers,
        ))
        .layer(from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// Method, path, status and time: never headers (the API key) nor bodies (personal data);
/// counted and timed for `/metrics` too.
async fn log_request(
    State(state): State<Arc<EngineState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let took = started.elapsed();
    state.metrics.record(&path, status, took);
    let elapsed_ms = took.as_millis() as u64;
    // All in the message: the journal's short view shows only the message.
    tracing::info!("{method} {path} {status} {elapsed_ms} ms");
    response
}

/// `GET /metrics`: Prometheus's text format.
async fn metrics_text(State(state): State<Arc<EngineState>>) -> Response {
    let (busy, waiting) = state.uploads.load();
    let open = on_kept(&state.sessions, |sessions| sessions.open_count(), |why| why).await;
    // Never opens the database for a scrape: its pool as it is, once opened.
    let database = state
        .shared_enrolments()
        .and_then(|enrolments| enrolments.opened_shared_database())
        .map(|shared| shared.database.pool_use());
    // Without the database the count is left out, not made up (healthz says why).
    let text = state.metrics.render(&metrics::Gauges {
        uploads_in_progress: busy,
        uploads_waiting: waiting,
        sessions: open.ok(),
        database,
    });
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
}

/// How long `/healthz` waits for the database before it answers 503.
const HEALTH_WAIT: std::time::Duration = std::time::Duration::from_secs(4);

/// `GET /healthz`: 200 while the engine can serve; 503 when the database it keeps
/// enrolments in (PostgreSQL) cannot be reached or does not answer within
/// [`HEALTH_WAIT`]. The reason is for IT: the database's address, never a password.
async fn health(State(state): State<Arc<EngineState>>) -> Response {
    status_answer(database_state(&state).await, None)
}

/// `GET /readyz`: what a load balancer asks before it sends a kiosk here: `/healthz`'s
/// answer, and 503 too once the engine is draining (stopping soon), so that new requests
/// go to another replica while the ones here finish.
async fn ready(State(state): State<Arc<EngineState>>) -> Response {
    let draining = state.draining.load(std::sync::atomic::Ordering::SeqCst);
    status_answer(database_state(&state).await, draining.then_some("draining"))
}

/// `None` without a server database; else whether it answered within [`HEALTH_WAIT`].
async fn database_state(state: &EngineState) -> Option<Result<(), String>> {
    let enrolments = state.enrolments.clone().filter(|store| store.is_server())?;
    Some(
        on_database(
            HEALTH_WAIT,
            move || enrolments.check().map_err(|error| error.to_string()),
            |why| why,
        )
        .await,
    )
}

/// How long a request waits for the shared database before it is answered 503. A
/// server that is frozen (its machine still accepts the connection, nothing answers)
/// trips none of the connection's own limits; the blocking call is left to finish on its
/// thread (holding one of the pool's connections) while the request is answered.
const DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `work` on `kept` (the sessions or the challenges): at once when they are in this
/// engine's memory, as a call to the shared database ([`on_database`]) when they are there.
async fn on_kept<S: Send + Sync + 'static, T: Send + 'static, E: Send + 'static>(
    kept: &Arc<crate::kept::Kept<S>>,
    work: impl FnOnce(&crate::kept::Kept<S>) -> Result<T, E> + Send + 'static,
    unavailable: impl FnOnce(String) -> E,
) -> Result<T, E> {
    if !kept.is_shared() {
        return work(kept);
    }
    let kept = kept.clone();
    on_database(DATABASE_WAIT, move || work(&kept), unavailable).await
}

/// Runs `work`, a blocking call to the shared database, off the async threads, waiting
/// `most` for it; `unavailable` makes the error when it did not finish or took longer.
async fn on_database<T: Send + 'static, E: Send + 'static>(
    most: std::time::Duration,
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
    unavailable: impl FnOnce(String) -> E,
) -> Result<T, E> {
    match tokio::time::timeout(most, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(done)) => done,
        Ok(Err(_)) => Err(unavailable(
            "the database call stopped unexpectedly".to_owned(),
        )),
        Err(_) => Err(unavailable(format!(
            "the database did not answer within {} s",
            most.as_secs()
        ))),
    }
}

/// 200 `"status": "ok"`, or 503 with the status (`"unavailable"`, or `stopping`'s word)
/// and the database's state.
fn status_answer(database: Option<Result<(), String>>, stopping: Option<&str>) -> Response {
    let mut body = json!({
        "status": "ok",
        "engine": "ekyc-kiosk local engine",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let mut healthy = true;
    match database {
        Some(Err(why)) => {
            tracing::warn!("health: {why}");
            healthy = false;
            body["status"] = json!("unavailable");
            body["database"] = json!(why);
        }
        Some(Ok(())) => body["database"] = json!("ok"),
        None => {}
    }
    if let Some(word) = stopping {
        healthy = false;
        body["status"] = json!(word);
    }
    if healthy {
        Json(body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// A code-and-message answer.
fn reply(shape: Shape, status: StatusCode, code: Code, message: &str) -> Response {
    (
        status,
        Json(StatusReply::new(shape, code, message).to_json()),
    )
        .into_response()
}

/// The answer a handler's steps came to, refusals included.
fn answer(steps: Result<Response, Refusal>) -> Response {
    steps.unwrap_or_else(|refusal| refusal)
}

fn header<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|name| headers.get(*name))
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn lang_of(headers: &HeaderMap) -> Lang {
    header(headers, &["lang"])
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// Compares in constant time (`subtle`), and the SHA-256 digests rather than the secrets,
/// so that neither how much of a guessed key was right nor the key's length shows in the
/// time taken.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    use sha2::Digest;
    use subtle::ConstantTimeEq;
    let given = sha2::Sha256::digest(given);
    let expected = sha2::Sha256::digest(expected);
    given.as_slice().ct_eq(expected.as_slice()).into()
}

/// errorCode "403": unknown, expired, or bound to another device type.
fn session_refused(shape: Shape, lang: Lang) -> Refusal {
    reply(
        shape,
        StatusCode::FORBIDDEN,
        Code::SessionExpired,
        &lang.say(
            "The session has expired or is not valid",
            "Phiên làm việc đã hết hạn",
        ),
    )
}

fn bad_request(shape: Shape, lang: Lang, english: &str, vietnamese: &str) -> Refusal {
    reply(
        shape,
        StatusCode::BAD_REQUEST,
        Code::BadRequest,
        &lang.say(english, vietnamese),
    )
}

/// Runs `work` off the async threads. A panic there is logged (the step's name only:
/// never a payload, which may hold a customer's data) and answered with a 500.
async fn run_blocking<T: Send + 'static>(
    shape: Shape,
    step: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(
            step,
            panicked = error.is_panic(),
            "engine step did not finish"
        );
        reply(
            shape,
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::Internal,
            &format!("internal error while {step}"),
        )
    })
}

impl EngineState {
    /// Records the request and plays the script's next step for it, if any.
    async fn scripted(&self, endpoint: ScriptedEndpoint) -> Option<Response> {
        self.counts.record(endpoint);
        let step = self.script.as_ref()?.next(endpoint)?;
        Some(play(step).await)
    }

    /// The API key check. Both spellings of the header are accepted (`api-key`, `api_key`).
    fn check_api_key(&self, headers: &HeaderMap, shape: Shape, lang: Lang) -> Result<(), Refusal> {
        let given = header(headers, &["api-key", "api_key"]).unwrap_or_default();
        if self
            .api_keys
            .iter()
            .any(|key| same_secret(given.as_bytes(), key.expose().as_bytes()))
        {
            return Ok(());
        }
        Err(reply(
            shape,
            StatusCode::UNAUTHORIZED,
            Code::Unauthorized,
            &lang.say("Missing or invalid API key", "Thiếu hoặc sai khoá API"),
        ))
    }

    /// The `device-type` header, which every FPT.AI call needs.
    fn device_type<'a>(
        &self,
        headers: &'a HeaderMap,
        shape: Shape,
        lang: Lang,
    ) -> Result<&'a str, Refusal> {
        header(headers, &["device-type", "device_type"]).ok_or_else(|| {
            bad_request(
                shape,
                lang,
                "The device-type header is required",
                "Thiếu header device-type",
            )
        })
    }

    /// What `/ocr` and `/face/liveness` check first, in order: the script, the API key,
    /// the session named by `session-id` for the request's `device-type`, whose state as
    /// found is kept for the handler's checks (one visit: with PostgreSQL each visit is a
    /// transaction).
    async fn admit(
        &self,
        endpoint: ScriptedEndpoint,
        headers: &HeaderMap,
        shape: Shape,
    ) -> Result<Admitted, Refusal> {
        if let Some(response) = self.scripted(endpoint).await {
            return Err(response);
        }
        let lang = lang_of(headers);
        self.check_api_key(headers, shape, lang)?;
        let session_id = header(headers, &["session-id", "session_id"])
            .ok_or_else(|| session_problem(SessionProblem::Unknown, shape, lang))?;
        let device_type = self.device_type(headers, shape, lang)?;
        let seen = self
            .session(session_id, device_type, |session| Seen {
                journey: session.journey,
                only_engine: session.only_engine,
                front_read: session.front_read,
                document_read: session.document_read,
                selfie_attempts: session.selfie_attempts,
            })
            .await
            .map_err(|problem| session_problem(problem, shape, lang))?;
        Ok(Admitted {
            lang,
            shape,
            session_id: session_id.to_owned(),
            device_type: device_type.to_owned(),
            seen,
        })
    }

    /// Runs `visit` on the admitted request's session; an expired one is refused.
    async fn visit<T: Send + 'static>(
        &self,
        admitted: &Admitted,
        visit: impl FnOnce(&mut EngineSession) -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        self.session(&admitted.session_id, &admitted.device_type, visit)
            .await
            .map_err(|problem| session_problem(problem, admitted.shape, admitted.lang))
    }

    /// Runs `visit` on the session `id` for `device_type`: at once in memory, off the
    /// async threads when the session is a row of the shared database.
    async fn session<T: Send + 'static>(
        &self,
        id: &str,
        device_type: &str,
        visit: impl FnOnce(&mut EngineSession) -> T + Send + 'static,
    ) -> Result<T, SessionProblem> {
        let (id, device_type) = (id.to_owned(), device_type.to_owned());
        on_kept(
            &self.sessions,
            move |sessions| sessions.with_session(&id, &device_type, visit),
            SessionProblem::Unavailable,
        )
        .await
    }

    /// Opens a session as `open` does on the store: at once in memory, off the async
    /// threads when shared; refused as the contract says when it cannot.
    async fn open_session(
        &self,
        lang: Lang,
        open: impl FnOnce(&SessionStore) -> Result<String, OpenProblem> + Send + 'static,
    ) -> Result<String, Refusal> {
        let opened = on_kept(&self.sessions, open, OpenProblem::Unavailable).await;
        opened.map_err(|problem| match problem {
            OpenProblem::Full => reply(
                Shape::Code,
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Busy,
                &lang.say(
                    "Too many open sessions; try again shortly",
                    "Quá nhiều phiên đang mở; vui lòng thử lại sau",
                ),
            ),
            OpenProblem::Unavailable(why) => sessions_unavailable(&why, Shape::Code, lang),
        })
    }

    /// Takes the challenge `id` (answered once): at once in memory, off the async threads
    /// when shared; 503 when the shared database cannot be reached.
    async fn take_challenge(
        &self,
        id: String,
        shape: Shape,
        lang: Lang,
    ) -> Result<Option<super::challenges::Issued>, Refusal> {
        let taken = on_kept(
            &self.challenges,
            move |challenges| challenges.take(&id),
            |why| why,
        )
        .await;
        taken.map_err(|why| sessions_unavailable(&why, shape, lang))
    }
}

/// A session that cannot be used, answered as the contract says: code 403 for one that
/// is unknown, expired or another device's; 503 when the shared database is away.
fn session_problem(problem: SessionProblem, shape: Shape, lang: Lang) -> Refusal {
    match problem {
        SessionProblem::Unavailable(why) => sessions_unavailable(&why, shape, lang),
        problem => {
            tracing::info!(?problem, "session refused");
            session_refused(shape, lang)
        }
    }
}

/// 503: the database the replicas keep their sessions in cannot be reached (the reason
/// is for IT: the database's address and message, never a value).
fn sessions_unavailable(why: &str, shape: Shape, lang: Lang) -> Refusal {
    tracing::warn!("sessions unavailable: {why}");
    reply(
        shape,
        StatusCode::SERVICE_UNAVAILABLE,
        Code::Busy,
        &lang.say(
            &format!("Sessions are unavailable on this engine: {why}"),
            &format!("Máy chủ tạm thời không mở được phiên làm việc: {why}"),
        ),
    )
}

impl EngineState {
    /// The enrolments, when they are the database the replicas share (where sessions,
    /// challenges and wrong keys are kept too).
    fn shared_enrolments(&self) -> Option<Arc<super::Enrolments>> {
        self.enrolments
            .clone()
            .filter(|enrolments| enrolments.is_server())
    }

    /// Krypton's `companyId` against the configured ones, compared in constant time.
    fn check_company_id(
        &self,
        request: &ekyc_contract::KryptonRequest,
        lang: Lang,
    ) -> Result<(), Refusal> {
        let given = request.company_id.expose().trim().as_bytes();
        if self
            .company_ids
            .iter()
            .any(|id| same_secret(given, id.expose().as_bytes()))
        {
            return Ok(());
        }
        tracing::info!("Krypton session refused: unknown companyId");
        Err(reply(
            Shape::Code,
            StatusCode::UNAUTHORIZED,
            Code::Unauthorized,
            &lang.say("Unknown companyId", "companyId không hợp lệ"),
        ))
    }

    /// The enrolment store, opened on first use; refused with code 503 (and the reason,
    /// for IT: paths, never a customer) when there is none or it cannot be opened. Only
    /// Krypton sessions and `/face/liveness` need it, both in the `code` shape.
    async fn enrolment_store(&self, lang: Lang) -> Result<Arc<dyn EnrolmentStore>, Refusal> {
        let Some(enrolments) = self.enrolments.clone() else {
            return Err(enrolments_unavailable(
                "this engine has no enrolment store configured",
                lang,
            ));
        };
        let opened = self
            .enrolment_call(Shape::Code, "opening the enrolments", lang, move || {
                enrolments.store()
            })
            .await?;
        opened.map_err(|error| {
            tracing::error!("{error}");
            enrolments_unavailable(&error.to_string(), lang)
        })
    }

    /// Runs `work`, a blocking call to the enrolment store, off the async threads: when
    /// the store is the shared database, waiting [`DATABASE_WAIT`] at most (then 503,
    /// "Enrolment is unavailable", as when the database is away).
    async fn enrolment_call<T: Send + 'static>(
        &self,
        shape: Shape,
        step: &'static str,
        lang: Lang,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        if self.shared_enrolments().is_none() {
            return run_blocking(shape, step, work).await;
        }
        on_database(DATABASE_WAIT, move || Ok(work()), |why: String| why)
            .await
            .map_err(|why| {
                tracing::warn!("{step}: {why}");
                enrolments_unavailable(&why, lang)
            })
    }
}

/// Code 503: enrolment and authentication cannot work on this engine now.
fn enrolments_unavailable(why: &str, lang: Lang) -> Refusal {
    reply(
        Shape::Code,
        StatusCode::SERVICE_UNAVAILABLE,
        Code::Busy,
        &lang.say(
            &format!("Enrolment is unavailable on this engine: {why}"),
            &format!("Không thể đăng ký/xác thực trên máy chủ này: {why}"),
        ),
    )
}

/// Code 412 (HTTP 403): an AUTH for a customer who has no enrolment (never enrolled,
/// deleted, or past the retention limit).
fn not_enrolled(lang: Lang) -> Refusal {
    reply(
        Shape::Code,
        StatusCode::FORBIDDEN,
        Code::NotEnrolled,
        &lang.say(
            "This customer is not enrolled",
            "Khách hàng này chưa đăng ký khuôn mặt",
        ),
    )
}

/// A request that passed [`EngineState::admit`].
struct Admitted {
    lang: Lang,
    shape: Shape,
    session_id: String,
    device_type: String,
    /// The session as admission found it.
    seen: Seen,
}

/// What a request's checks read of its session, as found when it was admitted. What
/// changes the session (a side read, a selfie counted) visits it again, under its lock.
#[derive(Debug, Clone, Copy)]
struct Seen {
    journey: Option<crate::sessions::Journey>,
    only_engine: bool,
    front_read: bool,
    document_read: bool,
    selfie_attempts: u32,
}

/// An uploaded file, before decoding.
struct Upload {
    bytes: axum::body::Bytes,
}

/// Reads the multipart body: only `field_name` parts, at most `most` of them, each within
/// the size limit and not empty.
async fn read_uploads(
    multipart: Result<Multipart, MultipartRejection>,
    field_name: &str,
    most: usize,
    max_file_bytes: u64,
    admitted: &Admitted,
) -> Result<Vec<Upload>, Refusal> {
    let (shape, lang) = (admitted.shape, admitted.lang);
    let not_multipart = |detail: String| {
        bad_request(
            shape,
            lang,
            &format!("The body must be multipart/form-data with `{field_name}` parts ({detail})"),
            &format!("Nội dung phải là multipart/form-data với trường `{field_name}` ({detail})"),
        )
    };
    let too_large = || {
        reply(
            shape,
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::TooLarge,
            &lang.say(
                &format!("A file is larger than {} MB", max_file_bytes / 1_048_576),
                &format!("Tệp lớn hơn {} MB", max_file_bytes / 1_048_576),
            ),
        )
    };
    let mut multipart = multipart.map_err(|rejection| not_multipart(rejection.body_text()))?;
    let mut uploads = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large())
            }
            Err(error) => return Err(not_multipart(error.body_text())),
        };
        if field.name() != Some(field_name) {
            let name = field.name().unwrap_or("(unnamed)").to_owned();
            return Err(not_multipart(format!("unexpected part `{name}`")));
        }
        if uploads.len() == most {
            return Err(not_multipart(format!(
                "at most {most} file(s) in this call"
            )));
        }
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if (bytes.len() + chunk.len()) as u64 > max_file_bytes {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(too_large())
                }
                Err(error) => return Err(not_multipart(error.body_text())),
            }
        }
        if bytes.is_empty() {
            return Err(not_multipart("an empty file".into()));
        }
        uploads.push(Upload {
            bytes: bytes.into(),
        });
    }
    if uploads.is_empty() {
        return Err(not_multipart(format!("no `{field_name}` part")));
    }
    Ok(uploads)
}

/// Decodes the uploads off the async threads; the error names the file (1-based).
async fn decode_uploads(
    uploads: Vec<Upload>,
    admitted: &Admitted,
) -> Result<Vec<DynamicImage>, Refusal> {
    let decoded = run_blocking(admitted.shape, "decoding", move || {
        uploads
            .iter()
            .enumerate()
            .map(|(index, upload)| decode_upright(&upload.bytes).map_err(|_| index + 1))
            .collect::<Result<Vec<_>, usize>>()
    })
    .await?;
    decoded.map_err(|number| {
        bad_request(
            admitted.shape,
            admitted.lang,
            &format!("File {number} is not a readable image"),
            &format!("Tệp thứ {number} không phải là ảnh đọc được"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_that_panics_is_a_500_naming_the_step_and_nothing_of_the_panic() {
        let refusal = run_blocking(Shape::ErrorCode, "reading", || -> u8 {
            panic!("079203004512 PHAM THI HONG NHUNG")
        })
        .await
        .unwrap_err();
        assert_eq!(refusal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(refusal.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"errorCode": "500", "errorMessage": "internal error while reading"})
        );
    }
}
