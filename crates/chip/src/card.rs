//! A card on a reader, as the chip's code sees it: one command APDU in, one response APDU
//! (data, SW1, SW2) out. PC/SC behind it in the kiosk, a software chip in the tests.

/// What went wrong between the reader and the card (not what the card answered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The card left the reader (moved away, pulled out).
    #[error("the card was moved away from the reader")]
    Removed,
    /// The reader is gone (unplugged) or the reader service stopped.
    #[error("the card reader is not available: {0}")]
    Reader(String),
    /// The card did not answer in time, or answered nothing a card would.
    #[error("the card's chip does not answer: {0}")]
    NoAnswer(String),
}

/// A card the reader holds.
pub trait Card: Send {
    /// Sends one command APDU, returns the card's response APDU (its data then SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, LinkError>;
}
