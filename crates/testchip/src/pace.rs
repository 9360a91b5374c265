//! PACE from the card's side (ICAO 9303-11 §4.4): generic mapping, ECDH on NIST P-256
//! (parameter 12) or brainpoolP256r1 (13), AES-128, with the MRZ or the CAN as password;
//! then secure messaging with AES (§9.8: SSC of 16 bytes from zero, the IV the SSC
//! encrypted, CMAC truncated to 8 bytes). Checked against the worked example of
//! Appendix G.1 (`tests` below: the card's answers byte for byte).

use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use cmac::Mac;
use sha1::Digest;

/// The protocol the sample card offers: id-PACE-ECDH-GM-AES-CBC-CMAC-128
/// (0.4.0.127.0.7.2.2.4.2.2), DER's content octets.
pub const PACE_ECDH_GM_AES_128: [u8; 10] =
    [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02];

/// The curves offered (ICAO 9303-11 Table 12's identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// 12: NIST P-256.
    P256,
    /// 13: brainpoolP256r1.
    Brainpool256,
}

impl Curve {
    /// Table 12's identifier.
    pub fn id(self) -> u8 {
        match self {
            Curve::P256 => 12,
            Curve::Brainpool256 => 13,
        }
    }

    fn from_id(id: u8) -> Option<Self> {
        match id {
            12 => Some(Curve::P256),
            13 => Some(Curve::Brainpool256),
            _ => None,
        }
    }
}

/// EF.CardAccess offering PACE on `curve`: a SET of one PACEInfo (the protocol, version
/// 2, the parameter's identifier), DER.
pub fn card_access(curve: Curve) -> Vec<u8> {
    let mut info = vec![0x06, PACE_ECDH_GM_AES_128.len() as u8];
    info.extend_from_slice(&PACE_ECDH_GM_AES_128);
    info.extend_from_slice(&[0x02, 0x01, 0x02, 0x02, 0x01, curve.id()]);
    let sequence = crate::tlv::encode(0x30, &info);
    crate::tlv::encode(0x31, &sequence)
}

/// The password's key K (§9.7.3): SHA-1 of the MRZ's document number, birth and expiry
/// dates each with its check digit; or the CAN's digits.
pub fn password_mrz(document_number: &str, birth: &str, expiry: &str) -> Vec<u8> {
    let information = crate::bac::mrz_information(document_number, birth, expiry);
    sha1::Sha1::digest(information.as_bytes()).to_vec()
}

/// §9.7.1 for AES-128: the first 16 bytes of SHA-1(K ‖ counter).
pub fn kdf(secret: &[u8], counter: u8) -> [u8; 16] {
    let mut hash = sha1::Sha1::new();
    hash.update(secret);
    hash.update([0, 0, 0, counter]);
    let digest = hash.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

fn aes(key: &[u8; 16]) -> aes::Aes128 {
    aes::Aes128::new(&Array::from(*key))
}

/// AES-128 in CBC mode from `iv`, over whole blocks.
pub fn cbc_encrypt(key: &[u8; 16], iv: [u8; 16], data: &[u8]) -> Vec<u8> {
    let cipher = aes(key);
    let mut chain = iv;
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks(16) {
        let mut input = [0u8; 16];
        for (at, byte) in block.iter().enumerate() {
            input[at] = byte ^ chain[at];
        }
        let mut array = Array::from(input);
        cipher.encrypt_block(&mut array);
        chain.copy_from_slice(&array);
        out.extend_from_slice(&array);
    }
    out
}

/// The inverse of [`cbc_encrypt`].
pub fn cbc_decrypt(key: &[u8; 16], iv: [u8; 16], data: &[u8]) -> Vec<u8> {
    let cipher = aes(key);
    let mut chain = iv;
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks_exact(16) {
        let mut array = Array::from(<[u8; 16]>::try_from(block).unwrap_or([0; 16]));
        cipher.decrypt_block(&mut array);
        for (at, byte) in array.iter().enumerate() {
            out.push(byte ^ chain[at]);
        }
        chain.copy_from_slice(block);
    }
    out
}

/// One block encrypted (the IV of secure messaging: the SSC under K_enc).
pub fn encrypt_block(key: &[u8; 16], block: [u8; 16]) -> [u8; 16] {
    let mut array = Array::from(block);
    aes(key).encrypt_block(&mut array);
    array.into()
}

/// AES-CMAC, its first 8 bytes.
pub fn cmac8(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let mut mac = <cmac::Cmac<aes::Aes128> as KeyInit>::new(&Array::from(*key));
    Mac::update(&mut mac, data);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    out
}

/// ISO/IEC 9797-1 padding method 2 to 16 bytes.
pub fn pad16(data: &[u8]) -> Vec<u8> {
    crate::bac::pad_to(data, 16)
}

/// The authentication token over `point` (§4.4.3.4): CMAC of the public key's data object
/// 7F49 (the protocol's OID, the point in 86), 8 bytes.
pub fn token(k_mac: &[u8; 16], point: &[u8]) -> [u8; 8] {
    let mut inner = crate::tlv::encode(0x06, &PACE_ECDH_GM_AES_128);
    inner.extend(crate::tlv::encode(0x86, point));
    cmac8(k_mac, &crate::tlv::encode(0x7F49, &inner))
}

/// The elliptic-curve steps, per curve.
macro_rules! curve_steps {
    ($module:ident, $root:ident, $($curve:ident)::+) => {
        mod $module {
            use $root::elliptic_curve::ff::PrimeField;
            use $root::elliptic_curve::group::Group;
            type C = $($curve)::+;
            type AffinePoint = $root::elliptic_curve::AffinePoint<C>;
            type FieldBytes = $root::elliptic_curve::FieldBytes<C>;
            type ProjectivePoint = $root::elliptic_curve::ProjectivePoint<C>;
            type PublicKey = $root::elliptic_curve::PublicKey<C>;
            type Scalar = $root::elliptic_curve::Scalar<C>;

            fn scalar(bytes: &[u8]) -> Option<Scalar> {
                let mut repr = FieldBytes::default();
                let start = repr.len().checked_sub(bytes.len())?;
                repr[start..].copy_from_slice(bytes);
                Option::from(Scalar::from_repr(repr))
            }

            fn point(sec1: &[u8]) -> Option<ProjectivePoint> {
                PublicKey::from_sec1_bytes(sec1).ok().map(|key| key.to_projective())
            }

            fn encoded(point: ProjectivePoint) -> Option<Vec<u8>> {
                let affine: AffinePoint = point.to_affine();
                PublicKey::from_affine(affine)
                    .ok()
                    .map(|key| key.to_sec1_bytes().to_vec())
            }

            /// The card's mapping key's public half, and the mapped generator
            /// G^ = s·G + SK_map,IC·PK_map,IFD.
            pub fn map(nonce: &[u8], secret: &[u8], theirs: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
                let (s, secret) = (scalar(nonce)?, scalar(secret)?);
                let theirs = point(theirs)?;
                let ours = encoded(ProjectivePoint::generator() * secret)?;
                let mapped = ProjectivePoint::generator() * s + theirs * secret;
                Some((ours, encoded(mapped)?))
            }

            /// The public key of `secret` on the curve's own generator.
            pub fn public(secret: &[u8]) -> Option<Vec<u8>> {
                encoded(ProjectivePoint::generator() * scalar(secret)?)
            }

            /// The card's ephemeral public key on the mapped generator, and the shared
            /// secret's x coordinate with the terminal's.
            pub fn agree(mapped: &[u8], secret: &[u8], theirs: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
                let (mapped, secret) = (point(mapped)?, scalar(secret)?);
                let ours = encoded(mapped * secret)?;
                let shared = encoded(point(theirs)? * secret)?;
                let size = (shared.len() - 1) / 2;
                Some((ours, shared[1..=size].to_vec()))
            }
        }
    };
}

curve_steps!(nist, p256_14, p256_14::NistP256);
curve_steps!(brainpool, bp256, bp256::r1::BrainpoolP256r1);

impl Curve {
    /// The public key of `secret` (32 bytes) on this curve, SEC1 uncompressed.
    pub fn public(self, secret: &[u8; 32]) -> Option<Vec<u8>> {
        match self {
            Curve::P256 => nist::public(secret),
            Curve::Brainpool256 => brainpool::public(secret),
        }
    }

    /// The x coordinate of `secret` times `theirs` (SEC1), the key agreement.
    pub fn shared(self, secret: &[u8; 32], theirs: &[u8]) -> Option<Vec<u8>> {
        let generator = self.public(&{
            let mut one = [0u8; 32];
            one[31] = 1;
            one
        })?;
        let agreed = match self {
            Curve::P256 => nist::agree(&generator, secret, theirs),
            Curve::Brainpool256 => brainpool::agree(&generator, secret, theirs),
        };
        agreed.map(|(_, shared)| shared)
    }
}

/// Where the card is in PACE.
#[derive(Default)]
pub enum Pace {
    /// Not begun.
    #[default]
    Idle,
    /// MSE:Set AT done: the password's key.
    Set { k_pi: [u8; 16], curve: Curve },
    /// Step 1 done: the nonce.
    Nonce { nonce: [u8; 16], curve: Curve },
    /// Step 2 done: the mapped generator.
    Mapped { generator: Vec<u8>, curve: Curve },
    /// Step 3 done: the keys and both ephemeral keys.
    Agreed {
        k_enc: [u8; 16],
        k_mac: [u8; 16],
        ours: Vec<u8>,
        theirs: Vec<u8>,
    },
}

/// The card's fixed secrets, for the worked example: the nonce, the mapping key, the
/// ephemeral key.
#[derive(Clone)]
pub struct Fixed {
    pub nonce: [u8; 16],
    pub mapping: [u8; 32],
    pub ephemeral: [u8; 32],
}

/// A secret scalar: fixed, or 32 random bytes (below the order for these curves but with
/// negligible odds; an out-of-range draw fails the step, as a card's error).
fn secret(fixed: Option<[u8; 32]>) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    match fixed {
        Some(value) => bytes = value,
        None => {
            getrandom::fill(&mut bytes).unwrap_or(());
            bytes[0] &= 0x7F;
        }
    }
    bytes
}

/// What a PACE command came to: the answer's data and status, and the session keys once
/// the last step succeeded.
pub struct Step {
    pub answer: Vec<u8>,
    pub status: u16,
    pub keys: Option<([u8; 16], [u8; 16])>,
}

fn answer(answer: Vec<u8>, status: u16) -> Step {
    Step {
        answer,
        status,
        keys: None,
    }
}

impl Pace {
    /// MSE:Set AT: the protocol (80), the password (83: 01 MRZ, 02 CAN), the parameter
    /// (84). `passwords`: K for the MRZ and the CAN's digits.
    pub fn set_at(&mut self, data: &[u8], mrz: &[u8], can: Option<&str>, offered: Curve) -> u16 {
        let mut rest = data;
        let (mut oid, mut reference, mut parameter) = (None, None, None);
        while let Some((tag, value, total)) = crate::tlv::object(rest) {
            match tag {
                0x80 => oid = Some(value.to_vec()),
                0x83 => reference = value.first().copied(),
                0x84 => parameter = value.first().copied(),
                _ => {}
            }
            rest = &rest[total..];
        }
        if oid.as_deref() != Some(&PACE_ECDH_GM_AES_128[..]) {
            return 0x6A80;
        }
        let curve = match parameter {
            None => offered,
            Some(id) => match Curve::from_id(id).filter(|curve| *curve == offered) {
                Some(curve) => curve,
                None => return 0x6A80,
            },
        };
        let k = match (reference, can) {
            (Some(1), _) => mrz.to_vec(),
            (Some(2), Some(can)) => can.as_bytes().to_vec(),
            _ => return 0x6A88,
        };
        *self = Pace::Set {
            k_pi: kdf(&k, 3),
            curve,
        };
        0x9000
    }

    /// One GENERAL AUTHENTICATE: its dynamic authentication data (7C …) in, the card's
    /// out. A wrong step ends PACE.
    pub fn general_authenticate(&mut self, data: &[u8], fixed: Option<&Fixed>) -> Step {
        let Some((0x7C, inner, _)) = crate::tlv::object(data) else {
            *self = Pace::Idle;
            return answer(Vec::new(), 0x6A80);
        };
        let item = crate::tlv::object(inner).map(|(tag, value, _)| (tag, value.to_vec()));
        match (std::mem::take(self), item) {
            (Pace::Set { k_pi, curve }, None) => {
                let mut nonce = [0u8; 16];
                match fixed {
                    Some(fixed) => nonce = fixed.nonce,
                    None => getrandom::fill(&mut nonce).unwrap_or(()),
                }
                let z = cbc_encrypt(&k_pi, [0; 16], &nonce);
                *self = Pace::Nonce { nonce, curve };
                answer(dynamic(0x80, &z), 0x9000)
            }
            (Pace::Nonce { nonce, curve }, Some((0x81, theirs))) => {
                let key = secret(fixed.map(|fixed| fixed.mapping));
                let mapped = match curve {
                    Curve::P256 => nist::map(&nonce, &key, &theirs),
                    Curve::Brainpool256 => brainpool::map(&nonce, &key, &theirs),
                };
                let Some((ours, generator)) = mapped else {
                    return answer(Vec::new(), 0x6A80);
                };
                *self = Pace::Mapped { generator, curve };
                answer(dynamic(0x82, &ours), 0x9000)
            }
            (Pace::Mapped { generator, curve }, Some((0x83, theirs))) => {
                let key = secret(fixed.map(|fixed| fixed.ephemeral));
                let agreed = match curve {
                    Curve::P256 => nist::agree(&generator, &key, &theirs),
                    Curve::Brainpool256 => brainpool::agree(&generator, &key, &theirs),
                };
                let Some((ours, shared)) = agreed.filter(|(ours, _)| *ours != theirs) else {
                    return answer(Vec::new(), 0x6A80);
                };
                let (k_enc, k_mac) = (kdf(&shared, 1), kdf(&shared, 2));
                let reply = dynamic(0x84, &ours);
                *self = Pace::Agreed {
                    k_enc,
                    k_mac,
                    ours,
                    theirs,
                };
                answer(reply, 0x9000)
            }
            (
                Pace::Agreed {
                    k_enc,
                    k_mac,
                    ours,
                    theirs,
                },
                Some((0x85, t_ifd)),
            ) => {
                if t_ifd != token(&k_mac, &ours) {
                    // The terminal's token does not check: a wrong password.
                    return answer(Vec::new(), 0x6300);
                }
                Step {
                    answer: dynamic(0x86, &token(&k_mac, &theirs)),
                    status: 0x9000,
                    keys: Some((k_enc, k_mac)),
                }
            }
            _ => answer(Vec::new(), 0x6985),
        }
    }
}

/// 7C around one object.
fn dynamic(tag: u16, value: &[u8]) -> Vec<u8> {
    crate::tlv::encode(0x7C, &crate::tlv::encode(tag, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap_or(0))
            .collect()
    }

    fn array<const N: usize>(text: &str) -> [u8; N] {
        hex(text).try_into().unwrap_or([0; N])
    }

    /// ICAO 9303-11 Appendix G.1 (ECDH, generic mapping, brainpoolP256r1, AES-128, the
    /// MRZ T22000129 / 640812 / 101031): the terminal's commands in, the card's answers
    /// out, byte for byte, with the card's secrets of the example.
    #[test]
    fn the_card_answers_the_worked_example_of_appendix_g1() {
        let k = password_mrz("T22000129", "640812", "101031");
        assert_eq!(k, hex("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"));
        assert_eq!(kdf(&k, 3).to_vec(), hex("89DED1B26624EC1E634C1989302849DD"));
        let fixed = Fixed {
            nonce: array("3F00C4D39D153F2B2A214A078D899B22"),
            mapping: array("498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560"),
            ephemeral: array("107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A"),
        };
        let mut pace = Pace::default();
        let set_at = hex("800A04007F00070202040202 830101 84010D");
        assert_eq!(pace.set_at(&set_at, &k, None, Curve::Brainpool256), 0x9000);
        let exchange = [
            ("7C00", "7C12801095A3A016522EE98D01E76CB6B98B42C3"),
            (
                "7C438141047ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E\
                 544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D",
                "7C43824104824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57\
                 30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54",
            ),
            (
                "7C438341042DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C\
                 3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462",
                "7C438441049E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB\
                 7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094",
            ),
            ("7C0A8508C2B0BD78D94BA866", "7C0A86083ABB9674BCE93C08"),
        ];
        let mut keys = None;
        for (command, expected) in exchange {
            let step = pace.general_authenticate(&hex(command), Some(&fixed));
            assert_eq!(step.status, 0x9000, "{command}");
            assert_eq!(step.answer, hex(expected), "{command}");
            keys = step.keys.or(keys);
        }
        let (k_enc, k_mac) = keys.unwrap_or_default();
        assert_eq!(k_enc.to_vec(), hex("F5F0E35C0D7161EE6724EE513A0D9A7F"));
        assert_eq!(k_mac.to_vec(), hex("FE251C7858B356B24514B3BD5F4297D1"));
    }
}
