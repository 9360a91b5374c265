//! Card readers through PC/SC (Debian's `pcscd`, with `libccid` for the common USB
//! readers): listed afresh at each read, so a reader unplugged and plugged back is found
//! again, and each answer's errors told apart (no service, no reader, no card, the card
//! moved away).

use std::ffi::CString;

use ekyc_chip::{Card, LinkError};

/// Why no card could be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// pcscd is not running.
    #[error("the card reader service is not running (start pcscd: `systemctl start pcscd`)")]
    NoService,
    /// No reader is plugged in.
    #[error("no card reader is plugged in")]
    NoReader,
    /// No reader has the name asked for.
    #[error("no card reader is named like \"{0}\" (see `ekyc-kiosk chip readers`)")]
    NotFound(String),
    /// The reader holds no card.
    #[error("there is no card on the reader {0}")]
    NoCard(String),
    /// Anything else PC/SC said.
    #[error("the card reader: {0}")]
    Other(String),
}

fn context() -> Result<pcsc::Context, ReaderError> {
    pcsc::Context::establish(pcsc::Scope::User).map_err(|error| match error {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => ReaderError::NoService,
        other => ReaderError::Other(other.to_string()),
    })
}

fn list(context: &pcsc::Context) -> Result<Vec<CString>, ReaderError> {
    match context.list_readers_owned() {
        Ok(readers) => Ok(readers),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(pcsc::Error::NoService | pcsc::Error::ServiceStopped) => Err(ReaderError::NoService),
        Err(other) => Err(ReaderError::Other(other.to_string())),
    }
}

/// The readers plugged in now, by name.
pub fn readers() -> Result<Vec<String>, ReaderError> {
    let context = context()?;
    Ok(list(&context)?
        .iter()
        .map(|name| name.to_string_lossy().into_owned())
        .collect())
}

/// A card on a PC/SC reader.
pub struct PcscCard {
    card: pcsc::Card,
    name: String,
}

impl PcscCard {
    /// The reader's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The card on the reader whose name contains `wanted` (case aside), or on the first
/// reader holding one when `wanted` is empty.
pub fn connect(wanted: &str) -> Result<PcscCard, ReaderError> {
    let context = context()?;
    let readers = list(&context)?;
    if readers.is_empty() {
        return Err(ReaderError::NoReader);
    }
    let wanted = wanted.trim().to_lowercase();
    let candidates: Vec<&CString> = readers
        .iter()
        .filter(|name| wanted.is_empty() || name.to_string_lossy().to_lowercase().contains(&wanted))
        .collect();
    if candidates.is_empty() {
        return Err(ReaderError::NotFound(wanted));
    }
    // A reader's own failure says more than "no card" on the next reader.
    let mut no_card = None;
    let mut failed = None;
    for name in candidates {
        let shown = name.to_string_lossy().into_owned();
        match connect_one(&context, name) {
            Ok(card) => return Ok(PcscCard { card, name: shown }),
            Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => {
                no_card.get_or_insert(ReaderError::NoCard(shown));
            }
            Err(pcsc::Error::NoService | pcsc::Error::ServiceStopped) => {
                return Err(ReaderError::NoService)
            }
            Err(other) => {
                failed.get_or_insert(ReaderError::Other(format!("{shown}: {other}")));
            }
        }
    }
    Err(failed.or(no_card).unwrap_or(ReaderError::NoReader))
}

/// Connects to the card on `name`, again after a moment when the card was just reset,
/// powered down or busy (another program's transaction ending, the card settling).
fn connect_one(context: &pcsc::Context, name: &std::ffi::CStr) -> Result<pcsc::Card, pcsc::Error> {
    let mut tries = 0;
    loop {
        match context.connect(name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
            Err(
                pcsc::Error::ResetCard
                | pcsc::Error::UnpoweredCard
                | pcsc::Error::UnresponsiveCard
                | pcsc::Error::SharingViolation,
            ) if tries < 5 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            outcome => return outcome,
        }
    }
}

impl PcscCard {
    /// An empty answer: the card taken away as it answered (some readers say nothing
    /// more), or a chip that said nothing. The reader is asked, for up to a second.
    fn why_empty(&self) -> LinkError {
        for _ in 0..5 {
            match self.card.status2_owned() {
                Err(
                    pcsc::Error::RemovedCard
                    | pcsc::Error::NoSmartcard
                    | pcsc::Error::ResetCard
                    | pcsc::Error::UnpoweredCard,
                ) => return LinkError::Removed,
                Ok(status) if !status.status().contains(pcsc::Status::PRESENT) => {
                    return LinkError::Removed
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(200)),
            }
        }
        LinkError::NoAnswer("an empty answer".into())
    }
}

impl Card for PcscCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, LinkError> {
        // Room for an extended answer (64 KB and its status).
        let mut answer = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match self.card.transmit(command, &mut answer) {
            Ok([]) => Err(self.why_empty()),
            Ok(answer) => Ok(answer.to_vec()),
            Err(
                pcsc::Error::RemovedCard
                | pcsc::Error::ResetCard
                | pcsc::Error::NoSmartcard
                | pcsc::Error::UnpoweredCard,
            ) => Err(LinkError::Removed),
            Err(
                pcsc::Error::NoService
                | pcsc::Error::ServiceStopped
                | pcsc::Error::ReaderUnavailable
                | pcsc::Error::UnknownReader,
            ) => Err(LinkError::Reader("the reader went away".into())),
            Err(other) => Err(LinkError::NoAnswer(other.to_string())),
        }
    }
}
