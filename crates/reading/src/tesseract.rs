//! Tesseract OCR, Debian's `libtesseract.so.5` opened at run time (its C API in
//! `tesseract/library.rs`), its models loaded once and kept.
//!
//! Why in the process and not the `tesseract` program: each run of the program loads its
//! models again, 0.15 s of CPU for `vie+eng` (measured on a 1012 × 638 card side: 0.40 s
//! for one picture, 0.22 s more for each further picture given to the same run), which
//! was a third of a verification's OCR. What the subprocess gave, kept here: a picture
//! that runs too long is stopped ([`TIMEOUT`], Tesseract's own deadline, checked between
//! words); Tesseract never parses a file of ours (the engine decodes uploads in Rust and
//! hands over pixels), so its image decoders are out of reach of a hostile upload; and
//! without the library or its languages the engine still runs and says what it cannot
//! read. What is given up: a crash inside Tesseract would now stop the whole process (the
//! engine, or the kiosk running the embedded one) where it cost one card side; none was
//! seen (the test suite, the OCR bench's 150 cards, 300 readings in a row, pictures of
//! noise), systemd restarts the engine's service and a bank's balancer sends its requests
//! to the other replicas. Debian's `tesseract-ocr` with `tesseract-ocr-vie` (which bring
//! `libtesseract5` and `eng`) is what `./run` and `./test` install.
//!
//! The price is memory held: one `vie+eng` engine about 50 MB resident once it has read a
//! card side, an `eng` one for MRZs about 12 MB more (measured on Debian 12's 5.3.0), and
//! one more of a kind for each thread reading at once, up to the cores. It does not grow:
//! 65.4 MB resident after 10 readings of the demo card's two sides and after 300.
//!
//! Words come back with Tesseract's own confidence (0–100) for each.

mod library;

use std::ffi::OsStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use image::GrayImage;

use library::{Engine, Failure, Library};

/// The longest one recognition may take before Tesseract is stopped. A card side takes
/// about 0.2 s; the deadline is checked between words, so a picture of noise with
/// "words" everywhere stops here.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The longest side, in pixels, of a picture given to Tesseract; a larger one is scaled
/// down to it first. Tesseract's page analysis, before the first word, is not bounded by
/// its deadline and grows with the pixels: 31 s on a 4400 × 3300 picture of noise (an
/// upload within the engine's 15 MB) with a deadline of 1 s. A card side is about 1000
/// pixels wide from the kiosk (its pictures are at most 1920) and at most 1.5 times that
/// once the engine has levelled it.
pub const MAX_SIDE: u32 = 2400;

/// The library's file name on Debian 12 (Tesseract 5).
const LIBRARY: &str = "libtesseract.so.5";

/// Tesseract with the languages the engine needs, its models loaded. Clones share them.
#[derive(Clone)]
pub struct Tesseract {
    shared: Arc<Loaded>,
}

/// The library and the engines ready for each kind of reading. An engine is taken for
/// one picture and put back; one is made when none is free (each thread reading at once
/// has its own), and at most [`Loaded::idle_kept`] wait for the next picture.
struct Loaded {
    library: Arc<Library>,
    version: String,
    card_text: Mutex<Vec<Engine>>,
    mrz: Mutex<Vec<Engine>>,
    idle_kept: usize,
}

impl std::fmt::Debug for Tesseract {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tesseract")
            .field("version", &self.shared.version)
            .finish_non_exhaustive()
    }
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

impl Reading {
    /// Tesseract's languages and variables for this reading.
    fn setup(self) -> (&'static str, &'static [(&'static str, &'static str)]) {
        match self {
            Reading::CardText => ("vie+eng", &[]),
            Reading::Mrz => (
                "eng",
                &[(
                    "tessedit_char_whitelist",
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
                )],
            ),
        }
    }
}

impl Tesseract {
    /// Debian's `libtesseract.so.5` with `vie` and `eng` installed; loaded once per
    /// process.
    pub fn find() -> Option<Self> {
        static FOUND: OnceLock<Option<Tesseract>> = OnceLock::new();
        FOUND
            .get_or_init(|| Self::load(OsStr::new(LIBRARY)))
            .clone()
    }

    /// Debian's `libtesseract.so.5` with `eng`, for MRZs only: the kiosk's own readings
    /// (the identify screen, the chip's key). Loaded once per process, apart from
    /// [`find`](Self::find)'s: a kiosk served by a bank's engine never loads the card
    /// text's `vie+eng` (23 MB less resident after an MRZ read, measured).
    pub fn find_for_mrz() -> Option<Self> {
        static FOUND: OnceLock<Option<Tesseract>> = OnceLock::new();
        FOUND
            .get_or_init(|| Self::load_for(OsStr::new(LIBRARY), Reading::Mrz))
            .clone()
    }

    /// The library `name` (a file name or a path), if it opens and has `vie` and `eng`.
    /// The card text's engine is started here, so the first picture does not wait for it.
    pub fn load(name: &OsStr) -> Option<Self> {
        Self::load_for(name, Reading::CardText)
    }

    /// The library `name`, if it opens and has the languages of `first`, whose engine is
    /// started here; the other reading's is started when first needed.
    fn load_for(name: &OsStr, first: Reading) -> Option<Self> {
        let library = match Library::open(name) {
            Ok(library) => Arc::new(library),
            Err(error) => {
                tracing::info!("Tesseract is not available: {error}");
                return None;
            }
        };
        let (languages, variables) = first.setup();
        let Some(engine) = Engine::new(Arc::clone(&library), languages, variables) else {
            tracing::warn!("Tesseract is installed without its {languages} languages");
            return None;
        };
        let (mut card_text, mut mrz) = (Vec::new(), Vec::new());
        match first {
            Reading::CardText => card_text.push(engine),
            Reading::Mrz => mrz.push(engine),
        }
        Some(Self {
            shared: Arc::new(Loaded {
                version: library.version(),
                library,
                card_text: Mutex::new(card_text),
                mrz: Mutex::new(mrz),
                idle_kept: std::thread::available_parallelism().map_or(2, |cores| cores.get()),
            }),
        })
    }

    /// Tesseract's version, e.g. `5.3.0`.
    pub fn version(&self) -> &str {
        &self.shared.version
    }

    /// Recognises `image` line by line. An error is for the engine's log.
    pub fn read(&self, image: &GrayImage, reading: Reading) -> Result<Vec<TextLine>, OcrError> {
        let idle = match reading {
            Reading::CardText => &self.shared.card_text,
            Reading::Mrz => &self.shared.mrz,
        };
        let taken = idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut engine = match taken {
            Some(engine) => engine,
            None => {
                let (languages, variables) = reading.setup();
                Engine::new(Arc::clone(&self.shared.library), languages, variables)
                    .ok_or(OcrError::Start(languages))?
            }
        };
        let scaled;
        let image = if image.width().max(image.height()) > MAX_SIDE {
            let scale = MAX_SIDE as f32 / image.width().max(image.height()) as f32;
            let side = |pixels: u32| ((pixels as f32 * scale).round() as u32).clamp(1, MAX_SIDE);
            scaled = image::imageops::resize(
                image,
                side(image.width()),
                side(image.height()),
                image::imageops::FilterType::Triangle,
            );
            &scaled
        } else {
            image
        };
        let tsv = engine
            .recognise(image, TIMEOUT)
            .map_err(|failure| match failure {
                Failure::Size => OcrError::Size(image.width(), image.height()),
                Failure::Deadline => OcrError::TooSlow(TIMEOUT),
                Failure::Failed => OcrError::Failed,
            })?;
        let mut idle = idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.shared.idle_kept {
            idle.push(engine);
        }
        Ok(parse_tsv(&tsv))
    }
}

/// Tesseract could not read a picture; the engine logs it and reads what it can without.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// Tesseract could not be started with these languages.
    #[error("cannot start Tesseract with {0}")]
    Start(&'static str),
    /// The picture is empty or larger than Tesseract takes.
    #[error("a {0} × {1} picture cannot be given to Tesseract")]
    Size(u32, u32),
    /// It ran past the time allowed and was stopped.
    #[error("Tesseract took more than {} s", .0.as_secs())]
    TooSlow(Duration),
    /// It said it failed.
    #[error("Tesseract failed to recognise the picture")]
    Failed,
}

/// Tesseract's TSV (`level page block par line word left top width height conf text`,
/// with or without its header row) as lines of words, in reading order.
pub fn parse_tsv(tsv: &str) -> Vec<TextLine> {
    let mut lines: Vec<((u32, u32, u32), TextLine)> = Vec::new();
    for row in tsv.lines() {
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

    fn demo_front() -> GrayImage {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/demo/demo-card-front.png"
        );
        image::open(path).expect("the demo card").to_luma8()
    }

    fn assert_reads_the_demo_number(lines: &[TextLine]) {
        assert!(
            lines
                .iter()
                .any(|line| line.text().contains("079203004512")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_picture_past_its_deadline_is_stopped_and_the_next_one_is_read() {
        let ocr = Tesseract::find().expect("Tesseract with vie and eng (./test installs it)");
        let (languages, variables) = Reading::CardText.setup();
        let mut engine =
            Engine::new(Arc::clone(&ocr.shared.library), languages, variables).expect("an engine");
        let front = demo_front();
        assert_eq!(
            engine.recognise(&front, Duration::from_millis(1)),
            Err(Failure::Deadline)
        );
        let lines = parse_tsv(&engine.recognise(&front, TIMEOUT).expect("read"));
        assert_reads_the_demo_number(&lines);
    }

    #[test]
    fn a_picture_past_the_largest_side_is_scaled_down_and_read() {
        let ocr = Tesseract::find().expect("Tesseract with vie and eng (./test installs it)");
        let front = demo_front();
        let large = image::imageops::resize(
            &front,
            front.width() * 3,
            front.height() * 3,
            image::imageops::FilterType::Triangle,
        );
        assert!(large.width() > MAX_SIDE);
        let lines = ocr.read(&large, Reading::CardText).expect("read");
        assert_reads_the_demo_number(&lines);
    }

    #[test]
    fn an_empty_picture_is_refused_before_tesseract_sees_it() {
        let ocr = Tesseract::find().expect("Tesseract with vie and eng (./test installs it)");
        assert!(matches!(
            ocr.read(&GrayImage::new(0, 10), Reading::CardText),
            Err(OcrError::Size(0, 10))
        ));
    }

    #[test]
    fn the_mrz_reader_loads_only_english_until_card_text_is_asked_of_it() {
        let mrz = Tesseract::load_for(OsStr::new(LIBRARY), Reading::Mrz).expect("eng");
        let idle = |pool: &Mutex<Vec<Engine>>| pool.lock().expect("pool").len();
        assert_eq!((idle(&mrz.shared.mrz), idle(&mrz.shared.card_text)), (1, 0));
        let front = demo_front();
        // The MRZ alphabet only: the name's diacritics and the labels' lower case are gone.
        let lines = mrz.read(&front, Reading::Mrz).expect("read");
        assert!(lines.iter().all(|line| line
            .text()
            .chars()
            .all(|c| c == ' ' || c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<')));
        assert_eq!(idle(&mrz.shared.card_text), 0);
        assert_reads_the_demo_number(&mrz.read(&front, Reading::CardText).expect("read"));
        assert_eq!(idle(&mrz.shared.card_text), 1);
    }

    #[test]
    fn a_missing_library_is_no_tesseract() {
        assert!(Tesseract::load(OsStr::new("/nonexistent/libtesseract.so.5")).is_none());
    }
}
