//! The printed fields of a CCCD card, found by their bilingual labels in OCR lines
//! ("Họ và tên / Full name:", "Ngày sinh / Date of birth:", …), each with Tesseract's
//! confidence for the words of its value; and the MRZ lines of the back.

use super::tesseract::{TextLine, Word};
use crate::cross_check::fold;
use ekyc_contract::FieldKey;

/// A field read from printed text: the value's words and their mean confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedField {
    /// Which field.
    pub key: FieldKey,
    /// The label as printed (its Vietnamese and English parts).
    pub label: &'static str,
    /// The text after the label.
    pub value: String,
    /// Mean of Tesseract's confidences for the value's words, 0–100.
    pub confidence: f32,
}

/// How a field's value sits relative to its label.
#[derive(Clone, Copy)]
enum Value {
    /// After the label's colon; if nothing is there, the next line.
    AfterOrBelow,
    /// After the colon, up to the next label on the same line.
    After,
    /// After the colon, and the next line too when it is no label (an address).
    AfterAndContinued,
    /// A dd/mm/yyyy date on the label's line.
    Date,
    /// A run of 12 digits on the label's line.
    TwelveDigits,
}

struct Label {
    key: FieldKey,
    printed: &'static str,
    /// Folded (upper-case ASCII) words that identify the label's line.
    marks: &'static [&'static str],
    value: Value,
}

impl Label {
    /// `word` (folded) is the first word of one of this label's marks, a colon after it
    /// or not; a word of four letters or more may have one letter misread ("Quéc" for
    /// "Quốc" in a noisy picture).
    fn begins_with(&self, word: &str) -> bool {
        let word = word.trim_end_matches(':');
        self.marks
            .iter()
            .filter_map(|mark| mark.split(' ').next())
            .any(|first| {
                let first = first.trim_end_matches(':');
                first == word
                    || (first.len() >= 4
                        && first.len() == word.len()
                        && first
                            .bytes()
                            .zip(word.bytes())
                            .filter(|(a, b)| a != b)
                            .count()
                            == 1)
            })
    }
}

const FRONT: &[Label] = &[
    Label {
        key: FieldKey::Id,
        printed: "Số / No.",
        marks: &["SO / NO", "SO DINH DANH", "IDENTIFICATION NUMBER"],
        value: Value::TwelveDigits,
    },
    Label {
        key: FieldKey::Name,
        printed: "Họ và tên / Full name",
        marks: &["HO VA TEN", "FULL NAME"],
        value: Value::AfterOrBelow,
    },
    Label {
        key: FieldKey::DateOfBirth,
        printed: "Ngày sinh / Date of birth",
        marks: &["NGAY SINH", "DATE OF BIRTH"],
        value: Value::Date,
    },
    Label {
        key: FieldKey::Sex,
        printed: "Giới tính / Sex",
        marks: &["GIOI TINH", "SEX:"],
        value: Value::After,
    },
    Label {
        key: FieldKey::Nationality,
        printed: "Quốc tịch / Nationality",
        marks: &["QUOC TICH", "NATIONALITY"],
        value: Value::After,
    },
    Label {
        key: FieldKey::Home,
        printed: "Quê quán / Place of origin",
        marks: &["QUE QUAN", "PLACE OF ORIGIN"],
        value: Value::AfterOrBelow,
    },
    Label {
        key: FieldKey::Address,
        printed: "Nơi thường trú / Place of residence",
        marks: &["NOI THUONG TRU", "PLACE OF RESIDENCE"],
        value: Value::AfterAndContinued,
    },
    Label {
        key: FieldKey::ExpiredDate,
        printed: "Có giá trị đến / Date of expiry",
        marks: &["CO GIA TRI DEN", "DATE OF EXPIRY"],
        value: Value::Date,
    },
];

const BACK: &[Label] = &[
    Label {
        key: FieldKey::Features,
        printed: "Đặc điểm nhân dạng / Personal identification",
        marks: &["DAC DIEM NHAN DANG", "PERSONAL IDENTIFICATION"],
        value: Value::AfterOrBelow,
    },
    Label {
        key: FieldKey::IssueDate,
        printed: "Ngày, tháng, năm / Date, month, year",
        marks: &["NGAY, THANG, NAM", "DATE, MONTH, YEAR"],
        value: Value::Date,
    },
];

/// Every known label of either side, to tell a value's continuation from the next label.
fn is_label_line(folded: &str) -> bool {
    FRONT
        .iter()
        .chain(BACK)
        .any(|label| label.marks.iter().any(|mark| folded.contains(mark)))
}

/// A "word" of symbols only (`=`, `_`, `|`, `@`) is specks on the card, not print.
fn is_print(word: &Word) -> bool {
    word.text.chars().any(char::is_alphanumeric)
}

/// The labelled fields of a card side's OCR lines, in the contract's order.
pub fn read_printed_fields(lines: &[TextLine]) -> Vec<PrintedField> {
    let folded: Vec<String> = lines.iter().map(|line| fold(&line.text())).collect();
    FRONT
        .iter()
        .chain(BACK)
        .filter_map(|label| {
            let row = folded
                .iter()
                .position(|text| label.marks.iter().any(|mark| text.contains(mark)));
            let words: Vec<Word> = match (row, label.value) {
                (Some(row), _) => value_words(label, lines, &folded, row)?,
                // The ID is the card's only 12-digit number: found without its label.
                (None, Value::TwelveDigits) => {
                    (0..lines.len()).find_map(|row| value_words(label, lines, &folded, row))?
                }
                (None, _) => return None,
            }
            .into_iter()
            .filter(is_print)
            .collect();
            if words.is_empty() {
                return None;
            }
            let value = words
                .iter()
                .map(|word| word.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let value = value.trim_matches(|c: char| c == '_' || c == '|' || c.is_whitespace());
            if value.is_empty() {
                return None;
            }
            let confidence =
                words.iter().map(|word| word.confidence).sum::<f32>() / words.len() as f32;
            Some(PrintedField {
                key: label.key,
                label: label.printed,
                value: value.to_owned(),
                confidence,
            })
        })
        .collect()
}

fn value_words(
    label: &Label,
    lines: &[TextLine],
    folded: &[String],
    row: usize,
) -> Option<Vec<Word>> {
    let line = &lines[row].words;
    // The value below the label: the next line with print on it, before any other label.
    // A line of specks only (the holder's photo beside the label reads as `= @`) is
    // passed over, one at most.
    let next_line = || {
        (row + 1..lines.len().min(row + 3))
            .take_while(|&below| !is_label_line(&folded[below]))
            .map(|below| &lines[below])
            .find(|line| line.words.iter().any(is_print))
            .map(|line| line.words.clone())
    };
    match label.value {
        Value::TwelveDigits => line
            .iter()
            .find(|word| {
                let digits: String = word.text.chars().filter(char::is_ascii_digit).collect();
                digits.len() == 12
            })
            .map(|word| {
                vec![Word {
                    text: word.text.chars().filter(char::is_ascii_digit).collect(),
                    confidence: word.confidence,
                }]
            }),
        Value::Date => line
            .iter()
            .find_map(|word| date_in(&word.text).map(|date| (date, word.confidence)))
            .map(|(text, confidence)| vec![Word { text, confidence }]),
        Value::After => {
            let after = after_label(line, label);
            // Up to the next label on the same line ("Sex: Nữ Quốc tịch / Nationality: …").
            let end = after
                .iter()
                .position(|word| {
                    let folded = fold(&word.text);
                    FRONT
                        .iter()
                        .any(|other| other.key != label.key && other.begins_with(&folded))
                })
                .unwrap_or(after.len());
            Some(after[..end].to_vec()).filter(|words| !words.is_empty())
        }
        Value::AfterOrBelow => {
            let after = after_label(line, label);
            if after.is_empty() {
                next_line()
            } else {
                Some(after)
            }
        }
        Value::AfterAndContinued => {
            let mut words = after_label(line, label);
            words.extend(next_line().unwrap_or_default());
            Some(words).filter(|words| !words.is_empty())
        }
    }
}

/// The words after the label's colon (a word may carry text after its colon: `name:PHAM`).
fn after_label(line: &[Word], label: &Label) -> Vec<Word> {
    // Where this label starts: a line may hold two ("Sex: Nữ Quốc tịch / Nationality: …").
    let start = line
        .iter()
        .position(|word| label.begins_with(fold(&word.text).trim_end_matches(':')))
        .unwrap_or(0);
    let Some(colon) = line[start..]
        .iter()
        .position(|word| word.text.contains(':'))
        .map(|offset| start + offset)
    else {
        return Vec::new();
    };
    let mut words = Vec::new();
    if let Some((_, rest)) = line[colon].text.split_once(':') {
        if !rest.is_empty() {
            words.push(Word {
                text: rest.to_owned(),
                confidence: line[colon].confidence,
            });
        }
    }
    words.extend(line[colon + 1..].iter().cloned());
    words
}

/// A dd/mm/yyyy date inside `text`, as printed.
fn date_in(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|start| {
        let candidate = text.get(start..start + 10)?;
        let shape = candidate
            .bytes()
            .enumerate()
            .all(|(index, byte)| match index {
                2 | 5 => byte == b'/',
                _ => byte.is_ascii_digit(),
            });
        shape.then(|| candidate.to_owned())
    })
}

/// Characters a card's text model may put into an MRZ line read without the MRZ's own
/// alphabet (a Vietnamese letter among the `<`: "THI<ẳHONG"), dropped from it; a line
/// with more is not taken for one.
const MOST_STRAYS_IN_AN_MRZ_LINE: usize = 2;

/// The MRZ among OCR lines: the last two or three lines of MRZ characters at least 28
/// long (up to `MOST_STRAYS_IN_AN_MRZ_LINE` others dropped: the MRZ's check digits and
/// length then say whether it reads), joined with line breaks, with their mean
/// confidence.
pub fn find_mrz_lines(lines: &[TextLine]) -> Option<(String, f32)> {
    let is_mrz_character = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<';
    let candidates: Vec<(String, f32)> = lines
        .iter()
        .filter_map(|line| {
            let read: String = line.words.iter().map(|word| word.text.as_str()).collect();
            let text: String = read.chars().filter(|&c| is_mrz_character(c)).collect();
            let strays = read.chars().count() - text.len();
            let is_mrz =
                text.len() >= 28 && strays <= MOST_STRAYS_IN_AN_MRZ_LINE && text.contains('<');
            let confidence = line.words.iter().map(|word| word.confidence).sum::<f32>()
                / line.words.len().max(1) as f32;
            is_mrz.then_some((text, confidence))
        })
        .collect();
    let count = match candidates.len() {
        0 | 1 => return None,
        2 => 2,
        _ => 3,
    };
    let chosen = &candidates[candidates.len() - count..];
    let text = chosen
        .iter()
        .map(|(line, _)| line.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let confidence = chosen.iter().map(|(_, confidence)| confidence).sum::<f32>() / count as f32;
    Some((text, confidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> TextLine {
        TextLine {
            words: text
                .split_whitespace()
                .map(|word| Word {
                    text: word.into(),
                    confidence: 90.0,
                })
                .collect(),
        }
    }

    #[test]
    fn labelled_fields_are_read_after_or_below_their_labels() {
        let lines: Vec<TextLine> = [
            "CĂN CƯỚC CÔNG DÂN",
            "Số / No.: 079203004512",
            "Họ và tên / Full name:",
            "PHẠM THỊ HỒNG NHUNG",
            "Ngày sinh / Date of birth: 05/11/1993",
            "Giới tính / Sex: Nữ Quốc tịch / Nationality: Việt Nam",
            "Quê quán / Place of origin: Tân Bình, Hồ Chí Minh",
            "Nơi thường trú / Place of residence: 12 Lê Lợi, Phường Bến Nghé,",
            "Quận 1, TP. Hồ Chí Minh",
            "Có giá trị đến: 05/11/2033",
        ]
        .into_iter()
        .map(line)
        .collect();
        let fields = read_printed_fields(&lines);
        let value = |key: &str| {
            fields
                .iter()
                .find(|field| field.key == key)
                .map(|field| field.value.as_str())
        };
        assert_eq!(value("ID"), Some("079203004512"));
        assert_eq!(value("Name"), Some("PHẠM THỊ HỒNG NHUNG"));
        assert_eq!(value("Date of birth"), Some("05/11/1993"));
        assert_eq!(value("Sex"), Some("Nữ"));
        assert_eq!(value("Nationality"), Some("Việt Nam"));
        assert_eq!(value("Home"), Some("Tân Bình, Hồ Chí Minh"));
        assert_eq!(
            value("Address"),
            Some("12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh")
        );
        assert_eq!(value("Expired Date"), Some("05/11/2033"));
        assert_eq!(fields[0].confidence, 90.0);
    }

    #[test]
    fn a_line_of_specks_between_a_label_and_its_value_is_passed_over() {
        // As Tesseract read the demo card, whose holder's photo sits left of the labels.
        let lines: Vec<TextLine> = [
            "! Dee Ho va tén / Full name:",
            "= @",
            "< PHẠM THỊ HỒNG NHUNG",
            "3% Ngày sinh / Date of birth: 05/11/1993",
        ]
        .into_iter()
        .map(line)
        .collect();
        let fields = read_printed_fields(&lines);
        assert_eq!(fields[0].key, FieldKey::Name);
        assert_eq!(fields[0].value, "PHẠM THỊ HỒNG NHUNG");
        // Never past the next label.
        let lines: Vec<TextLine> = [
            "Họ và tên / Full name:",
            "= @",
            "Ngày sinh / Date of birth: 05/11/1993",
        ]
        .into_iter()
        .map(line)
        .collect();
        assert!(read_printed_fields(&lines)
            .iter()
            .all(|field| field.key != FieldKey::Name));
    }

    #[test]
    fn a_value_ends_at_the_next_label_even_with_a_letter_misread() {
        // As Tesseract read a noisy card: "Quốc" as "Quéc".
        let lines = [line(
            "Giới tính / Sex: Nam Quéc tịch / Nationality: Việt Nam",
        )];
        assert_eq!(read_printed_fields(&lines)[0].value, "Nam");
    }

    #[test]
    fn words_of_symbols_only_are_specks_not_print() {
        let lines = [line(
            "Giới tính / Sex: Nam = Quốc tịch / Nationality: Việt Nam _",
        )];
        let fields = read_printed_fields(&lines);
        assert_eq!(fields[0].value, "Nam");
        assert_eq!(fields[1].value, "Việt Nam");
    }

    #[test]
    fn the_mrz_is_the_last_lines_of_mrz_characters() {
        let lines: Vec<TextLine> = [
            "Ngày, tháng, năm / Date, month, year: 14/08/2021",
            "IDVNM2030045121079203004512<<1",
            "9311055F3311053VNM<<<<<<<<<<<6",
            "PHAM<<THI<HONG<NHUNG<<<<<<<<<<",
        ]
        .into_iter()
        .map(line)
        .collect();
        let (mrz, confidence) = find_mrz_lines(&lines).unwrap();
        assert_eq!(mrz.lines().count(), 3);
        assert!(mrz.starts_with("IDVNM"));
        assert_eq!(confidence, 90.0);
        assert_eq!(
            read_printed_fields(&lines)[0].value,
            "14/08/2021",
            "the issue date from the back"
        );
    }

    #[test]
    fn a_stray_letter_in_an_mrz_line_is_dropped_and_a_line_of_words_is_no_mrz() {
        // As Tesseract's Vietnamese model read the demo card's back.
        let read = |name_line: &str| {
            let lines: Vec<TextLine> = [
                "IDVNM2030045121079203004512<<1",
                "9311055F3311053VNM<<<<<<<<<<<6",
                name_line,
            ]
            .into_iter()
            .map(line)
            .collect();
            find_mrz_lines(&lines).unwrap().0
        };
        assert_eq!(
            read("PHAM<<THI<ẳHONG<NHUNG<<<<<<<<<<").lines().last(),
            Some("PHAM<<THI<HONG<NHUNG<<<<<<<<<<")
        );
        // Three strays: not an MRZ line, so only the two lines above are found.
        assert_eq!(read("PHAM<<THIẳẳẳHONG<NHUNG<<<<<<<<<<").lines().count(), 2);
        let words = line("QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI CỤC CẢNH SÁT");
        assert_eq!(find_mrz_lines(&[words]), None);
    }
}
