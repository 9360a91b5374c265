//! The FPT.AI eKYC client: `/session/init`, `/ocr`, `/face/liveness`.
//!
//! Two layers: [`FptClient`] sends one call (retrying only transient trouble: connect
//! errors, timeouts, 429 and 5xx, with bounded exponential backoff); [`FptSession`] is one
//! customer's verification and handles an expired session by starting a new one and
//! resending, once, without asking the customer.

use std::sync::Arc;
use std::time::Duration;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use super::error::{ApiError, RawBody};
use super::http::{http_client, read_answer, transport_error, ClientTls, RetryPolicy};
use super::krypton::{KryptonClient, KryptonRequest};
use ekyc_contract::challenge::{write_times, CHALLENGE_ID_HEADER, CHALLENGE_TIMES_HEADER};
use ekyc_contract::{
    ChallengeReply, ChipVerifyReply, ChipVerifyRequest, Code, DocumentType, FaceResult, IssuedPath,
    Lang, OcrResult, Secret, SessionInitReply, Shape, Side, StatusReply,
};
use ekyc_imaging::PreparedImage;

/// Everything the client needs to reach one FPT.AI-contract back end.
#[derive(Debug, Clone)]
pub struct FptSettings {
    /// e.g. `https://ekyc.fpt.ai`, or the local engine's `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The key sent as `api-key` (none behind the bank's gateway).
    pub api_key: Secret,
    /// `android`, `ios`, `web-sdk`, …: the session is bound to it.
    pub device_type: String,
    /// A stable id of this kiosk, sent as `client_uuid` when set.
    pub client_uuid: Option<String>,
    /// The language of the back end's messages.
    pub lang: Lang,
    /// The time to connect.
    pub connect_timeout: Duration,
    /// For a whole call, upload and answer included.
    pub request_timeout: Duration,
    /// Tries and pauses for a transient failure.
    pub retry: RetryPolicy,
    /// The bank's CA and this kiosk's certificate, for HTTPS back ends.
    pub tls: ClientTls,
    /// The bank's gateway adds the API key: none is sent (`network.gateway`).
    pub gateway: bool,
}

impl FptSettings {
    /// Settings for `base_url` with `api_key`, the rest at their defaults.
    pub fn new(base_url: impl Into<String>, api_key: Secret) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            device_type: "web-sdk".into(),
            client_uuid: None,
            lang: Lang::En,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            tls: ClientTls::default(),
            gateway: false,
        }
    }
}

/// A back-end session id. Not shown in logs: it links to a customer's data on the server.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl SessionId {
    /// The id as the back end gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for SessionId {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for SessionId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SessionId(<hidden>)")
    }
}

/// One `/ocr` call's content.
#[derive(Debug, Clone)]
pub struct OcrRequest {
    /// Which document the pictures are of.
    pub document: DocumentType,
    /// `Some` sends `side-type` and exactly one image.
    pub side: Option<Side>,
    /// Front first, then back.
    pub images: Vec<PreparedImage>,
}

impl OcrRequest {
    /// Front (and back, for documents that have one) in one call.
    pub fn both_sides(
        document: DocumentType,
        front: PreparedImage,
        back: Option<PreparedImage>,
    ) -> Self {
        Self {
            document,
            side: None,
            images: std::iter::once(front).chain(back).collect(),
        }
    }

    /// One side per call, with `side-type`; the front must come first.
    pub fn one_side(document: DocumentType, side: Side, image: PreparedImage) -> Self {
        Self {
            document,
            side: Some(side),
            images: vec![image],
        }
    }

    fn validate(&self) -> Result<(), ApiError> {
        let most = if self.side.is_some() || !self.document.has_back() {
            1
        } else {
            2
        };
        if self.images.is_empty() || self.images.len() > most {
            return Err(ApiError::InvalidRequest(format!(
                "a {} OCR call{} carries {} image(s), not {}",
                self.document.as_str(),
                if self.side.is_some() {
                    " with side-type"
                } else {
                    ""
                },
                if most == 1 {
                    "exactly 1".to_string()
                } else {
                    "1 or 2".to_string()
                },
                self.images.len()
            )));
        }
        if self.side == Some(Side::Back) && !self.document.has_back() {
            return Err(ApiError::InvalidRequest(
                "a passport has no back side".into(),
            ));
        }
        Ok(())
    }
}

/// Which call, for the contract's differences between them.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    /// `/session/init`: `code` "200" and a `session-id`.
    SessionInit,
    /// `/ocr`: `errorCode` "0".
    Ocr,
    /// `/face/liveness`: `code` "200".
    FaceLiveness,
    /// `/chip/verify` (the local engine's own): `code` "200".
    ChipVerify,
    /// `/liveness/challenge` (the local engine's own): `code` "200".
    LivenessChallenge,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::SessionInit => "session/init",
            Self::Ocr => "ocr",
            Self::FaceLiveness => "face/liveness",
            Self::ChipVerify => "chip/verify",
            Self::LivenessChallenge => "liveness/challenge",
        }
    }

    fn shape(self) -> Shape {
        match self {
            Self::Ocr => Shape::ErrorCode,
            Self::SessionInit | Self::FaceLiveness | Self::ChipVerify | Self::LivenessChallenge => {
                Shape::Code
            }
        }
    }
}

/// The back end's challenge a set of frames followed: its id, and each frame's capture
/// time after the dot started moving (for the frames after the selfie), in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeAnswer {
    /// The id `/liveness/challenge` gave.
    pub id: String,
    /// One per frame after the selfie, in order.
    pub times_ms: Vec<u32>,
}

/// Sends single FPT.AI calls. Cheap to clone; one per back end is enough.
#[derive(Debug, Clone)]
pub struct FptClient {
    http: reqwest::Client,
    settings: Arc<FptSettings>,
}

impl FptClient {
    /// A client for these settings (its HTTP client made now: the bank's CA read).
    pub fn new(settings: FptSettings) -> Result<Self, ApiError> {
        Ok(Self {
            http: http_client(
                settings.connect_timeout,
                settings.request_timeout,
                &settings.tls,
            )?,
            settings: Arc::new(settings),
        })
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &FptSettings {
        &self.settings
    }

    /// The same client for a back end at another address (a Krypton session's `krPath`).
    pub fn at(&self, base_url: &str) -> Self {
        Self {
            http: self.http.clone(),
            settings: Arc::new(FptSettings {
                base_url: base_url.to_owned(),
                ..(*self.settings).clone()
            }),
        }
    }

    /// `POST /session/init`. `only_engine` marks a session that will do OCR only.
    pub async fn init_session(&self, only_engine: bool) -> Result<SessionId, ApiError> {
        let body = self
            .post(Endpoint::SessionInit, || {
                let mut request =
                    self.common_headers(self.http.post(self.url(Endpoint::SessionInit)));
                if let Some(client_uuid) = &self.settings.client_uuid {
                    request = request.header("client_uuid", client_uuid);
                }
                if only_engine {
                    request = request.header("only-engine", "1");
                }
                request
            })
            .await?;
        match SessionInitReply::from_json(&body) {
            Some(reply) => Ok(SessionId(reply.session_id.clone())),
            None => Err(ApiError::MalformedResponse {
                reason: "no session-id in the answer".into(),
                raw: RawBody::new(body.to_string().as_bytes()),
            }),
        }
    }

    /// `POST /ocr` in `session`, once (transient failures aside).
    pub async fn ocr(
        &self,
        session: &SessionId,
        request: &OcrRequest,
    ) -> Result<OcrResult, ApiError> {
        request.validate()?;
        let body = self
            .post(Endpoint::Ocr, || {
                let mut form = Form::new();
                for image in &request.images {
                    form = form.part("files", jpeg_part(image));
                }
                let mut builder = self
                    .common_headers(self.http.post(self.url(Endpoint::Ocr)))
                    .header("session-id", session.as_str())
                    .header("document-type", request.document.as_str())
                    .header("lang", self.settings.lang.as_str());
                if let Some(side) = request.side {
                    builder = builder.header("side-type", side.as_str());
                }
                builder.multipart(form)
            })
            .await?;
        Ok(OcrResult::from_json(&body))
    }

    /// `POST /face/liveness` in `session`, once (transient failures aside).
    pub async fn face_liveness(
        &self,
        session: &SessionId,
        selfie: &PreparedImage,
    ) -> Result<FaceResult, ApiError> {
        self.face_liveness_frames(session, std::slice::from_ref(selfie), None)
            .await
    }

    /// `POST /face/liveness` with several `selfies` parts (the contract's field is plural):
    /// the liveness challenge's frames, the still the card is matched with first; with
    /// `challenge`, the id of the challenge the back end issued and each frame's time
    /// (after the first), so that it scores the gaze against its own path.
    pub async fn face_liveness_frames(
        &self,
        session: &SessionId,
        frames: &[PreparedImage],
        challenge: Option<&ChallengeAnswer>,
    ) -> Result<FaceResult, ApiError> {
        if frames.is_empty() {
            return Err(ApiError::InvalidRequest("no selfie to send".into()));
        }
        if challenge.is_some_and(|answer| answer.times_ms.len() + 1 != frames.len()) {
            return Err(ApiError::InvalidRequest(
                "one capture time for each frame after the selfie".into(),
            ));
        }
        let body = self
            .post(Endpoint::FaceLiveness, || {
                let mut form = Form::new();
                for frame in frames {
                    form = form.part("selfies", jpeg_part(frame));
                }
                let mut request = self
                    .common_headers(self.http.post(self.url(Endpoint::FaceLiveness)))
                    .header("session-id", session.as_str())
                    // `True` is for the vendor's own SDK only.
                    .header("auto", "False")
                    .header("lang", self.settings.lang.as_str());
                if let Some(answer) = challenge {
                    request = request
                        .header(CHALLENGE_ID_HEADER, &answer.id)
                        .header(CHALLENGE_TIMES_HEADER, write_times(&answer.times_ms));
                }
                request.multipart(form)
            })
            .await?;
        Ok(FaceResult::from_json(&body))
    }

    /// `POST /liveness/challenge` (the local engine's extension): a follow-the-dot path
    /// drawn by the back end, checked to be one a kiosk can show. A back end without it
    /// (FPT.AI's) answers 404: [`ApiError::Http`].
    pub async fn liveness_challenge(&self) -> Result<(String, IssuedPath), ApiError> {
        let body = self
            .post(Endpoint::LivenessChallenge, || {
                self.common_headers(self.http.post(self.url(Endpoint::LivenessChallenge)))
                    .header("lang", self.settings.lang.as_str())
            })
            .await?;
        let malformed = |reason: String| ApiError::MalformedResponse {
            reason,
            raw: RawBody::new(body.to_string().as_bytes()),
        };
        let reply: ChallengeReply = serde_json::from_value(body.clone())
            .map_err(|error| malformed(format!("not a challenge ({error})")))?;
        match (reply.challenge_id, reply.path) {
            (Some(id), Some(path)) if !id.is_empty() && id.len() <= 128 => {
                path.check()
                    .map_err(|why| malformed(format!("a path the kiosk cannot show: {why}")))?;
                Ok((id, path))
            }
            _ => Err(malformed("a challenge without its id or path".into())),
        }
    }

    /// `POST /chip/verify` (the local engine's extension) in `session`: the chip's files
    /// checked by the back end with its own CSCA list. A back end without it (FPT.AI's)
    /// answers 404: [`ApiError::Http`].
    pub async fn chip_verify(
        &self,
        session: &SessionId,
        request: &ChipVerifyRequest,
    ) -> Result<ChipVerifyReply, ApiError> {
        let json = serde_json::to_vec(request)
            .map_err(|error| ApiError::InvalidRequest(format!("the chip's files: {error}")))?;
        let body = self
            .post(Endpoint::ChipVerify, || {
                self.common_headers(self.http.post(self.url(Endpoint::ChipVerify)))
                    .header("session-id", session.as_str())
                    .header("lang", self.settings.lang.as_str())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(json.clone())
            })
            .await?;
        serde_json::from_value(body.clone()).map_err(|error| ApiError::MalformedResponse {
            reason: format!("not a chip verdict ({error})"),
            raw: RawBody::new(body.to_string().as_bytes()),
        })
    }

    fn url(&self, endpoint: Endpoint) -> String {
        format!(
            "{}/{}",
            self.settings.base_url.trim_end_matches('/'),
            endpoint.path()
        )
    }

    fn common_headers(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header("device-type", &self.settings.device_type);
        if self.settings.gateway {
            request
        } else {
            request.header("api-key", self.settings.api_key.expose())
        }
    }

    /// Sends the request `build` makes, retrying transient failures, and returns the
    /// answer's JSON once its code says success.
    async fn post(
        &self,
        endpoint: Endpoint,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, ApiError> {
        self.settings
            .retry
            .run(endpoint.path(), || self.post_once(endpoint, build()))
            .await
    }

    async fn post_once(
        &self,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, ApiError> {
        let response = request
            .send()
            .await
            .map_err(|error| self.transport_error(&error))?;
        let status = response.status().as_u16();
        let bytes = read_answer(response, |error| self.transport_error(&error)).await?;
        tracing::debug!(
            endpoint = endpoint.path(),
            status,
            bytes = bytes.len(),
            "answer"
        );
        let body = json_answer(status, &bytes)?;
        check_code(endpoint, status, body, &bytes)
    }

    fn transport_error(&self, error: &reqwest::Error) -> ApiError {
        transport_error(
            error,
            &self.settings.base_url,
            self.settings.request_timeout,
        )
    }
}

/// The answer as JSON, or the error its status and bytes amount to. 429 and 5xx are HTTP
/// errors (and retried) whatever their body says.
pub(crate) fn json_answer(status: u16, bytes: &[u8]) -> Result<Value, ApiError> {
    let raw = || RawBody::new(bytes);
    if status == 429 || status >= 500 {
        return Err(ApiError::Http { status, raw: raw() });
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(body) if body.is_object() => {
            if status == 401 {
                return Err(ApiError::Unauthorized { status, raw: raw() });
            }
            Ok(body)
        }
        parsed => {
            if status == 401 {
                return Err(ApiError::Unauthorized { status, raw: raw() });
            }
            if !(200..300).contains(&status) {
                return Err(ApiError::Http { status, raw: raw() });
            }
            let reason = match parsed {
                Ok(_) => "the answer is JSON but not an object".to_string(),
                Err(_) if bytes.is_empty() => "the answer is empty".to_string(),
                Err(_) if std::str::from_utf8(bytes).is_err() => {
                    "the answer is not UTF-8 text".to_string()
                }
                Err(error) => format!("the answer is not JSON ({error})"),
            };
            Err(ApiError::MalformedResponse { reason, raw: raw() })
        }
    }
}

/// Reads the contract's code (HTTP status is not a reliable signal) and turns every
/// non-success code into its error.
fn check_code(
    endpoint: Endpoint,
    status: u16,
    body: Value,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let shape = endpoint.shape();
    let (code, message) = StatusReply::from_json(shape, &body);
    let raw = || RawBody::new(bytes);
    let Some(code) = code else {
        if (200..300).contains(&status) {
            return Err(ApiError::MalformedResponse {
                reason: format!("no `{}` in the answer", shape.fields().0),
                raw: raw(),
            });
        }
        return Err(ApiError::Http { status, raw: raw() });
    };
    match code {
        Code::Success if (200..300).contains(&status) => Ok(body),
        Code::Success => Err(ApiError::Http { status, raw: raw() }),
        Code::SessionExpired => Err(ApiError::SessionExpired {
            message,
            raw: raw(),
        }),
        Code::DocumentNotFound => Err(ApiError::DocumentNotFound {
            message,
            raw: raw(),
        }),
        Code::Unauthorized => Err(ApiError::Unauthorized { status, raw: raw() }),
        Code::NotEnrolled => Err(ApiError::NotEnrolled {
            message,
            raw: raw(),
        }),
        Code::FaceMismatch => Err(ApiError::FaceMismatch {
            result: Box::new(FaceResult::from_json(&body)),
            raw: raw(),
        }),
        Code::MultipleFaces => Err(ApiError::MultipleFaces {
            result: Box::new(FaceResult::from_json(&body)),
            raw: raw(),
        }),
        other => Err(ApiError::Api {
            code: other.as_str(shape).to_owned(),
            message,
            raw: raw(),
        }),
    }
}

fn jpeg_part(image: &PreparedImage) -> Part {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("image/jpeg"),
    );
    Part::bytes(image.jpeg.clone())
        .file_name(image.file_name.clone())
        .headers(headers)
}

/// One customer's verification against an FPT.AI-contract back end.
///
/// An expired session (code 403) is replaced by a new one and the call is sent again,
/// once. Because `/face/liveness` matches against the document of the same session, a
/// face call that meets a 403 first sends this session's documents again.
#[derive(Debug)]
pub struct FptSession {
    client: FptClient,
    /// A Krypton session is opened instead of `/session/init`: its id is then used with
    /// the FPT.AI-shaped calls (the local engine's way of speaking both contracts).
    krypton: Option<(KryptonClient, KryptonRequest)>,
    only_engine: bool,
    session_id: Option<SessionId>,
    /// The documents already read in this session, for replay into a new one.
    documents_sent: Vec<OcrRequest>,
    /// The chip's files checked in this session, for replay into a new one.
    chip_sent: Option<ChipVerifyRequest>,
    reinitialisations: u32,
}

impl FptSession {
    /// A customer's session on `client`, not opened yet.
    pub fn new(client: FptClient) -> Self {
        Self {
            client,
            krypton: None,
            only_engine: false,
            session_id: None,
            documents_sent: Vec::new(),
            chip_sent: None,
            reinitialisations: 0,
        }
    }

    /// A session opened through Krypton with `request` (its action decides what the
    /// calls in it do), replaced the same way when it expires.
    pub fn krypton(client: FptClient, krypton: KryptonClient, request: KryptonRequest) -> Self {
        Self {
            krypton: Some((krypton, request)),
            ..Self::new(client)
        }
    }

    /// A session that will only do OCR (`only-engine: 1`).
    pub fn ocr_only(client: FptClient) -> Self {
        Self {
            only_engine: true,
            ..Self::new(client)
        }
    }

    /// How many times an expired session was replaced.
    pub fn reinitialisations(&self) -> u32 {
        self.reinitialisations
    }

    /// Opens the back-end session (done on first use otherwise).
    pub async fn start(&mut self) -> Result<(), ApiError> {
        let session_id = match &self.krypton {
            Some((krypton, request)) => {
                let session = krypton.open_session(request).await?;
                if let Some(path) = session.kr_path.filter(|path| {
                    path.trim_end_matches('/')
                        != self.client.settings.base_url.trim_end_matches('/')
                }) {
                    self.client = self.client.at(&path);
                }
                SessionId(session.session_id)
            }
            None => self.client.init_session(self.only_engine).await?,
        };
        self.session_id = Some(session_id);
        Ok(())
    }

    async fn session_id(&mut self) -> Result<SessionId, ApiError> {
        if self.session_id.is_none() {
            self.start().await?;
        }
        self.session_id
            .clone()
            .ok_or_else(|| ApiError::InvalidRequest("no session".into()))
    }

    async fn replace_session(&mut self) -> Result<SessionId, ApiError> {
        tracing::info!("session expired; starting a new one");
        self.reinitialisations += 1;
        self.session_id = None;
        let session = self.session_id().await?;
        for request in &self.documents_sent {
            self.client.ocr(&session, request).await?;
        }
        if let Some(chip) = &self.chip_sent {
            self.client.chip_verify(&session, chip).await?;
        }
        Ok(session)
    }

    /// Reads a document (both sides in one call, or one side).
    pub async fn ocr(&mut self, request: OcrRequest) -> Result<OcrResult, ApiError> {
        request.validate()?;
        if request.side == Some(Side::Back)
            && !self
                .documents_sent
                .iter()
                .any(|sent| sent.side == Some(Side::Front))
        {
            return Err(ApiError::InvalidRequest(
                "the front side must be sent before the back side".into(),
            ));
        }
        let session = self.session_id().await?;
        let result = match self.client.ocr(&session, &request).await {
            Err(ApiError::SessionExpired { .. }) => {
                let session = self.replace_session().await?;
                self.client.ocr(&session, &request).await
            }
            result => result,
        }?;
        self.remember_document(request);
        Ok(result)
    }

    /// Keeps what a new session would need to be sent again: a whole document replaces
    /// everything before it, a side replaces an earlier copy of that side (a retake), and
    /// the front stays ahead of the back.
    fn remember_document(&mut self, request: OcrRequest) {
        let side = request.side;
        self.documents_sent
            .retain(|sent| side.is_some() && sent.side.is_some() && sent.side != side);
        self.documents_sent.push(request);
        self.documents_sent
            .sort_by_key(|sent| sent.side == Some(Side::Back));
    }

    /// The chip's files checked by the back end in this session (`/chip/verify`, the
    /// local engine's): its verdict, and the selfie matched with the chip's photo later.
    pub async fn chip_verify(
        &mut self,
        request: ChipVerifyRequest,
    ) -> Result<ChipVerifyReply, ApiError> {
        let session = self.session_id().await?;
        let reply = match self.client.chip_verify(&session, &request).await {
            Err(ApiError::SessionExpired { .. }) => {
                let session = self.replace_session().await?;
                self.client.chip_verify(&session, &request).await
            }
            reply => reply,
        }?;
        self.chip_sent = Some(request);
        Ok(reply)
    }

    /// Liveness and face match of a selfie against this session's document.
    pub async fn face_liveness(&mut self, selfie: &PreparedImage) -> Result<FaceResult, ApiError> {
        self.face_liveness_frames(std::slice::from_ref(selfie), None)
            .await
    }

    /// Liveness on several frames and face match of the first against this session's
    /// document; `challenge`: the back end's challenge the frames followed.
    pub async fn face_liveness_frames(
        &mut self,
        frames: &[PreparedImage],
        challenge: Option<&ChallengeAnswer>,
    ) -> Result<FaceResult, ApiError> {
        let session = self.session_id().await?;
        match self
            .client
            .face_liveness_frames(&session, frames, challenge)
            .await
        {
            Err(ApiError::SessionExpired { .. }) => {
                let session = self.replace_session().await?;
                self.client
                    .face_liveness_frames(&session, frames, challenge)
                    .await
            }
            result => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_their_errors() {
        let html = b"<html><body>502 Bad Gateway</body></html>";
        assert!(matches!(
            json_answer(502, html),
            Err(ApiError::Http { status: 502, .. })
        ));
        assert!(matches!(
            json_answer(500, b""),
            Err(ApiError::Http { status: 500, .. })
        ));
        assert!(matches!(
            json_answer(200, &[0xff, 0xfe, 0x00]),
            Err(ApiError::MalformedResponse { reason, .. }) if reason.contains("UTF-8")
        ));
        assert!(matches!(
            json_answer(200, b"{\"errorCode\": \"0\""),
            Err(ApiError::MalformedResponse { .. })
        ));
        assert!(matches!(
            json_answer(401, b"{}"),
            Err(ApiError::Unauthorized { .. })
        ));
        assert!(matches!(
            json_answer(404, b"Not Found"),
            Err(ApiError::Http { status: 404, .. })
        ));
    }

    #[test]
    fn codes_map_to_their_errors_whatever_the_http_status() {
        let check = |endpoint, status, body: Value| {
            let bytes = body.to_string().into_bytes();
            check_code(endpoint, status, body, &bytes)
        };
        let expired =
            serde_json::json!({"errorCode": "403", "errorMessage": "Phiên làm việc đã hết hạn"});
        assert!(matches!(
            check(Endpoint::Ocr, 200, expired.clone()),
            Err(ApiError::SessionExpired { .. })
        ));
        assert!(matches!(
            check(Endpoint::Ocr, 403, expired),
            Err(ApiError::SessionExpired { .. })
        ));
        let missing = serde_json::json!({"errorCode": 3, "errorMessage": "not found"});
        assert!(matches!(
            check(Endpoint::Ocr, 200, missing),
            Err(ApiError::DocumentNotFound { .. })
        ));
        let other = serde_json::json!({"errorCode": "12", "errorMessage": "giấy tờ hết hạn"});
        assert!(
            matches!(check(Endpoint::Ocr, 200, other), Err(ApiError::Api { code, message, .. }) if code == "12" && message == "giấy tờ hết hạn")
        );
        let two_faces = serde_json::json!({"code": "407", "message": "2 faces exist", "is_complete_session": true});
        let error = check(Endpoint::FaceLiveness, 200, two_faces).unwrap_err();
        assert_eq!(error.is_complete_session(), Some(true));
        assert!(matches!(
            check(Endpoint::Ocr, 200, serde_json::json!({"data": []})),
            Err(ApiError::MalformedResponse { .. })
        ));
        assert!(check(
            Endpoint::Ocr,
            200,
            serde_json::json!({"errorCode": "0", "data": []})
        )
        .is_ok());
    }
}
