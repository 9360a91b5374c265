//! The submission worker: runs one customer's verification on the async runtime and
//! reports each step back. A cancelled submission is aborted; its late reports carry an
//! old generation number and are dropped.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Mutex;

use crate::api::{ApiError, FptClient, FptSession, OcrRequest, OcrResult, PreparedImage};
use crate::flow::{Event, SubmitStep, VerificationResult};
use crate::verify::CardEvidence;

/// Where reports go: the generation they belong to, and the event for the flow.
pub type Report = Arc<dyn Fn(u64, Event) + Send + Sync>;

/// The open back-end session and what it read, kept for a selfie retry.
struct OpenSession {
    session: FptSession,
    document: OcrResult,
    card: CardEvidence,
}

/// One customer's submissions.
pub struct Submission {
    runtime: Handle,
    client: FptClient,
    report: Report,
    generation: u64,
    task: Option<tokio::task::JoinHandle<()>>,
    open: Arc<Mutex<Option<OpenSession>>>,
}

impl Submission {
    pub fn new(runtime: Handle, client: FptClient, report: Report) -> Self {
        Self {
            runtime,
            client,
            report,
            generation: 0,
            task: None,
            open: Arc::new(Mutex::new(None)),
        }
    }

    /// The generation whose reports count.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Everything, in a new back-end session.
    pub fn start(&mut self, request: OcrRequest, selfie: PreparedImage) {
        let generation = self.next_generation();
        let (client, report, open) = (self.client.clone(), self.report.clone(), self.open.clone());
        self.task = Some(self.runtime.spawn(async move {
            let mut open = open.lock().await;
            *open = None;
            let mut session = FptSession::new(client);
            report(generation, Event::Progress(SubmitStep::Session));
            if let Err(error) = session.start().await {
                report(generation, Event::Finished(Err(error)));
                return;
            }
            report(generation, Event::Progress(SubmitStep::Document));
            // What the card proves, read here while the back end reads it too.
            let uploads = request.images.clone();
            let card = tokio::task::spawn_blocking(move || CardEvidence::read_uploads(&uploads));
            let document = match session.ocr(request).await {
                Ok(document) => document,
                Err(error) => {
                    report(generation, Event::Finished(Err(error)));
                    return;
                }
            };
            report(generation, Event::Progress(SubmitStep::Face));
            let card = card.await.unwrap_or_default();
            let opened = open.insert(OpenSession {
                session,
                document,
                card,
            });
            let outcome = face_step(opened, &selfie).await;
            report(generation, Event::Finished(outcome));
        }));
    }

    /// Only the selfie, in the session that already read the document.
    pub fn resubmit_selfie(&mut self, selfie: PreparedImage) {
        let generation = self.next_generation();
        let (report, open) = (self.report.clone(), self.open.clone());
        self.task = Some(self.runtime.spawn(async move {
            let mut open = open.lock().await;
            let outcome = match open.as_mut() {
                Some(opened) => face_step(opened, &selfie).await,
                None => Err(ApiError::InvalidRequest(
                    "no open session to retry the selfie in".into(),
                )),
            };
            report(generation, Event::Finished(outcome));
        }));
    }

    /// Stops the submission in flight; what it still reports is ignored.
    pub fn cancel(&mut self) {
        self.next_generation();
    }

    /// The customer is gone: stop, and drop the back-end session with every image in it.
    pub fn wipe(&mut self) {
        self.cancel();
        let open = self.open.clone();
        self.runtime.spawn(async move {
            // Dropping the session zeroes the images it kept for replays.
            *open.lock().await = None;
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

async fn face_step(
    opened: &mut OpenSession,
    selfie: &PreparedImage,
) -> Result<VerificationResult, ApiError> {
    let face = opened.session.face_liveness(selfie).await?;
    Ok(VerificationResult {
        document: None,
        fields: opened.document.fields.clone(),
        liveness: face.liveness,
        face_match: face.face_match,
        cross_check: opened.card.cross_check(&opened.document.fields),
    })
}
