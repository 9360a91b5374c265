//! `/face/liveness`'s answer: how the engine writes it ([`FaceResult::to_json`]) and how a
//! client reads it ([`FaceResult::from_json`]), in one place. Booleans and numbers go on
//! the wire as strings (`"true"`, `"95.84"`) or `"N/A"`; in these types "N/A" is `None`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::wire::{
    self, append_unknown, bool_of, code_of, number_of, optional_text_of, text_of, unknown_keys,
};

/// The `liveness` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Liveness {
    /// "200", or the check's own failure code.
    pub code: Option<String>,
    /// The back end's message for the check.
    pub message: Option<String>,
    /// Whether a live person was seen; `None` for "N/A" (not evaluated).
    pub is_live: Option<bool>,
    /// The probability (0–1) that the picture is a spoof; `None` for "N/A".
    pub spoof_prob: Option<f32>,
    /// Whether a person should look at it; `None` for "N/A".
    pub need_to_review: Option<bool>,
    /// Whether it is a deepfake; `None` for "N/A".
    pub is_deepfake: Option<bool>,
    /// The probability (0–1) of a deepfake; `None` for "N/A".
    pub deepfake_prob: Option<f32>,
    /// What the back end could not do or wants known; `None` for "N/A".
    pub warning: Option<String>,
    /// Members this project does not know, as they came.
    #[serde(skip)]
    pub extra: Map<String, Value>,
}

const LIVENESS_MEMBERS: [&str; 9] = [
    "code",
    "message",
    "is_live",
    "isLive",
    "spoof_prob",
    "need_to_review",
    "is_deepfake",
    "deepfake_prob",
    "warning",
];

impl Liveness {
    fn from_json(object: &Map<String, Value>) -> Self {
        Self {
            code: code_of(object.get("code")),
            message: text_of(object.get("message")),
            is_live: bool_of(object.get("is_live").or_else(|| object.get("isLive"))),
            spoof_prob: number_of(object.get("spoof_prob")),
            need_to_review: bool_of(object.get("need_to_review")),
            is_deepfake: bool_of(object.get("is_deepfake")),
            deepfake_prob: number_of(object.get("deepfake_prob")),
            warning: optional_text_of(object.get("warning")),
            extra: unknown_keys(object, &LIVENESS_MEMBERS),
        }
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        write_code_and_message(&mut object, &self.code, &self.message);
        object.insert("is_live".into(), wire::bool_text(self.is_live));
        object.insert("spoof_prob".into(), wire::number_text(self.spoof_prob, 4));
        object.insert(
            "need_to_review".into(),
            wire::bool_text(self.need_to_review),
        );
        object.insert("is_deepfake".into(), wire::bool_text(self.is_deepfake));
        object.insert(
            "deepfake_prob".into(),
            wire::number_text(self.deepfake_prob, 4),
        );
        object.insert(
            "warning".into(),
            wire::optional_text(self.warning.as_deref()),
        );
        append_unknown(&mut object, &self.extra);
        Value::Object(object)
    }
}

/// The `face_match` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaceMatch {
    /// "200", or the check's own failure code ("303": no match).
    pub code: Option<String>,
    /// The back end's message for the check.
    pub message: Option<String>,
    /// Whether the selfie shows the document's holder; `None` for "N/A" (not evaluated).
    pub is_match: Option<bool>,
    /// Similarity in percent.
    pub similarity: Option<f32>,
    /// What the back end could not do or wants known; `None` for "N/A".
    pub warning: Option<String>,
    /// The embeddings' distance: the local engine's extension (`distance`), beyond the
    /// contract.
    #[serde(skip)]
    pub distance: Option<f32>,
    /// Members this project does not know, as they came.
    #[serde(skip)]
    pub extra: Map<String, Value>,
}

const FACE_MATCH_MEMBERS: [&str; 7] = [
    "code",
    "message",
    "isMatch",
    "is_match",
    "similarity",
    "warning",
    "distance",
];

impl FaceMatch {
    fn from_json(object: &Map<String, Value>) -> Self {
        Self {
            code: code_of(object.get("code")),
            message: text_of(object.get("message")),
            is_match: bool_of(object.get("isMatch").or_else(|| object.get("is_match"))),
            similarity: number_of(object.get("similarity")),
            warning: optional_text_of(object.get("warning")),
            distance: number_of(object.get("distance")),
            extra: unknown_keys(object, &FACE_MATCH_MEMBERS),
        }
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        write_code_and_message(&mut object, &self.code, &self.message);
        object.insert("isMatch".into(), wire::bool_text(self.is_match));
        object.insert("similarity".into(), wire::number_text(self.similarity, 2));
        if let Some(distance) = self.distance {
            object.insert("distance".into(), wire::number_text(Some(distance), 3));
        }
        object.insert(
            "warning".into(),
            wire::optional_text(self.warning.as_deref()),
        );
        append_unknown(&mut object, &self.extra);
        Value::Object(object)
    }
}

/// A `/face/liveness` answer, successful or not (303 and 407 carry one too).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaceResult {
    /// "200", or the failure's code ("303", "407", …).
    pub code: String,
    /// The back end's message, in the session's language.
    pub message: String,
    /// The `liveness` block, when the back end sent one.
    pub liveness: Option<Liveness>,
    /// The `face_match` block, when the back end sent one.
    pub face_match: Option<FaceMatch>,
    /// When false the customer may retry the selfie; when true the session is finished
    /// and a retry must start again from the document. Absent counts as false.
    pub is_complete_session: bool,
    /// The local engine's extension on a Krypton ENROLL with a customer id: whether the
    /// selfie became the customer's template.
    #[serde(skip)]
    pub enrolment: Option<Enrolment>,
    /// The local engine's extension when the session's chip was checked (`/chip/verify`):
    /// the selfie matched with the chip's photo, in `face_match`'s shape.
    #[serde(skip)]
    pub chip_face_match: Option<FaceMatch>,
    /// Members this project does not know, as they came.
    #[serde(skip)]
    pub extra: Map<String, Value>,
}

/// The `enrolment` block (the local engine's extension): the face kept for a later AUTH,
/// or why not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrolment {
    /// Whether the template was kept; `None` when the member was missing or not a
    /// boolean.
    pub enrolled: Option<bool>,
    /// Why it was not ("the selfie did not pass liveness"); written only then.
    pub reason: Option<String>,
}

impl Enrolment {
    /// Reads the block leniently.
    pub fn from_json(object: &Map<String, Value>) -> Self {
        Self {
            enrolled: bool_of(object.get("enrolled")),
            reason: text_of(object.get("reason")),
        }
    }

    /// The block as the engine writes it: `{"enrolled": true}`, or with the reason.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(enrolled) = self.enrolled {
            object.insert("enrolled".into(), Value::Bool(enrolled));
        }
        if let Some(reason) = &self.reason {
            object.insert("reason".into(), reason.clone().into());
        }
        Value::Object(object)
    }
}

const FACE_RESULT_MEMBERS: [&str; 7] = [
    "code",
    "message",
    "liveness",
    "face_match",
    "is_complete_session",
    "enrolment",
    "chip_face_match",
];

impl FaceResult {
    /// Reads an answer leniently: "N/A" and garbage become `None`, unknown members kept.
    pub fn from_json(body: &Value) -> Self {
        Self {
            code: code_of(body.get("code")).unwrap_or_default(),
            message: text_of(body.get("message")).unwrap_or_default(),
            liveness: body
                .get("liveness")
                .and_then(Value::as_object)
                .map(Liveness::from_json),
            face_match: body
                .get("face_match")
                .and_then(Value::as_object)
                .map(FaceMatch::from_json),
            is_complete_session: bool_of(body.get("is_complete_session")).unwrap_or(false),
            enrolment: body
                .get("enrolment")
                .and_then(Value::as_object)
                .map(Enrolment::from_json),
            chip_face_match: body
                .get("chip_face_match")
                .and_then(Value::as_object)
                .map(FaceMatch::from_json),
            extra: body
                .as_object()
                .map(|object| unknown_keys(object, &FACE_RESULT_MEMBERS))
                .unwrap_or_default(),
        }
    }

    /// The answer as the engine writes it, in the contract sample's shape.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("code".into(), self.code.clone().into());
        object.insert("message".into(), self.message.clone().into());
        if let Some(liveness) = &self.liveness {
            object.insert("liveness".into(), liveness.to_json());
        }
        if let Some(face_match) = &self.face_match {
            object.insert("face_match".into(), face_match.to_json());
        }
        object.insert(
            "is_complete_session".into(),
            Value::Bool(self.is_complete_session),
        );
        if let Some(enrolment) = &self.enrolment {
            object.insert("enrolment".into(), enrolment.to_json());
        }
        if let Some(chip_face_match) = &self.chip_face_match {
            object.insert("chip_face_match".into(), chip_face_match.to_json());
        }
        append_unknown(&mut object, &self.extra);
        Value::Object(object)
    }
}

fn write_code_and_message(
    object: &mut Map<String, Value>,
    code: &Option<String>,
    message: &Option<String>,
) {
    if let Some(code) = code {
        object.insert("code".into(), code.clone().into());
    }
    if let Some(message) = message {
        object.insert("message".into(), message.clone().into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn face_result_parses_the_contract_sample_and_keeps_not_applicable_as_none() {
        let body = json!({"code": "303", "message": "Khuôn mặt không khớp với giấy tờ",
            "liveness": {"code": "200", "message": "liveness check successful", "is_live": "true",
                "spoof_prob": "N/A", "need_to_review": "N/A", "is_deepfake": "N/A",
                "deepfake_prob": "N/A", "warning": "N/A"},
            "face_match": {"code": "303", "message": "face is not matching with document",
                "isMatch": "false", "similarity": "5.84", "warning": "N/A"},
            "is_complete_session": false});
        let result = FaceResult::from_json(&body);
        assert_eq!(result.code, "303");
        let liveness = result.liveness.clone().unwrap();
        assert_eq!(liveness.is_live, Some(true));
        assert_eq!(liveness.spoof_prob, None);
        assert_eq!(liveness.need_to_review, None);
        assert_eq!(liveness.warning, None);
        let face_match = result.face_match.clone().unwrap();
        assert_eq!(face_match.is_match, Some(false));
        assert_eq!(face_match.similarity, Some(5.84));
        assert!(!result.is_complete_session);
        assert_eq!(result.to_json(), body, "written back exactly as the sample");
    }

    #[test]
    fn the_engines_extensions_and_unknown_members_survive_a_round_trip() {
        let body = json!({"code": "200", "message": "ok",
            "face_match": {"code": "200", "message": "m", "isMatch": "true",
                "similarity": "94.32", "distance": "0.213", "warning": "N/A", "model": "x"},
            "is_complete_session": true, "request_id": "r-1"});
        let result = FaceResult::from_json(&body);
        assert_eq!(result.face_match.as_ref().unwrap().distance, Some(0.213));
        assert_eq!(result.extra["request_id"], "r-1");
        assert_eq!(result.to_json(), body);
    }

    #[test]
    fn the_enrolment_block_is_typed_and_written_back_as_read() {
        for body in [
            json!({"code": "200", "message": "ok", "is_complete_session": true,
                "enrolment": {"enrolled": true}}),
            json!({"code": "200", "message": "ok", "is_complete_session": true,
                "enrolment": {"enrolled": false, "reason": "the selfie did not pass liveness"}}),
        ] {
            let result = FaceResult::from_json(&body);
            let enrolment = result.enrolment.clone().unwrap();
            assert_eq!(enrolment.enrolled, body["enrolment"]["enrolled"].as_bool());
            assert!(
                result.extra.is_empty(),
                "not left untyped: {:?}",
                result.extra
            );
            assert_eq!(result.to_json(), body);
        }
        let garbled = json!({"code": "200", "message": "ok", "enrolment": {"enrolled": "N/A"}});
        assert_eq!(
            FaceResult::from_json(&garbled).enrolment.unwrap().enrolled,
            None
        );
    }
}
