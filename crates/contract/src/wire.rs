//! The contract's scalars. Read leniently (booleans and numbers arrive as strings, as JSON
//! values, or as `"N/A"`; every "N/A" becomes `None`, never a default that looks real);
//! written exactly as the contract's samples show them (strings, `"N/A"` for nothing).

use serde_json::{Map, Value};

/// A code that may come as `"303"` or `303`.
pub fn code_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Text, or a number or boolean as text.
pub fn text_of(value: Option<&Value>) -> Option<String> {
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

/// Text where "N/A" (or nothing) means there is none: a `warning`.
pub fn optional_text_of(value: Option<&Value>) -> Option<String> {
    text_of(value).filter(|text| !is_not_applicable(text))
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

/// The contract's "nothing measured".
pub const NOT_APPLICABLE: &str = "N/A";

/// A number as the contract writes it: a string with `decimals` digits, or "N/A".
pub fn number_text(number: Option<f32>, decimals: usize) -> Value {
    Value::String(match number {
        Some(number) => format!("{number:.decimals$}"),
        None => NOT_APPLICABLE.to_owned(),
    })
}

/// A boolean as the contract writes it: `"true"`, `"false"` or "N/A".
pub fn bool_text(flag: Option<bool>) -> Value {
    Value::String(match flag {
        Some(flag) => flag.to_string(),
        None => NOT_APPLICABLE.to_owned(),
    })
}

/// Optional text as the contract writes it: the text, or "N/A".
pub fn optional_text(text: Option<&str>) -> Value {
    Value::String(text.unwrap_or(NOT_APPLICABLE).to_owned())
}

/// The members of `object` not named in `known`: kept as they came, so that a reply read
/// and written again loses nothing.
pub fn unknown_keys(object: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| !known.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Adds the kept unknown members to a written object (a known key is never overwritten).
pub fn append_unknown(object: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        object.entry(key.clone()).or_insert_with(|| value.clone());
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
    fn values_are_written_as_the_contract_samples_show_them() {
        assert_eq!(number_text(Some(95.844), 2), json!("95.84"));
        assert_eq!(number_text(None, 2), json!("N/A"));
        assert_eq!(bool_text(Some(false)), json!("false"));
        assert_eq!(bool_text(None), json!("N/A"));
        assert_eq!(optional_text(None), json!("N/A"));
    }
}
