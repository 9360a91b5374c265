//! Tesseract OCR, run as a subprocess (`tesseract - - … tsv`), not linked as a library.
//!
//! Why a subprocess: the library bindings need Tesseract's and Leptonica's C++ headers and
//! libclang at build time and `unsafe` FFI at run time; a crash or a runaway page inside
//! Tesseract would take the engine down with it, where a child process can be timed out
//! and killed. The cost is a process start and a model load per call (tens to a few
//! hundred milliseconds), small beside the recognition itself. Debian's `tesseract-ocr`
//! with `tesseract-ocr-vie` (which brings `eng`) is what `./run` and `./test` install.
//!
//! Images go in as PNG on stdin; words come back as TSV with Tesseract's own confidence
//! (0–100) for each.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use image::GrayImage;

/// The longest one recognition may take before the child is killed.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A Tesseract installation with the languages the engine needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tesseract {
    program: PathBuf,
}

/// One line of recognised text: its words and their confidences.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    /// Its words, left to right.
    pub words: Vec<Word>,
}

/// One word Tesseract read, with its confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The word.
    pub text: String,
    /// Tesseract's confidence, 0–100.
    pub confidence: f32,
}

impl TextLine {
    /// The words joined by spaces.
    pub fn text(&self) -> String {
        self.words
            .iter()
            .map(|word| word.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What to recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Printed Vietnamese and English labels and values (`vie+eng`, a block of text).
    CardText,
    /// MRZ lines: `A–Z 0–9 <` only (`eng`).
    Mrz,
}

impl Tesseract {
    /// `tesseract` on the PATH with `vie` and `eng` installed; looked up once.
    pub fn find() -> Option<Self> {
        static FOUND: OnceLock<Option<Tesseract>> = OnceLock::new();
        FOUND
            .get_or_init(|| Self::at(PathBuf::from("tesseract")))
            .clone()
    }

    /// The program at `program`, if it runs and has `vie` and `eng`.
    pub fn at(program: PathBuf) -> Option<Self> {
        let output = Command::new(&program)
            .arg("--list-langs")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let languages = String::from_utf8_lossy(&output.stdout);
        let has = |language: &str| languages.lines().any(|line| line.trim() == language);
        (output.status.success() && has("vie") && has("eng")).then_some(Self { program })
    }

    /// Recognises `image` line by line. An error is for the engine's log.
    pub fn read(&self, image: &GrayImage, reading: Reading) -> Result<Vec<TextLine>, OcrError> {
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|error| OcrError::Encode(error.to_string()))?;
        let mut command = Command::new(&self.program);
        command.args(["-", "-", "--psm", "6"]);
        match reading {
            Reading::CardText => command.args(["-l", "vie+eng"]),
            Reading::Mrz => command.args([
                "-l",
                "eng",
                "-c",
                "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
            ]),
        };
        command
            .arg("tsv")
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().map_err(OcrError::Start)?;
        let mut stdin = child.stdin.take().ok_or(OcrError::NoInput)?;
        let writer = std::thread::spawn(move || stdin.write_all(&png));
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() > TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(OcrError::TooSlow(TIMEOUT));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(error) => return Err(OcrError::Wait(error)),
            }
        }
        let _ = writer.join();
        let output = child.wait_with_output().map_err(OcrError::Wait)?;
        if !output.status.success() {
            return Err(OcrError::Failed(output.status));
        }
        Ok(parse_tsv(&String::from_utf8_lossy(&output.stdout)))
    }
}

/// Tesseract could not read a picture; the engine logs it and reads what it can without.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// The picture could not be handed over as PNG.
    #[error("cannot encode the image for Tesseract: {0}")]
    Encode(String),
    /// The program did not start.
    #[error("cannot start Tesseract: {0}")]
    Start(std::io::Error),
    /// Its standard input was not open.
    #[error("Tesseract's stdin is not open")]
    NoInput,
    /// It ran past the time allowed and was stopped.
    #[error("Tesseract took more than {} s", .0.as_secs())]
    TooSlow(Duration),
    /// Waiting for it or reading its output failed.
    #[error("waiting for Tesseract: {0}")]
    Wait(std::io::Error),
    /// It ended with a failure.
    #[error("Tesseract failed ({0})")]
    Failed(std::process::ExitStatus),
}

/// Tesseract's TSV (`level page block par line word left top width height conf text`)
/// as lines of words, in reading order.
pub fn parse_tsv(tsv: &str) -> Vec<TextLine> {
    let mut lines: Vec<((u32, u32, u32), TextLine)> = Vec::new();
    for row in tsv.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        if columns.len() < 12 || columns[0] != "5" {
            continue;
        }
        let text = columns[11].trim();
        let Ok(confidence) = columns[10].parse::<f32>() else {
            continue;
        };
        if text.is_empty() || confidence < 0.0 {
            continue;
        }
        let number = |index: usize| columns[index].parse::<u32>().unwrap_or(0);
        let line_id = (number(2), number(3), number(4));
        let word = Word {
            text: text.to_owned(),
            confidence,
        };
        match lines.last_mut() {
            Some((id, line)) if *id == line_id => line.words.push(word),
            _ => lines.push((line_id, TextLine { words: vec![word] })),
        }
    }
    lines.into_iter().map(|(_, line)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_lines_of_words_with_confidences() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
            1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
            5\t1\t1\t1\t1\t1\t10\t10\t40\t12\t96.5\tSố\n\
            5\t1\t1\t1\t1\t2\t60\t10\t40\t12\t91.0\t079203004512\n\
            5\t1\t1\t1\t2\t1\t10\t30\t40\t12\t88.25\tPHẠM\n\
            5\t1\t1\t1\t2\t2\t10\t30\t40\t12\t-1\t\n";
        let lines = parse_tsv(tsv);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text(), "Số 079203004512");
        assert_eq!(lines[0].words[1].confidence, 91.0);
        assert_eq!(lines[1].text(), "PHẠM");
    }

    #[test]
    fn a_missing_program_is_no_tesseract() {
        assert_eq!(Tesseract::at(PathBuf::from("/nonexistent/tesseract")), None);
    }
}
