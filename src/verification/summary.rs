//! Everything one verification found out, as one JSON object (schema
//! `ekyc-kiosk/submit/1`, the README's "submit --json"): what `submit --json` prints and
//! what the bank's report carries for a result the kiosk showed.

use serde::Serialize;

use ekyc_client::{ApiError, ErrorKind};
use ekyc_contract::{DocumentType, FaceMatch, KryptonAction, Liveness, OcrField};
use ekyc_reading::FieldAgreement;

use super::{BackendInfo, Verdict, VerificationResult};

/// Version of the JSON object `submit --json` prints. Bumped on any incompatible change.
pub const SUMMARY_SCHEMA: &str = "ekyc-kiosk/submit/1";

/// How a submission ended, and the process's exit code for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exit 0: the back end accepted every step. Checks it did not evaluate are listed in
    /// `not_evaluated`, never counted as passed.
    Accepted,
    /// Exit 3: the back end rejected the customer's images (no document, face mismatch,
    /// two faces, not live, another API code).
    Rejected,
    /// Exit 4: the back end is unreachable or broken.
    BackendFailure,
    /// Exit 2: bad usage, an unreadable image, or a configuration the back end refuses
    /// (wrong API key).
    BadInput,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Accepted => 0,
            Self::BadInput => 2,
            Self::Rejected => 3,
            Self::BackendFailure => 4,
        }
    }

    /// How a failure of the back end ends the submission.
    pub fn of_error(error: &ApiError) -> Self {
        if error.is_back_end_failure() {
            return Self::BackendFailure;
        }
        match error.kind() {
            ErrorKind::DocumentNotFound
            | ErrorKind::FaceMismatch
            | ErrorKind::MultipleFaces
            | ErrorKind::NotEnrolled
            | ErrorKind::ApiError => Self::Rejected,
            ErrorKind::Unauthorized
            | ErrorKind::Certificate
            | ErrorKind::InvalidImage
            | ErrorKind::InvalidRequest => Self::BadInput,
            ErrorKind::SessionExpired
            | ErrorKind::TooManyRequests
            | ErrorKind::HttpError
            | ErrorKind::MalformedResponse
            | ErrorKind::Timeout
            | ErrorKind::Unreachable
            | ErrorKind::ConnectionDropped
            | ErrorKind::Internal => Self::BackendFailure,
        }
    }
}

/// The step a failure happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Reading and preparing the image files.
    PrepareImages,
    /// Reaching or starting the back end.
    Connect,
    /// `/session/init` and `/ocr`.
    Document,
    /// `/face/liveness`.
    Face,
}

/// The failure in a report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportError {
    pub step: Step,
    pub kind: Option<ErrorKind>,
    /// The contract's code, when the back end gave one.
    pub code: Option<String>,
    pub message: String,
    /// The back end's body as received (cut to 4 KiB), for staff diagnostics.
    pub raw_body: Option<String>,
}

impl ReportError {
    pub fn from_api(step: Step, error: &ApiError) -> Self {
        Self {
            step,
            kind: Some(error.kind()),
            code: error.code().map(str::to_owned),
            message: error.to_string(),
            raw_body: error
                .raw_body()
                .filter(|raw| !raw.is_empty())
                .map(|raw| raw.text()),
        }
    }
}

/// Everything one verification found out, as `submit --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub outcome: Outcome,
    pub exit_code: u8,
    pub backend: Option<BackendInfo>,
    /// The journey: `ENROLL`, `AUTH` or `LIVENESS` (Krypton's action).
    pub action: KryptonAction,
    /// ENROLL with `--user-id`: whether the back end kept the face for a later AUTH;
    /// null when nothing was to be kept or the back end did not say.
    pub enrolled: Option<bool>,
    pub document_type: DocumentType,
    /// OCR fields in the server's order; `score` is null where the server said "N/A".
    pub fields: Vec<OcrField>,
    pub liveness: Option<Liveness>,
    pub face_match: Option<FaceMatch>,
    pub is_complete_session: Option<bool>,
    /// The OCR against the card's own QR code and MRZ, read on this machine: one verdict
    /// per field the card can prove (`agrees`, `differs` with `card_value`,
    /// `not_available`).
    pub cross_check: Vec<FieldAgreement>,
    /// The card's chip, when it was read: passive authentication's verdict and who made
    /// it (`judged_by`: `back_end` or `kiosk`), the Document Signer, the selfie against
    /// the chip's photo, active authentication, the data groups read.
    pub chip: Option<super::ChipResult>,
    /// Checks the back end answered without evaluating ("N/A"): `liveness`, `face_match`.
    pub not_evaluated: Vec<&'static str>,
    /// How many times an expired session was silently replaced.
    pub session_reinitialisations: u32,
    pub error: Option<ReportError>,
}

impl Summary {
    /// A report with nothing found yet.
    pub fn new(document_type: DocumentType, backend: Option<BackendInfo>) -> Self {
        Self {
            schema: SUMMARY_SCHEMA,
            outcome: Outcome::Accepted,
            exit_code: Outcome::Accepted.exit_code(),
            backend,
            action: KryptonAction::Enroll,
            enrolled: None,
            document_type,
            fields: Vec::new(),
            liveness: None,
            face_match: None,
            is_complete_session: None,
            cross_check: Vec::new(),
            chip: None,
            not_evaluated: Vec::new(),
            session_reinitialisations: 0,
            error: None,
        }
    }

    /// The report of a verification the kiosk finished (its result screen): the same
    /// object `submit --json` prints, for the bank's system.
    pub fn of_result(result: &VerificationResult) -> Self {
        let mut report = Self::new(result.document.unwrap_or(DocumentType::Idr), None);
        report.action = result.action.unwrap_or(KryptonAction::Enroll);
        report.enrolled = result.enrolled;
        report.fields = result.fields.clone();
        report.cross_check = result.cross_check.clone();
        report.chip = result.chip.clone();
        report.liveness = result.liveness.clone();
        report.face_match = result.face_match.clone();
        report.is_complete_session = Some(result.is_complete_session);
        report.not_evaluated = result.not_evaluated();
        if result.verdict() == Verdict::Rejected {
            report.outcome = Outcome::Rejected;
            report.exit_code = Outcome::Rejected.exit_code();
        }
        report
    }

    /// A report of a submission that failed before reaching the back end.
    pub fn failed(document_type: DocumentType, outcome: Outcome, error: ReportError) -> Self {
        Self {
            outcome,
            exit_code: outcome.exit_code(),
            error: Some(error),
            ..Self::new(document_type, None)
        }
    }
}
