//! The Krypton v3 eKYC session request: `POST {url}/api/v3/ekyc`.
//!
//! The vendor's parameter table is flat but both of its samples nest everything except
//! `companyId` and `sessionTypes` under `extra`; the samples are the wire format. The
//! response body is not documented: a client returns it as received, and the local
//! engine answers with [`KryptonSessionReply`] (its own shape, documented in
//! `docs/contract.md`).

use serde::{Deserialize, Serialize};

use ekyc_secrets::Secret;

/// `extra.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum KryptonAction {
    /// Onboard a new customer.
    Enroll,
    /// Verify a returning customer's face against the enrolled one.
    Auth,
    /// Liveness only.
    Liveness,
}

impl KryptonAction {
    /// As on the wire: `ENROLL`, `AUTH`, `LIVENESS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enroll => "ENROLL",
            Self::Auth => "AUTH",
            Self::Liveness => "LIVENESS",
        }
    }
}

/// A member of `sessionTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SessionType {
    /// Enrolment of a face.
    Enroll,
    /// Reading a document.
    Ocr,
    /// Authentication against an enrolled face.
    Auth,
    /// A liveness check.
    Liveness,
}

/// `extra.flow`: which is captured first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KryptonFlow {
    /// The document, then the face.
    CardFirst,
    /// The face, then the document.
    FaceFirst,
}

/// `extra.model`: the liveness model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LivenessModel {
    /// Active: the user follows a moving dot with the eyes while frames are captured.
    Gaze,
    /// One selfie.
    Passive,
}

/// The `extra` object. `userId` is the bank's customer id: `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonExtra {
    /// What the session does: ENROLL, AUTH or LIVENESS.
    pub action: KryptonAction,
    /// ENROLL with OCR: card first or face first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<KryptonFlow>,
    /// The liveness model: `passive` (one selfie) or `gaze` (the challenge).
    pub model: LivenessModel,
    /// The bank's customer id (personal data: never logged).
    pub user_id: String,
    /// `krPath`: the Krypton server path for the eKYC data exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kr_path: Option<String>,
}

impl std::fmt::Debug for KryptonExtra {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KryptonExtra")
            .field("action", &self.action)
            .field("flow", &self.flow)
            .field("model", &self.model)
            .field("kr_path", &self.kr_path)
            .finish_non_exhaustive()
    }
}

/// The request body, exactly as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonRequest {
    /// A credential: redacted in `Debug`.
    pub company_id: Secret,
    /// What the session is for (ENROLL, OCR, AUTH, LIVENESS), as the contract lists them.
    pub session_types: Vec<SessionType>,
    /// The action, flow, model and customer.
    pub extra: KryptonExtra,
}

/// A Krypton request the contract does not allow; the message names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No `companyId`.
    #[error("companyId is required")]
    NoCompanyId,
    /// An empty `sessionTypes`.
    #[error("sessionTypes must name at least one session type")]
    NoSessionType,
    /// No `extra.userId`.
    #[error("extra.userId is required")]
    NoUserId,
    /// An `extra.krPath` that is no address.
    #[error("extra.krPath must be an http(s) URL")]
    KrPathNotUrl,
}

impl KryptonRequest {
    /// Checks what the contract requires beyond the allowed values (which the types
    /// already enforce). The message names the field.
    ///
    /// The parameter table says `flow` is required when ENROLL includes OCR, but the
    /// vendor's own curl sample sends exactly that without one: a missing `flow` is
    /// accepted and means [`KryptonFlow::CardFirst`] ([`Self::flow`]); our client always
    /// sends it.
    pub fn validate(&self) -> Result<(), RequestError> {
        if self.company_id.is_empty() {
            return Err(RequestError::NoCompanyId);
        }
        self.validate_without_company_id()
    }

    /// [`Self::validate`] but for `companyId`, which a bank's gateway fills in on the way
    /// (`network.gateway`).
    pub fn validate_without_company_id(&self) -> Result<(), RequestError> {
        if self.session_types.is_empty() {
            return Err(RequestError::NoSessionType);
        }
        if self.extra.user_id.trim().is_empty() {
            return Err(RequestError::NoUserId);
        }
        if let Some(path) = &self.extra.kr_path {
            if !(path.starts_with("https://") || path.starts_with("http://")) {
                return Err(RequestError::KrPathNotUrl);
            }
        }
        Ok(())
    }
}

impl KryptonRequest {
    /// `extra.flow`, or card first when it is missing (the vendor's sample).
    pub fn flow(&self) -> KryptonFlow {
        self.extra.flow.unwrap_or(KryptonFlow::CardFirst)
    }
}

/// The local engine's answer to a valid request (HTTP 200, code "200"). Its session id
/// is then used with the FPT.AI-shaped calls (`/ocr`, `/face/liveness`) at `krPath`,
/// which behave as `action` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonSessionReply {
    /// "200", or the failure's code.
    pub code: String,
    /// The back end's message.
    pub message: String,
    /// The session id for the FPT.AI-shaped calls that follow.
    pub session_id: String,
    /// The session types accepted.
    pub session_types: Vec<SessionType>,
    /// The action in force.
    pub action: KryptonAction,
    /// The flow in force: the request's, or card first when it named none.
    pub flow: KryptonFlow,
    /// The liveness model in force.
    pub model: LivenessModel,
    /// Where the session's data exchange goes (`/ocr`, `/face/liveness`).
    pub kr_path: String,
}

impl KryptonSessionReply {
    /// A new session for `request`, its data exchange at `kr_path`.
    pub fn created(request: &KryptonRequest, session_id: String, kr_path: String) -> Self {
        Self {
            code: "200".into(),
            message: "session created".into(),
            session_id,
            session_types: request.session_types.clone(),
            action: request.extra.action,
            flow: request.flow(),
            model: request.extra.model,
            kr_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enrol(flow: Option<KryptonFlow>) -> KryptonRequest {
        KryptonRequest {
            company_id: Secret::new("bank-42"),
            session_types: vec![SessionType::Enroll, SessionType::Ocr],
            extra: KryptonExtra {
                action: KryptonAction::Enroll,
                flow,
                model: LivenessModel::Gaze,
                user_id: "customer-7".into(),
                kr_path: Some("https://krypton.example/ekyc".into()),
            },
        }
    }

    #[test]
    fn request_matches_the_documented_wire_format() {
        let body = serde_json::to_value(enrol(Some(KryptonFlow::CardFirst))).unwrap();
        assert_eq!(
            body,
            json!({"companyId": "bank-42", "sessionTypes": ["ENROLL", "OCR"],
                   "extra": {"action": "ENROLL", "flow": "card_first", "model": "gaze",
                             "userId": "customer-7", "krPath": "https://krypton.example/ekyc"}})
        );
    }

    #[test]
    fn the_vendors_sample_without_a_flow_is_card_first() {
        // The vendor's curl sample: ENROLL with OCR and no flow.
        let sample = json!({"companyId": "c", "sessionTypes": ["ENROLL", "OCR"],
                            "extra": {"action": "ENROLL", "model": "gaze", "userId": "u"}});
        let request: KryptonRequest = serde_json::from_value(sample).unwrap();
        assert!(request.validate().is_ok());
        assert_eq!(request.flow(), KryptonFlow::CardFirst);
        assert_eq!(
            enrol(Some(KryptonFlow::FaceFirst)).flow(),
            KryptonFlow::FaceFirst
        );
    }

    #[test]
    fn values_outside_the_allowed_sets_are_refused_when_parsed() {
        let body = json!({"companyId": "c", "sessionTypes": ["ENROLL"],
                          "extra": {"action": "DELETE", "model": "gaze", "userId": "u"}});
        assert!(serde_json::from_value::<KryptonRequest>(body).is_err());
        let body = json!({"companyId": "c", "sessionTypes": ["ENROLL"],
                          "extra": {"action": "AUTH", "model": "active", "userId": "u"}});
        assert!(serde_json::from_value::<KryptonRequest>(body).is_err());
    }

    #[test]
    fn empty_required_values_are_named() {
        let mut request = enrol(Some(KryptonFlow::CardFirst));
        request.extra.user_id = " ".into();
        assert!(request
            .validate()
            .unwrap_err()
            .to_string()
            .contains("userId"));
        request.company_id = Secret::new("");
        assert!(request
            .validate()
            .unwrap_err()
            .to_string()
            .contains("companyId"));
        assert!(
            !format!("{request:?}").contains("bank-42"),
            "the company id never prints"
        );
        let request = enrol(Some(KryptonFlow::CardFirst));
        assert!(
            !format!("{request:?}").contains("customer-7"),
            "nor the customer id"
        );
    }
}
