//! The machine-readable zone (ICAO Doc 9303): TD1 (ID cards, 3 lines of 30), TD2 (2 of
//! 36) and TD3 (passports, 2 of 44). Every check digit is verified (weights 7-3-1), the
//! composite one included; names are split on `<<`; dates get a century (birth in the past,
//! expiry within 50 years of today). A Vietnamese chip ID card (TD1, issued by VNM) carries
//! the last 9 digits of its 12-digit ID as the document number and, in the first line's
//! optional data, the whole ID, `<<` and the ID's own check digit (as printed on real
//! cards: `IDVNM` + number + its digit + ID + `<<` + the ID's digit); [`Mrz::vn_id`] is that
//! 12-digit ID, checked by its digit and against the document number. A first line without
//! the ID's digit (our early test cards had none) fails that check: no real card is known
//! to be printed so.
//!
//! A broken shape (line count, line length, a character outside `A–Z 0–9 <`) is an
//! [`MrzError`]; a field that does not hold up (a check digit, a date) is a failed
//! [`Check`] in an otherwise parsed [`Mrz`], so a desk sees what is wrong, not only that.
//!
//! What arithmetic cannot catch: the check digit works modulo 10, so in a field that may
//! hold letters, swapping a character for one whose value differs by a multiple of 10
//! (`0`, `<`, `A`, `K`, `U` all count as 0) leaves every check intact. Digit-only fields
//! (dates, a Vietnamese card's numbers) have no such blind spot.

use std::fmt;

use serde::Serialize;

use super::CardDate;

/// Which ICAO 9303 layout: TD1 (ID cards, 3 × 30), TD2 (2 × 36), TD3 (passports, 2 × 44).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MrzFormat {
    /// ID cards: 3 lines of 30.
    Td1,
    /// 2 lines of 36.
    Td2,
    /// Passports: 2 lines of 44.
    Td3,
}

impl MrzFormat {
    fn shape(self) -> (usize, usize) {
        match self {
            Self::Td1 => (3, 30),
            Self::Td2 => (2, 36),
            Self::Td3 => (2, 44),
        }
    }
}

/// What a check covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckedField {
    /// The document number.
    DocumentNumber,
    /// The date of birth.
    DateOfBirth,
    /// The date of expiry.
    DateOfExpiry,
    /// TD3's personal number.
    PersonalNumber,
    /// The check digit over the document number, dates and optional data together.
    Composite,
    /// A Vietnamese card: the 12-digit ID in the optional data ends with the document
    /// number, and both are digits.
    VietnameseId,
    /// A Vietnamese card: the 12-digit ID's own check digit, at the end of the first line.
    VietnameseIdDigit,
}

impl CheckedField {
    /// Its name as `mrz` prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::DocumentNumber => "document number",
            Self::DateOfBirth => "date of birth",
            Self::DateOfExpiry => "date of expiry",
            Self::PersonalNumber => "personal number",
            Self::Composite => "composite",
            Self::VietnameseId => "Vietnamese ID",
            Self::VietnameseIdDigit => "ID check digit",
        }
    }
}

/// One verdict: a check digit (with the digit printed and the one computed) or a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The field checked.
    pub field: CheckedField,
    /// Whether its check digit holds.
    pub ok: bool,
    /// The check digit as printed, for check digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed: Option<char>,
    /// The check digit computed from the field, for check digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<u8>,
    /// Why it failed, when a rule did (a date that is no date, a letter in a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A parsed MRZ. Personal data: `Debug` shows the format and the checks only.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    /// The layout.
    pub format: MrzFormat,
    /// `I`, `ID`, `P`, `PN`, …
    pub document_code: String,
    /// Three letters: the state or organisation that issued it.
    pub issuing_state: String,
    /// The whole document number (a TD1 number longer than 9 characters is joined).
    pub document_number: String,
    /// A Vietnamese card's 12-digit personal ID, from the optional data.
    pub vn_id: Option<String>,
    /// The surname, fillers as spaces.
    pub surname: String,
    /// The given names, fillers as spaces.
    pub given_names: String,
    /// Three letters.
    pub nationality: String,
    /// `None` when the digits are no date.
    #[serde(serialize_with = "date_text")]
    pub date_of_birth: Option<CardDate>,
    /// `M`, `F`, or `X`; `None` for `<` (unspecified).
    pub sex: Option<char>,
    /// `None` when the digits are no date.
    #[serde(serialize_with = "date_text")]
    pub date_of_expiry: Option<CardDate>,
    /// The optional data fields, fillers removed (TD3: the personal number).
    pub optional_data: String,
    /// Every check digit's verdict.
    pub checks: Vec<Check>,
}

/// Personal data: wiped from memory when dropped (with the session that read it).
impl Drop for Mrz {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.document_number.zeroize();
        self.surname.zeroize();
        self.given_names.zeroize();
        self.optional_data.zeroize();
        if let Some(id) = &mut self.vn_id {
            id.zeroize();
        }
    }
}

impl Mrz {
    /// Every check holds.
    pub fn is_valid(&self) -> bool {
        self.checks.iter().all(|check| check.ok)
    }

    /// The check of `field`, if this format has one.
    pub fn check(&self, field: CheckedField) -> Option<&Check> {
        self.checks.iter().find(|check| check.field == field)
    }

    /// The name as one line: given names, then surname.
    pub fn full_name(&self) -> String {
        [self.given_names.as_str(), self.surname.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for Mrz {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Mrz")
            .field("format", &self.format)
            .field("checks", &self.checks)
            .finish_non_exhaustive()
    }
}

fn date_text<S: serde::Serializer>(
    date: &Option<CardDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&date.to_string()),
        None => serializer.serialize_none(),
    }
}

/// Text that is not an MRZ of any of the three formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    /// Nothing that looks like MRZ lines.
    #[error("no MRZ lines found")]
    Empty,
    /// Not three lines of 30 nor two of 36 or 44.
    #[error(
        "{found} lines of {lengths}: an MRZ is 3 lines of 30 (ID card, TD1), \
         2 of 36 (TD2) or 2 of 44 (passport, TD3)"
    )]
    Shape {
        /// Lines found.
        found: usize,
        /// Their lengths.
        lengths: String,
    },
    /// A character no MRZ holds.
    #[error("line {line}, column {column}: {character:?} is not an MRZ character (A–Z, 0–9, <)")]
    Character {
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// The character found.
        character: char,
    },
}

/// Parses MRZ text: one line per row; blank lines, surrounding space and spaces inside a
/// line (OCR puts them there) are ignored. `today` settles the centuries.
pub fn parse_mrz(text: &str, today: CardDate) -> Result<Mrz, MrzError> {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            line.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
        })
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(MrzError::Empty);
    }
    for (row, line) in lines.iter().enumerate() {
        if let Some((column, character)) = line
            .chars()
            .enumerate()
            .find(|(_, c)| !matches!(c, 'A'..='Z' | '0'..='9' | '<'))
        {
            return Err(MrzError::Character {
                line: row + 1,
                column: column + 1,
                character,
            });
        }
    }
    let format = [MrzFormat::Td1, MrzFormat::Td2, MrzFormat::Td3]
        .into_iter()
        .find(|format| {
            let (count, length) = format.shape();
            lines.len() == count && lines.iter().all(|line| line.len() == length)
        })
        .ok_or_else(|| MrzError::Shape {
            found: lines.len(),
            lengths: lines
                .iter()
                .map(|line| line.len().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    // Only ASCII from here on: byte slicing is character slicing.
    Ok(match format {
        MrzFormat::Td1 => parse_td1(&lines[0], &lines[1], &lines[2], today),
        MrzFormat::Td2 | MrzFormat::Td3 => parse_two_lines(format, &lines[0], &lines[1], today),
    })
}

fn parse_td1(first: &str, second: &str, third: &str, today: CardDate) -> Mrz {
    let mut checks = Vec::new();
    let issuing_state = field(&first[2..5]);
    let optional_first = &first[15..30];
    // A number longer than 9 characters: `<` where the check digit would be, the rest of
    // the number and its check digit at the start of the optional data.
    let (document_number, number_checked) = if &first[14..15] == "<" && !first[5..14].contains('<')
    {
        let extension = optional_first.split('<').next().unwrap_or("");
        match extension.len() {
            0 => (
                first[5..14].to_owned(),
                check_digit_check(CheckedField::DocumentNumber, &first[5..14], '<'),
            ),
            length => {
                let whole = format!("{}{}", &first[5..14], &extension[..length - 1]);
                let printed = extension.chars().last().unwrap_or('<');
                let check = check_digit_check(CheckedField::DocumentNumber, &whole, printed);
                (whole, check)
            }
        }
    } else {
        let printed = first[14..15].chars().next().unwrap_or('<');
        (
            field(&first[5..14]),
            check_digit_check(CheckedField::DocumentNumber, &first[5..14], printed),
        )
    };
    checks.push(number_checked);
    let (date_of_birth, birth_check) = date_check(
        CheckedField::DateOfBirth,
        &second[0..6],
        char_at(second, 6),
        today,
    );
    checks.push(birth_check);
    let (date_of_expiry, expiry_check) = date_check(
        CheckedField::DateOfExpiry,
        &second[8..14],
        char_at(second, 14),
        today,
    );
    checks.push(expiry_check);
    checks.push(check_digit_check(
        CheckedField::Composite,
        &td1_composite(first, second),
        char_at(second, 29),
    ));

    let vn_id = (issuing_state == "VNM").then(|| {
        let (id, after) = optional_first.split_at(12);
        let number = &first[5..14];
        let ok = id.bytes().all(|byte| byte.is_ascii_digit())
            && number.bytes().all(|byte| byte.is_ascii_digit())
            && id.ends_with(number);
        checks.push(Check {
            field: CheckedField::VietnameseId,
            ok,
            printed: None,
            computed: None,
            problem: (!ok).then(|| {
                "a Vietnamese card has a 12-digit ID in the optional data ending with the \
                 9-digit document number"
                    .to_owned()
            }),
        });
        // `<<` and the ID's check digit close the line.
        let printed = char_at(after, 2);
        let mut digit_check = check_digit_check(CheckedField::VietnameseIdDigit, id, printed);
        if &after[..2] != "<<" || printed == '<' {
            digit_check.ok = false;
            digit_check.problem = Some(format!(
                "the first line ends {after:?}: a Vietnamese card ends it with `<<` and the \
                 12-digit ID's check digit"
            ));
        }
        checks.push(digit_check);
        id.trim_end_matches('<').to_owned()
    });
    let (surname, given_names) = names(third);
    Mrz {
        format: MrzFormat::Td1,
        document_code: field(&first[0..2]),
        issuing_state,
        document_number,
        vn_id: vn_id.filter(|id| !id.is_empty()),
        surname,
        given_names,
        nationality: field(&second[15..18]),
        date_of_birth,
        sex: sex(char_at(second, 7)),
        date_of_expiry,
        optional_data: [field(optional_first), field(&second[18..29])]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        checks,
    }
}

/// TD2 and TD3: the name on the first line, everything else on the second.
fn parse_two_lines(format: MrzFormat, first: &str, second: &str, today: CardDate) -> Mrz {
    let length = second.len();
    let mut checks = vec![check_digit_check(
        CheckedField::DocumentNumber,
        &second[0..9],
        char_at(second, 9),
    )];
    let (date_of_birth, birth_check) = date_check(
        CheckedField::DateOfBirth,
        &second[13..19],
        char_at(second, 19),
        today,
    );
    checks.push(birth_check);
    let (date_of_expiry, expiry_check) = date_check(
        CheckedField::DateOfExpiry,
        &second[21..27],
        char_at(second, 27),
        today,
    );
    checks.push(expiry_check);
    let optional = &second[28..length - 1];
    if format == MrzFormat::Td3 {
        // An empty personal number may carry `<` as its check digit.
        let number = &second[28..42];
        let printed = char_at(second, 42);
        if !(printed == '<' && number.chars().all(|c| c == '<')) {
            checks.push(check_digit_check(
                CheckedField::PersonalNumber,
                number,
                printed,
            ));
        }
    }
    let composite = format!(
        "{}{}{}",
        &second[0..10],
        &second[13..20],
        &second[21..length - 1]
    );
    checks.push(check_digit_check(
        CheckedField::Composite,
        &composite,
        char_at(second, length - 1),
    ));
    let (surname, given_names) = names(&first[5..]);
    Mrz {
        format,
        document_code: field(&first[0..2]),
        issuing_state: field(&first[2..5]),
        document_number: field(&second[0..9]),
        vn_id: None,
        surname,
        given_names,
        nationality: field(&second[10..13]),
        date_of_birth,
        sex: sex(char_at(second, 20)),
        date_of_expiry,
        optional_data: field(if format == MrzFormat::Td3 {
            &second[28..42]
        } else {
            optional
        }),
        checks,
    }
}

/// The check digit of `text` (ICAO 9303 part 3): values 0–9 for digits, 10–35 for A–Z, 0
/// for `<`, weighted 7, 3, 1 in turn, summed modulo 10. `None` for another character.
pub fn check_digit(text: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (index, character) in text.chars().enumerate() {
        let value = match character {
            '0'..='9' => character as u32 - '0' as u32,
            'A'..='Z' => character as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += value * [7, 3, 1][index % 3];
    }
    Some((sum % 10) as u8)
}

/// What TD1's composite check digit covers: line 1 from the document number on, and line
/// 2's dates (with their digits) and optional data. Both lines at least 29 characters.
fn td1_composite(first: &str, second: &str) -> String {
    format!(
        "{}{}{}{}",
        &first[5..30],
        &second[0..7],
        &second[8..15],
        &second[18..29]
    )
}

/// The TD1 lines of a Vietnamese chip card, every check digit computed: for test cards
/// and benches (never for a customer's). `id` is the 12-digit ID, dates YYMMDD, `sex`
/// `M`/`F`, `name` in MRZ form (`PHAM<<THI<HONG<NHUNG`). `None` if a value does not fit.
pub fn write_vietnamese_td1(
    id: &str,
    birth: &str,
    sex: char,
    expiry: &str,
    name: &str,
) -> Option<String> {
    let digits = |text: &str, count: usize| {
        text.len() == count && text.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !digits(id, 12) || !digits(birth, 6) || !digits(expiry, 6) || name.len() > 30 {
        return None;
    }
    let digit = |text: &str| check_digit(text).map(|digit| char::from(b'0' + digit));
    let number = &id[3..];
    let first = format!("IDVNM{number}{}{id}<<{}", digit(number)?, digit(id)?);
    let mut second = format!(
        "{birth}{}{sex}{expiry}{}VNM<<<<<<<<<<<",
        digit(birth)?,
        digit(expiry)?
    );
    second.push(digit(&td1_composite(&first, &second))?);
    Some(format!("{first}\n{second}\n{name:<<30}"))
}

fn check_digit_check(field: CheckedField, text: &str, printed: char) -> Check {
    let computed = check_digit(text);
    let ok = computed.is_some() && printed.to_digit(10).map(|digit| digit as u8) == computed;
    Check {
        field,
        ok,
        printed: Some(printed),
        computed,
        problem: (!printed.is_ascii_digit()).then(|| format!("{printed:?} is not a digit")),
    }
}

/// A YYMMDD date and its check digit. A date that is no date fails its check whatever
/// the digit says.
fn date_check(
    field: CheckedField,
    text: &str,
    printed: char,
    today: CardDate,
) -> (Option<CardDate>, Check) {
    let mut check = check_digit_check(field, text, printed);
    let date = yymmdd(text, field == CheckedField::DateOfBirth, today);
    if date.is_none() {
        check.ok = false;
        check.problem = Some(format!("{text:?} is not a date (YYMMDD)"));
    }
    (date, check)
}

/// A YYMMDD date in the century that fits: a birth date is never after today; any other
/// date (expiry) lies within 50 years of today, either side.
fn yymmdd(text: &str, is_birth: bool, today: CardDate) -> Option<CardDate> {
    if text.len() != 6 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let year: u16 = text[0..2].parse().ok()?;
    let month: u8 = text[2..4].parse().ok()?;
    let day: u8 = text[4..6].parse().ok()?;
    let in_century = |century: u16| CardDate::new(century + year, month, day);
    let recent = in_century(2000)?;
    let fits = if is_birth {
        recent <= today
    } else {
        recent.year <= today.year + 50
    };
    if fits {
        Some(recent)
    } else {
        in_century(1900)
    }
}

/// Surname and given names: split on the first `<<`, single `<` read as spaces.
fn names(text: &str) -> (String, String) {
    let text = text.trim_end_matches('<');
    let (primary, secondary) = text.split_once("<<").unwrap_or((text, ""));
    (field(primary), field(secondary))
}

/// A field without its fillers: `<` inside reads as a space.
fn field(text: &str) -> String {
    text.split('<')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn sex(character: char) -> Option<char> {
    matches!(character, 'M' | 'F' | 'X').then_some(character)
}

fn char_at(line: &str, index: usize) -> char {
    line.as_bytes().get(index).map_or('<', |&byte| byte as char)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: CardDate = CardDate {
        year: 2026,
        month: 11,
        day: 22,
    };

    // The specimens of ICAO Doc 9303 (part 4, 5 and 6): Anna Maria Eriksson of Utopia.
    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
    const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
    const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6";

    #[test]
    fn the_icao_specimens_parse_with_every_check_holding() {
        let passport = parse_mrz(TD3, TODAY).unwrap();
        assert_eq!(passport.format, MrzFormat::Td3);
        assert!(passport.is_valid(), "{:?}", passport.checks);
        assert_eq!(passport.document_code, "P");
        assert_eq!(passport.issuing_state, "UTO");
        assert_eq!(passport.surname, "ERIKSSON");
        assert_eq!(passport.given_names, "ANNA MARIA");
        assert_eq!(passport.document_number, "L898902C3");
        assert_eq!(passport.date_of_birth.unwrap().to_string(), "12/08/1974");
        assert_eq!(passport.date_of_expiry.unwrap().to_string(), "15/04/2012");
        assert_eq!(passport.sex, Some('F'));
        assert_eq!(passport.optional_data, "ZE184226B");
        assert_eq!(passport.checks.len(), 5);

        for (text, format) in [(TD1, MrzFormat::Td1), (TD2, MrzFormat::Td2)] {
            let card = parse_mrz(text, TODAY).unwrap();
            assert_eq!(card.format, format);
            assert!(card.is_valid(), "{format:?}: {:?}", card.checks);
            assert_eq!(card.document_number, "D23145890");
            assert_eq!(card.full_name(), "ANNA MARIA ERIKSSON");
            assert_eq!(card.nationality, "UTO");
            assert_eq!(card.date_of_birth.unwrap().to_string(), "12/08/1974");
            assert_eq!(card.checks.len(), 4);
        }
    }

    #[test]
    fn check_digits_follow_the_specification() {
        // The worked example of Doc 9303 part 3: 520727 → 3.
        assert_eq!(check_digit("520727"), Some(3));
        assert_eq!(check_digit("L898902C3"), Some(6));
        assert_eq!(check_digit("AB2134<<<"), Some(5));
        assert_eq!(check_digit("a"), None);
    }

    /// TD1 lines of a Vietnamese chip card (made-up person) with every check digit right.
    fn vn_card(id: &str, birth: &str, sex: char, expiry: &str, name: &str) -> String {
        write_vietnamese_td1(id, birth, sex, expiry, name).unwrap()
    }

    fn digit(text: &str) -> char {
        char::from(b'0' + check_digit(text).unwrap())
    }

    /// The demo card's MRZ (made-up numbers), in the real layout.
    fn demo_card() -> String {
        vn_card(
            "079203004512",
            "931105",
            'F',
            "331105",
            "PHAM<<THI<HONG<NHUNG",
        )
    }

    #[test]
    fn a_vietnamese_card_reports_its_12_digit_id() {
        let text = demo_card();
        let card = parse_mrz(&text, TODAY).unwrap();
        assert!(card.is_valid(), "{:?}", card.checks);
        assert_eq!(card.document_number, "203004512");
        assert_eq!(card.vn_id.as_deref(), Some("079203004512"));
        assert_eq!(card.surname, "PHAM");
        assert_eq!(card.given_names, "THI HONG NHUNG");
        assert_eq!(card.date_of_birth.unwrap().to_string(), "05/11/1993");
        assert_eq!(card.date_of_expiry.unwrap().to_string(), "05/11/2033");

        // The ID that does not end with the document number, the composite digit made
        // right again: the rule catches it (and so does the ID's own digit).
        let first = text
            .lines()
            .next()
            .unwrap()
            .replacen("079203004512", "079203004513", 1);
        let card = parse_mrz(&with_first_line(&text, &first), TODAY).unwrap();
        assert!(card.check(CheckedField::Composite).unwrap().ok);
        assert!(!card.check(CheckedField::VietnameseId).unwrap().ok);
        assert!(!card.is_valid());
    }

    /// The first line of a card with `first` in place of the real one, the composite digit
    /// made right again (so only the ID's own checks can object).
    fn with_first_line(text: &str, first: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        let mut second = lines[1][..29].to_owned();
        second.push(digit(&td1_composite(first, &second)));
        format!("{first}\n{second}\n{}", lines[2])
    }

    #[test]
    fn the_real_layout_has_the_ids_check_digit_and_each_wrong_digit_is_named() {
        // Made-up numbers; the ID's digit computed by hand: 7-3-1 over "079203004512" is
        // 0+21+9 + 14+0+3 + 0+0+4 + 35+3+2 = 91, so 1.
        let text = demo_card();
        let first = text.lines().next().unwrap().to_owned();
        assert_eq!(first, "IDVNM2030045121079203004512<<1");
        let card = parse_mrz(&text, TODAY).unwrap();
        assert!(card.is_valid(), "{:?}", card.checks);
        let check = card.check(CheckedField::VietnameseIdDigit).unwrap();
        assert_eq!((check.printed, check.computed), (Some('1'), Some(1)));

        // Every other digit in the ID's place: that check fails, saying what was printed
        // and what it should be; nothing else does.
        for wrong in ('0'..='9').filter(|c| *c != '1') {
            let altered = with_first_line(&text, &format!("{}{wrong}", &first[..29]));
            let card = parse_mrz(&altered, TODAY).unwrap();
            let failed: Vec<CheckedField> = card
                .checks
                .iter()
                .filter(|check| !check.ok)
                .map(|check| check.field)
                .collect();
            assert_eq!(failed, vec![CheckedField::VietnameseIdDigit], "{wrong}");
            let check = card.check(CheckedField::VietnameseIdDigit).unwrap();
            assert_eq!((check.printed, check.computed), (Some(wrong), Some(1)));
        }
        // Each digit of the ID changed (the line's own composite made right again): the
        // ID's digit catches it, whatever the position.
        for position in 15..27 {
            let mut altered = first.clone().into_bytes();
            altered[position] = if altered[position] == b'1' {
                b'2'
            } else {
                b'1'
            };
            let altered = String::from_utf8(altered).unwrap();
            let card = parse_mrz(&with_first_line(&text, &altered), TODAY).unwrap();
            assert!(!card.is_valid(), "position {position}");
            assert!(
                !card.check(CheckedField::VietnameseIdDigit).unwrap().ok,
                "position {position}"
            );
        }
    }

    #[test]
    fn a_first_line_without_the_ids_check_digit_is_refused_with_a_clear_problem() {
        let text = demo_card();
        let first = text.lines().next().unwrap();
        let without = with_first_line(&text, &format!("{}<", &first[..29]));
        let card = parse_mrz(&without, TODAY).unwrap();
        assert_eq!(card.vn_id.as_deref(), Some("079203004512"));
        assert!(!card.is_valid());
        let check = card.check(CheckedField::VietnameseIdDigit).unwrap();
        assert!(!check.ok);
        assert!(
            check.problem.as_deref().unwrap().contains("check digit"),
            "{check:?}"
        );
        assert!(card.check(CheckedField::Composite).unwrap().ok);
    }

    #[test]
    fn centuries_put_births_in_the_past_and_expiries_near_today() {
        assert_eq!(yymmdd("261122", true, TODAY).unwrap().year, 2026);
        assert_eq!(yymmdd("261123", true, TODAY).unwrap().year, 1926);
        assert_eq!(yymmdd("990101", true, TODAY).unwrap().year, 1999);
        assert_eq!(yymmdd("760101", false, TODAY).unwrap().year, 2076);
        assert_eq!(yymmdd("770101", false, TODAY).unwrap().year, 1977);
        assert_eq!(yymmdd("120415", false, TODAY).unwrap().year, 2012);
        assert_eq!(yymmdd("741340", true, TODAY), None);
    }

    #[test]
    fn a_long_td1_document_number_continues_in_the_optional_data() {
        // Doc 9303 part 5's example of a number longer than 9 characters.
        let first = "I<UTOD23145890<7349<<<<<<<<<<<";
        let second_body = "3407127M9507122UTO<<<<<<<<<<<";
        let text = format!(
            "{first}\n{second_body}{}\nSTEVENSON<<PETER<JOHN<<<<<<<<<",
            digit(&td1_composite(first, second_body))
        );
        let card = parse_mrz(&text, TODAY).unwrap();
        assert_eq!(card.document_number, "D23145890734");
        assert!(card.is_valid(), "{:?}", card.checks);
    }

    /// Every position a check covers, with the field's alphabet: digits only, or any MRZ
    /// character.
    fn checked_positions(format: MrzFormat, vietnamese: bool) -> Vec<(usize, usize, bool)> {
        let mut positions = Vec::new();
        let mut add = |line: usize, range: std::ops::Range<usize>, digits: bool| {
            positions.extend(range.map(|column| (line, column, digits)));
        };
        match format {
            MrzFormat::Td1 => {
                add(0, 5..14, vietnamese);
                add(0, 14..15, true);
                add(0, 15..30, vietnamese);
                add(1, 0..7, true);
                add(1, 8..15, true);
                add(1, 18..29, false);
                add(1, 29..30, true);
            }
            MrzFormat::Td2 | MrzFormat::Td3 => {
                let length = if format == MrzFormat::Td2 { 36 } else { 44 };
                add(1, 0..9, false);
                add(1, 9..10, true);
                add(1, 13..20, true);
                add(1, 21..28, true);
                add(1, 28..length - 1, false);
                add(1, length - 1..length, true);
            }
        }
        positions
    }

    fn value(character: char) -> u32 {
        match character {
            '0'..='9' => character as u32 - '0' as u32,
            'A'..='Z' => character as u32 - 'A' as u32 + 10,
            _ => 0,
        }
    }

    #[test]
    fn every_single_character_corruption_of_a_checked_field_is_caught() {
        let alphabet: Vec<char> = ('0'..='9').chain('A'..='Z').chain(['<']).collect();
        let vietnamese = vn_card("001092000123", "920315", 'M', "320315", "NGUYEN<<VAN<AN");
        let cases = [
            (TD1, MrzFormat::Td1, false),
            (TD2, MrzFormat::Td2, false),
            (TD3, MrzFormat::Td3, false),
            (vietnamese.as_str(), MrzFormat::Td1, true),
        ];
        for (text, format, is_vietnamese) in cases {
            let lines: Vec<&str> = text.lines().collect();
            let (mut caught, mut blind) = (0, 0);
            for (line, column, digits_only) in checked_positions(format, is_vietnamese) {
                let original = lines[line].as_bytes()[column] as char;
                for &replacement in alphabet.iter().filter(|&&c| c != original) {
                    let mut corrupted: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                    corrupted[line].replace_range(column..=column, &replacement.to_string());
                    let detected =
                        parse_mrz(&corrupted.join("\n"), TODAY).map_or(true, |mrz| !mrz.is_valid());
                    // The one blind spot of a modulo-10 digit, in fields that may hold
                    // letters (see the module's documentation).
                    let arithmetic_blind =
                        !digits_only && value(replacement) % 10 == value(original) % 10;
                    if arithmetic_blind {
                        blind += 1;
                    } else {
                        assert!(
                            detected,
                            "{format:?} line {} column {}: {original:?} → {replacement:?} passed",
                            line + 1,
                            column + 1
                        );
                        caught += 1;
                    }
                }
            }
            assert!(caught > 500, "{format:?}: {caught} corruptions tried");
            assert!(blind < caught / 5, "{format:?}: {blind} beyond arithmetic");
        }
    }

    #[test]
    fn broken_shapes_are_errors_with_a_reason_never_panics() {
        assert_eq!(parse_mrz("", TODAY), Err(MrzError::Empty));
        assert!(matches!(
            parse_mrz("P<UTO\nL898", TODAY),
            Err(MrzError::Shape { found: 2, .. })
        ));
        assert_eq!(
            parse_mrz("I<UTOd231458907<<<<<<<<<<<<<<<", TODAY),
            Err(MrzError::Character {
                line: 1,
                column: 6,
                character: 'd'
            })
        );
        // Spaces and blank lines from OCR are tolerated.
        let spaced = TD2
            .replace('\n', "\n\n  ")
            .replacen("ERIKSSON", "ERIK SSON", 1);
        assert!(parse_mrz(&spaced, TODAY).unwrap().is_valid());
        // Prefixes and multi-byte text never panic.
        for end in 0..TD1.len() {
            let _ = parse_mrz(&TD1[..end], TODAY);
        }
        let _ = parse_mrz("ữữữ\n<<<\nĐ", TODAY);
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let card = parse_mrz(TD3, TODAY).unwrap();
        let debug = format!("{card:?}");
        assert!(
            !debug.contains("ERIKSSON") && !debug.contains("L898902C3"),
            "{debug}"
        );
    }
}
