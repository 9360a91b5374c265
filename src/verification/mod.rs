//! One customer's verification, as the kiosk and `submit` both run it: a back-end session,
//! the document read by the back end while this machine reads what the card itself proves
//! (its QR code), the face step, the cross-check, and the verdict. A step that fails,
//! inside this program included, is reported as that step's failure and logged without
//! personal data; nothing is dropped.
//!
//! The session that read the document is kept in the [`Verification`], so that a selfie
//! can be retaken and sent alone.

pub mod backend;

use crate::api::{ApiError, FptClient, FptSession, OcrRequest};
use crate::contract::{DocumentType, FaceMatch, Liveness, OcrField, OcrResult};
use crate::imaging::PreparedImage;
use crate::liveness::ChallengeScore;
use crate::verify::{CardEvidence, FieldAgreement};

pub use backend::{Backend, BackendError, BackendInfo};

/// The steps of a verification, in order, shown with their progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubmitStep {
    /// `/session/init`.
    Session,
    /// `/ocr`, and the card's own QR code read on this machine.
    Document,
    /// `/face/liveness`.
    Face,
}

/// What the back end said, with the cross-check, as the result screen and `submit` show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerificationResult {
    pub document: Option<DocumentType>,
    pub fields: Vec<OcrField>,
    pub liveness: Option<Liveness>,
    pub face_match: Option<FaceMatch>,
    /// The OCR against what the card itself proves (its QR code, its MRZ), per field.
    pub cross_check: Vec<FieldAgreement>,
    /// The back end's `is_complete_session`: the session takes no more selfies.
    pub is_complete_session: bool,
    /// What the kiosk itself measured of liveness (its challenge), shown beside the back
    /// end's answer; `submit` runs no challenge.
    pub kiosk_liveness: KioskLiveness,
}

/// The kiosk's own liveness evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum KioskLiveness {
    /// No challenge: the `passive` model, or `submit`.
    #[default]
    NotRun,
    /// The challenge ran and passed the kiosk's check, with its figures.
    Passed(ChallengeScore),
    /// The challenge ran, but this kiosk has no face models to score it: the back end
    /// judges the frames alone.
    NotScored,
    /// The selfie was loaded from a file (staff mode): nothing proves a person was there,
    /// so liveness is never reported, whatever the back end says.
    SelfieFromFile,
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Live, and the face matches the document.
    Verified,
    /// Not live, or the face does not match.
    Rejected,
    /// Nothing negative, but some checks were not evaluated ("N/A"): never shown as a pass.
    NotEvaluated {
        /// Liveness was not evaluated.
        liveness: bool,
        /// Face match was not evaluated.
        face_match: bool,
    },
}

impl VerificationResult {
    /// The liveness verdict: the back end's, except for a selfie loaded from a file,
    /// which nothing proves live.
    pub fn is_live(&self) -> Option<bool> {
        if self.kiosk_liveness == KioskLiveness::SelfieFromFile {
            return None;
        }
        self.liveness.as_ref().and_then(|liveness| liveness.is_live)
    }

    fn is_match(&self) -> Option<bool> {
        self.face_match
            .as_ref()
            .and_then(|face_match| face_match.is_match)
    }

    /// The one verdict rule: any "no" rejects; a pass needs both checks evaluated.
    pub fn verdict(&self) -> Verdict {
        match (self.is_live(), self.is_match()) {
            (Some(false), _) | (_, Some(false)) => Verdict::Rejected,
            (Some(true), Some(true)) => Verdict::Verified,
            (is_live, is_match) => Verdict::NotEvaluated {
                liveness: is_live.is_none(),
                face_match: is_match.is_none(),
            },
        }
    }

    /// The checks the back end answered without evaluating ("N/A"), by their names in
    /// `submit --json`: `liveness`, `face_match`.
    pub fn not_evaluated(&self) -> Vec<&'static str> {
        [
            ("liveness", self.is_live()),
            ("face_match", self.is_match()),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| name)
        .collect()
    }

    /// Drops every value a customer could be recognised by (each field zeroes itself).
    pub fn wipe(&mut self) {
        self.fields.clear();
        self.cross_check.clear();
        self.liveness = None;
        self.face_match = None;
        self.kiosk_liveness = KioskLiveness::NotRun;
    }
}

/// A verification that stopped, and the step it stopped in.
#[derive(Debug)]
pub struct Failure {
    pub step: SubmitStep,
    pub error: ApiError,
}

/// The document as read in the kept session.
struct DocumentRead {
    document: OcrResult,
    card: CardEvidence,
}

/// One customer's back-end session and what it read.
pub struct Verification {
    session: FptSession,
    read: Option<DocumentRead>,
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Verification")
            .field("document_read", &self.read.is_some())
            .finish_non_exhaustive()
    }
}

impl Verification {
    pub fn new(client: FptClient) -> Self {
        Self {
            session: FptSession::new(client),
            read: None,
        }
    }

    /// Everything, in a new back-end session: session, document, face. `selfies`: the
    /// selfie, then the liveness challenge's frames when there was one. `progress` hears
    /// each step as it starts.
    pub async fn run(
        &mut self,
        request: OcrRequest,
        selfies: &[PreparedImage],
        progress: &(dyn Fn(SubmitStep) + Send + Sync),
    ) -> Result<VerificationResult, Failure> {
        progress(SubmitStep::Session);
        self.read = None;
        self.session
            .start()
            .await
            .map_err(|error| failure(SubmitStep::Session, error))?;
        progress(SubmitStep::Document);
        self.read_document(request).await?;
        progress(SubmitStep::Face);
        self.face(selfies).await
    }

    /// The back end reads the document while this machine reads the card's own QR code.
    async fn read_document(&mut self, request: OcrRequest) -> Result<(), Failure> {
        let uploads = request.images.clone();
        let card = tokio::task::spawn_blocking(move || CardEvidence::read_uploads(&uploads));
        let document = self
            .session
            .ocr(request)
            .await
            .map_err(|error| failure(SubmitStep::Document, error))?;
        let card = card.await.map_err(|error| {
            internal(SubmitStep::Document, "reading the card's QR code", &error)
        })?;
        self.read = Some(DocumentRead { document, card });
        Ok(())
    }

    /// Whether the kept session read the document, so that a selfie can go alone.
    pub fn has_document(&self) -> bool {
        self.read.is_some()
    }

    /// The document's fields as read, once read (also after a failed face step).
    pub fn document(&self) -> Option<&OcrResult> {
        self.read.as_ref().map(|read| &read.document)
    }

    /// The document's fields against the card, once read.
    pub fn cross_check(&self) -> Vec<FieldAgreement> {
        self.read
            .as_ref()
            .map(|read| read.card.cross_check(&read.document.fields))
            .unwrap_or_default()
    }

    /// How many times an expired back-end session was replaced.
    pub fn session_reinitialisations(&self) -> u32 {
        self.session.reinitialisations()
    }

    /// The face step, in the session that read the document: `selfies` as in
    /// [`Self::run`], the selfie first (the one matched with the card).
    pub async fn face(&mut self, selfies: &[PreparedImage]) -> Result<VerificationResult, Failure> {
        if self.read.is_none() {
            return Err(internal_error(
                SubmitStep::Face,
                "sending a selfie with no document read",
            ));
        }
        let face = self
            .session
            .face_liveness_frames(selfies)
            .await
            .map_err(|error| failure(SubmitStep::Face, error))?;
        Ok(VerificationResult {
            document: None,
            fields: self
                .document()
                .map(|document| document.fields.clone())
                .unwrap_or_default(),
            liveness: face.liveness,
            face_match: face.face_match,
            cross_check: self.cross_check(),
            is_complete_session: face.is_complete_session,
            kiosk_liveness: KioskLiveness::NotRun,
        })
    }
}

fn failure(step: SubmitStep, error: ApiError) -> Failure {
    Failure { step, error }
}

/// A task of ours that panicked or was cancelled: logged (never its payload, which may
/// hold a customer's data) and reported as the step's failure.
fn internal(step: SubmitStep, what: &str, error: &tokio::task::JoinError) -> Failure {
    tracing::error!(
        ?step,
        panicked = error.is_panic(),
        "{what}: the task did not finish"
    );
    failure(step, ApiError::Internal(what.to_owned()))
}

/// A step asked for out of order: a bug, logged and reported as the step's failure.
fn internal_error(step: SubmitStep, what: &str) -> Failure {
    tracing::error!(?step, "{what}");
    failure(step, ApiError::Internal(what.to_owned()))
}
