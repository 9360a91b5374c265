//! `ekyc-kiosk mrz`: MRZ lines on standard input → the fields and every check's verdict.
//! Exit 0 when every check holds, 3 when one fails, 2 when the text is no MRZ.

use std::io::Read;
use std::process::ExitCode;

use serde::Serialize;

use ekyc_reading::mrz::{Check, Mrz, MrzFormat};
use ekyc_reading::{parse_mrz, CardDate};

/// More than any MRZ (3 × 30 or 2 × 44 characters) with generous blank space around it.
const MAX_INPUT_BYTES: u64 = 64 * 1024;

#[derive(Serialize)]
struct MrzReport<'a> {
    schema: &'static str,
    valid: bool,
    exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    mrz: Option<&'a Mrz>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(json: bool) -> ExitCode {
    let mut bytes = Vec::new();
    let read = std::io::stdin()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes);
    let parsed = match read {
        Err(error) => Err(format!("cannot read standard input: {error}")),
        Ok(_) if bytes.len() as u64 > MAX_INPUT_BYTES => Err(format!(
            "more than {} KiB on standard input: an MRZ is 2 or 3 short lines",
            MAX_INPUT_BYTES / 1024
        )),
        Ok(_) => match String::from_utf8(bytes) {
            Err(_) => Err("standard input is not text (UTF-8)".to_owned()),
            Ok(text) => parse_mrz(&text, CardDate::today()).map_err(|error| error.to_string()),
        },
    };
    let (mrz, error) = match &parsed {
        Ok(mrz) => (Some(mrz), None),
        Err(error) => (None, Some(error.clone())),
    };
    let exit_code = match mrz {
        None => 2,
        Some(mrz) if mrz.is_valid() => 0,
        Some(_) => 3,
    };
    if json {
        let report = MrzReport {
            schema: "ekyc-kiosk/mrz/1",
            valid: exit_code == 0,
            exit_code,
            mrz,
            error,
        };
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("error: cannot write the report: {error}"),
        }
    } else {
        match (mrz, error) {
            (Some(mrz), _) => print!("{}", render(mrz, CardDate::today())),
            (None, Some(error)) => {
                eprintln!("error: {error}");
                eprintln!("(paste the 2 or 3 MRZ lines, e.g. `ekyc-kiosk mrz < lines.txt`)");
            }
            (None, None) => {}
        }
    }
    ExitCode::from(exit_code)
}

/// The fields, then one line per check, then the verdict.
pub fn render(mrz: &Mrz, today: CardDate) -> String {
    let expiry = match mrz.date_of_expiry {
        Some(expiry) if expiry < today => format!("{expiry} (expired)"),
        Some(expiry) => expiry.to_string(),
        None => "(not a date)".to_owned(),
    };
    let date = |date: Option<CardDate>| date.map_or("(not a date)".to_owned(), |d| d.to_string());
    let format = match mrz.format {
        MrzFormat::Td1 => "TD1 (ID card, 3 lines of 30)",
        MrzFormat::Td2 => "TD2 (2 lines of 36)",
        MrzFormat::Td3 => "TD3 (passport, 2 lines of 44)",
    };
    let mut rows = vec![
        ("Format", format.to_owned()),
        (
            "Document",
            format!("{} issued by {}", mrz.document_code, mrz.issuing_state),
        ),
        ("Number", mrz.document_number.clone()),
    ];
    if let Some(id) = &mrz.vn_id {
        rows.push(("ID (12 digits)", id.clone()));
    }
    rows.extend([
        ("Surname", mrz.surname.clone()),
        ("Given names", mrz.given_names.clone()),
        ("Nationality", mrz.nationality.clone()),
        ("Date of birth", date(mrz.date_of_birth)),
        (
            "Sex",
            mrz.sex.map_or("unspecified".to_owned(), String::from),
        ),
        ("Date of expiry", expiry),
        ("Optional data", mrz.optional_data.clone()),
    ]);
    let mut text = String::new();
    for (label, value) in rows {
        text.push_str(&format!("  {label:<16} {value}\n"));
    }
    text.push_str("Checks:\n");
    for check in &mrz.checks {
        text.push_str(&format!("  {}\n", render_check(check)));
    }
    text.push_str(if mrz.is_valid() {
        "Verdict: every check holds\n"
    } else {
        "Verdict: FAILED: a check does not hold; the lines were misread or altered\n"
    });
    text
}

fn render_check(check: &Check) -> String {
    let verdict = if check.ok { "ok" } else { "FAILED" };
    let digits = match (check.printed, check.computed) {
        (Some(printed), Some(computed)) => format!("printed {printed}, computed {computed}"),
        (Some(printed), None) => format!("printed {printed}"),
        _ => String::new(),
    };
    let problem = check
        .problem
        .as_deref()
        .map(|p| format!("; {p}"))
        .unwrap_or_default();
    format!("{:<17} {verdict:<7} {digits}{problem}", check.field.label())
}
