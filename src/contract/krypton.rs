//! The Krypton v3 eKYC session request: `POST {url}/api/v3/ekyc`.
//!
//! The vendor's parameter table is flat but both of its samples nest everything except
//! `companyId` and `sessionTypes` under `extra`; the samples are the wire format. The
//! response body is not documented: a client returns it as received, and the local
//! engine answers with [`KryptonSessionReply`] (its own shape, documented in
//! `docs/contract.md`).

use serde::{Deserialize, Serialize};

use super::secret::Secret;

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

/// The `extra` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonExtra {
    pub action: KryptonAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<KryptonFlow>,
    pub model: LivenessModel,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kr_path: Option<String>,
}

/// The request body, exactly as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonRequest {
    /// A credential: redacted in `Debug`.
    pub company_id: Secret,
    pub session_types: Vec<SessionType>,
    pub extra: KryptonExtra,
}

impl KryptonRequest {
    /// Checks what the contract requires beyond the allowed values (which the types
    /// already enforce). The message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.company_id.is_empty() {
            return Err("companyId is required".into());
        }
        if self.session_types.is_empty() {
            return Err("sessionTypes must name at least one session type".into());
        }
        if self.extra.user_id.trim().is_empty() {
            return Err("extra.userId is required".into());
        }
        if self.extra.action == KryptonAction::Enroll
            && self.session_types.contains(&SessionType::Ocr)
            && self.extra.flow.is_none()
        {
            return Err(
                "extra.flow (card_first or face_first) is required when ENROLL includes OCR".into(),
            );
        }
        if let Some(path) = &self.extra.kr_path {
            if !(path.starts_with("https://") || path.starts_with("http://")) {
                return Err("extra.krPath must be an http(s) URL".into());
            }
        }
        Ok(())
    }
}

/// The local engine's answer to a valid request (HTTP 200, code "200").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KryptonSessionReply {
    pub code: String,
    pub message: String,
    pub session_id: String,
    pub session_types: Vec<SessionType>,
    pub action: KryptonAction,
    pub model: LivenessModel,
}

impl KryptonSessionReply {
    /// A new session for `request`.
    pub fn created(request: &KryptonRequest, session_id: String) -> Self {
        Self {
            code: "200".into(),
            message: "session created".into(),
            session_id,
            session_types: request.session_types.clone(),
            action: request.extra.action,
            model: request.extra.model,
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
    fn flow_is_required_when_enroll_includes_ocr() {
        assert!(enrol(Some(KryptonFlow::FaceFirst)).validate().is_ok());
        let error = enrol(None).validate().unwrap_err();
        assert!(error.contains("extra.flow"), "{error}");
        let mut liveness_only = enrol(None);
        liveness_only.extra.action = KryptonAction::Liveness;
        liveness_only.session_types = vec![SessionType::Liveness];
        assert!(liveness_only.validate().is_ok());
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
        assert!(request.validate().unwrap_err().contains("userId"));
        request.company_id = Secret::new("");
        assert!(request.validate().unwrap_err().contains("companyId"));
        assert!(
            !format!("{request:?}").contains("bank-42"),
            "the company id never prints"
        );
    }
}
