//! The submission worker: runs one customer's [`Verification`] on the async runtime and
//! reports each step back. A cancelled submission is aborted; its late reports carry an
//! old generation number and are dropped.

use std::sync::Arc;

use tokio::runtime::Handle;
use tokio::sync::Mutex;

use crate::api::{FptClient, OcrRequest};
use crate::flow::Event;
use crate::imaging::PreparedImage;
use crate::verification::{SubmitStep, Verification};

/// Where reports go: the generation they belong to, and the event for the flow.
pub type Report = Arc<dyn Fn(u64, Event) + Send + Sync>;

/// One customer's submissions.
pub struct Submission {
    runtime: Handle,
    client: FptClient,
    report: Report,
    generation: u64,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The customer's back-end session and what it read. Whether a selfie may go alone is
    /// the flow's to say ([`crate::flow::Flow::selfie_only_resubmission`]); this only
    /// holds the session for it.
    kept: Arc<Mutex<Option<Verification>>>,
}

impl Submission {
    pub fn new(runtime: Handle, client: FptClient, report: Report) -> Self {
        Self {
            runtime,
            client,
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
    pub fn start(&mut self, request: OcrRequest, selfies: Vec<PreparedImage>) {
        self.spawn(request, selfies, false);
    }

    /// Only the selfie, in the session that already read the document. Should that
    /// session be gone, everything goes again in a new one rather than the customer
    /// meeting an internal error.
    pub fn resubmit_selfie(&mut self, request: OcrRequest, selfies: Vec<PreparedImage>) {
        self.spawn(request, selfies, true);
    }

    fn spawn(&mut self, request: OcrRequest, selfies: Vec<PreparedImage>, selfie_only: bool) {
        let generation = self.next_generation();
        let (client, report, kept) = (self.client.clone(), self.report.clone(), self.kept.clone());
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
                Some(verification) => verification.face(&selfies).await,
                None => {
                    if selfie_only {
                        tracing::warn!("no session kept for the selfie: sending everything again");
                    }
                    let verification = kept.insert(Verification::new(client));
                    verification.run(Some(request), &selfies, &progress).await
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
