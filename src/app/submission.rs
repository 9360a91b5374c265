//! The submission worker: runs one customer's [`Verification`] on the async runtime and
//! reports each step back. A cancelled submission is aborted; its late reports carry an
//! old generation number and are dropped.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Mutex;

use crate::flow::Event;
use crate::verification::{Journey, SubmitStep, Verification};
use ekyc_client::{ApiError, ChallengeAnswer, FptClient, KryptonClient, OcrRequest};
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel, Secret};
use ekyc_imaging::PreparedImage;

/// How verifications reach the back end.
pub struct Verifier {
    pub client: FptClient,
    /// `None`: an FPT.AI back end (ENROLL only).
    pub krypton: Option<KryptonClient>,
    pub krypton_only: bool,
    /// The liveness model sent with a Krypton session.
    pub model: LivenessModel,
    /// ENROLL keeps the face under the card's ID number.
    pub keep_face: bool,
}

/// The current customer's journey, as the flow knows it.
#[derive(Debug, Clone)]
pub struct KioskJourney {
    pub action: KryptonAction,
    pub order: KryptonFlow,
    /// AUTH: who the customer said they are.
    pub customer_id: Option<Secret>,
    /// ENROLL: the card's chip, when it was read.
    pub chip: Option<crate::chip::ChipOutcome>,
}

impl Verifier {
    /// A verification of `journey`. ENROLL keeping the face finds the customer's number
    /// on the card's own QR code (read here, from the front's upload); a card without one
    /// is enrolled without keeping the face, and the result says so.
    fn verification(
        &self,
        journey: &KioskJourney,
        request: Option<&OcrRequest>,
    ) -> Result<Verification, ApiError> {
        let chip = journey.chip.clone();
        let customer_id = match journey.action {
            KryptonAction::Enroll if self.keep_face => request.and_then(card_number),
            KryptonAction::Enroll | KryptonAction::Liveness => None,
            KryptonAction::Auth => journey.customer_id.clone(),
        };
        let journey = Journey {
            action: journey.action,
            flow: journey.order,
            model: self.model,
            customer_id,
        };
        Verification::for_journey(
            self.client.clone(),
            self.krypton.as_ref(),
            &journey,
            self.krypton_only,
        )
        .map(|verification| verification.with_chip(chip))
    }
}

/// The ID number on the front's QR code.
fn card_number(request: &OcrRequest) -> Option<Secret> {
    let front = request.images.first()?;
    let image = image::load_from_memory(&front.jpeg).ok()?;
    ekyc_reading::find_cccd_qr(&image).map(|qr| Secret::new(qr.id.as_str()))
}

/// The selfie, then the liveness challenge's frames, and the back end's challenge they
/// followed (`None`: none, or the kiosk drew the path).
#[derive(Debug, Clone, Default)]
pub struct Selfies {
    pub frames: Vec<PreparedImage>,
    pub challenge: Option<ChallengeAnswer>,
}

/// Where reports go: the generation they belong to, and the event for the flow.
pub type Report = Arc<dyn Fn(u64, Event) + Send + Sync>;

/// One customer's submissions.
pub struct Submission {
    runtime: Handle,
    verifier: Arc<Verifier>,
    report: Report,
    generation: u64,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The customer's back-end session and what it read. Whether a selfie may go alone is
    /// the flow's to say ([`crate::flow::Flow::selfie_only_resubmission`]); this only
    /// holds the session for it.
    kept: Arc<Mutex<Option<Verification>>>,
}

impl Submission {
    pub fn new(runtime: Handle, verifier: Verifier, report: Report) -> Self {
        Self {
            runtime,
            verifier: Arc::new(verifier),
            report,
            generation: 0,
            task: None,
            kept: Arc::new(Mutex::new(None)),
        }
    }

    /// The generation whose reports count.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Everything, in a new back-end session. `selfies`: the selfie, then the liveness
    /// challenge's frames.
    pub fn start(&mut self, journey: KioskJourney, request: Option<OcrRequest>, selfies: Selfies) {
        self.spawn(journey, request, selfies, false);
    }

    /// Only the selfie, in the session that already read the document. Should that
    /// session be gone, everything goes again in a new one rather than the customer
    /// meeting an internal error.
    pub fn resubmit_selfie(
        &mut self,
        journey: KioskJourney,
        request: Option<OcrRequest>,
        selfies: Selfies,
    ) {
        self.spawn(journey, request, selfies, true);
    }

    fn spawn(
        &mut self,
        journey: KioskJourney,
        request: Option<OcrRequest>,
        selfies: Selfies,
        selfie_only: bool,
    ) {
        let generation = self.next_generation();
        let (verifier, report, kept) = (
            self.verifier.clone(),
            self.report.clone(),
            self.kept.clone(),
        );
        self.task = Some(self.runtime.spawn(async move {
            let progress = {
                let report = report.clone();
                move |step: SubmitStep| report(generation, Event::Progress(step))
            };
            let mut kept = kept.lock().await;
            let outcome = match kept
                .as_mut()
                .filter(|kept| selfie_only && kept.has_document())
            {
                Some(verification) => {
                    verification
                        .face(&selfies.frames, selfies.challenge.as_ref())
                        .await
                }
                None => {
                    if selfie_only {
                        tracing::warn!("no session kept for the selfie: sending everything again");
                    }
                    // Reading the card's number for the enrolment is CPU work.
                    let made = {
                        let (verifier, journey, request) =
                            (verifier.clone(), journey.clone(), request.clone());
                        tokio::task::spawn_blocking(move || {
                            verifier.verification(&journey, request.as_ref())
                        })
                        .await
                    };
                    match made {
                        Ok(Ok(verification)) => {
                            let verification = kept.insert(verification);
                            verification
                                .run(
                                    request,
                                    &selfies.frames,
                                    selfies.challenge.as_ref(),
                                    &progress,
                                )
                                .await
                        }
                        Ok(Err(error)) => Err(crate::verification::Failure {
                            step: SubmitStep::Session,
                            error,
                        }),
                        Err(_) => Err(crate::verification::Failure {
                            step: SubmitStep::Session,
                            error: ApiError::Internal("preparing the verification".into()),
                        }),
                    }
                }
            };
            report(
                generation,
                Event::Finished(outcome.map_err(|failure| failure.error)),
            );
        }));
    }

    /// Stops the submission in flight; what it still reports is ignored.
    pub fn cancel(&mut self) {
        self.next_generation();
    }

    /// The customer is gone: stop, and drop the back-end session with every image in it.
    pub fn wipe(&mut self) {
        self.cancel();
        let kept = self.kept.clone();
        self.runtime.spawn(async move {
            // Dropping the session zeroes the images it kept for replays.
            *kept.lock().await = None;
        });
    }

    fn next_generation(&mut self) -> u64 {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.generation += 1;
        self.generation
    }
}
