//! `ekyc-kiosk submit`: one whole verification without a window (init → OCR → face), as a
//! readable table or a stable JSON object.

use std::path::PathBuf;

use ekyc_client::{ApiError, OcrRequest};
use ekyc_contract::{DocumentType, KryptonAction};
use ekyc_imaging::{prepare_image_file, ImageLimits, PreparedImage};
use ekyc_reading::{Agreement, FieldAgreement, Proof};

use crate::verification::{
    BackendInfo, Outcome, ReportError, Step, SubmitStep, Summary, Verdict, Verification,
};

/// The image files of one submission.
#[derive(Debug, Clone)]
pub struct SubmitFiles {
    pub document: DocumentType,
    pub action: KryptonAction,
    /// Required for ENROLL; AUTH and LIVENESS send no document.
    pub front: Option<PathBuf>,
    pub back: Option<PathBuf>,
    pub selfie: PathBuf,
}

/// The prepared images of one submission.
#[derive(Debug)]
pub struct PreparedSubmission {
    pub document: DocumentType,
    pub action: KryptonAction,
    pub front: Option<PreparedImage>,
    pub back: Option<PreparedImage>,
    pub selfie: PreparedImage,
}

impl SubmitFiles {
    /// Reads and prepares every image before any request is made.
    pub fn prepare(&self, limits: &ImageLimits) -> Result<PreparedSubmission, ApiError> {
        if self.back.is_some() && !self.document.has_back() {
            return Err(ApiError::InvalidRequest(
                "a passport has one page: leave out --back".into(),
            ));
        }
        let enrol = self.action == KryptonAction::Enroll;
        if !enrol && (self.front.is_some() || self.back.is_some()) {
            return Err(ApiError::InvalidRequest(format!(
                "{} reads no document: leave out --front and --back",
                self.action.as_str()
            )));
        }
        let front = match &self.front {
            Some(front) => Some(prepare_image_file(front, limits)?),
            None if enrol => return Err(ApiError::InvalidRequest("ENROLL needs --front".into())),
            None => None,
        };
        Ok(PreparedSubmission {
            document: self.document,
            action: self.action,
            front,
            back: self
                .back
                .as_deref()
                .map(|back| prepare_image_file(back, limits))
                .transpose()?,
            selfie: prepare_image_file(&self.selfie, limits)?,
        })
    }
}

/// Runs `verification` (session → OCR when the journey reads a document → face) and
/// reports what came back.
pub async fn run_submission(
    mut verification: Verification,
    backend: BackendInfo,
    submission: PreparedSubmission,
) -> Summary {
    let PreparedSubmission {
        document,
        action,
        front,
        back,
        selfie,
    } = submission;
    let mut report = Summary::new(document, Some(backend));
    report.action = action;
    let request = front.map(|front| OcrRequest::both_sides(document, front, back));
    let outcome = verification
        .run(request, std::slice::from_ref(&selfie), None, &|_| {})
        .await;
    report.session_reinitialisations = verification.session_reinitialisations();
    if let Some(read) = verification.document() {
        report.fields = read.fields.clone();
        report.cross_check = verification.cross_check();
    }
    match outcome {
        Ok(result) => {
            report.is_complete_session = Some(result.is_complete_session);
            report.not_evaluated = result.not_evaluated();
            if result.verdict() == Verdict::Rejected {
                report.outcome = Outcome::Rejected;
            }
            report.liveness = result.liveness.clone();
            report.face_match = result.face_match.clone();
            report.enrolled = result.enrolled;
        }
        Err(failure) => {
            let error = &failure.error;
            report.outcome = Outcome::of_error(error);
            report.is_complete_session = error.is_complete_session();
            if let ApiError::FaceMismatch { result, .. } | ApiError::MultipleFaces { result, .. } =
                error
            {
                report.liveness = result.liveness.clone();
                report.face_match = result.face_match.clone();
            }
            let step = match failure.step {
                SubmitStep::Session | SubmitStep::Document => Step::Document,
                SubmitStep::Face => Step::Face,
            };
            report.error = Some(ReportError::from_api(step, error));
        }
    }
    report.exit_code = report.outcome.exit_code();
    report
}

/// The report as a person reads it.
/// The table's "Card" column (`agrees QR`, `DIFFERS`, `-`) and, for a field that differs,
/// what the card says, to print after the OCR's value.
fn card_column(agreement: Option<&FieldAgreement>) -> (String, String) {
    let Some(agreement) = agreement else {
        return (String::new(), String::new());
    };
    let proofs = agreement
        .proofs
        .iter()
        .map(|proof| match proof {
            Proof::Qr => "QR",
            Proof::Mrz => "MRZ",
            Proof::Chip => "chip",
        })
        .collect::<Vec<_>>()
        .join("+");
    match agreement.verdict {
        Agreement::Agrees => (format!("agrees {proofs}"), String::new()),
        Agreement::Differs => (
            "DIFFERS".to_owned(),
            format!(
                "  (the card's {proofs} says {})",
                agreement.card_value.as_deref().unwrap_or("")
            ),
        ),
        Agreement::NotAvailable => ("-".to_owned(), String::new()),
    }
}

pub fn render_table(report: &Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(backend) = &report.backend {
        let _ = writeln!(out, "Back end: {} ({})", backend.kind, backend.base_url);
    }
    if report.action == KryptonAction::Enroll {
        let _ = writeln!(out, "Document: {}", report.document_type.as_str());
    } else {
        let _ = writeln!(out, "Journey: {}", report.action.as_str());
    }
    if !report.fields.is_empty() {
        let label_width = report
            .fields
            .iter()
            .map(|field| field.key.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        let _ = writeln!(
            out,
            "\n  {:<label_width$}  {:>7}  {:<14}  Value",
            "Field", "Score", "Card"
        );
        for field in &report.fields {
            let score = field
                .score
                .map(|score| format!("{score:.2}"))
                .unwrap_or_else(|| "N/A".into());
            let agreement = report
                .cross_check
                .iter()
                .find(|agreement| agreement.key == field.key.as_str());
            let (card, differs) = card_column(agreement);
            let _ = writeln!(
                out,
                "  {:<label_width$}  {:>7}  {card:<14}  {}{differs}",
                field.key,
                score,
                // An MRZ's lines on one row.
                field.value.replace('\n', " ")
            );
        }
        out.push('\n');
    }
    let verdict = |value: Option<bool>, yes: &str, no: &str| match value {
        Some(true) => yes.to_owned(),
        Some(false) => no.to_owned(),
        None => "not evaluated".to_owned(),
    };
    if let Some(liveness) = &report.liveness {
        let _ = write!(
            out,
            "Liveness:   {}",
            verdict(liveness.is_live, "live", "NOT live")
        );
        if let Some(warning) = &liveness.warning {
            let _ = write!(out, " ({warning})");
        }
        out.push('\n');
    }
    if let Some(face_match) = &report.face_match {
        let _ = write!(
            out,
            "Face match: {}",
            verdict(face_match.is_match, "match", "NO match")
        );
        if let Some(similarity) = face_match.similarity {
            let _ = write!(out, ", similarity {similarity:.2}");
        }
        if let Some(warning) = &face_match.warning {
            let _ = write!(out, " ({warning})");
        }
        out.push('\n');
    }
    match report.enrolled {
        Some(true) => out.push_str("Enrolment: the face is kept for this customer's AUTH\n"),
        Some(false) => out.push_str("Enrolment: NOT kept (see the checks above)\n"),
        None => {}
    }
    if let Some(error) = &report.error {
        let _ = writeln!(out, "Error ({:?} step): {}", error.step, error.message);
    }
    let outcome = match report.outcome {
        Outcome::Accepted if report.not_evaluated.is_empty() => "ACCEPTED".to_owned(),
        Outcome::Accepted => format!(
            "ACCEPTED by the back end; not evaluated: {}",
            report.not_evaluated.join(", ")
        ),
        Outcome::Rejected => "REJECTED".to_owned(),
        Outcome::BackendFailure => "FAILED: the back end is unreachable or broken".to_owned(),
        Outcome::BadInput => "FAILED: bad input or configuration".to_owned(),
    };
    let _ = writeln!(out, "Outcome: {outcome} (exit {})", report.exit_code);
    out
}
