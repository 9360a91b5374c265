//! Chip authentication (ICAO 9303-11 §6.2, ECDH), the reader's side: DG14 names the
//! protocol and the chip's public key (signed in the SOD); the reader sends an ephemeral
//! key of its own, both sides derive new session keys from the key agreement, and secure
//! messaging restarts under them. A chip that answers under those keys holds the private
//! key DG14 publishes: not a clone (which can copy DG14, not the key).
//!
//! Curves: NIST P-256 and brainpoolP256r1, named or given by their parameters; ciphers:
//! AES-128 (MSE:Set AT, GENERAL AUTHENTICATE) and 3DES (MSE:Set KAT).

use sha1::Digest;
use zeroize::Zeroizing;

use crate::lds::{CaCipher, CaCurve, ChipAuthInfo};
use crate::session::{ChipError, Session};
use crate::sm::KeyedSm;

/// Chip authentication's outcome, reported beside passive authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipAuthentication {
    /// The chip agreed keys with DG14's key: not a clone.
    Passed,
    /// It could not (the reason): a clone, or a broken chip.
    Failed(String),
    /// The chip has no DG14, or a protocol this version does not run (the reason).
    NotOffered,
}

impl ChipAuthentication {
    /// The word in reports and the CLI's JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed(_) => "failed",
            Self::NotOffered => "not_offered",
        }
    }
}

/// The elliptic-curve steps, per curve.
macro_rules! curve_steps {
    ($module:ident, $root:ident, $($curve:ident)::+) => {
        mod $module {
            use $root::elliptic_curve::group::Group;
            use $root::elliptic_curve::ff::PrimeField;
            type C = $($curve)::+;
            type PublicKey = $root::elliptic_curve::PublicKey<C>;
            type ProjectivePoint = $root::elliptic_curve::ProjectivePoint<C>;
            type Scalar = $root::elliptic_curve::Scalar<C>;
            type FieldBytes = $root::elliptic_curve::FieldBytes<C>;

            /// A fresh key pair: the secret's bytes and the public key, SEC1.
            pub fn ephemeral() -> Option<(super::Zeroizing<[u8; 32]>, Vec<u8>)> {
                for _ in 0..8 {
                    let mut bytes = super::Zeroizing::new([0u8; 32]);
                    getrandom::fill(&mut bytes[..]).ok()?;
                    let mut repr = FieldBytes::default();
                    repr.copy_from_slice(&bytes[..]);
                    let scalar: Option<Scalar> = Option::from(Scalar::from_repr(repr));
                    if let Some(scalar) = scalar.filter(|scalar| *scalar != Scalar::ZERO) {
                        let public = PublicKey::from_affine((ProjectivePoint::generator() * scalar).to_affine()).ok()?;
                        return Some((bytes, public.to_sec1_bytes().to_vec()));
                    }
                }
                None
            }

            /// The x coordinate of `secret` times `theirs`.
            pub fn shared(secret: &[u8; 32], theirs: &[u8]) -> Option<Vec<u8>> {
                let mut repr = FieldBytes::default();
                repr.copy_from_slice(secret);
                let scalar: Scalar = Option::from(Scalar::from_repr(repr))?;
                let point = PublicKey::from_sec1_bytes(theirs).ok()?.to_projective() * scalar;
                let shared = PublicKey::from_affine(point.to_affine()).ok()?.to_sec1_bytes();
                let size = (shared.len() - 1) / 2;
                Some(shared[1..=size].to_vec())
            }
        }
    };
}

curve_steps!(nist, p256, p256::NistP256);
curve_steps!(brainpool, bp256, bp256::r1::BrainpoolP256r1);

/// §9.7.1: SHA-1(secret ‖ counter), 16 bytes (AES-128 and two-key 3DES alike).
fn kdf(secret: &[u8], counter: u8) -> [u8; 16] {
    let mut hash = sha1::Sha1::new();
    hash.update(secret);
    hash.update([0, 0, 0, counter]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&hash.finalize()[..16]);
    key
}

/// Runs chip authentication with DG14's `info` in `session` (after the files are read):
/// the key agreement, new keys, and EF.COM read again under them as the proof.
pub fn authenticate(
    session: &mut Session<'_>,
    info: &ChipAuthInfo,
) -> Result<ChipAuthentication, ChipError> {
    let pair = match info.curve {
        CaCurve::P256 => nist::ephemeral(),
        CaCurve::Brainpool256 => brainpool::ephemeral(),
        CaCurve::Other(_) => return Ok(ChipAuthentication::NotOffered),
    };
    let Some((secret, ours)) = pair else {
        return Err(ChipError::SecureMessaging(
            "no randomness for chip authentication".into(),
        ));
    };
    let shared = match info.curve {
        CaCurve::P256 => nist::shared(&secret, &info.public),
        CaCurve::Brainpool256 => brainpool::shared(&secret, &info.public),
        CaCurve::Other(_) => None,
    };
    let Some(shared) = shared.map(Zeroizing::new) else {
        return Ok(ChipAuthentication::Failed(
            "DG14's public key is not a point of its curve".into(),
        ));
    };
    let refused = |status: u16| {
        Ok(ChipAuthentication::Failed(format!(
            "the chip refused chip authentication (status {status:04X})"
        )))
    };
    match info.cipher {
        CaCipher::Aes128 => {
            let mut set = vec![0x80, info.protocol.len() as u8];
            set.extend_from_slice(&info.protocol);
            let status = session.command(0x22, 0x41, 0xA4, &set, 0)?.1;
            if status != 0x9000 {
                return refused(status);
            }
            let mut key = vec![0x80, ours.len() as u8];
            key.extend_from_slice(&ours);
            let mut data = vec![0x7C, key.len() as u8];
            data.extend(key);
            let status = session.command(0x86, 0x00, 0x00, &data, 256)?.1;
            if status != 0x9000 {
                return refused(status);
            }
            session
                .restart_secure_messaging(Box::new(KeyedSm::aes(kdf(&shared, 1), kdf(&shared, 2))));
        }
        CaCipher::Des => {
            let mut data = vec![0x91, ours.len() as u8];
            data.extend_from_slice(&ours);
            let status = session.command(0x22, 0x41, 0xA6, &data, 0)?.1;
            if status != 0x9000 {
                return refused(status);
            }
            session
                .restart_secure_messaging(Box::new(KeyedSm::des(kdf(&shared, 1), kdf(&shared, 2))));
        }
    }
    // The proof: an answer that authenticates under the new keys.
    match session.read_file(0x011E, "EF.COM", &mut |_, _| {}) {
        Ok(Some(_)) => Ok(ChipAuthentication::Passed),
        Ok(None) => Ok(ChipAuthentication::Failed("EF.COM vanished after chip authentication".into())),
        Err(ChipError::SecureMessaging(_) | ChipError::Refused { .. }) => Ok(ChipAuthentication::Failed(
            "the chip's answers do not authenticate under the agreed keys: it does not hold DG14's key".into(),
        )),
        Err(other) => Err(other),
    }
}
