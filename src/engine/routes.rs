//! The engine's HTTP endpoints. Every answer is JSON in the contract's shape: `/ocr` uses
//! `errorCode`/`errorMessage`, the others `code`/`message`.

// A check that fails hands back the finished answer; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use image::DynamicImage;
use serde_json::{json, Value};

use super::reading::{read_document, read_document_and_portrait, CardReading};
use super::script::{play, ScriptPlayer, ScriptedEndpoint};
use super::sessions::{CardFace, SessionProblem, SessionStore};
use super::tesseract::Tesseract;
use super::{EngineSettings, RequestCounts};
use crate::api::krypton::KryptonRequest;
use crate::api::prepare::decode_upright;
use crate::api::{DocumentType, Lang, Secret, Side};
use crate::face::{similarity, Embedding, FaceDetector, FaceMatcher};

struct EngineState {
    api_keys: Vec<Secret>,
    max_file_bytes: u64,
    selfie_attempts: u32,
    sessions: SessionStore,
    script: Option<ScriptPlayer>,
    counts: Arc<RequestCounts>,
    ocr: Option<Tesseract>,
    faces: Option<Arc<FaceDetector>>,
    matcher: Option<Arc<FaceMatcher>>,
    match_distance: f32,
}

pub(super) fn router(settings: EngineSettings, counts: Arc<RequestCounts>) -> Router {
    // Two card sides plus the multipart framing.
    let body_limit = usize::try_from(settings.max_file_bytes.saturating_mul(2))
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let state = Arc::new(EngineState {
        api_keys: settings.api_keys,
        max_file_bytes: settings.max_file_bytes,
        selfie_attempts: settings.selfie_attempts.max(1),
        sessions: SessionStore::new(settings.session_ttl, settings.max_sessions),
        script: settings.script.map(ScriptPlayer::new),
        counts,
        ocr: settings.ocr,
        faces: settings.faces,
        matcher: settings.matcher,
        match_distance: settings.match_distance,
    });
    Router::new()
        .route("/session/init", post(session_init))
        .route("/ocr", post(ocr))
        .route("/face/liveness", post(face_liveness))
        .route("/api/v3/ekyc", post(krypton_session))
        .route("/health", axum::routing::get(health))
        .fallback(|| async {
            reply(
                Style::Code,
                StatusCode::NOT_FOUND,
                "404",
                "no such endpoint",
            )
        })
        .method_not_allowed_fallback(|| async {
            reply(
                Style::Code,
                StatusCode::METHOD_NOT_ALLOWED,
                "405",
                "use POST for this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Method, path, status and time: never headers (the API key) nor bodies (personal data).
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    // All in the message: the journal's short view shows only the message.
    tracing::info!("{method} {path} {status} {elapsed_ms} ms");
    response
}

async fn health() -> Json<Value> {
    Json(
        json!({"status": "ok", "engine": "ekyc-kiosk local engine", "version": env!("CARGO_PKG_VERSION")}),
    )
}

/// Which of the contract's two error shapes an endpoint uses.
#[derive(Clone, Copy)]
enum Style {
    /// `{"code": …, "message": …}`.
    Code,
    /// `{"errorCode": …, "errorMessage": …}`.
    ErrorCode,
}

fn reply(style: Style, status: StatusCode, code: &str, message: &str) -> Response {
    let body = match style {
        Style::Code => json!({"code": code, "message": message}),
        Style::ErrorCode => json!({"errorCode": code, "errorMessage": message}),
    };
    (status, Json(body)).into_response()
}

/// A message in the language asked for.
fn say(lang: Lang, english: &str, vietnamese: &str) -> String {
    match lang {
        Lang::En => english.to_owned(),
        Lang::Vi => vietnamese.to_owned(),
    }
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

/// Compares without stopping at the first differing byte, so timing does not reveal how
/// much of a guessed key was right.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

impl EngineState {
    /// Records the request and plays the script's next step for it, if any.
    async fn scripted(&self, endpoint: ScriptedEndpoint) -> Option<Response> {
        self.counts.record(endpoint);
        let step = self.script.as_ref()?.next(endpoint)?;
        Some(play(step).await)
    }

    /// The API key check. Both spellings of the header are accepted (`api-key`, `api_key`).
    fn check_api_key(&self, headers: &HeaderMap, style: Style, lang: Lang) -> Result<(), Response> {
        let given = header(headers, &["api-key", "api_key"]).unwrap_or_default();
        if self
            .api_keys
            .iter()
            .any(|key| same_secret(given.as_bytes(), key.expose().as_bytes()))
        {
            return Ok(());
        }
        Err(reply(
            style,
            StatusCode::UNAUTHORIZED,
            "401",
            &say(
                lang,
                "Missing or invalid API key",
                "Thiếu hoặc sai khoá API",
            ),
        ))
    }

    /// What `/ocr` and `/face/liveness` check first, in order: the script, the API key,
    /// the session named by `session-id` for the request's `device-type`. `Err` is the
    /// answer to send instead.
    async fn admit(
        &self,
        endpoint: ScriptedEndpoint,
        headers: &HeaderMap,
        style: Style,
    ) -> Result<Admitted, Response> {
        if let Some(response) = self.scripted(endpoint).await {
            return Err(response);
        }
        let lang = lang_of(headers);
        self.check_api_key(headers, style, lang)?;
        let expired = |problem: SessionProblem| {
            tracing::info!(?problem, "session refused");
            session_refused(style, lang)
        };
        let session_id = header(headers, &["session-id", "session_id"])
            .ok_or_else(|| expired(SessionProblem::Unknown))?;
        let device_type = header(headers, &["device-type", "device_type"]).ok_or_else(|| {
            bad_request(
                style,
                lang,
                "The device-type header is required",
                "Thiếu header device-type",
            )
        })?;
        self.sessions
            .with_session(session_id, device_type, |_| ())
            .map_err(expired)?;
        Ok(Admitted {
            lang,
            session_id: session_id.to_owned(),
            device_type: device_type.to_owned(),
        })
    }
}

/// A request that passed [`EngineState::admit`].
struct Admitted {
    lang: Lang,
    session_id: String,
    device_type: String,
}

/// errorCode "403": unknown, expired, or bound to another device type.
fn session_refused(style: Style, lang: Lang) -> Response {
    reply(
        style,
        StatusCode::FORBIDDEN,
        "403",
        &say(
            lang,
            "The session has expired or is not valid",
            "Phiên làm việc đã hết hạn",
        ),
    )
}

fn bad_request(style: Style, lang: Lang, english: &str, vietnamese: &str) -> Response {
    reply(
        style,
        StatusCode::BAD_REQUEST,
        "400",
        &say(lang, english, vietnamese),
    )
}

async fn session_init(State(state): State<Arc<EngineState>>, headers: HeaderMap) -> Response {
    if let Some(response) = state.scripted(ScriptedEndpoint::SessionInit).await {
        return response;
    }
    let lang = lang_of(&headers);
    if let Err(response) = state.check_api_key(&headers, Style::Code, lang) {
        return response;
    }
    let Some(device_type) = header(&headers, &["device-type", "device_type"]) else {
        return bad_request(
            Style::Code,
            lang,
            "The device-type header is required",
            "Thiếu header device-type",
        );
    };
    let only_engine = header(&headers, &["only-engine", "only_engine"]) == Some("1");
    match state.sessions.create(device_type, only_engine) {
        Some(session_id) => {
            Json(json!({"code": "200", "message": "success", "session-id": session_id}))
                .into_response()
        }
        None => reply(
            Style::Code,
            StatusCode::SERVICE_UNAVAILABLE,
            "503",
            &say(
                lang,
                "Too many open sessions; try again shortly",
                "Quá nhiều phiên đang mở; vui lòng thử lại sau",
            ),
        ),
    }
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
    style: Style,
    lang: Lang,
) -> Result<Vec<Upload>, Response> {
    let not_multipart = |detail: String| {
        reply(
            style,
            StatusCode::BAD_REQUEST,
            "400",
            &say(
                lang,
                &format!(
                    "The body must be multipart/form-data with `{field_name}` parts ({detail})"
                ),
                &format!(
                    "Nội dung phải là multipart/form-data với trường `{field_name}` ({detail})"
                ),
            ),
        )
    };
    let too_large = || {
        reply(
            style,
            StatusCode::PAYLOAD_TOO_LARGE,
            "413",
            &say(
                lang,
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
    style: Style,
    lang: Lang,
) -> Result<Vec<DynamicImage>, Response> {
    let decoded = tokio::task::spawn_blocking(move || {
        uploads
            .iter()
            .enumerate()
            .map(|(index, upload)| decode_upright(&upload.bytes).map_err(|_| index + 1))
            .collect::<Result<Vec<_>, usize>>()
    })
    .await;
    match decoded {
        Ok(Ok(images)) => Ok(images),
        Ok(Err(number)) => Err(bad_request(
            style,
            lang,
            &format!("File {number} is not a readable image"),
            &format!("Tệp thứ {number} không phải là ảnh đọc được"),
        )),
        Err(_) => Err(reply(
            style,
            StatusCode::INTERNAL_SERVER_ERROR,
            "500",
            "internal error while decoding",
        )),
    }
}

async fn ocr(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let style = Style::ErrorCode;
    let Admitted {
        lang,
        session_id,
        device_type,
    } = match state.admit(ScriptedEndpoint::Ocr, &headers, style).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Some(document) =
        header(&headers, &["document-type", "document_type"]).and_then(DocumentType::parse)
    else {
        return bad_request(
            style,
            lang,
            "The document-type header must be idr, passport or dlr",
            "Header document-type phải là idr, passport hoặc dlr",
        );
    };
    let side = match header(&headers, &["side-type", "side_type"]) {
        None => None,
        Some(text) => match Side::parse(text) {
            Some(side) => Some(side),
            None => {
                return bad_request(
                    style,
                    lang,
                    "The side-type header must be front or back",
                    "Header side-type phải là front hoặc back",
                )
            }
        },
    };
    if side == Some(Side::Back) {
        if !document.has_back() {
            return bad_request(
                style,
                lang,
                "A passport has no back side",
                "Hộ chiếu không có mặt sau",
            );
        }
        let front_read = state
            .sessions
            .with_session(&session_id, &device_type, |session| session.front_read);
        if front_read != Ok(true) {
            return bad_request(
                style,
                lang,
                "Send the front side before the back side",
                "Cần gửi mặt trước trước mặt sau",
            );
        }
    }
    let most = if side.is_some() || !document.has_back() {
        1
    } else {
        2
    };
    let uploads =
        match read_uploads(multipart, "files", most, state.max_file_bytes, style, lang).await {
            Ok(uploads) => uploads,
            Err(response) => return response,
        };
    let images = match decode_uploads(uploads, style, lang).await {
        Ok(images) => images,
        Err(response) => return response,
    };
    let ocr = state.ocr.clone();
    // The front (the first image unless only the back was sent) carries the photo the
    // selfie is matched against.
    let has_front = side != Some(Side::Back);
    let detector = state.faces.clone();
    let matcher = state.matcher.clone();
    let read = tokio::task::spawn_blocking(move || {
        if !has_front {
            return (read_document(document, &images, ocr.as_ref()), None);
        }
        let (reading, portrait) =
            read_document_and_portrait(document, &images, ocr.as_ref(), detector.as_deref());
        let card_face = match (&matcher, &portrait, images.first()) {
            _ if reading.fields.is_empty() => None,
            (Some(matcher), Some(face), Some(front)) => Some(CardFace::Found(Box::new(
                matcher.embed_face(&front.to_rgb8(), face),
            ))),
            (Some(_), None, _) if detector.is_some() => Some(CardFace::NoFace),
            _ => None,
        };
        (reading, card_face)
    });
    let (reading, card_face) = match read.await {
        Ok(reading) => reading,
        Err(_) => {
            return reply(
                style,
                StatusCode::INTERNAL_SERVER_ERROR,
                "500",
                "internal error while reading",
            )
        }
    };
    let CardReading { fields, warning } = reading;
    if fields.is_empty() {
        return reply(
            style,
            StatusCode::OK,
            "3",
            &say(
                lang,
                "The selected document was not found in the image",
                "Không tìm thấy tài liệu đã chọn trong ảnh",
            ),
        );
    }
    let recorded = state
        .sessions
        .with_session(&session_id, &device_type, |session| {
            session.document_read = true;
            if side == Some(Side::Front) {
                session.front_read = true;
            }
            if let Some(card_face) = card_face {
                session.card_face = card_face;
            }
        });
    if recorded.is_err() {
        // The session expired while the images were being read.
        return session_refused(style, lang);
    }
    let data: Vec<Value> = fields
        .iter()
        .map(|field| {
            json!({
                "key": field.key,
                "name": field.label,
                "value": field.value,
                "score": field.score.map(|score| format!("{score:.2}")).unwrap_or_else(|| "N/A".into()),
                "locale": "vn",
                // Beyond the contract (clients ignore it): where the value came from.
                "source": field.source.as_str(),
            })
        })
        .collect();
    let mut body = json!({"errorCode": "0", "errorMessage": "", "data": data, "total_data": []});
    if let Some(warning) = warning {
        body["warning"] = Value::String(warning);
    }
    Json(body).into_response()
}

async fn face_liveness(
    State(state): State<Arc<EngineState>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let style = Style::Code;
    let Admitted {
        lang,
        session_id,
        device_type,
    } = match state
        .admit(ScriptedEndpoint::FaceLiveness, &headers, style)
        .await
    {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    if header(&headers, &["auto"]).is_none() {
        return bad_request(
            style,
            lang,
            "The auto header is required (False outside the vendor's SDK)",
            "Thiếu header auto",
        );
    }
    let readiness = state
        .sessions
        .with_session(&session_id, &device_type, |session| {
            (
                session.only_engine,
                session.document_read,
                session.selfie_attempts,
            )
        });
    match readiness {
        Ok((true, _, _)) => {
            return bad_request(
                style,
                lang,
                "This session was opened for OCR only (only-engine)",
                "Phiên này chỉ dùng cho OCR (only-engine)",
            )
        }
        Ok((_, false, _)) => {
            return bad_request(
                style,
                lang,
                "Read the document (/ocr) in this session first",
                "Cần đọc giấy tờ (/ocr) trong phiên này trước",
            )
        }
        Ok((_, _, attempts)) if attempts >= state.selfie_attempts => {
            return bad_request(
                style,
                lang,
                "This session is complete; start a new one from the document",
                "Phiên đã hoàn tất; hãy bắt đầu lại từ giấy tờ",
            )
        }
        Ok(_) => {}
        Err(_) => return session_refused(style, lang),
    }
    let uploads =
        match read_uploads(multipart, "selfies", 1, state.max_file_bytes, style, lang).await {
            Ok(uploads) => uploads,
            Err(response) => return response,
        };
    let selfie = match decode_uploads(uploads, style, lang).await {
        Ok(mut images) => Arc::new(images.swap_remove(0).to_rgb8()),
        Err(response) => return response,
    };
    let faces = match &state.faces {
        Some(detector) => {
            let detector = detector.clone();
            let picture = selfie.clone();
            let found =
                tokio::task::spawn_blocking(move || detector.detect_thorough(&picture)).await;
            match found {
                Ok(Ok(faces)) => Some(faces),
                Ok(Err(error)) => {
                    tracing::error!("{error}");
                    return reply(
                        style,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "500",
                        "face detection failed",
                    );
                }
                Err(_) => {
                    return reply(
                        style,
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "500",
                        "internal error while looking for faces",
                    );
                }
            }
        }
        None => None,
    };
    if faces.as_ref().is_some_and(Vec::is_empty) {
        // Not an attempt: the picture cannot be judged at all, so the customer retakes it.
        return no_face(lang);
    }
    // One visit to the session: count the attempt and take what the selfie is matched with.
    let visit = state
        .sessions
        .with_session(&session_id, &device_type, |session| {
            if matches!(session.card_face, CardFace::NoFace) {
                // Nothing to match the selfie with: the session ends, the card goes again.
                session.selfie_attempts = state.selfie_attempts;
                session.card_face = CardFace::NotChecked;
                return None;
            }
            session.selfie_attempts += 1;
            let card_face = if session.selfie_attempts >= state.selfie_attempts {
                // Complete: the session no longer keeps the card's face.
                std::mem::take(&mut session.card_face)
            } else {
                session.card_face.clone()
            };
            Some((card_face, session.selfie_attempts))
        });
    let (card_face, attempts) = match visit {
        Ok(Some(visit)) => visit,
        Ok(None) => return no_face_on_card(lang),
        Err(_) => (CardFace::NotChecked, state.selfie_attempts),
    };
    let complete = attempts >= state.selfie_attempts;
    let not_evaluated = |warning: &str| {
        json!({
            "code": "200",
            "message": "liveness not evaluated",
            "is_live": "N/A", "spoof_prob": "N/A", "need_to_review": "N/A",
            "is_deepfake": "N/A", "deepfake_prob": "N/A",
            "warning": warning,
        })
    };
    let liveness = not_evaluated("The local engine does not evaluate liveness");
    if let Some(count) = faces.as_ref().map(Vec::len).filter(|count| *count >= 2) {
        // The contract's sample for two faces, with liveness honestly not evaluated.
        let message = format!("{count} faces exist");
        return Json(json!({
            "code": "407",
            "message": message,
            "liveness": liveness,
            "face_match": {
                "code": "407", "message": message,
                "isMatch": "N/A", "similarity": "N/A", "warning": "N/A",
            },
            "is_complete_session": complete,
        }))
        .into_response();
    }
    let unavailable = match (
        &state.matcher,
        faces.as_ref().and_then(|faces| faces.first()),
        card_face,
    ) {
        (Some(matcher), Some(face), CardFace::Found(card)) => {
            let matcher = matcher.clone();
            let face = face.clone();
            let selfie =
                tokio::task::spawn_blocking(move || matcher.embed_face(&selfie, &face)).await;
            let Ok(selfie) = selfie else {
                return reply(
                    style,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "500",
                    "internal error while matching faces",
                );
            };
            return face_match_answer(
                &selfie,
                &card,
                state.match_distance,
                liveness,
                complete,
                lang,
            );
        }
        (None, _, _) => NO_MATCH_MODELS,
        (Some(_), None, _) => NO_FACE_DETECTOR,
        (Some(_), Some(_), _) => NO_CARD_PHOTO,
    };
    // Face match could not be evaluated: every result is "N/A", never a made-up number.
    Json(json!({
        "code": "200",
        "message": say(lang, "Selfie received; liveness and face match were not evaluated", "Đã nhận ảnh chân dung; chưa đánh giá thực thể sống và so khớp khuôn mặt"),
        "liveness": liveness,
        "face_match": {
            "code": "200",
            "message": "face match not evaluated",
            "isMatch": "N/A", "similarity": "N/A",
            "warning": unavailable,
        },
        "is_complete_session": complete,
    }))
    .into_response()
}

/// Why face match answered "N/A" (its `warning`).
const NO_MATCH_MODELS: &str =
    "Face match unavailable: the face-match models are not installed on this engine (./fetch-models)";
const NO_FACE_DETECTOR: &str = "Face match unavailable: the selfie was not checked for faces \
    (the face detector model is not installed on this engine; ./fetch-models)";
const NO_CARD_PHOTO: &str =
    "Face match unavailable: the document's photo was not read in this session";

/// The match itself, in the contract's shapes: code "200" with `isMatch` "true", or code
/// "303" with `isMatch` "false" (the contract's sample), `similarity` as a percentage
/// ([`similarity`]). `distance` is beyond the contract (clients ignore it).
fn face_match_answer(
    selfie: &Embedding,
    card: &Embedding,
    threshold: f32,
    liveness: Value,
    complete: bool,
    lang: Lang,
) -> Response {
    let distance = selfie.distance(card);
    let matched = distance < threshold;
    let score = format!("{:.2}", similarity(distance, threshold));
    // For the operations log: the verdict only, never the numbers of a face.
    tracing::info!(matched, "face match evaluated");
    let (code, message, match_message) = if matched {
        (
            "200",
            say(
                lang,
                "Face matched; liveness was not evaluated",
                "Khuôn mặt khớp với giấy tờ; chưa đánh giá thực thể sống",
            ),
            "face matching successful",
        )
    } else {
        (
            "303",
            say(
                lang,
                "The face does not match the document",
                "Khuôn mặt không khớp với giấy tờ",
            ),
            "face is not matching with document",
        )
    };
    Json(json!({
        "code": code,
        "message": message,
        "liveness": liveness,
        "face_match": {
            "code": code,
            "message": match_message,
            "isMatch": if matched { "true" } else { "false" },
            "similarity": score,
            "distance": format!("{distance:.3}"),
            "warning": "N/A",
        },
        "is_complete_session": complete,
    }))
    .into_response()
}

/// No face on the card's photo: nothing to match with, so the session is complete and the
/// customer starts again from the card.
fn no_face_on_card(lang: Lang) -> Response {
    let message = say(
        lang,
        "No face was found on the document's photo; capture the front of the document again",
        "Không tìm thấy khuôn mặt trên ảnh của giấy tờ; hãy chụp lại mặt trước giấy tờ",
    );
    face_refused(&message, "no face found on the document", true)
}

/// No face in the selfie: the customer takes it again (the attempt is not counted).
fn no_face(lang: Lang) -> Response {
    let message = say(
        lang,
        "No face was found in the selfie; take it again, looking at the camera",
        "Không tìm thấy khuôn mặt trong ảnh chân dung; hãy chụp lại, nhìn vào camera",
    );
    face_refused(&message, "no face found", false)
}

/// A selfie refused before any match: HTTP 400 with code "400" (the contract has no code
/// for it), a message in the session's language, in the shape of the contract's face
/// answers.
fn face_refused(message: &str, match_message: &str, complete: bool) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({
            "code": "400",
            "message": message,
            "face_match": {
                "code": "400", "message": match_message,
                "isMatch": "N/A", "similarity": "N/A", "warning": "N/A",
            },
            "is_complete_session": complete,
        })),
    )
        .into_response()
}

async fn krypton_session(
    State(state): State<Arc<EngineState>>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Some(response) = state.scripted(ScriptedEndpoint::Krypton).await {
        return response;
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return reply(
                Style::Code,
                rejection.status(),
                &rejection.status().as_u16().to_string(),
                &rejection.body_text(),
            )
        }
    };
    let request: KryptonRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return reply(
                Style::Code,
                StatusCode::BAD_REQUEST,
                "400",
                &format!("invalid request: {error}"),
            )
        }
    };
    if let Err(problem) = request.validate() {
        return reply(Style::Code, StatusCode::BAD_REQUEST, "400", &problem);
    }
    Json(json!({
        "code": "200",
        "message": "session created",
        "sessionId": uuid::Uuid::new_v4().to_string(),
        "sessionTypes": request.session_types,
        "action": request.extra.action,
        "model": request.extra.model,
    }))
    .into_response()
}
