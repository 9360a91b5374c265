//! Chip authentication from the card's side (ICAO 9303-11 §6.2, ECDH): the chip proves
//! it holds the private key whose public half DG14 publishes (signed in the SOD) by
//! agreeing a key with the terminal's ephemeral one; both restart secure messaging under
//! keys derived from it. A clone, which can copy DG14 but not the key, derives other keys,
//! and its next answer does not authenticate.

use crate::pace::Curve;

/// id-CA-ECDH-AES-CBC-CMAC-128 (0.4.0.127.0.7.2.2.3.2.2).
pub const CA_ECDH_AES_128: [u8; 10] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02];
/// id-CA-ECDH-3DES-CBC-CBC (0.4.0.127.0.7.2.2.3.2.1).
pub const CA_ECDH_3DES: [u8; 10] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x01];
/// id-PK-ECDH (0.4.0.127.0.7.2.2.1.2).
pub const PK_ECDH: [u8; 9] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02];

/// A chip's chip-authentication key.
#[derive(Clone)]
pub struct ChipAuthKey {
    /// Its curve.
    pub curve: Curve,
    /// The private key the chip holds (a clone holds another).
    pub secret: [u8; 32],
    /// AES-128 (else 3DES) for the secure messaging after.
    pub aes: bool,
}

/// The new session keys after chip authentication with the terminal's ephemeral key
/// `theirs`: K_enc and K_mac from the shared secret (§9.7.1: SHA-1 counters 1 and 2; 3DES
/// keys get their parity adjusted).
pub fn session_keys(key: &ChipAuthKey, theirs: &[u8]) -> Option<([u8; 16], [u8; 16])> {
    let shared = key.curve.shared(&key.secret, theirs)?;
    Some(if key.aes {
        (crate::pace::kdf(&shared, 1), crate::pace::kdf(&shared, 2))
    } else {
        (
            crate::bac::derive(&shared, 1),
            crate::bac::derive(&shared, 2),
        )
    })
}
