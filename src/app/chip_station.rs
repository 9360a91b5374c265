//! The chip step's worker: the key from the card's MRZ (or typed by staff), a card waited
//! for on the reader, the chip read and checked, each stage shown on the screen
//! ([`ChipStatus`]); the outcome goes to the flow as a message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Message;
use crate::chip::reader::ReaderError;
use crate::chip::{
    key_of, read_and_check, ChipMode, ChipProblem, ChipReadError, ChipReaders, ChipStatus, Pcsc,
};
use ekyc_chip::passive::TrustList;
use ekyc_chip::{ChipKey, MrzKey};

/// How often a reader without a card is asked again.
const CARD_POLL: Duration = Duration::from_millis(300);

/// The chip as the kiosk was set up to read it.
pub struct ChipSetup {
    /// When journeys read it (`chip.mode`).
    pub mode: ChipMode,
    /// Part of the reader's name (`chip.reader`); empty: the first with a card.
    pub reader: String,
    /// The bank's CSCA certificates (`chip.csca`): the kiosk's own verdict, for a back end
    /// that cannot check chips.
    pub trust: Arc<TrustList>,
    /// Where cards are found.
    pub readers: Arc<dyn ChipReaders>,
}

impl Default for ChipSetup {
    fn default() -> Self {
        Self {
            mode: ChipMode::Off,
            reader: String::new(),
            trust: Arc::new(TrustList::default()),
            readers: Arc::new(Pcsc),
        }
    }
}

/// What the chip step's outcome tells the flow.
#[derive(Debug)]
pub(super) enum ChipEvent {
    /// Read and checked.
    Read(Box<crate::chip::ChipOutcome>),
    /// No reader answers.
    NoReader,
    /// The read stopped (its screen says why and offers the way forward).
    Failed(ChipProblem),
}

/// The chip step's worker and what its screen shows.
pub(super) struct ChipStation {
    setup: ChipSetup,
    status: Arc<Mutex<ChipStatus>>,
    /// The read in progress: set to stop it.
    stop: Option<Arc<AtomicBool>>,
    /// Numbers the reads so that a stopped one's late message is dropped.
    serial: u64,
}

impl ChipStation {
    pub fn new(setup: ChipSetup) -> Self {
        Self {
            setup,
            status: Arc::new(Mutex::new(ChipStatus::WaitingForCard)),
            stop: None,
            serial: 0,
        }
    }

    pub fn mode(&self) -> ChipMode {
        self.setup.mode
    }

    /// The reader it reads on: part of its name; empty: the first holding a card.
    pub fn reader(&self) -> &str {
        &self.setup.reader
    }

    /// Staff chose another reader (until the kiosk restarts).
    pub fn set_reader(&mut self, reader: String) {
        tracing::info!("card reader chosen in staff mode");
        self.setup.reader = reader;
    }

    /// The readers plugged in now, or why none can be listed (for staff's settings).
    pub fn list(&self) -> Result<Vec<String>, String> {
        self.setup
            .readers
            .readers()
            .map_err(|error| error.to_string())
    }

    /// The read whose messages count.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// What the screen shows now.
    pub fn status(&self) -> ChipStatus {
        self.status
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Whether a reader is plugged in and the reader service answers.
    pub fn reader_present(&self) -> bool {
        match self.setup.readers.readers() {
            Ok(readers) => !readers.is_empty(),
            Err(error) => {
                tracing::warn!("{error}");
                false
            }
        }
    }

    /// Starts a read (stopping any other): with `typed` (staff typed the numbers or the
    /// CAN), else with the key from the MRZ on `pictures` (JPEG, the back first).
    pub fn start(
        &mut self,
        ctx: &egui::Context,
        pictures: Vec<Vec<u8>>,
        typed: Option<ChipKey>,
        messages: Sender<Message>,
    ) {
        self.stop();
        self.serial += 1;
        let stop = Arc::new(AtomicBool::new(false));
        self.stop = Some(stop.clone());
        let (serial, status, ctx) = (self.serial, self.status.clone(), ctx.clone());
        let (readers, trust, wanted) = (
            self.setup.readers.clone(),
            self.setup.trust.clone(),
            self.setup.reader.clone(),
        );
        let initial = if typed.is_some() {
            ChipStatus::WaitingForCard
        } else {
            ChipStatus::FindingKey
        };
        *self
            .status
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = initial;
        let spawned = std::thread::Builder::new()
            .name("chip".into())
            .spawn(move || {
                let show = |shown: ChipStatus| {
                    if !stop.load(Ordering::SeqCst) {
                        *status.lock().unwrap_or_else(|poison| poison.into_inner()) = shown;
                        ctx.request_repaint();
                    }
                };
                let send = |event: ChipEvent| {
                    if !stop.load(Ordering::SeqCst) {
                        let _ = messages.send(Message::Chip { serial, event });
                        ctx.request_repaint();
                    }
                };
                let Some(key) = typed.or_else(|| key_from_pictures(&pictures).map(ChipKey::Mrz))
                else {
                    tracing::info!(problem = "no_key", "chip not read");
                    show(ChipStatus::Failed(ChipProblem::NoKey));
                    return send(ChipEvent::Failed(ChipProblem::NoKey));
                };
                drop(pictures);
                show(ChipStatus::WaitingForCard);
                while !stop.load(Ordering::SeqCst) {
                    let read = read_and_check(readers.as_ref(), &wanted, &key, &trust, &mut |at| {
                        show(ChipStatus::Reading(at.clone()))
                    });
                    match read {
                        Ok(outcome) => return send(ChipEvent::Read(Box::new(outcome))),
                        Err(ChipReadError::Reader(ReaderError::NoCard(_))) => {
                            show(ChipStatus::WaitingForCard);
                            std::thread::sleep(CARD_POLL);
                        }
                        Err(ChipReadError::Reader(
                            error @ (ReaderError::NoReader
                            | ReaderError::NoService
                            | ReaderError::NotFound(_)),
                        )) => {
                            tracing::warn!("{error}");
                            return send(ChipEvent::NoReader);
                        }
                        Err(error) => {
                            let problem = ChipProblem::from(&error);
                            // The code for the log; the sentence names no one's data.
                            tracing::info!(problem = problem.code(), "chip not read: {error}");
                            show(ChipStatus::Failed(problem.clone()));
                            return send(ChipEvent::Failed(problem));
                        }
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!("the chip's thread did not start: {error}");
            *self
                .status
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) =
                ChipStatus::Failed(ChipProblem::Other(error.to_string()));
        }
    }

    /// Stops the read in progress (the screen left, the customer gone).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, Ordering::SeqCst);
        }
    }
}

/// The key from the first picture whose MRZ reads with every check digit holding.
fn key_from_pictures(pictures: &[Vec<u8>]) -> Option<MrzKey> {
    let ocr = super::capture::mrz_reader()?;
    pictures.iter().find_map(|jpeg| {
        let gray = ekyc_imaging::decode_upright(jpeg).ok()?.to_luma8();
        let (mrz, _, _) = ekyc_reading::read_mrz(&ocr, &gray, &[])?;
        key_of(&mrz)
    })
}
