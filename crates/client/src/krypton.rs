//! The Krypton v3 client: `POST {url}/api/v3/ekyc`. The request's types are in
//! [`ekyc_contract::krypton`]; the response body is not documented, so it is returned
//! as received.

use std::time::Duration;

use super::error::{ApiError, RawBody};
use super::http::{http_client, read_answer, transport_error, ClientTls, RetryPolicy};
pub use ekyc_contract::krypton::{
    KryptonAction, KryptonExtra, KryptonFlow, KryptonRequest, LivenessModel, SessionType,
};
use ekyc_contract::{Code, Secret};

/// An open Krypton session: its id, used with the FPT.AI-shaped calls, and where they go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KryptonSession {
    /// The session id for the FPT.AI-shaped calls that follow.
    pub session_id: String,
    /// `krPath` from the answer: the data exchange's base URL, when the server named one.
    pub kr_path: Option<String>,
}

/// A non-2xx answer: the local engine's codes (412 not enrolled, 401 unknown company)
/// named, another code with its message (not retried: the server said what is wrong),
/// anything else as HTTP with its body (retried when 5xx).
fn refusal(status: u16, bytes: &[u8]) -> ApiError {
    let raw = RawBody::new(bytes);
    let answer: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let code = answer
        .as_ref()
        .and_then(|answer| ekyc_contract::wire::code_of(answer.get("code")));
    let message = answer
        .as_ref()
        .and_then(|answer| answer.get("message"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match code.as_deref().map(Code::parse) {
        Some(Code::NotEnrolled) => ApiError::NotEnrolled { message, raw },
        Some(Code::Unauthorized) => ApiError::Unauthorized { status, raw },
        Some(code) if !message.is_empty() => ApiError::Api {
            code: code.as_str(ekyc_contract::Shape::Code).to_owned(),
            message,
            raw,
        },
        _ => ApiError::Http { status, raw },
    }
}

/// Sends Krypton v3 session requests. The company id is a credential: it never prints.
#[derive(Debug, Clone)]
pub struct KryptonClient {
    http: reqwest::Client,
    url: String,
    company_id: Secret,
    request_timeout: Duration,
    retry: RetryPolicy,
    /// The bank's gateway fills `companyId` in: an empty one is sent as it is.
    gateway: bool,
}

impl KryptonClient {
    /// A client for the Krypton server at `url`.
    pub fn new(
        url: impl Into<String>,
        company_id: Secret,
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryPolicy,
        tls: &ClientTls,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            http: http_client(connect_timeout, request_timeout, tls)?,
            url: url.into(),
            company_id,
            request_timeout,
            retry,
            gateway: false,
        })
    }

    /// Sends through the bank's gateway, which fills `companyId` in (`network.gateway`):
    /// a request without one is sent, not refused.
    pub fn through_gateway(mut self, gateway: bool) -> Self {
        self.gateway = gateway;
        self
    }

    /// Builds the documented request for this client's company. An ENROLL without a
    /// `flow` gets `card_first` written out: the vendor's sample leaves it out, its table
    /// requires it, so this client always sends it.
    pub fn request(
        &self,
        session_types: Vec<SessionType>,
        mut extra: KryptonExtra,
    ) -> KryptonRequest {
        if extra.action == KryptonAction::Enroll && extra.flow.is_none() {
            extra.flow = Some(KryptonFlow::CardFirst);
        }
        KryptonRequest {
            company_id: self.company_id.clone(),
            session_types,
            extra,
        }
    }

    /// Opens a session for a verification: `POST /api/v3/ekyc`, then the session id and
    /// the data exchange's address read from the answer. The vendor does not document the
    /// answer; this reads the local engine's (`sessionId`, `krPath`) and refuses, in words,
    /// an answer without a session id rather than guessing.
    pub async fn open_session(&self, request: &KryptonRequest) -> Result<KryptonSession, ApiError> {
        let body = self.create_session(request).await?;
        let raw = || RawBody::new(body.as_bytes());
        let answer: serde_json::Value =
            serde_json::from_str(&body).map_err(|_| ApiError::MalformedResponse {
                reason: "the Krypton answer is not JSON".into(),
                raw: raw(),
            })?;
        let text = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| answer.get(*name).and_then(serde_json::Value::as_str))
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let session_id = text(&["sessionId", "session_id", "session-id"]).ok_or_else(|| {
            ApiError::MalformedResponse {
                reason: "the Krypton answer has no sessionId; its shape is not documented by \
                         the vendor, and this kiosk continues only with a session id"
                    .into(),
                raw: raw(),
            }
        })?;
        Ok(KryptonSession {
            session_id,
            kr_path: text(&["krPath"]),
        })
    }

    /// `POST /api/v3/ekyc`; returns the body as received when the status is 2xx.
    pub async fn create_session(&self, request: &KryptonRequest) -> Result<String, ApiError> {
        let valid = if self.gateway {
            request.validate_without_company_id()
        } else {
            request.validate()
        };
        valid.map_err(|error| ApiError::InvalidRequest(error.to_string()))?;
        let url = format!("{}/api/v3/ekyc", self.url.trim_end_matches('/'));
        self.retry
            .run("api/v3/ekyc", || self.post_once(&url, request))
            .await
    }

    async fn post_once(&self, url: &str, request: &KryptonRequest) -> Result<String, ApiError> {
        let to_error =
            |error: reqwest::Error| transport_error(&error, &self.url, self.request_timeout);
        let response = self
            .http
            .post(url)
            .json(request)
            .send()
            .await
            .map_err(to_error)?;
        let status = response.status().as_u16();
        let bytes = read_answer(response, to_error).await?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &bytes));
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::MalformedResponse {
            reason: "the answer is not UTF-8 text".into(),
            raw: RawBody::new(&bytes),
        })
    }
}
