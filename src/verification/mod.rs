//! One customer's verification, as the kiosk and `submit` both run it: a back-end session,
//! the document read by the back end while this machine reads what the card itself proves
//! (its QR code), the face step, the cross-check, and the verdict. A step that fails,
//! inside this program included, is reported as that step's failure and logged without
//! personal data; nothing is dropped.
//!
//! The session that read the document is kept in the [`Verification`], so that a selfie
//! can be retaken and sent alone.

pub mod backend;
pub mod summary;

use crate::chip::ChipOutcome;
use ekyc_client::{ApiError, ChallengeAnswer, FptClient, FptSession, KryptonClient, OcrRequest};
use ekyc_contract::{
    ChipVerdict, DocumentType, FaceMatch, KryptonAction, KryptonExtra, KryptonFlow, Liveness,
    LivenessModel, OcrField, OcrResult, Secret, SessionType,
};
use ekyc_imaging::PreparedImage;
use ekyc_liveness::ChallengeScore;
use ekyc_reading::{CardEvidence, FieldAgreement};

pub use backend::{Backend, BackendError, BackendInfo};
pub use summary::{Outcome, ReportError, Step, Summary, SUMMARY_SCHEMA};

/// What a verification is for, in Krypton's terms, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journey {
    /// ENROLL (card and selfie), AUTH (a selfie against an enrolment) or LIVENESS.
    pub action: KryptonAction,
    /// Which the customer captures first (ENROLL).
    pub flow: KryptonFlow,
    pub model: LivenessModel,
    /// The bank's customer id (`userId`): ENROLL keeps the face for it, AUTH matches
    /// against it. A credential-like value: redacted in `Debug`.
    pub customer_id: Option<Secret>,
}

impl Default for Journey {
    /// Today's journey: ENROLL, card first, with no customer id (nothing kept).
    fn default() -> Self {
        Self {
            action: KryptonAction::Enroll,
            flow: KryptonFlow::CardFirst,
            model: LivenessModel::Gaze,
            customer_id: None,
        }
    }
}

impl Journey {
    /// ENROLL reads a document; AUTH and LIVENESS do not.
    pub fn reads_document(&self) -> bool {
        self.action == KryptonAction::Enroll
    }

    /// Whether the back end must know the journey (a Krypton session): anything but an
    /// ENROLL that keeps nothing.
    pub fn needs_krypton_session(&self) -> bool {
        self.action != KryptonAction::Enroll || self.customer_id.is_some()
    }

    /// The Krypton request's `sessionTypes` and `extra` for this journey. LIVENESS names
    /// no customer: a random id stands in for the contract's required `userId`.
    fn krypton_request(&self, krypton: &KryptonClient) -> ekyc_client::krypton::KryptonRequest {
        let session_types = match self.action {
            KryptonAction::Enroll => vec![SessionType::Enroll, SessionType::Ocr],
            KryptonAction::Auth => vec![SessionType::Auth],
            KryptonAction::Liveness => vec![SessionType::Liveness],
        };
        let user_id = match &self.customer_id {
            Some(customer_id) => customer_id.expose().trim().to_owned(),
            None => format!("kiosk-{}", uuid::Uuid::new_v4()),
        };
        krypton.request(
            session_types,
            KryptonExtra {
                action: self.action,
                flow: (self.action == KryptonAction::Enroll).then_some(self.flow),
                model: self.model,
                user_id,
                kr_path: None,
            },
        )
    }
}

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
    /// The journey's action: LIVENESS is judged on liveness alone, AUTH's match is
    /// against the customer's enrolment.
    pub action: Option<KryptonAction>,
    /// ENROLL with a customer id: whether the back end kept the face (the local engine's
    /// `enrolment.enrolled`); `None` when nothing was to be kept or the back end did not say.
    pub enrolled: Option<bool>,
    /// The card's chip, when it was read.
    pub chip: Option<ChipResult>,
}

/// Who judged the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChipJudge {
    /// The back end, with its own CSCA list (`/chip/verify`): the decision.
    BackEnd,
    /// This kiosk, with `chip.csca`: a back end that cannot check chips (FPT.AI's).
    Kiosk,
}

impl ChipJudge {
    /// The word in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BackEnd => "back_end",
            Self::Kiosk => "kiosk",
        }
    }
}

/// The chip's part of a result: passive authentication's verdict and who made it, the
/// selfie against the chip's photo, and how the chip was read. In the report as `chip`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChipResult {
    /// Who checked the chip.
    pub judged_by: ChipJudge,
    /// Passive authentication: `valid`, `invalid` or `untrusted`, with the reasons and
    /// the Document Signer.
    pub verdict: ChipVerdict,
    /// The selfie matched with the chip's photo (the back end's, or the kiosk's when the
    /// kiosk judged the chip).
    pub face_match: Option<FaceMatch>,
    /// Active authentication (DG15): `passed`, `failed` or `not_offered`.
    pub active_authentication: &'static str,
    /// Chip authentication (DG14): `passed`, `failed` or `not_offered`.
    pub chip_authentication: &'static str,
    /// How the chip was opened (`BAC`).
    pub access: &'static str,
    /// The data groups read.
    pub data_groups: Vec<u8>,
}

impl ChipResult {
    /// Active or chip authentication failed: the chip could not prove it holds its key.
    pub fn may_be_a_copy(&self) -> bool {
        self.active_authentication == "failed" || self.chip_authentication == "failed"
    }

    /// Whether the selfie matches the chip's photo; `None` when not evaluated.
    pub fn is_match(&self) -> Option<bool> {
        self.face_match
            .as_ref()
            .and_then(|face_match| face_match.is_match)
    }
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

    /// The one verdict rule: any "no" rejects; a pass needs both checks evaluated (in a
    /// LIVENESS journey, liveness alone).
    pub fn verdict(&self) -> Verdict {
        if let Some(chip) = &self.chip {
            // The chip is the issuer's word: altered data, a clone, or a face that is not
            // its photo's outweighs whatever the printed card says.
            if chip.verdict.status == "invalid"
                || chip.may_be_a_copy()
                || chip.is_match() == Some(false)
            {
                return Verdict::Rejected;
            }
        }
        if self.action == Some(KryptonAction::Liveness) {
            return match self.is_live() {
                Some(false) => Verdict::Rejected,
                Some(true) => Verdict::Verified,
                None => Verdict::NotEvaluated {
                    liveness: true,
                    face_match: false,
                },
            };
        }
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
        let face_match = (self.action != Some(KryptonAction::Liveness))
            .then_some(("face_match", self.is_match()));
        [("liveness", self.is_live())]
            .into_iter()
            .chain(face_match)
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
        self.chip = None;
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
    action: KryptonAction,
    /// The card's chip as the kiosk read it, sent after the document.
    chip: Option<ChipOutcome>,
    /// Who judged the chip, and the verdict.
    chip_checked: Option<(ChipJudge, ChipVerdict)>,
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
    /// Today's journey (ENROLL, nothing kept) in an FPT.AI session.
    pub fn new(client: FptClient) -> Self {
        Self {
            session: FptSession::new(client),
            read: None,
            action: KryptonAction::Enroll,
            chip: None,
            chip_checked: None,
        }
    }

    /// `journey` against the back end: in a Krypton session when it needs one (AUTH,
    /// LIVENESS, ENROLL keeping a face) or when `krypton_only` (a Krypton back end), else
    /// in an FPT.AI session. Refused with the reason when the back end cannot do it.
    pub fn for_journey(
        client: FptClient,
        krypton: Option<&KryptonClient>,
        journey: &Journey,
        krypton_only: bool,
    ) -> Result<Self, ApiError> {
        let session = match krypton {
            Some(krypton) if journey.needs_krypton_session() || krypton_only => {
                FptSession::krypton(client, krypton.clone(), journey.krypton_request(krypton))
            }
            None if journey.needs_krypton_session() => {
                return Err(ApiError::InvalidRequest(format!(
                    "{} needs a back end that speaks Krypton v3 (the local engine, or \
                     backend = \"krypton\"); the FPT.AI back end only enrols{}",
                    journey.action.as_str(),
                    if journey.action == KryptonAction::Enroll {
                        " without keeping the face for a later AUTH"
                    } else {
                        ""
                    }
                )))
            }
            _ => FptSession::new(client),
        };
        Ok(Self {
            session,
            read: None,
            action: journey.action,
            chip: None,
            chip_checked: None,
        })
    }

    /// Everything, in a new back-end session: session, document, face. `selfies`: the
    /// selfie, then the liveness challenge's frames when there was one. `progress` hears
    /// each step as it starts.
    ///
    /// `request` is the document; AUTH and LIVENESS read none (it is ignored, `None`
    /// is fine), and an ENROLL without one is refused.
    pub async fn run(
        &mut self,
        request: Option<OcrRequest>,
        selfies: &[PreparedImage],
        challenge: Option<&ChallengeAnswer>,
        progress: &(dyn Fn(SubmitStep) + Send + Sync),
    ) -> Result<VerificationResult, Failure> {
        progress(SubmitStep::Session);
        self.read = None;
        let request = match request {
            Some(request) => Some(request),
            None if self.reads_document() => {
                return Err(failure(
                    SubmitStep::Document,
                    ApiError::InvalidRequest("ENROLL needs the document's images".into()),
                ))
            }
            None => None,
        };
        self.session
            .start()
            .await
            .map_err(|error| failure(SubmitStep::Session, error))?;
        if let Some(request) = request.filter(|_| self.reads_document()) {
            progress(SubmitStep::Document);
            self.read_document(request).await?;
            self.check_chip().await?;
        }
        progress(SubmitStep::Face);
        self.face(selfies, challenge).await
    }

    /// ENROLL reads a document; AUTH and LIVENESS do not.
    pub fn reads_document(&self) -> bool {
        self.action == KryptonAction::Enroll
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
        let mut card = card;
        card.chip = self.chip.as_ref().map(ChipOutcome::facts);
        self.read = Some(DocumentRead { document, card });
        Ok(())
    }

    /// With the chip read: the same session checks it. A back end without the check
    /// (FPT.AI's answers 404) leaves the kiosk's own verdict, marked as the kiosk's.
    async fn check_chip(&mut self) -> Result<(), Failure> {
        self.chip_checked = None;
        let Some(chip) = &self.chip else {
            return Ok(());
        };
        let kiosk = (ChipJudge::Kiosk, ChipVerdict::from(chip.verdict.clone()));
        self.chip_checked = Some(match self.session.chip_verify(chip.request()).await {
            Ok(reply) => match reply.passive_authentication {
                Some(verdict) => (ChipJudge::BackEnd, verdict),
                None => kiosk,
            },
            Err(ApiError::Http {
                status: 404 | 405 | 501,
                ..
            }) => {
                tracing::info!("the back end does not check chips: the kiosk's verdict is kept");
                kiosk
            }
            Err(error) => return Err(failure(SubmitStep::Document, error)),
        });
        Ok(())
    }

    /// The card's chip as the kiosk read it, for this verification to send after the
    /// document (ENROLL).
    pub fn with_chip(mut self, chip: Option<ChipOutcome>) -> Self {
        self.chip = chip;
        self
    }

    /// The chip's part of the result, the selfie matched with its photo: by the back end,
    /// or here when the kiosk judged the chip.
    async fn chip_result(
        &self,
        from_back_end: Option<FaceMatch>,
        selfie: Option<&PreparedImage>,
    ) -> Option<ChipResult> {
        let chip = self.chip.as_ref()?;
        let (judged_by, verdict) = self.chip_checked.clone()?;
        let face_match = match judged_by {
            ChipJudge::BackEnd => from_back_end,
            ChipJudge::Kiosk => match (crate::chip::photo_pixels(&chip.read), selfie) {
                (Ok(photo), Some(selfie)) => {
                    let selfie = selfie.jpeg.clone();
                    tokio::task::spawn_blocking(move || {
                        let selfie = ekyc_imaging::decode_upright(&selfie)
                            .map_err(|error| error.to_string())?
                            .to_rgb8();
                        crate::chip::match_with_photo(&photo, &selfie)
                    })
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|found| FaceMatch {
                        is_match: Some(found.is_match),
                        similarity: Some(found.similarity),
                        ..FaceMatch::default()
                    })
                }
                _ => None,
            },
        };
        Some(ChipResult {
            judged_by,
            verdict,
            face_match,
            active_authentication: chip.read.active_authentication.as_str(),
            chip_authentication: chip.read.chip_authentication.as_str(),
            access: chip.read.access.as_str(),
            data_groups: chip.read.files.groups.keys().copied().collect(),
        })
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
    /// [`Self::run`], the selfie first (the one matched with the card); `challenge`: the
    /// back end's challenge the frames after it followed.
    pub async fn face(
        &mut self,
        selfies: &[PreparedImage],
        challenge: Option<&ChallengeAnswer>,
    ) -> Result<VerificationResult, Failure> {
        if self.read.is_none() && self.reads_document() {
            return Err(internal_error(
                SubmitStep::Face,
                "sending a selfie with no document read",
            ));
        }
        let face = self
            .session
            .face_liveness_frames(selfies, challenge)
            .await
            .map_err(|error| failure(SubmitStep::Face, error))?;
        let chip = self
            .chip_result(face.chip_face_match, selfies.first())
            .await;
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
            action: Some(self.action),
            enrolled: face
                .enrolment
                .as_ref()
                .and_then(|enrolment| enrolment.enrolled),
            chip,
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
