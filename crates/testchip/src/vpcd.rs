//! The software chip in Debian's virtual reader (vsmartcard's `vpcd`, a pcscd driver).
//! vpcd listens for a card on its port (0x8C7B for its first slot) on every interface;
//! the card connects to it, and answers its messages: a length of two bytes, then a
//! control byte (power off 00, on 01, reset 02, ATR 04) or an APDU. A card taken off the
//! reader closes its connection. The tests run pcscd and this card in a network namespace
//! of their own, so that vpcd's port is reachable from nowhere else.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::card::SoftChip;

/// vpcd's port for its first slot.
pub const VPCD_PORT: u16 = 0x8C7B;

/// An ATR of an ISO 14443-4 card seen through a contactless reader (PC/SC part 3).
pub const ATR: [u8; 11] = [
    0x3B, 0x86, 0x80, 0x01, 0x80, 0x71, 0xA0, 0x47, 0x10, 0x01, 0x5E,
];

/// Puts the card in `chip` on vpcd's reader at 127.0.0.1:`port` whenever there is one
/// (another card can be put there through the mutex; `None`: no card), until `stop`.
/// `EKYC_TESTCHIP_TRACE=1` prints each message from vpcd on standard error (a test's
/// debugging aid; the sample card's data is made up).
pub fn join(port: u16, chip: &Arc<Mutex<Option<SoftChip>>>, stop: &AtomicBool) {
    let trace = std::env::var_os("EKYC_TESTCHIP_TRACE").is_some();
    while !stop.load(Ordering::Relaxed) {
        if lock(chip).is_none() {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => serve_connection(stream, chip, stop, trace),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// One connection of vpcd's, until it closes or the card leaves.
fn serve_connection(
    mut stream: TcpStream,
    chip: &Arc<Mutex<Option<SoftChip>>>,
    stop: &AtomicBool,
    trace: bool,
) {
    loop {
        // Waiting for a message, stop is looked at; a message begun is read whole.
        let mut length = [0u8; 2];
        if stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .is_err()
        {
            return;
        }
        match stream.read(&mut length[..1]) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                continue;
            }
            Err(_) => return,
        }
        if stream.set_read_timeout(None).is_err() || stream.read_exact(&mut length[1..]).is_err() {
            return;
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if stream.read_exact(&mut message).is_err() {
            return;
        }
        if trace {
            eprintln!("vpcd → card: {message:02X?}");
        }
        let mut card = lock(chip);
        let answer = match message.as_slice() {
            [0x00] | [0x02] => {
                if let Some(card) = card.as_mut() {
                    card.reset();
                }
                None
            }
            [0x01] => None,
            [0x04] if card.is_some() => Some(ATR.to_vec()),
            apdu => match card.as_mut().and_then(|card| card.process(apdu)) {
                Some(answer) => Some(answer),
                None => {
                    // Pulled away: the connection closes, and the reader sees no card
                    // until one is put back.
                    *card = None;
                    return;
                }
            },
        };
        drop(card);
        if let Some(answer) = answer {
            let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
            framed.extend(answer);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }
}

fn lock(chip: &Mutex<Option<SoftChip>>) -> std::sync::MutexGuard<'_, Option<SoftChip>> {
    chip.lock().unwrap_or_else(|poison| poison.into_inner())
}
