//! `/ocr`'s answer: how the engine writes it ([`OcrResult::to_json`]) and how a client
//! reads it ([`OcrResult::from_json`]), in one place.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::values::FieldKey;
use super::wire::{self, append_unknown, number_of, text_of, unknown_keys};

/// Where a field's value came from: the local engine's extension (`source`), beyond the
/// contract; other back ends do not send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSource {
    /// The CCCD QR code: no confidence figure, its error correction vouches for it.
    Qr,
    /// An MRZ whose check digits all hold.
    Mrz,
    /// Printed text, read by OCR, with its confidence.
    Ocr,
}

impl FieldSource {
    /// The name the engine writes in `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qr => "qr",
            Self::Mrz => "mrz",
            Self::Ocr => "ocr",
        }
    }

    /// Reads a `source` member; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "qr" => Some(Self::Qr),
            "mrz" => Some(Self::Mrz),
            "ocr" => Some(Self::Ocr),
            _ => None,
        }
    }
}

/// One OCR field, in the order the server sent it. Every value is untrusted text.
/// Serialised (for `submit --json`) as key, label, value, score, locale.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OcrField {
    /// Stable key (`ID`, `Name`, `Date of birth`, …); unknown keys are kept as they come.
    pub key: String,
    /// The printed label on the card (the contract's `name`), e.g. "Họ và tên".
    pub label: String,
    /// The value as read (untrusted text).
    pub value: String,
    /// Confidence in percent; `None` when the server says "N/A" or sends nothing usable.
    pub score: Option<f32>,
    /// The value's locale, when the server says (`vi`, `en`).
    pub locale: Option<String>,
    /// The local engine's `source`, when it came.
    #[serde(skip)]
    pub source: Option<FieldSource>,
    /// Members this project does not know, as they came.
    #[serde(skip)]
    pub extra: Map<String, Value>,
}

/// OCR values are a customer's personal data: zeroed when dropped, wherever a copy was.
impl Drop for OcrField {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.value.zeroize();
        self.label.zeroize();
        self.key.zeroize();
        self.extra.clear();
    }
}

const FIELD_MEMBERS: [&str; 6] = ["key", "name", "value", "score", "locale", "source"];

impl OcrField {
    /// A field of ours, as the engine writes it.
    pub fn new(key: FieldKey, label: &str, value: String, score: Option<f32>) -> Self {
        Self {
            key: key.as_str().to_owned(),
            label: label.to_owned(),
            value,
            score,
            locale: Some("vn".to_owned()),
            source: None,
            extra: Map::new(),
        }
    }

    /// The key, when it is one this project knows.
    pub fn field_key(&self) -> Option<FieldKey> {
        FieldKey::parse(&self.key)
    }

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
            source: text_of(object.get("source")).and_then(|text| FieldSource::parse(&text)),
            extra: unknown_keys(object, &FIELD_MEMBERS),
        })
    }

    fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("key".into(), self.key.clone().into());
        object.insert("name".into(), self.label.clone().into());
        object.insert("value".into(), self.value.clone().into());
        object.insert("score".into(), wire::number_text(self.score, 2));
        if let Some(locale) = &self.locale {
            object.insert("locale".into(), locale.clone().into());
        }
        if let Some(source) = self.source {
            object.insert("source".into(), source.as_str().into());
        }
        append_unknown(&mut object, &self.extra);
        Value::Object(object)
    }
}

/// A successful `/ocr` answer (`errorCode` "0").
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OcrResult {
    /// The fields, in the server's order.
    pub fields: Vec<OcrField>,
    /// What the back end could not do (the local engine's extension: e.g. no OCR
    /// installed, only the QR code read).
    #[serde(skip)]
    pub warning: Option<String>,
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
        Self {
            fields,
            warning: wire::optional_text_of(body.get("warning")),
        }
    }

    /// The answer as the engine writes it.
    pub fn to_json(&self) -> Value {
        let data: Vec<Value> = self.fields.iter().map(OcrField::to_json).collect();
        let mut body =
            json!({"errorCode": "0", "errorMessage": "", "data": data, "total_data": []});
        if let Some(warning) = &self.warning {
            body["warning"] = Value::String(warning.clone());
        }
        body
    }

    /// The first field with `key`.
    pub fn field(&self, key: &str) -> Option<&OcrField> {
        self.fields.iter().find(|field| field.key == key)
    }

    /// Appends fields, replacing none: used when front and back are read in two calls.
    pub fn extend(&mut self, other: OcrResult) {
        self.fields.extend(other.fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn what_the_engine_writes_a_client_reads_back_unchanged() {
        let mut field = OcrField::new(FieldKey::Id, "Số / No.", "079203004512".into(), None);
        field.source = Some(FieldSource::Qr);
        field.extra.insert("bbox".into(), json!([1, 2, 3, 4]));
        let written = OcrResult {
            fields: vec![
                field,
                OcrField::new(FieldKey::Home, "Quê quán", "Tân Bình".into(), Some(96.789)),
            ],
            warning: Some("only the QR code was read".into()),
        };
        let body = written.to_json();
        assert_eq!(body["errorCode"], "0");
        assert_eq!(body["data"][0]["score"], "N/A");
        assert_eq!(body["data"][0]["source"], "qr");
        assert_eq!(body["data"][0]["bbox"], json!([1, 2, 3, 4]));
        assert_eq!(body["data"][1]["score"], "96.79");
        let read = OcrResult::from_json(&body);
        assert_eq!(read.fields[0], written.fields[0]);
        assert_eq!(read.fields[1].score, Some(96.79));
        assert_eq!(read.warning, written.warning);
        assert_eq!(read.fields[0].field_key(), Some(FieldKey::Id));
    }

    #[test]
    fn submit_json_keeps_its_schema() {
        let field = OcrField::new(FieldKey::Sex, "Giới tính", "Nữ".into(), Some(95.0));
        let json = serde_json::to_value(&field).unwrap();
        assert_eq!(
            json,
            json!({"key": "Sex", "label": "Giới tính", "value": "Nữ", "score": 95.0, "locale": "vn"})
        );
    }
}
