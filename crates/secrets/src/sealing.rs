//! Data sealed under a 32-byte key: XChaCha20-Poly1305, a random nonce for each seal
//! written before the ciphertext, and what the sealed bytes are bound to (their owner's
//! id, a date) authenticated with them, so that sealed bytes moved to another record do
//! not open. What the enrolments and the report outbox keep at rest.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use zeroize::Zeroizing;

/// The nonce's length, before the ciphertext.
const NONCE_BYTES: usize = 24;

/// Why nothing was sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The OS gave no randomness for the nonce.
    #[error("no randomness: {0}")]
    NoRandomness(String),
    /// The cipher refused (the plaintext too long for it).
    #[error("sealing failed")]
    Failed,
}

/// A sealing key.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    /// The key's 32 bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// `plaintext` sealed and bound to `bound_to`: the nonce, then the ciphertext with
    /// its tag.
    pub fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|error| SealError::NoRandomness(error.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plaintext,
                    aad: bound_to,
                },
            )
            .map_err(|_| SealError::Failed)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// What [`Self::seal`] sealed, if `sealed` is whole, unaltered and bound to
    /// `bound_to`; wiped from memory when dropped.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: ciphertext,
                    aad: bound_to,
                },
            )
            .ok()
            .map(Zeroizing::new)
    }
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Sealer(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_only_with_their_key_and_binding_and_unaltered() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal(b"template", b"customer-1").unwrap();
        assert_ne!(
            sealer.seal(b"template", b"customer-1").unwrap(),
            sealed,
            "a new nonce"
        );
        assert!(!sealed.windows(8).any(|part| part == b"template"));
        assert_eq!(
            sealer.open(&sealed, b"customer-1").unwrap().as_slice(),
            b"template"
        );
        assert!(sealer.open(&sealed, b"customer-2").is_none());
        assert!(Sealer::new(&[8; 32]).open(&sealed, b"customer-1").is_none());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&altered, b"customer-1").is_none());
        assert!(sealer.open(&sealed[..10], b"customer-1").is_none());
    }
}
