//! The contract's result codes and its two error shapes: `/ocr` answers with
//! `errorCode`/`errorMessage`, every other endpoint with `code`/`message`. The HTTP status
//! is no reliable signal; the code is.

use serde_json::{json, Value};

use super::wire::code_of;

/// Which of the contract's two shapes an endpoint answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"code": …, "message": …}`: `/session/init`, `/face/liveness`, Krypton.
    Code,
    /// `{"errorCode": …, "errorMessage": …}`: `/ocr`.
    ErrorCode,
}

impl Shape {
    /// The names of the code and message members.
    pub fn fields(self) -> (&'static str, &'static str) {
        match self {
            Self::Code => ("code", "message"),
            Self::ErrorCode => ("errorCode", "errorMessage"),
        }
    }
}

/// A result code. The contract names success, 403, 3, 303 and 407; the rest are the
/// local engine's (HTTP-like numbers in the same member) or a back end's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `"0"` in the `errorCode` shape, `"200"` in the `code` shape.
    Success,
    /// `"403"`: the session expired, is unknown, or is bound to another device type.
    SessionExpired,
    /// `"3"`: the selected document was not found in the image.
    DocumentNotFound,
    /// `"303"`: the face does not match the document.
    FaceMismatch,
    /// `"407"`: more than one face in the selfie.
    MultipleFaces,
    /// `"401"`: missing or wrong API key.
    Unauthorized,
    /// `"400"`: a request the back end cannot take (ours: a missing header, no face).
    BadRequest,
    /// `"404"`: no such endpoint (ours).
    NotFound,
    /// `"405"`: wrong method (ours).
    MethodNotAllowed,
    /// `"413"`: a file over the size limit (ours).
    TooLarge,
    /// `"500"`: the engine failed inside (ours; logged there).
    Internal,
    /// `"503"`: too many open sessions, the enrolment store unavailable, or no turn for an
    /// upload in time (ours).
    Busy,
    /// `"429"`: too many wrong keys from this address; `Retry-After` says for how long (ours).
    TooManyRequests,
    /// `"412"`: an AUTH session for a customer with no enrolment (ours: the local engine's
    /// Krypton sessions).
    NotEnrolled,
    /// Any other code, as it came.
    Other(String),
}

impl Code {
    /// Reads a code as it came (`"303"` or `303`); `"0"` and `"200"` are both success.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "0" | "200" => Self::Success,
            "403" => Self::SessionExpired,
            "3" => Self::DocumentNotFound,
            "303" => Self::FaceMismatch,
            "407" => Self::MultipleFaces,
            "401" => Self::Unauthorized,
            "400" => Self::BadRequest,
            "404" => Self::NotFound,
            "405" => Self::MethodNotAllowed,
            "413" => Self::TooLarge,
            "500" => Self::Internal,
            "503" => Self::Busy,
            "412" => Self::NotEnrolled,
            "429" => Self::TooManyRequests,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as written in `shape`.
    pub fn as_str(&self, shape: Shape) -> &str {
        match self {
            Self::Success if shape == Shape::ErrorCode => "0",
            Self::Success => "200",
            Self::SessionExpired => "403",
            Self::DocumentNotFound => "3",
            Self::FaceMismatch => "303",
            Self::MultipleFaces => "407",
            Self::Unauthorized => "401",
            Self::BadRequest => "400",
            Self::NotFound => "404",
            Self::MethodNotAllowed => "405",
            Self::TooLarge => "413",
            Self::Internal => "500",
            Self::Busy => "503",
            Self::NotEnrolled => "412",
            Self::TooManyRequests => "429",
            Self::Other(code) => code,
        }
    }
}

/// An answer that is only a code and a message (every error, and `/ocr`'s "3").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReply {
    /// Which of the two error shapes the endpoint uses.
    pub shape: Shape,
    /// The code.
    pub code: Code,
    /// The message.
    pub message: String,
}

impl StatusReply {
    /// An answer of `shape` with `code` and `message`.
    pub fn new(shape: Shape, code: Code, message: impl Into<String>) -> Self {
        Self {
            shape,
            code,
            message: message.into(),
        }
    }

    /// Exactly as the engine writes it.
    pub fn to_json(&self) -> Value {
        let (code, message) = self.shape.fields();
        json!({code: self.code.as_str(self.shape), message: self.message})
    }

    /// Leniently, as a client reads any answer: the code from the shape's member, else
    /// from the other shape's (a back end that mixes them); the message likewise.
    pub fn from_json(shape: Shape, body: &Value) -> (Option<Code>, String) {
        let (code_field, message_field) = shape.fields();
        let code = code_of(body.get(code_field))
            .or_else(|| code_of(body.get("errorCode")))
            .or_else(|| code_of(body.get("code")));
        let message = body
            .get(message_field)
            .or_else(|| body.get("message"))
            .or_else(|| body.get("errorMessage"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        (code.as_deref().map(Code::parse), message)
    }
}

/// `/session/init`'s success: `{"code": "200", "message": "success", "session-id": …}`.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionInitReply {
    /// The new session's id.
    pub session_id: String,
}

impl SessionInitReply {
    /// Exactly as the engine writes it.
    pub fn to_json(&self) -> Value {
        json!({"code": "200", "message": "success", "session-id": self.session_id})
    }

    /// `None` when the answer names no session.
    pub fn from_json(body: &Value) -> Option<Self> {
        let session_id = body.get("session-id")?.as_str()?.trim();
        (!session_id.is_empty()).then(|| Self {
            session_id: session_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_writes_and_reads_its_own_members() {
        let ocr = StatusReply::new(Shape::ErrorCode, Code::DocumentNotFound, "not found");
        assert_eq!(
            ocr.to_json(),
            json!({"errorCode": "3", "errorMessage": "not found"})
        );
        assert_eq!(
            StatusReply::from_json(Shape::ErrorCode, &ocr.to_json()),
            (Some(Code::DocumentNotFound), "not found".into())
        );
        let face = StatusReply::new(Shape::Code, Code::Success, "ok").to_json();
        assert_eq!(face, json!({"code": "200", "message": "ok"}));
        assert_eq!(
            StatusReply::new(Shape::ErrorCode, Code::Success, "").to_json()["errorCode"],
            "0"
        );
    }

    #[test]
    fn codes_come_as_strings_or_numbers_and_unknown_ones_are_kept() {
        let (code, _) = StatusReply::from_json(Shape::Code, &json!({"code": 407}));
        assert_eq!(code, Some(Code::MultipleFaces));
        let (code, message) = StatusReply::from_json(
            Shape::Code,
            &json!({"errorCode": "12", "errorMessage": "x"}),
        );
        assert_eq!(code, Some(Code::Other("12".into())));
        assert_eq!(message, "x");
        assert_eq!(Code::Other("12".into()).as_str(Shape::Code), "12");
    }
}
