//! The card's cryptography for BAC and secure messaging: keys from the MRZ (9303-11
//! §9.7), 2-key triple DES in CBC with a zero IV, and the retail MAC (ISO/IEC 9797-1
//! algorithm 3, padding method 2).

// des 0.8 (cipher 0.4) sits on generic-array 0.14, which now calls itself deprecated.
#![allow(deprecated)]

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use sha1::{Digest, Sha1};

/// The MRZ check digit (weights 7, 3, 1).
pub fn check_digit(text: &str) -> char {
    let sum: u32 = text
        .bytes()
        .zip([7u32, 3, 1].into_iter().cycle())
        .map(|(byte, weight)| {
            let value = match byte {
                b'0'..=b'9' => u32::from(byte - b'0'),
                b'A'..=b'Z' => u32::from(byte - b'A') + 10,
                _ => 0,
            };
            value * weight
        })
        .sum();
    char::from(b'0' + (sum % 10) as u8)
}

/// The MRZ information the keys come from: the document number (filled to 9), the birth
/// and expiry dates, each followed by its check digit.
pub fn mrz_information(document_number: &str, birth: &str, expiry: &str) -> String {
    let mut number = document_number.to_owned();
    while number.len() < 9 {
        number.push('<');
    }
    format!(
        "{number}{}{birth}{}{expiry}{}",
        check_digit(&number),
        check_digit(birth),
        check_digit(expiry)
    )
}

/// K_seed from the document number, birth and expiry dates (9303-11 §9.7.2).
pub fn key_seed(document_number: &str, birth: &str, expiry: &str) -> [u8; 16] {
    let hash = Sha1::digest(mrz_information(document_number, birth, expiry).as_bytes());
    let mut seed = [0u8; 16];
    seed.copy_from_slice(&hash[..16]);
    seed
}

/// A 3DES key from a seed: counter 1 for encryption, 2 for the MAC (9303-11 §9.7.1),
/// its parity bits adjusted.
pub fn derive(seed: &[u8], counter: u32) -> [u8; 16] {
    let mut hasher = Sha1::new();
    hasher.update(seed);
    hasher.update(counter.to_be_bytes());
    let hash = hasher.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&hash[..16]);
    // DES parity: each byte's lowest bit makes its count of ones odd (as 9303-11 prints
    // the keys; DES itself ignores those bits).
    for byte in &mut key {
        *byte = (*byte & 0xFE) | u8::from((*byte >> 1).count_ones() % 2 == 0);
    }
    key
}

fn tdes(key: &[u8; 16]) -> des::TdesEde2 {
    des::TdesEde2::new(GenericArray::from_slice(key))
}

/// 3DES-CBC encryption, zero IV; `data` a multiple of 8 bytes.
pub fn encrypt(key: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let cipher = tdes(key);
    let mut chain = [0u8; 8];
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks(8) {
        let mut buffer = [0u8; 8];
        for (index, byte) in block.iter().enumerate() {
            buffer[index] = byte ^ chain[index];
        }
        let mut array = GenericArray::clone_from_slice(&buffer);
        cipher.encrypt_block(&mut array);
        chain.copy_from_slice(&array);
        out.extend_from_slice(&array);
    }
    out
}

/// 3DES-CBC decryption, zero IV (or `iv`).
pub fn decrypt(key: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let cipher = tdes(key);
    let mut chain = [0u8; 8];
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks(8) {
        let mut array = GenericArray::clone_from_slice(block);
        cipher.decrypt_block(&mut array);
        for (index, byte) in array.iter().enumerate() {
            out.push(byte ^ chain[index]);
        }
        chain.copy_from_slice(block);
    }
    out
}

/// ISO 9797-1 padding method 2: 80 then zeros to a multiple of 8.
pub fn pad(data: &[u8]) -> Vec<u8> {
    pad_to(data, 8)
}

/// ISO 9797-1 padding method 2 to a multiple of `block` bytes.
pub fn pad_to(data: &[u8], block: usize) -> Vec<u8> {
    let mut padded = data.to_vec();
    padded.push(0x80);
    while !padded.len().is_multiple_of(block) {
        padded.push(0);
    }
    padded
}

/// Undoes [`pad`]; `None` when the padding is not there.
pub fn unpad(data: &[u8]) -> Option<Vec<u8>> {
    let end = data.iter().rposition(|byte| *byte != 0)?;
    (data[end] == 0x80).then(|| data[..end].to_vec())
}

/// The retail MAC of `data` (padded here) with the 16-byte key.
pub fn mac(key: &[u8; 16], data: &[u8]) -> [u8; 8] {
    let first = des::Des::new(GenericArray::from_slice(&key[..8]));
    let second = des::Des::new(GenericArray::from_slice(&key[8..]));
    let mut state = [0u8; 8];
    for block in pad(data).chunks(8) {
        for (index, byte) in block.iter().enumerate() {
            state[index] ^= byte;
        }
        let mut array = GenericArray::clone_from_slice(&state);
        first.encrypt_block(&mut array);
        state.copy_from_slice(&array);
    }
    let mut array = GenericArray::clone_from_slice(&state);
    second.decrypt_block(&mut array);
    first.encrypt_block(&mut array);
    state.copy_from_slice(&array);
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap_or(0))
            .collect()
    }

    /// ICAO 9303-11 Appendix D.2 and D.3: the worked example's keys and E_IFD's MAC.
    #[test]
    fn the_worked_examples_keys_and_mac() {
        let seed = key_seed("L898902C", "690806", "940623");
        assert_eq!(seed.to_vec(), hex("239AB9CB282DAF66231DC5A4DF6BFBAE"));
        assert_eq!(
            derive(&seed, 1).to_vec(),
            hex("AB94FDECF2674FDFB9B391F85D7F76F2")
        );
        assert_eq!(
            derive(&seed, 2).to_vec(),
            hex("7962D9ECE03D1ACD4C76089DCE131543")
        );
        let e_ifd = hex("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2");
        assert_eq!(
            mac(&derive(&seed, 2), &e_ifd).to_vec(),
            hex("5F1448EEA8AD90A7")
        );
        let s = hex("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B");
        assert_eq!(encrypt(&derive(&seed, 1), &s), e_ifd);
        assert_eq!(decrypt(&derive(&seed, 1), &e_ifd), s);
    }
}
