//! The kiosk wizard as a state machine, without egui: which screen is showing, what has
//! been captured, and what each event leads to. The UI draws [`Flow::screen`] and sends
//! [`Event`]s; the app carries out the [`Effect`]s that come back. Time is passed in, so
//! idle handling is tested without waiting.

use std::time::{Duration, Instant};

use image::RgbaImage;
use zeroize::Zeroize;

pub use crate::camera::CaptureTarget;
pub use crate::chip::{ChipMode, ChipOutcome};
pub use crate::verification::{KioskLiveness, SubmitStep, Verdict, VerificationResult};
use ekyc_client::ApiError;
use ekyc_contract::{DocumentType, Lang, Secret};
pub use ekyc_contract::{KryptonAction, KryptonFlow};
use ekyc_imaging::PreparedImage;

/// Why the customer is being asked to do something again: an error turned into guidance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guidance {
    /// Code 3: the card was not found in the picture; retake that side.
    CardNotFound,
    /// Code 303 with the session still open: retake the selfie.
    FaceMismatchRetakeSelfie,
    /// Code 303 or 407 with the session complete: start again from the document.
    RestartFromDocument,
    /// Code 407: only one person in the picture.
    OnlyOnePerson,
    /// Another code from the back end, with its own message (already in the UI language),
    /// and the picture to take again: the selfie when the face step refused it, else the
    /// front.
    Rejected {
        message: String,
        retake: CaptureTarget,
    },
    /// The back end refused this kiosk's key: staff must fix the configuration.
    KioskNotSetUp,
    /// TLS refused (the server's certificate, or this kiosk's): staff must fix the
    /// certificates; trying again cannot help, so no retry is offered.
    CertificateRefused(ekyc_client::CertificateProblem),
    /// The liveness challenge failed; one more try, with what to do differently.
    ChallengeFailed(ChallengeAdvice),
    /// The challenge failed as many times as allowed: a member of staff must help.
    LivenessAskStaff,
    /// `chip.mode = required` and no card reader answers: this journey is out of order
    /// until staff mend the reader; the customer is told so and goes back to the start.
    ChipReaderMissing,
}

/// What a customer whose challenge failed is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeAdvice {
    /// The face was missing from too many frames.
    KeepFaceInFrame,
    /// The face was missing and the picture was dark.
    MoreLight,
    /// The eyes did not follow the dot.
    FollowTheDot,
    /// The camera gave no frames, or too few (a face in most of them): not the customer's
    /// doing.
    CameraProblem,
}

/// What the liveness challenge came to, as the kiosk judged it.
#[derive(Debug)]
pub enum ChallengeOutcome {
    /// Passed (or not scored here, the models missing): the frames go to the back end.
    Passed(ChallengeRecording),
    Failed(ChallengeAdvice),
}

/// The challenge's frames for `/face/liveness` (after the selfie), and the kiosk's own
/// check of them.
#[derive(Debug, Clone)]
pub struct ChallengeRecording {
    pub frames: Vec<PreparedImage>,
    /// The back end's challenge the frames followed (its id, their times); `None`: the
    /// kiosk drew the path itself, and the back end cannot score the following.
    pub engine_challenge: Option<ekyc_client::ChallengeAnswer>,
    pub check: KioskLiveness,
}

/// What is on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// Product name, language switch, Start (one button per journey when the kiosk
    /// offers several).
    Welcome,
    /// AUTH: who the customer is: their card shown to the camera (the front's QR code or
    /// the back's MRZ; no picture kept), or their number typed by staff.
    Identify,
    /// What is captured, why, how long it is kept; Accept / Decline.
    Consent,
    /// CCCD, passport or driver licence.
    DocumentChoice,
    /// A live preview with an outline, Capture and "Load from file".
    Capture(CaptureTarget),
    /// The captured still, with Use / Retake.
    Still(CaptureTarget),
    /// "Place your card on the reader": the chip read, with its progress and problems.
    Chip,
    /// The three thumbnails; any one can be retaken.
    Review,
    /// The liveness challenge: a dot to follow with the eyes, the preview small.
    Challenge,
    /// The submission's steps with progress and Cancel.
    Submitting(SubmitStep),
    /// The verification's result.
    Result,
    /// An error turned into an instruction, with the way forward.
    Guidance(Guidance),
    /// The back end cannot be reached or is broken: Retry, or Cancel to the review.
    BackendUnavailable,
}

/// One step of a journey before the review, in the order the journey takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Who the customer is (AUTH).
    Identify,
    /// CCCD, passport or driver licence (ENROLL).
    DocumentChoice,
    /// A picture.
    Capture(CaptureTarget),
    /// The card's chip (ENROLL with a chip card, `chip.mode` not `off`).
    Chip,
}

/// One captured image: what is uploaded, and a small preview for the screen.
#[derive(Clone)]
pub struct Capture {
    pub upload: PreparedImage,
    /// At most [`PREVIEW_SIDE`] pixels on its longest side.
    pub preview: RgbaImage,
    /// Unique per capture: the screen re-uploads a texture only when this changes.
    pub serial: u64,
    /// Loaded from a file (staff mode): a selfie so taken is never reported live.
    pub from_file: bool,
}

impl Capture {
    /// A capture of `image` (already cropped) with its upload prepared.
    pub fn new(upload: PreparedImage, image: &image::DynamicImage) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            upload,
            preview: image.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).to_rgba8(),
            serial: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            from_file: false,
        }
    }

    /// The same capture, marked as loaded from a file.
    pub fn loaded_from_file(mut self) -> Self {
        self.from_file = true;
        self
    }
}

/// Longest side of a capture's on-screen preview.
pub const PREVIEW_SIDE: u32 = 640;

impl std::fmt::Debug for Capture {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Capture({:?})", self.upload)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        // The upload zeroes itself; the preview is the customer's face or card too.
        let pixels: &mut [u8] = &mut self.preview;
        pixels.zeroize();
    }
}

/// Everything a customer can do, and what the app reports back.
// One event per action or report, moved once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    /// Welcome → Start: the kiosk's first journey.
    Start,
    /// Welcome → one of the journeys offered (staff's choice at a desk).
    StartJourney(KryptonAction),
    /// The customer is identified (AUTH): their number, from their card or typed by staff.
    Identified(Secret),
    /// Start over from any screen but Welcome and a submission in flight: everything of
    /// the customer's wiped.
    StartOver,
    /// The language switch.
    SetLanguage(Lang),
    /// Consent accepted.
    Accept,
    /// Consent declined: back to Welcome.
    Decline,
    /// A document type picked.
    ChooseDocument(DocumentType),
    /// A still was taken (camera or file) for the current capture screen.
    Captured(Capture),
    /// Keep the still.
    UseCapture,
    /// Take the still again.
    Retake,
    /// From the review: retake one image, then come back to the review.
    RetakeFromReview(CaptureTarget),
    /// Review → send everything.
    Submit,
    /// The submission moved on to a step.
    Progress(SubmitStep),
    /// The submission ended.
    Finished(Result<VerificationResult, ApiError>),
    /// Cancel the submission (or leave the retry screen).
    Cancel,
    /// Try the back end again from the retry screen.
    RetrySubmission,
    /// From a guidance screen: do what it says.
    FollowGuidance,
    /// Result → Finish: back to Welcome, session wiped.
    Finish,
    /// "Are you still there?" → yes.
    StillHere,
    /// The liveness challenge ended and was judged.
    ChallengeDone(ChallengeOutcome),
    /// The chip was read and checked by the kiosk.
    ChipRead(Box<ChipOutcome>),
    /// No card reader answers (at the chip step, or at the start of a journey that
    /// requires the chip).
    NoChipReader,
    /// "Continue without the chip" (`when_present` only).
    SkipChip,
    /// From the review: read the chip again.
    ReadChipAgain,
}

/// What the app must do after an event. Applied once, at the end of the frame.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond redrawing.
    None,
    /// Start a submission of every capture in a new back-end session.
    StartSubmission,
    /// Send only the selfie again, in the same back-end session.
    ResubmitSelfie,
    /// Stop the submission in flight; its answer is to be ignored.
    CancelSubmission,
    /// The customer is gone: drop the back-end session and everything of theirs.
    WipeSession,
}

/// "Do you need more time?" shown this long before the session is wiped, by default
/// (`ui.more_time_secs`): WCAG 2.2.1 asks for at least 20 seconds to answer.
pub const MORE_TIME: Duration = Duration::from_secs(20);

/// The wizard's state.
pub struct Flow {
    screen: Screen,
    lang: Lang,
    /// The journeys offered, the first being Start's; never empty.
    offered: Vec<KryptonAction>,
    /// Card or face first, for ENROLL.
    order: KryptonFlow,
    /// The current customer's journey.
    action: KryptonAction,
    /// AUTH: who the customer said they are.
    customer_id: Option<Secret>,
    document: Option<DocumentType>,
    front: Option<Capture>,
    back: Option<Capture>,
    selfie: Option<Capture>,
    /// A capture taken and not yet confirmed with Use.
    pending: Option<Capture>,
    /// Retaking from the review: Use goes back to the review.
    retaking_from_review: bool,
    /// The back-end session read the document; a selfie retry may reuse it.
    document_accepted: bool,
    result: VerificationResult,
    /// The liveness challenge's tries before staff are asked for; `None`: no challenge
    /// (the `passive` model).
    challenge_attempts: Option<u32>,
    failed_challenges: u32,
    /// The passed challenge of the current selfie.
    recording: Option<ChallengeRecording>,
    /// When the journey reads the card's chip.
    chip_mode: ChipMode,
    /// The chip as read, for the submission.
    chip: Option<ChipOutcome>,
    /// The chip step was passed without the chip (no reader, or skipped: `when_present`).
    chip_skipped: bool,
    idle_timeout: Duration,
    /// How long "Do you need more time?" waits for an answer.
    more_time: Duration,
    last_activity: Instant,
    /// When the "Do you need more time?" countdown ends, while it is showing.
    idle_deadline: Option<Instant>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Flow")
            .field("screen", &self.screen)
            .field("lang", &self.lang)
            .field("action", &self.action)
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

impl Flow {
    pub fn new(lang: Lang, idle_timeout: Duration, now: Instant) -> Self {
        Self {
            screen: Screen::Welcome,
            lang,
            offered: vec![KryptonAction::Enroll],
            order: KryptonFlow::CardFirst,
            action: KryptonAction::Enroll,
            customer_id: None,
            document: None,
            front: None,
            back: None,
            selfie: None,
            pending: None,
            retaking_from_review: false,
            document_accepted: false,
            result: VerificationResult::default(),
            challenge_attempts: None,
            failed_challenges: 0,
            recording: None,
            chip_mode: ChipMode::Off,
            chip: None,
            chip_skipped: false,
            idle_timeout,
            more_time: MORE_TIME,
            last_activity: now,
            idle_deadline: None,
        }
    }

    /// "Do you need more time?" waits `more_time` for an answer before the wipe.
    pub fn with_more_time(mut self, more_time: Duration) -> Self {
        self.more_time = more_time;
        self
    }

    /// With the liveness challenge after the selfie, `attempts` tries before staff are
    /// asked for.
    pub fn with_challenge(mut self, attempts: u32) -> Self {
        self.challenge_attempts = Some(attempts.max(1));
        self
    }

    /// The card's chip read after the document's pictures (ENROLL, a card with a chip).
    pub fn with_chip(mut self, mode: ChipMode) -> Self {
        self.chip_mode = mode;
        self
    }

    /// When the journey reads the card's chip.
    pub fn chip_mode(&self) -> ChipMode {
        self.chip_mode
    }

    /// The chip as read (for the submission and the review).
    pub fn chip(&self) -> Option<&ChipOutcome> {
        self.chip.as_ref()
    }

    /// Whether this journey reads the chip of the document chosen: ENROLL, `chip.mode`
    /// not `off`, a CCCD or a passport (a driver licence has no chip to read).
    pub fn reads_chip(&self) -> bool {
        self.action == KryptonAction::Enroll
            && self.chip_mode != ChipMode::Off
            && self
                .document
                .is_none_or(|document| document != DocumentType::Dlr)
    }

    /// The journeys offered (the first is Start's; duplicates dropped) and, for ENROLL,
    /// whether the card or the face comes first.
    pub fn with_journeys(mut self, offered: &[KryptonAction], order: KryptonFlow) -> Self {
        self.offer(offered);
        self.order = order;
        self
    }

    /// The journeys offered, duplicates dropped; none leaves them as they were.
    fn offer(&mut self, offered: &[KryptonAction]) {
        let mut unique = Vec::new();
        for action in offered {
            if !unique.contains(action) {
                unique.push(*action);
            }
        }
        if !unique.is_empty() {
            self.offered = unique;
        }
        self.action = self.offered[0];
    }

    /// Staff changed the journeys offered (kept to those the kiosk can run): from the next
    /// customer on; refused (`false`) while a customer is in one, or for none.
    pub fn set_journeys(&mut self, offered: &[KryptonAction]) -> bool {
        if self.screen != Screen::Welcome || offered.is_empty() {
            return false;
        }
        self.offer(offered);
        true
    }

    /// The journeys offered on the Welcome screen.
    pub fn offered(&self) -> &[KryptonAction] {
        &self.offered
    }

    /// The current customer's journey.
    pub fn action(&self) -> KryptonAction {
        self.action
    }

    /// Card or face first (ENROLL).
    pub fn order(&self) -> KryptonFlow {
        self.order
    }

    /// AUTH: the customer's number, once identified.
    pub fn customer_id(&self) -> Option<&Secret> {
        self.customer_id.as_ref()
    }

    /// The journey's steps before the review, in order: ENROLL the document (choice,
    /// front, back when it has one) and the selfie, in the configured order; AUTH who the
    /// customer is, then the selfie; LIVENESS the selfie alone.
    pub fn steps(&self) -> Vec<Step> {
        let selfie = Step::Capture(CaptureTarget::Selfie);
        match self.action {
            KryptonAction::Enroll => {
                let mut document = vec![Step::DocumentChoice, Step::Capture(CaptureTarget::Front)];
                if self.document.is_none_or(DocumentType::has_back) {
                    document.push(Step::Capture(CaptureTarget::Back));
                }
                if self.reads_chip() {
                    document.push(Step::Chip);
                }
                match self.order {
                    KryptonFlow::CardFirst => document.into_iter().chain([selfie]).collect(),
                    KryptonFlow::FaceFirst => [selfie].into_iter().chain(document).collect(),
                }
            }
            KryptonAction::Auth => vec![Step::Identify, selfie],
            KryptonAction::Liveness => vec![selfie],
        }
    }

    fn screen_of(step: Step) -> Screen {
        match step {
            Step::Identify => Screen::Identify,
            Step::DocumentChoice => Screen::DocumentChoice,
            Step::Capture(target) => Screen::Capture(target),
            Step::Chip => Screen::Chip,
        }
    }

    /// The screen after `step`: the next step's, or the review after the last.
    fn after(&self, step: Step) -> Screen {
        let steps = self.steps();
        steps
            .iter()
            .skip_while(|candidate| **candidate != step)
            .nth(1)
            .map_or(Screen::Review, |next| Self::screen_of(*next))
    }

    /// The first step not yet done (or the review when all are).
    fn first_to_do(&self) -> Screen {
        let done = |step: &Step| match step {
            Step::Identify => self.customer_id.is_some(),
            Step::DocumentChoice => self.document.is_some(),
            Step::Capture(target) => self.capture(*target).is_some(),
            Step::Chip => self.chip.is_some() || self.chip_skipped,
        };
        self.steps()
            .into_iter()
            .find(|step| !done(step))
            .map_or(Screen::Review, Self::screen_of)
    }

    /// The passed challenge's frames and check, for the current selfie.
    pub fn recording(&self) -> Option<&ChallengeRecording> {
        self.recording.as_ref()
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn document(&self) -> Option<DocumentType> {
        self.document
    }

    pub fn result(&self) -> &VerificationResult {
        &self.result
    }

    /// The confirmed capture for a target.
    pub fn capture(&self, target: CaptureTarget) -> Option<&Capture> {
        match target {
            CaptureTarget::Front => self.front.as_ref(),
            CaptureTarget::Back => self.back.as_ref(),
            CaptureTarget::Selfie => self.selfie.as_ref(),
        }
    }

    /// The still waiting for Use / Retake.
    pub fn pending_capture(&self) -> Option<&Capture> {
        self.pending.as_ref()
    }

    /// What the review shows and a submission sends, in order.
    pub fn targets(&self) -> Vec<CaptureTarget> {
        self.steps()
            .into_iter()
            .filter_map(|step| match step {
                Step::Capture(target) => Some(target),
                _ => None,
            })
            .collect()
    }

    /// Nobody touched the kiosk for the idle timeout (on any screen, Welcome too).
    pub fn untouched_since_timeout(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_activity) >= self.idle_timeout
    }

    /// How long "Do you need more time?" waits for an answer.
    pub fn more_time(&self) -> Duration {
        self.more_time
    }

    /// Seconds left in the "Do you need more time?" countdown, while it shows.
    pub fn idle_countdown(&self, now: Instant) -> Option<Duration> {
        self.idle_deadline
            .map(|deadline| deadline.saturating_duration_since(now))
    }

    /// Any touch, click or key: the customer is there.
    pub fn touch(&mut self, now: Instant) {
        self.last_activity = now;
        self.idle_deadline = None;
    }

    /// Called every frame: starts the idle countdown, and wipes the session when it ends.
    pub fn tick(&mut self, now: Instant) -> Effect {
        // Welcome holds nothing of anyone; while submitting, the app is the one working.
        if matches!(self.screen, Screen::Welcome | Screen::Submitting(_)) {
            self.idle_deadline = None;
            return Effect::None;
        }
        match self.idle_deadline {
            None if self.untouched_since_timeout(now) => {
                self.idle_deadline = Some(now + self.more_time);
                Effect::None
            }
            Some(deadline) if now >= deadline => {
                tracing::info!("idle: session wiped");
                self.reset()
            }
            _ => Effect::None,
        }
    }

    /// Handles one event at `now` (which also counts as activity).
    pub fn handle(&mut self, event: Event, now: Instant) -> Effect {
        self.touch(now);
        match (self.screen.clone(), event) {
            (_, Event::SetLanguage(lang)) => {
                self.lang = lang;
                Effect::None
            }
            (_, Event::StillHere) => Effect::None,
            (Screen::Welcome, Event::Start) => {
                self.action = self.offered[0];
                self.show(Screen::Consent)
            }
            (Screen::Consent, Event::NoChipReader)
                if self.chip_mode == ChipMode::Required && self.reads_chip() =>
            {
                self.show(Screen::Guidance(Guidance::ChipReaderMissing))
            }
            (Screen::Welcome, Event::StartJourney(action)) if self.offered.contains(&action) => {
                self.action = action;
                self.show(Screen::Consent)
            }
            (Screen::Welcome | Screen::Submitting(_), Event::StartOver) => Effect::None,
            (_, Event::StartOver) => self.reset(),
            (Screen::Consent, Event::Accept) => self.show(self.first_to_do()),
            (Screen::Consent, Event::Decline) => self.reset(),
            (Screen::Identify, Event::Identified(customer_id)) if !customer_id.is_empty() => {
                self.customer_id = Some(customer_id);
                self.show(self.after(Step::Identify))
            }
            (Screen::DocumentChoice, Event::ChooseDocument(document)) => {
                self.document = Some(document);
                if !document.has_back() {
                    self.back = None;
                }
                self.show(self.after(Step::DocumentChoice))
            }
            (Screen::Capture(target), Event::Captured(capture)) => {
                self.pending = Some(capture);
                self.show(Screen::Still(target))
            }
            (Screen::Still(target), Event::Retake) => {
                self.pending = None;
                self.show(Screen::Capture(target))
            }
            (Screen::Still(target), Event::UseCapture) => {
                let Some(capture) = self.pending.take() else {
                    return self.show(Screen::Capture(target));
                };
                let challenge = target == CaptureTarget::Selfie
                    && !capture.from_file
                    && self.challenge_attempts.is_some();
                self.store(target, capture);
                if challenge {
                    return self.show(Screen::Challenge);
                }
                let next = if self.retaking_from_review {
                    Screen::Review
                } else {
                    self.after(Step::Capture(target))
                };
                self.retaking_from_review = false;
                self.show(next)
            }
            (Screen::Challenge, Event::ChallengeDone(outcome)) => self.challenge_done(outcome),
            (Screen::Chip, Event::ChipRead(outcome)) => {
                self.chip = Some(*outcome);
                self.chip_skipped = false;
                self.leave_chip_step()
            }
            (Screen::Chip, Event::NoChipReader) if self.chip_mode == ChipMode::Required => {
                self.show(Screen::Guidance(Guidance::ChipReaderMissing))
            }
            (Screen::Chip, Event::NoChipReader | Event::SkipChip)
                if self.chip_mode == ChipMode::WhenPresent =>
            {
                tracing::info!("the chip step passed without the chip");
                self.chip = None;
                self.chip_skipped = true;
                self.leave_chip_step()
            }
            (Screen::Review, Event::RetakeFromReview(target))
                if self.targets().contains(&target) =>
            {
                self.retaking_from_review = true;
                self.show(Screen::Capture(target))
            }
            (Screen::Review, Event::ReadChipAgain) if self.reads_chip() => {
                self.retaking_from_review = true;
                self.show(Screen::Chip)
            }
            (Screen::Review, Event::Submit) if self.ready_to_submit() => self.submit(),
            (Screen::Submitting(_), Event::Progress(step)) => {
                if step > SubmitStep::Document {
                    self.document_accepted = true;
                }
                self.show(Screen::Submitting(step))
            }
            (Screen::Submitting(_), Event::Cancel) => {
                self.screen = Screen::Review;
                Effect::CancelSubmission
            }
            (Screen::Submitting(_), Event::Finished(outcome)) => self.finished(outcome),
            (Screen::BackendUnavailable, Event::RetrySubmission) => self.submit(),
            (Screen::BackendUnavailable, Event::Cancel) => self.show(Screen::Review),
            (Screen::Guidance(guidance), Event::FollowGuidance) => self.follow(guidance),
            (Screen::Result, Event::Finish) => self.reset(),
            (screen, event) => {
                // A late or doubled click (two taps on Capture): nothing to do.
                tracing::debug!(
                    ?screen,
                    event = event_name(&event),
                    "event ignored on this screen"
                );
                Effect::None
            }
        }
    }

    fn show(&mut self, screen: Screen) -> Effect {
        self.screen = screen;
        Effect::None
    }

    /// After the chip step: the review when retaking from it, else the next step.
    fn leave_chip_step(&mut self) -> Effect {
        let next = if self.retaking_from_review {
            Screen::Review
        } else {
            self.after(Step::Chip)
        };
        self.retaking_from_review = false;
        self.show(next)
    }

    fn challenge_done(&mut self, outcome: ChallengeOutcome) -> Effect {
        match outcome {
            ChallengeOutcome::Passed(recording) => {
                self.recording = Some(recording);
                self.failed_challenges = 0;
                let next = if self.retaking_from_review {
                    Screen::Review
                } else {
                    self.after(Step::Capture(CaptureTarget::Selfie))
                };
                self.retaking_from_review = false;
                self.show(next)
            }
            ChallengeOutcome::Failed(advice) => {
                self.failed_challenges += 1;
                let attempts = self.challenge_attempts.unwrap_or(1);
                tracing::info!(
                    failed = self.failed_challenges,
                    attempts,
                    ?advice,
                    "liveness challenge failed"
                );
                if self.failed_challenges >= attempts {
                    self.show(Screen::Guidance(Guidance::LivenessAskStaff))
                } else {
                    self.show(Screen::Guidance(Guidance::ChallengeFailed(advice)))
                }
            }
        }
    }

    fn store(&mut self, target: CaptureTarget, capture: Capture) {
        let slot = match target {
            CaptureTarget::Front => &mut self.front,
            CaptureTarget::Back => &mut self.back,
            CaptureTarget::Selfie => &mut self.selfie,
        };
        *slot = Some(capture);
        if target == CaptureTarget::Selfie {
            // A new selfie needs its own challenge.
            self.recording = None;
        } else {
            // A new document image needs a new back-end session.
            self.document_accepted = false;
        }
    }

    /// Sends everything in a new back-end session, or only the selfie when the open
    /// session already read the document (a selfie retake after a mismatch).
    fn submit(&mut self) -> Effect {
        if self.document_accepted {
            self.screen = Screen::Submitting(SubmitStep::Face);
            Effect::ResubmitSelfie
        } else {
            self.screen = Screen::Submitting(SubmitStep::Session);
            Effect::StartSubmission
        }
    }

    fn ready_to_submit(&self) -> bool {
        let chip_done = !self.reads_chip() || self.chip.is_some() || self.chip_skipped;
        chip_done
            && self
                .targets()
                .iter()
                .all(|target| self.capture(*target).is_some())
    }

    fn finished(&mut self, outcome: Result<VerificationResult, ApiError>) -> Effect {
        let error = match outcome {
            Ok(mut result) => {
                result.document = self.document;
                result.kiosk_liveness = self.kiosk_liveness();
                // For the branch's operations staff: counts and verdicts, never a value.
                tracing::info!(
                    document = ?result.document,
                    fields = result.fields.len(),
                    verdict = ?result.verdict(),
                    "verification finished"
                );
                self.result = result;
                return self.show(Screen::Result);
            }
            Err(error) => error,
        };
        tracing::info!(kind = ?error.kind(), "submission failed");
        if let ApiError::Certificate { .. } = &error {
            // Addresses and the TLS library's words only: for IT, who must mend it.
            tracing::error!("{error}");
        }
        let complete = error.is_complete_session() == Some(true);
        // A refused selfie is retaken, unless the back end ended the session: then the
        // document goes again, from its front.
        let retake = if self.screen == Screen::Submitting(SubmitStep::Face) && !complete {
            CaptureTarget::Selfie
        } else {
            CaptureTarget::Front
        };
        let guidance = match &error {
            ApiError::DocumentNotFound { .. } => Guidance::CardNotFound,
            ApiError::FaceMismatch { .. } | ApiError::MultipleFaces { .. } if complete => {
                Guidance::RestartFromDocument
            }
            ApiError::FaceMismatch { .. } => Guidance::FaceMismatchRetakeSelfie,
            ApiError::MultipleFaces { .. } => Guidance::OnlyOnePerson,
            // The back end's own "cannot serve now": a service problem, not the customer's.
            ApiError::Api { .. } if error.is_back_end_failure() => {
                return self.show(Screen::BackendUnavailable)
            }
            ApiError::Api { message, .. } => Guidance::Rejected {
                message: message.clone(),
                retake,
            },
            ApiError::Unauthorized { .. } => Guidance::KioskNotSetUp,
            ApiError::Certificate { problem, .. } => Guidance::CertificateRefused(*problem),
            // A back end that says so early (AUTH, no enrolment) is told to the customer
            // as a face that does not match: the same words whether the number is
            // enrolled or not, so that nobody learns who banks here by trying numbers.
            ApiError::NotEnrolled { .. } => Guidance::FaceMismatchRetakeSelfie,
            ApiError::InvalidImage { .. } | ApiError::InvalidRequest(_) => Guidance::Rejected {
                message: error.to_string(),
                retake,
            },
            _ => return self.show(Screen::BackendUnavailable),
        };
        self.show(Screen::Guidance(guidance))
    }

    fn follow(&mut self, guidance: Guidance) -> Effect {
        match guidance {
            Guidance::CardNotFound
            | Guidance::Rejected {
                retake: CaptureTarget::Front | CaptureTarget::Back,
                ..
            } => {
                self.retaking_from_review = true;
                // The document is sent again in full, in a new session.
                self.document_accepted = false;
                self.show(Screen::Capture(CaptureTarget::Front))
            }
            Guidance::FaceMismatchRetakeSelfie
            | Guidance::OnlyOnePerson
            | Guidance::Rejected {
                retake: CaptureTarget::Selfie,
                ..
            } => {
                self.retaking_from_review = true;
                self.selfie = None;
                self.recording = None;
                self.show(Screen::Capture(CaptureTarget::Selfie))
            }
            Guidance::ChallengeFailed(_) => self.show(Screen::Challenge),
            Guidance::LivenessAskStaff => self.reset(),
            Guidance::RestartFromDocument => {
                self.front = None;
                self.back = None;
                self.chip = None;
                self.chip_skipped = false;
                self.selfie = None;
                self.recording = None;
                self.retaking_from_review = false;
                self.document_accepted = false;
                // The journey's first picture: the front, or the selfie when it comes
                // first or alone.
                self.show(self.first_to_do())
            }
            Guidance::KioskNotSetUp
            | Guidance::CertificateRefused(_)
            | Guidance::ChipReaderMissing => self.reset(),
        }
    }

    /// What the kiosk itself knows of the selfie's liveness.
    fn kiosk_liveness(&self) -> KioskLiveness {
        if self.selfie.as_ref().is_some_and(|selfie| selfie.from_file) {
            return KioskLiveness::SelfieFromFile;
        }
        self.recording
            .as_ref()
            .map_or(KioskLiveness::NotRun, |recording| recording.check.clone())
    }

    /// Whether the next submission may send only the selfie (the back-end session read
    /// the document and is still open).
    pub fn selfie_only_resubmission(&self) -> bool {
        self.document_accepted
    }

    /// Back to Welcome with nothing of the customer left. The language stays.
    fn reset(&mut self) -> Effect {
        self.front = None;
        self.back = None;
        // The chip's files and photo are wiped as they drop.
        self.chip = None;
        self.chip_skipped = false;
        self.selfie = None;
        self.recording = None;
        self.failed_challenges = 0;
        self.pending = None;
        self.document = None;
        self.customer_id = None;
        self.action = self.offered[0];
        self.retaking_from_review = false;
        self.document_accepted = false;
        self.result.wipe();
        self.result = VerificationResult::default();
        self.idle_deadline = None;
        self.screen = Screen::Welcome;
        Effect::WipeSession
    }
}

/// An event's name without its data (captures and results are personal).
fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Start => "Start",
        Event::StartJourney(_) => "StartJourney",
        Event::Identified(_) => "Identified",
        Event::StartOver => "StartOver",
        Event::SetLanguage(_) => "SetLanguage",
        Event::Accept => "Accept",
        Event::Decline => "Decline",
        Event::ChooseDocument(_) => "ChooseDocument",
        Event::Captured(_) => "Captured",
        Event::UseCapture => "UseCapture",
        Event::Retake => "Retake",
        Event::ChallengeDone(_) => "ChallengeDone",
        Event::ChipRead(_) => "ChipRead",
        Event::NoChipReader => "NoChipReader",
        Event::SkipChip => "SkipChip",
        Event::ReadChipAgain => "ReadChipAgain",
        Event::RetakeFromReview(_) => "RetakeFromReview",
        Event::Submit => "Submit",
        Event::Progress(_) => "Progress",
        Event::Finished(_) => "Finished",
        Event::Cancel => "Cancel",
        Event::RetrySubmission => "RetrySubmission",
        Event::FollowGuidance => "FollowGuidance",
        Event::Finish => "Finish",
        Event::StillHere => "StillHere",
    }
}
