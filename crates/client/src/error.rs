//! Everything that can go wrong talking to a back end, as one enum.

use std::time::Duration;

use ekyc_contract::FaceResult;
use ekyc_imaging::ImageError;

/// The most of a response body kept for staff diagnostics.
pub const RAW_BODY_LIMIT: usize = 4 * 1024;

/// A response body as received, cut to [`RAW_BODY_LIMIT`] bytes. It may hold personal data
/// (a malformed OCR answer still carries names), so `Debug` shows only its length and the
/// text is read only on purpose, through [`RawBody::text`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawBody {
    bytes: Vec<u8>,
    total_len: usize,
}

impl RawBody {
    /// Keeps `body`, cut to the limit, and its whole length.
    pub fn new(body: &[u8]) -> Self {
        Self {
            bytes: body[..body.len().min(RAW_BODY_LIMIT)].to_vec(),
            total_len: body.len(),
        }
    }

    /// The kept bytes as text; bytes that are not UTF-8 show as U+FFFD.
    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.is_truncated() {
            text.push_str(&format!("… [{} bytes in all]", self.total_len));
        }
        text
    }

    /// Whether the body was longer than what was kept.
    pub fn is_truncated(&self) -> bool {
        self.total_len > self.bytes.len()
    }

    /// The whole body's length in bytes, kept or not.
    pub fn len(&self) -> usize {
        self.total_len
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.total_len == 0
    }
}

impl std::fmt::Debug for RawBody {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "RawBody({} bytes)", self.total_len)
    }
}

/// A failed call. Messages never contain the API key or the raw body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// errorCode "403": the session expired, is unknown, or is bound to another device
    /// type; returned only when a fresh session did not help either.
    #[error("the back end rejected the session (code 403): {message}")]
    SessionExpired {
        /// The back end's message.
        message: String,
        /// The body as received.
        raw: RawBody,
    },

    /// errorCode "3": the selected document was not found in the image.
    #[error("the document was not found in the image (code 3): {message}")]
    DocumentNotFound {
        /// The back end's message.
        message: String,
        /// The body as received.
        raw: RawBody,
    },

    /// code "303": the selfie does not match the document's photo.
    #[error("the face does not match the document (code 303): {}", result.message)]
    FaceMismatch {
        /// The whole answer.
        result: Box<FaceResult>,
        /// The body as received.
        raw: RawBody,
    },

    /// code "407": more than one face in the selfie.
    #[error("more than one face in the selfie (code 407): {}", result.message)]
    MultipleFaces {
        /// The whole answer.
        result: Box<FaceResult>,
        /// The body as received.
        raw: RawBody,
    },

    /// code "412" (the local engine's Krypton AUTH): the customer has no enrolment.
    #[error("the customer is not enrolled (code 412): {message}")]
    NotEnrolled {
        /// The back end's message.
        message: String,
        /// The body as received.
        raw: RawBody,
    },

    /// HTTP 401 or code "401": the back end refused the API key.
    #[error("the back end refused the API key (HTTP {status})")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// The body as received.
        raw: RawBody,
    },

    /// Any other non-success code, with the back end's own message.
    #[error("the back end answered code {code}: {message}")]
    Api {
        /// The contract's code.
        code: String,
        /// The back end's message.
        message: String,
        /// The body as received.
        raw: RawBody,
    },

    /// HTTP 429, or 503 with `Retry-After`: the back end asks this kiosk to wait, for
    /// `retry_after` when it says
    /// (`Retry-After`). Tried again after that wait when it is short
    /// ([`MOST_RETRY_AFTER`]); a longer one (a lockout) is not waited for.
    #[error("the back end asks this kiosk to wait{} (HTTP {status})", retry_after.map(|wait| format!(" {} s", wait.as_secs())).unwrap_or_default())]
    TooManyRequests {
        /// 429, or 503 with `Retry-After` (a busy back end's queue is full).
        status: u16,
        /// How long it asks to wait, when it says.
        retry_after: Option<Duration>,
        /// The body as received.
        raw: RawBody,
    },

    /// An HTTP status without a usable JSON answer (an HTML 502 page, an empty 500, …).
    #[error("the back end answered HTTP {status} without a usable answer")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The body as received.
        raw: RawBody,
    },

    /// A 2xx answer that is not the JSON the contract describes.
    #[error("the back end's answer is not what the contract describes: {reason}")]
    MalformedResponse {
        /// Why.
        reason: String,
        /// The body as received.
        raw: RawBody,
    },

    /// No complete answer within the configured time.
    #[error("the back end did not answer within {0:?}")]
    Timeout(Duration),

    /// The connection could not be made (refused, no route, DNS).
    #[error("cannot reach the back end at {url}: {reason}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// Why.
        reason: String,
    },

    /// TLS refused: the server's certificate is not trusted by this kiosk, or the server
    /// refused this kiosk's (mutual TLS). Not retried: only staff can mend it.
    #[error("{problem} ({url}: {reason})")]
    Certificate {
        /// The address tried.
        url: String,
        /// What is wrong with the certificate.
        problem: CertificateProblem,
        /// Why.
        reason: String,
    },

    /// The connection broke before a whole answer arrived.
    #[error("the connection to the back end broke before a whole answer arrived: {reason}")]
    ConnectionDropped {
        /// Why.
        reason: String,
    },

    /// An image refused before any request was made.
    #[error("{name}: {reason}")]
    InvalidImage {
        /// The image's name.
        name: String,
        /// Why.
        reason: String,
    },

    /// A request this client will not send (bad parameters, wrong order).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A step of this program failed inside (a bug, already logged without personal
    /// data); the text says which.
    #[error("this kiosk failed while {0}; the log has the details")]
    Internal(String),
}

impl From<ImageError> for ApiError {
    fn from(error: ImageError) -> Self {
        Self::InvalidImage {
            name: error.name,
            reason: error.reason,
        }
    }
}

/// Which side of a TLS handshake refused the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// The server's certificate is not signed by a CA this kiosk trusts (`network.ca_file`),
    /// has expired, or names another host.
    ServerNotTrusted,
    /// The server refused this kiosk's certificate, or wanted one and got none
    /// (`network.client_cert`).
    KioskRefused,
}

impl std::fmt::Display for CertificateProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::ServerNotTrusted => "the server's certificate is not trusted by this kiosk",
            Self::KioskRefused => "the server refused this kiosk's certificate",
        })
    }
}

/// The longest `Retry-After` a call waits for before trying again; a longer one ends the
/// call (a customer does not wait minutes in front of a spinner).
pub const MOST_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A stable name for each error, for `submit --json` and the UI's message keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// See [`ApiError::SessionExpired`].
    SessionExpired,
    /// See [`ApiError::DocumentNotFound`].
    DocumentNotFound,
    /// See [`ApiError::FaceMismatch`].
    FaceMismatch,
    /// See [`ApiError::MultipleFaces`].
    MultipleFaces,
    /// See [`ApiError::NotEnrolled`].
    NotEnrolled,
    /// See [`ApiError::Unauthorized`].
    Unauthorized,
    /// See [`ApiError::Api`].
    ApiError,
    /// See [`ApiError::TooManyRequests`].
    TooManyRequests,
    /// See [`ApiError::Http`].
    HttpError,
    /// See [`ApiError::MalformedResponse`].
    MalformedResponse,
    /// See [`ApiError::Timeout`].
    Timeout,
    /// See [`ApiError::Unreachable`].
    Unreachable,
    /// See [`ApiError::Certificate`].
    Certificate,
    /// See [`ApiError::ConnectionDropped`].
    ConnectionDropped,
    /// See [`ApiError::InvalidImage`].
    InvalidImage,
    /// See [`ApiError::InvalidRequest`].
    InvalidRequest,
    /// See [`ApiError::Internal`].
    Internal,
}

impl ApiError {
    /// What kind of failure this is, for the screens and the exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::SessionExpired { .. } => ErrorKind::SessionExpired,
            Self::DocumentNotFound { .. } => ErrorKind::DocumentNotFound,
            Self::FaceMismatch { .. } => ErrorKind::FaceMismatch,
            Self::MultipleFaces { .. } => ErrorKind::MultipleFaces,
            Self::NotEnrolled { .. } => ErrorKind::NotEnrolled,
            Self::Unauthorized { .. } => ErrorKind::Unauthorized,
            Self::Api { .. } => ErrorKind::ApiError,
            Self::TooManyRequests { .. } => ErrorKind::TooManyRequests,
            Self::Http { .. } => ErrorKind::HttpError,
            Self::MalformedResponse { .. } => ErrorKind::MalformedResponse,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Unreachable { .. } => ErrorKind::Unreachable,
            Self::Certificate { .. } => ErrorKind::Certificate,
            Self::ConnectionDropped { .. } => ErrorKind::ConnectionDropped,
            Self::InvalidImage { .. } => ErrorKind::InvalidImage,
            Self::InvalidRequest(_) => ErrorKind::InvalidRequest,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The back end said it cannot serve now, in its own words (code `"503"`: busy, its
    /// sessions or enrolments unavailable; `"500"`: its internal failure): the service's
    /// failure, told as an unavailable back end, never as the customer's rejection.
    pub fn is_back_end_failure(&self) -> bool {
        matches!(self, Self::Api { code, .. } if code == "500" || code == "503")
    }

    /// The contract's code, where the back end gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::SessionExpired { .. } => Some("403"),
            Self::DocumentNotFound { .. } => Some("3"),
            Self::FaceMismatch { .. } => Some("303"),
            Self::MultipleFaces { .. } => Some("407"),
            Self::NotEnrolled { .. } => Some("412"),
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The body as received, for the failures that had one.
    pub fn raw_body(&self) -> Option<&RawBody> {
        match self {
            Self::SessionExpired { raw, .. }
            | Self::DocumentNotFound { raw, .. }
            | Self::FaceMismatch { raw, .. }
            | Self::MultipleFaces { raw, .. }
            | Self::NotEnrolled { raw, .. }
            | Self::Unauthorized { raw, .. }
            | Self::Api { raw, .. }
            | Self::TooManyRequests { raw, .. }
            | Self::Http { raw, .. }
            | Self::MalformedResponse { raw, .. } => Some(raw),
            _ => None,
        }
    }

    /// For a face error: whether the session is finished (a retry must start again from
    /// the document) or the customer may simply retake the selfie.
    pub fn is_complete_session(&self) -> Option<bool> {
        match self {
            Self::FaceMismatch { result, .. } | Self::MultipleFaces { result, .. } => {
                Some(result.is_complete_session)
            }
            // Other refusals of a selfie may say so too (the local engine does when the
            // card's photo has no face: the customer must start again from the card).
            Self::Api { raw, .. } => {
                let body: serde_json::Value = serde_json::from_slice(&raw.bytes).ok()?;
                match body.get("is_complete_session")? {
                    serde_json::Value::Bool(complete) => Some(*complete),
                    serde_json::Value::String(text) => text.parse().ok(),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Worth sending again unchanged: the network or the server had a transient problem.
    /// A dropped connection is not retried: the request may have been processed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Unreachable { .. } => true,
            Self::TooManyRequests { retry_after, .. } => {
                retry_after.is_none_or(|wait| wait <= MOST_RETRY_AFTER)
            }
            Self::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The back end (or the way to it) is down or broken, as opposed to a verdict about
    /// the customer's images.
    pub fn is_backend_failure(&self) -> bool {
        matches!(
            self,
            Self::SessionExpired { .. }
                | Self::TooManyRequests { .. }
                | Self::Http { .. }
                | Self::MalformedResponse { .. }
                | Self::Timeout(_)
                | Self::Unreachable { .. }
                | Self::Certificate { .. }
                | Self::ConnectionDropped { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_body_is_cut_and_debug_hides_it() {
        let body = vec![b'x'; RAW_BODY_LIMIT * 3];
        let raw = RawBody::new(&body);
        assert!(raw.is_truncated());
        assert_eq!(raw.len(), RAW_BODY_LIMIT * 3);
        assert!(raw.text().starts_with(&"x".repeat(RAW_BODY_LIMIT)));
        assert!(raw
            .text()
            .ends_with(&format!("[{} bytes in all]", RAW_BODY_LIMIT * 3)));
        assert_eq!(
            format!("{raw:?}"),
            format!("RawBody({} bytes)", RAW_BODY_LIMIT * 3)
        );
    }

    #[test]
    fn non_utf8_bodies_are_shown_lossily() {
        let raw = RawBody::new(&[0xff, 0xfe, b'o', b'k']);
        assert_eq!(raw.text(), "\u{fffd}\u{fffd}ok");
    }

    #[test]
    fn only_network_and_server_trouble_is_transient() {
        let raw = RawBody::default();
        assert!(ApiError::Http {
            status: 502,
            raw: raw.clone()
        }
        .is_transient());
        assert!(ApiError::Http {
            status: 429,
            raw: raw.clone()
        }
        .is_transient());
        assert!(!ApiError::Http {
            status: 404,
            raw: raw.clone()
        }
        .is_transient());
        assert!(ApiError::Timeout(Duration::from_secs(1)).is_transient());
        let not_found = ApiError::DocumentNotFound {
            message: String::new(),
            raw,
        };
        assert!(!not_found.is_transient());
        assert!(!ApiError::ConnectionDropped {
            reason: String::new()
        }
        .is_transient());
    }
}
