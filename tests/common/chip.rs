//! A card reader for the kiosk's tests: the software chip (`ekyc-testchip`) on a reader
//! that can be unplugged, emptied, or have its card taken away in the middle of a read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ekyc_chip::{Card, LinkError};
use ekyc_kiosk::chip::reader::ReaderError;
use ekyc_kiosk::chip::ChipReaders;
use ekyc_testchip::SoftChip;

/// The reader's name.
pub const READER: &str = "Software reader 00 00";

/// One reader, `slot` its card (`None`: no card on it), `plugged` whether it is there.
#[derive(Clone, Default)]
pub struct SoftReader {
    pub slot: Arc<Mutex<Option<SoftChip>>>,
    pub plugged: Arc<AtomicBool>,
}

impl SoftReader {
    /// A reader plugged in, holding `chip`.
    pub fn holding(chip: Option<SoftChip>) -> Self {
        let reader = Self::default();
        reader.plugged.store(true, Ordering::SeqCst);
        *reader.slot.lock().unwrap() = chip;
        reader
    }

    /// Puts `chip` on the reader (or takes the card away).
    pub fn place(&self, chip: Option<SoftChip>) {
        *self.slot.lock().unwrap() = chip;
    }
}

impl ChipReaders for SoftReader {
    fn readers(&self) -> Result<Vec<String>, ReaderError> {
        Ok(if self.plugged.load(Ordering::SeqCst) {
            vec![READER.to_owned()]
        } else {
            Vec::new()
        })
    }

    fn connect(&self, _wanted: &str) -> Result<(Box<dyn Card>, String), ReaderError> {
        if !self.plugged.load(Ordering::SeqCst) {
            return Err(ReaderError::NoReader);
        }
        match self.slot.lock().unwrap().as_mut() {
            Some(chip) => chip.reset(),
            None => return Err(ReaderError::NoCard(READER.into())),
        }
        Ok((Box::new(OnReader(self.slot.clone())), READER.into()))
    }
}

/// The card as the kiosk's code talks to it: gone when the slot is emptied.
struct OnReader(Arc<Mutex<Option<SoftChip>>>);

impl Card for OnReader {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, LinkError> {
        self.0
            .lock()
            .unwrap()
            .as_mut()
            .and_then(|chip| chip.process(command))
            .ok_or(LinkError::Removed)
    }
}
