//! Does the back end's OCR agree with what the card itself proves? For each field a card
//! carries in machine-readable form (its CCCD QR code, its MRZ), a verdict: agrees,
//! differs, or not available. An MRZ whose check digits fail proves nothing and is not
//! used; neither is a field the OCR did not return.
//!
//! Comparisons: the ID digit for digit; dates as calendar dates; sex as M/F whatever the
//! language; the name case-insensitively against the QR code (which keeps diacritics),
//! and without diacritics against the MRZ (which has none).

use serde::Serialize;
use zeroize::Zeroize;

use super::{CardDate, CccdQr, Mrz};
use ekyc_contract::{FieldKey, OcrField};

/// The fields a card can prove, by their OCR keys (the contract's).
pub const CROSS_CHECKED_KEYS: [FieldKey; 6] = [
    FieldKey::Id,
    FieldKey::Name,
    FieldKey::DateOfBirth,
    FieldKey::Sex,
    FieldKey::ExpiredDate,
    FieldKey::IssueDate,
];

/// What the card says of a field the back end read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// The card says the same.
    Agrees,
    /// The card says otherwise (its value in `card_value`).
    Differs,
    /// The OCR did not return the field, or nothing on the card proves it.
    NotAvailable,
}

/// Where the card's own value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    /// The CCCD QR code.
    Qr,
    /// The MRZ, every check digit holding.
    Mrz,
    /// The card's chip (its DG13, else its DG1), as read through a card reader.
    Chip,
}

/// What the card's chip says of the cross-checked fields (the kiosk reads it: DG13, and
/// DG1 for what DG13 lacks). Personal data: zeroed on drop, and `Debug` leaves it out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChipFacts {
    /// The 12-digit number.
    pub id: Option<String>,
    /// The full name, with its diacritics.
    pub name: Option<String>,
    /// The date of birth.
    pub date_of_birth: Option<CardDate>,
    /// `M` or `F`.
    pub sex: Option<char>,
    /// The date of expiry.
    pub date_of_expiry: Option<CardDate>,
    /// The date of issue.
    pub date_of_issue: Option<CardDate>,
}

impl ChipFacts {
    /// Reads a date as the CCCD's chip writes it, `dd/mm/yyyy`.
    pub fn date(text: &str) -> Option<CardDate> {
        parse_date(text)
    }

    /// `M` or `F` from "Nam" / "Nữ" (or the MRZ's letter).
    pub fn sex(text: &str) -> Option<char> {
        normalise_sex(text)
    }

    fn value(&self, key: FieldKey) -> Option<CardValue> {
        match key {
            FieldKey::Id => self.id.clone().map(CardValue::Digits),
            FieldKey::Name => self.name.clone().map(CardValue::Text),
            FieldKey::DateOfBirth => self.date_of_birth.map(CardValue::Date),
            FieldKey::Sex => self.sex.map(CardValue::Sex),
            FieldKey::ExpiredDate => self.date_of_expiry.map(CardValue::Date),
            FieldKey::IssueDate => self.date_of_issue.map(CardValue::Date),
            _ => None,
        }
    }
}

impl std::fmt::Debug for ChipFacts {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ChipFacts(…)")
    }
}

impl Drop for ChipFacts {
    fn drop(&mut self) {
        for text in [&mut self.id, &mut self.name].into_iter().flatten() {
            text.zeroize();
        }
    }
}

/// The verdict for one field. Holds the card's value (personal data): zeroed on drop,
/// and `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct FieldAgreement {
    /// The OCR key, e.g. `Date of birth`.
    pub key: FieldKey,
    /// Agrees, differs, or nothing to compare.
    pub verdict: Agreement,
    /// What proved it: every source that agrees, or the one that differs.
    pub proofs: Vec<Proof>,
    /// What the card says, where it differs from the OCR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_value: Option<String>,
}

impl std::fmt::Debug for FieldAgreement {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FieldAgreement")
            .field("key", &self.key)
            .field("verdict", &self.verdict)
            .field("proofs", &self.proofs)
            .finish_non_exhaustive()
    }
}

impl Drop for FieldAgreement {
    fn drop(&mut self) {
        if let Some(value) = &mut self.card_value {
            value.zeroize();
        }
    }
}

/// One verdict per cross-checked key, in [`CROSS_CHECKED_KEYS`] order.
pub fn cross_check(
    fields: &[OcrField],
    qr: Option<&CccdQr>,
    mrz: Option<&Mrz>,
    chip: Option<&ChipFacts>,
) -> Vec<FieldAgreement> {
    let mrz = mrz.filter(|mrz| mrz.is_valid());
    CROSS_CHECKED_KEYS
        .iter()
        .map(|&key| {
            let ocr = fields
                .iter()
                .find(|field| field.key.eq_ignore_ascii_case(key.as_str()))
                .map(|field| field.value.as_str())
                .filter(|value| !value.trim().is_empty());
            let mut card: Vec<(Proof, CardValue)> = Vec::new();
            if let Some(qr) = qr {
                card.extend(qr_value(qr, key).map(|value| (Proof::Qr, value)));
            }
            if let Some(mrz) = mrz {
                card.extend(mrz_value(mrz, key).map(|value| (Proof::Mrz, value)));
            }
            if let Some(chip) = chip {
                card.extend(chip.value(key).map(|value| (Proof::Chip, value)));
            }
            agreement(key, ocr, &card)
        })
        .collect()
}

/// A card's value of one field, in the form it is compared in.
enum CardValue {
    Digits(String),
    Date(CardDate),
    Sex(char),
    /// Compared case-insensitively, diacritics kept.
    Text(String),
    /// The MRZ's name: compared without diacritics, surname first (the Vietnamese order)
    /// or last.
    MrzName {
        surname: String,
        given_names: String,
    },
}

impl CardValue {
    fn agrees_with(&self, ocr: &str) -> bool {
        match self {
            Self::Digits(digits) => {
                ocr.chars().filter(char::is_ascii_digit).collect::<String>() == *digits
                    && !ocr.chars().any(|c| c.is_alphabetic())
            }
            Self::Date(date) => parse_date(ocr) == Some(*date),
            Self::Sex(sex) => normalise_sex(ocr) == Some(*sex),
            Self::Text(text) => simplify(text) == simplify(ocr),
            Self::MrzName {
                surname,
                given_names,
            } => {
                let ocr = fold(ocr);
                ocr == fold(&format!("{surname} {given_names}"))
                    || ocr == fold(&format!("{given_names} {surname}"))
            }
        }
    }

    fn shown(&self) -> String {
        match self {
            Self::Digits(text) | Self::Text(text) => text.clone(),
            Self::MrzName {
                surname,
                given_names,
            } => format!("{surname} {given_names}"),
            Self::Date(date) => date.to_string(),
            Self::Sex(sex) => sex.to_string(),
        }
    }
}

fn agreement(key: FieldKey, ocr: Option<&str>, card: &[(Proof, CardValue)]) -> FieldAgreement {
    let not_available = FieldAgreement {
        key,
        verdict: Agreement::NotAvailable,
        proofs: Vec::new(),
        card_value: None,
    };
    let Some(ocr) = ocr else {
        return not_available;
    };
    if card.is_empty() {
        return not_available;
    }
    if let Some((proof, value)) = card.iter().find(|(_, value)| !value.agrees_with(ocr)) {
        return FieldAgreement {
            key,
            verdict: Agreement::Differs,
            proofs: vec![*proof],
            card_value: Some(value.shown()),
        };
    }
    FieldAgreement {
        key,
        verdict: Agreement::Agrees,
        proofs: card.iter().map(|(proof, _)| *proof).collect(),
        card_value: None,
    }
}

fn qr_value(qr: &CccdQr, key: FieldKey) -> Option<CardValue> {
    match key {
        FieldKey::Id => Some(CardValue::Digits(qr.id.clone())),
        FieldKey::Name => qr.name.clone().map(CardValue::Text),
        FieldKey::DateOfBirth => qr.date_of_birth.map(CardValue::Date),
        FieldKey::Sex => qr
            .sex
            .as_deref()
            .and_then(normalise_sex)
            .map(CardValue::Sex),
        FieldKey::IssueDate => qr.issue_date.map(CardValue::Date),
        _ => None,
    }
}

fn mrz_value(mrz: &Mrz, key: FieldKey) -> Option<CardValue> {
    match key {
        // A Vietnamese card's whole ID; another document's number is not the ID field.
        FieldKey::Id => mrz.vn_id.clone().map(CardValue::Digits),
        FieldKey::Name => (!mrz.surname.is_empty()).then(|| CardValue::MrzName {
            surname: mrz.surname.clone(),
            given_names: mrz.given_names.clone(),
        }),
        FieldKey::DateOfBirth => mrz.date_of_birth.map(CardValue::Date),
        FieldKey::Sex => mrz.sex.filter(|sex| *sex != 'X').map(CardValue::Sex),
        FieldKey::ExpiredDate => mrz.date_of_expiry.map(CardValue::Date),
        _ => None,
    }
}

/// `dd/mm/yyyy`, also with `-` or `.` between the parts.
fn parse_date(text: &str) -> Option<CardDate> {
    let parts: Vec<&str> = text.trim().split(['/', '-', '.']).collect();
    if parts.len() != 3 || parts[0].len() > 2 || parts[1].len() > 2 || parts[2].len() != 4 {
        return None;
    }
    CardDate::new(
        parts[2].parse().ok()?,
        parts[1].parse().ok()?,
        parts[0].parse().ok()?,
    )
}

/// `M` or `F` from Vietnamese, English or the MRZ's letter.
fn normalise_sex(text: &str) -> Option<char> {
    match fold(text).as_str() {
        "NAM" | "MALE" | "M" => Some('M'),
        "NU" | "FEMALE" | "F" => Some('F'),
        _ => None,
    }
}

/// Lower case, runs of space as one.
fn simplify(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Upper-case ASCII without Vietnamese diacritics (`Đ` → `D`), `<` and runs of space
/// as one space: the form of an MRZ name.
pub fn fold(text: &str) -> String {
    const GROUPS: [(&str, char); 7] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
    ];
    let folded: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            GROUPS
                .iter()
                .find(|(group, _)| group.contains(c))
                .map_or(c, |(_, base)| *base)
        })
        .map(|c| if c == '<' { ' ' } else { c })
        .collect();
    folded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrz::write_vietnamese_td1;
    use crate::{parse_cccd_qr, parse_mrz};

    const QR: &str =
        "079203004512|272345678|Phạm Thị Hồng Nhung|05111993|Nữ|12 Lê Lợi, Quận 1|14082021";
    const TODAY: CardDate = CardDate {
        year: 2026,
        month: 11,
        day: 22,
    };

    fn field(key: &str, value: &str) -> OcrField {
        OcrField {
            key: key.into(),
            label: String::new(),
            value: value.into(),
            score: Some(97.0),
            locale: None,
            source: None,
            extra: Default::default(),
        }
    }

    fn ocr() -> Vec<OcrField> {
        vec![
            field("ID", "079203004512"),
            field("Name", "PHẠM THỊ HỒNG NHUNG"),
            field("Date of birth", "05/11/1993"),
            field("Sex", "Nữ"),
            field("Expired Date", "05/11/2033"),
            field("Issue Date", "14/08/2021"),
        ]
    }

    /// The same person's TD1 lines, check digits right.
    fn mrz_text() -> String {
        write_vietnamese_td1(
            "079203004512",
            "931105",
            'F',
            "331105",
            "PHAM<<THI<HONG<NHUNG",
        )
        .unwrap()
    }

    fn verdicts(agreements: &[FieldAgreement]) -> Vec<(&str, Agreement)> {
        agreements
            .iter()
            .map(|a| (a.key.as_str(), a.verdict))
            .collect()
    }

    #[test]
    fn ocr_that_matches_the_qr_and_the_mrz_agrees_field_by_field() {
        let qr = parse_cccd_qr(QR).unwrap();
        let mrz = parse_mrz(&mrz_text(), TODAY).unwrap();
        assert!(mrz.is_valid(), "{:?}", mrz.checks);
        let result = cross_check(&ocr(), Some(&qr), Some(&mrz), None);
        assert_eq!(
            verdicts(&result),
            [
                ("ID", Agreement::Agrees),
                ("Name", Agreement::Agrees),
                ("Date of birth", Agreement::Agrees),
                ("Sex", Agreement::Agrees),
                ("Expired Date", Agreement::Agrees),
                ("Issue Date", Agreement::Agrees),
            ]
        );
        assert_eq!(result[0].proofs, [Proof::Qr, Proof::Mrz]);
        assert_eq!(
            result[4].proofs,
            [Proof::Mrz],
            "only the MRZ has the expiry"
        );
        assert_eq!(
            result[5].proofs,
            [Proof::Qr],
            "only the QR has the issue date"
        );
    }

    /// The demo holder's chip, as the kiosk reads its DG13.
    fn chip() -> ChipFacts {
        ChipFacts {
            id: Some("079203004512".into()),
            name: Some("Phạm Thị Hồng Nhung".into()),
            date_of_birth: ChipFacts::date("05/11/1993"),
            sex: ChipFacts::sex("Nữ"),
            date_of_expiry: ChipFacts::date("05/11/2033"),
            date_of_issue: ChipFacts::date("14/08/2021"),
        }
    }

    #[test]
    fn the_chip_proves_every_field_and_names_itself_where_it_differs() {
        let qr = parse_cccd_qr(QR).unwrap();
        let result = cross_check(&ocr(), Some(&qr), None, Some(&chip()));
        assert!(result
            .iter()
            .all(|agreement| agreement.verdict == Agreement::Agrees
                && agreement.proofs.contains(&Proof::Chip)));
        assert_eq!(
            result[4].proofs,
            [Proof::Chip],
            "only the chip has the expiry here"
        );
        // A card whose print was altered: its QR code and the OCR agree, the chip does not.
        let mut altered = chip();
        altered.date_of_birth = ChipFacts::date("05/11/1983");
        let result = cross_check(&ocr(), Some(&qr), None, Some(&altered));
        assert_eq!(result[2].verdict, Agreement::Differs);
        assert_eq!(result[2].proofs, [Proof::Chip]);
        assert_eq!(result[2].card_value.as_deref(), Some("05/11/1983"));
    }

    #[test]
    fn a_misread_field_differs_and_shows_what_the_card_says() {
        let qr = parse_cccd_qr(QR).unwrap();
        let mut fields = ocr();
        fields[0].value = "079203004572".into();
        fields[1].value = "Phạm Thị Hồng Nhưng".into();
        fields[2].value = "05/11/1998".into();
        fields[3].value = "Nam".into();
        let result = cross_check(&fields, Some(&qr), None, None);
        assert_eq!(result[0].verdict, Agreement::Differs);
        assert_eq!(result[0].card_value.as_deref(), Some("079203004512"));
        assert_eq!(
            result[1].verdict,
            Agreement::Differs,
            "a diacritic is a letter"
        );
        assert_eq!(result[2].card_value.as_deref(), Some("05/11/1993"));
        assert_eq!(result[3].verdict, Agreement::Differs);
        assert_eq!(result[4].verdict, Agreement::NotAvailable, "no MRZ");
        assert_eq!(result[5].verdict, Agreement::Agrees);
    }

    #[test]
    fn the_mrz_name_is_compared_without_diacritics_and_a_failed_mrz_proves_nothing() {
        let mrz = parse_mrz(&mrz_text(), TODAY).unwrap();
        let mut fields = ocr();
        fields[1].value = "Phạm  thị Hồng nhung".into();
        assert_eq!(
            cross_check(&fields, None, Some(&mrz), None)[1].verdict,
            Agreement::Agrees
        );
        fields[1].value = "Phạm Thị Hồng Nhàn".into();
        let result = cross_check(&fields, None, Some(&mrz), None);
        assert_eq!(result[1].verdict, Agreement::Differs);
        assert_eq!(result[1].card_value.as_deref(), Some("PHAM THI HONG NHUNG"));

        let broken = parse_mrz(&mrz_text().replacen("931105", "931106", 1), TODAY).unwrap();
        assert!(!broken.is_valid());
        assert!(cross_check(&ocr(), None, Some(&broken), None)
            .iter()
            .all(|agreement| agreement.verdict == Agreement::NotAvailable));
    }

    #[test]
    fn fields_the_ocr_left_out_or_the_card_cannot_prove_are_not_available() {
        let qr = parse_cccd_qr(QR).unwrap();
        let result = cross_check(&[field("ID", "079203004512")], Some(&qr), None, None);
        assert_eq!(result[0].verdict, Agreement::Agrees);
        assert!(result[1..]
            .iter()
            .all(|agreement| agreement.verdict == Agreement::NotAvailable));
        assert!(cross_check(&ocr(), None, None, None)
            .iter()
            .all(|agreement| agreement.verdict == Agreement::NotAvailable));
        // Letters around the right digits are not the ID.
        let result = cross_check(&[field("ID", "O79203004512")], Some(&qr), None, None);
        assert_eq!(result[0].verdict, Agreement::Differs);
    }

    #[test]
    fn folding_removes_every_vietnamese_diacritic() {
        assert_eq!(fold("Đặng Thị Ngọc Ánh"), "DANG THI NGOC ANH");
        assert_eq!(fold("Nguyễn  Văn<Ưng"), "NGUYEN VAN UNG");
        assert_eq!(normalise_sex("NỮ"), Some('F'));
        assert_eq!(parse_date("5-11-1993"), CardDate::new(1993, 11, 5));
    }
}
