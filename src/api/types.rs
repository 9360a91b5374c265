//! The FPT.AI contract's values as types. Parsing happens here, once, at the edge:
//! booleans and numbers arrive as strings (`"true"`, `"95.84"`), as JSON numbers, or as
//! `"N/A"`, and every "N/A" becomes an explicit `None`, never a default that looks real.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The `document-type` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DocumentType {
    /// `idr`: identity card (CCCD / CMND).
    Idr,
    /// `passport`: one data page, one image.
    Passport,
    /// `dlr`: driver licence.
    Dlr,
}

impl DocumentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idr => "idr",
            Self::Passport => "passport",
            Self::Dlr => "dlr",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "idr" => Some(Self::Idr),
            "passport" => Some(Self::Passport),
            "dlr" => Some(Self::Dlr),
            _ => None,
        }
    }

    /// A passport is one page: it has no back side.
    pub fn has_back(self) -> bool {
        !matches!(self, Self::Passport)
    }
}

/// The `side-type` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The side with the photo; must be sent first.
    Front,
    /// The other side; only after the front in the same session.
    Back,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "front" => Some(Self::Front),
            "back" => Some(Self::Back),
            _ => None,
        }
    }
}

/// The `lang` header: the language of the back end's messages.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the contract's default).
    #[default]
    En,
    /// Vietnamese.
    Vi,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Vi => "vi",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "vi" => Some(Self::Vi),
            _ => None,
        }
    }
}

/// One OCR field, in the order the server sent it. Every value is untrusted text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OcrField {
    /// Stable key (`ID`, `Name`, `Date of birth`, …); unknown keys are kept as they come.
    pub key: String,
    /// The printed label on the card (the contract's `name`), e.g. "Họ và tên".
    pub label: String,
    pub value: String,
    /// Confidence in percent; `None` when the server says "N/A" or sends nothing usable.
    pub score: Option<f32>,
    pub locale: Option<String>,
}

/// OCR values are a customer's personal data: zeroed when dropped, wherever a copy was.
impl Drop for OcrField {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.value.zeroize();
        self.label.zeroize();
        self.key.zeroize();
    }
}

/// A successful `/ocr` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OcrResult {
    pub fields: Vec<OcrField>,
}

impl OcrResult {
    /// Reads `data` from an `/ocr` body. Entries that are not objects, or carry neither a
    /// key nor a value, are skipped: the PDF-extracted samples are full of empty `{}`.
    pub fn from_json(body: &Value) -> Self {
        let fields = body
            .get("data")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(OcrField::from_json).collect())
            .unwrap_or_default();
        Self { fields }
    }

    pub fn field(&self, key: &str) -> Option<&OcrField> {
        self.fields.iter().find(|field| field.key == key)
    }

    /// Appends fields, replacing none: used when front and back are read in two calls.
    pub fn extend(&mut self, other: OcrResult) {
        self.fields.extend(other.fields);
    }
}

impl OcrField {
    fn from_json(entry: &Value) -> Option<Self> {
        let object = entry.as_object()?;
        let key = text_of(object.get("key")).unwrap_or_default();
        let value = text_of(object.get("value")).unwrap_or_default();
        if key.is_empty() && value.is_empty() {
            return None;
        }
        Some(Self {
            label: text_of(object.get("name")).unwrap_or_else(|| key.clone()),
            key,
            value,
            score: number_of(object.get("score")),
            locale: text_of(object.get("locale")),
        })
    }
}

/// The `liveness` block of `/face/liveness`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Liveness {
    pub code: Option<String>,
    pub message: Option<String>,
    pub is_live: Option<bool>,
    pub spoof_prob: Option<f32>,
    pub need_to_review: Option<bool>,
    pub is_deepfake: Option<bool>,
    pub deepfake_prob: Option<f32>,
    pub warning: Option<String>,
}

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
            warning: not_applicable_to_none(text_of(object.get("warning"))),
        }
    }
}

/// The `face_match` block of `/face/liveness`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaceMatch {
    pub code: Option<String>,
    pub message: Option<String>,
    pub is_match: Option<bool>,
    /// Similarity in percent.
    pub similarity: Option<f32>,
    pub warning: Option<String>,
}

impl FaceMatch {
    fn from_json(object: &Map<String, Value>) -> Self {
        Self {
            code: code_of(object.get("code")),
            message: text_of(object.get("message")),
            is_match: bool_of(object.get("isMatch").or_else(|| object.get("is_match"))),
            similarity: number_of(object.get("similarity")),
            warning: not_applicable_to_none(text_of(object.get("warning"))),
        }
    }
}

/// A `/face/liveness` answer, successful or not (303 and 407 carry one too).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FaceResult {
    pub code: String,
    pub message: String,
    pub liveness: Option<Liveness>,
    pub face_match: Option<FaceMatch>,
    /// When false the customer may retry the selfie; when true the session is finished
    /// and a retry must start again from the document. Absent counts as false.
    pub is_complete_session: bool,
}

impl FaceResult {
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
        }
    }
}

/// A code that may come as `"303"` or `303`.
pub(crate) fn code_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn is_not_applicable(text: &str) -> bool {
    let text = text.trim();
    text.is_empty() || text.eq_ignore_ascii_case("n/a") || text.eq_ignore_ascii_case("null")
}

fn not_applicable_to_none(text: Option<String>) -> Option<String> {
    text.filter(|text| !is_not_applicable(text))
}

/// A score or probability: a JSON number or a numeric string (a trailing `%` allowed).
/// "N/A", garbage and non-finite numbers are `None`.
pub fn number_of(value: Option<&Value>) -> Option<f32> {
    let number = match value? {
        Value::Number(number) => number.as_f64()? as f32,
        Value::String(text) if !is_not_applicable(text) => text
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse::<f32>()
            .ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// A boolean: `true`, `"true"`, `"True"`, `"1"`… "N/A" and anything else is `None`.
pub fn bool_of(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scores_come_as_strings_numbers_or_not_applicable() {
        assert_eq!(number_of(Some(&json!("98.66"))), Some(98.66));
        assert_eq!(number_of(Some(&json!(" 95.4 % "))), Some(95.4));
        assert_eq!(number_of(Some(&json!(87))), Some(87.0));
        assert_eq!(number_of(Some(&json!("N/A"))), None);
        assert_eq!(number_of(Some(&json!("n/a"))), None);
        assert_eq!(number_of(Some(&json!(""))), None);
        assert_eq!(number_of(Some(&json!("NaN"))), None);
        assert_eq!(number_of(Some(&json!("high"))), None);
        assert_eq!(number_of(Some(&json!(null))), None);
        assert_eq!(number_of(None), None);
    }

    #[test]
    fn booleans_come_as_strings_or_not_applicable() {
        assert_eq!(bool_of(Some(&json!("true"))), Some(true));
        assert_eq!(bool_of(Some(&json!("False"))), Some(false));
        assert_eq!(bool_of(Some(&json!(true))), Some(true));
        assert_eq!(bool_of(Some(&json!("N/A"))), None);
        assert_eq!(bool_of(Some(&json!("maybe"))), None);
    }

    #[test]
    fn ocr_fields_keep_server_order_unknown_keys_and_skip_empty_entries() {
        let body = json!({"errorCode": "0", "errorMessage": "", "data": [
            {"key": "Name", "name": "Họ và tên", "value": "NGUYỄN VĂN A", "score": "99.71", "locale": "vn"},
            {},
            "garbage",
            {"key": "Blood type", "name": "Nhóm máu", "value": "O", "score": 97},
            {"key": "ID", "name": "Số/ No", "value": "001099012345", "score": "N/A", "locale": "vn"}
        ], "total_data": []});
        let result = OcrResult::from_json(&body);
        let keys: Vec<_> = result.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["Name", "Blood type", "ID"]);
        assert_eq!(result.fields[0].score, Some(99.71));
        assert_eq!(result.fields[1].score, Some(97.0));
        assert_eq!(result.fields[2].score, None);
        assert_eq!(result.field("Name").unwrap().label, "Họ và tên");
    }

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
        let liveness = result.liveness.unwrap();
        assert_eq!(liveness.is_live, Some(true));
        assert_eq!(liveness.spoof_prob, None);
        assert_eq!(liveness.need_to_review, None);
        assert_eq!(liveness.warning, None);
        let face_match = result.face_match.unwrap();
        assert_eq!(face_match.is_match, Some(false));
        assert_eq!(face_match.similarity, Some(5.84));
        assert!(!result.is_complete_session);
    }
}
