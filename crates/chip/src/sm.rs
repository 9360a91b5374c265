//! Secure messaging under keys of our own making (ICAO 9303-11 §9.8): after chip
//! authentication, both sides restart it under the keys of the key agreement, with the
//! send sequence counter at zero; 3DES (CBC from zero, retail MAC) or AES-128 (CBC from
//! the counter encrypted, CMAC), each MAC cut to 8 bytes. (dmrtd's own is sealed inside
//! its BAC and PACE sessions.)

use aes::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use cmac::Mac;
use dmrtd::proto::iso7816::command_apdu::CommandApdu;
use dmrtd::proto::iso7816::response_apdu::{ResponseApdu, StatusWord};
use dmrtd::proto::iso7816::sm::{self, SecureMessaging, SmError};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::session::{tlv_total_length, tlv_value};

/// The keys and the counter.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct KeyedSm {
    aes: bool,
    enc: [u8; 16],
    mac: [u8; 16],
    ssc: u128,
}

impl KeyedSm {
    /// 3DES (two-key) from K_enc and K_mac, the counter at zero.
    pub fn des(enc: [u8; 16], mac: [u8; 16]) -> Self {
        Self {
            aes: false,
            enc,
            mac,
            ssc: 0,
        }
    }

    /// AES-128 from K_enc and K_mac, the counter at zero.
    pub fn aes(enc: [u8; 16], mac: [u8; 16]) -> Self {
        Self {
            aes: true,
            enc,
            mac,
            ssc: 0,
        }
    }

    fn block(&self) -> usize {
        if self.aes {
            16
        } else {
            8
        }
    }

    fn counter(&self) -> Vec<u8> {
        if self.aes {
            self.ssc.to_be_bytes().to_vec()
        } else {
            (self.ssc as u64).to_be_bytes().to_vec()
        }
    }

    /// ISO/IEC 9797-1 padding method 2.
    fn pad(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        out.push(0x80);
        while !out.len().is_multiple_of(self.block()) {
            out.push(0);
        }
        out
    }

    fn mac_of(&self, padded: &[u8]) -> [u8; 8] {
        let mut out = [0u8; 8];
        if self.aes {
            let mut mac = <cmac::Cmac<aes::Aes128> as KeyInit>::new(&Array::from(self.mac));
            Mac::update(&mut mac, padded);
            out.copy_from_slice(&mac.finalize().into_bytes()[..8]);
        } else {
            // ISO/IEC 9797-1 MAC algorithm 3: single DES in CBC with K1, then K2⁻¹, K1.
            let k1 = des::Des::new(&Array::from(
                <[u8; 8]>::try_from(&self.mac[..8]).unwrap_or_default(),
            ));
            let k2 = des::Des::new(&Array::from(
                <[u8; 8]>::try_from(&self.mac[8..]).unwrap_or_default(),
            ));
            let mut state = [0u8; 8];
            for block in padded.chunks(8) {
                for (at, byte) in block.iter().enumerate() {
                    state[at] ^= byte;
                }
                let mut array = Array::from(state);
                k1.encrypt_block(&mut array);
                state = array.into();
            }
            let mut array = Array::from(state);
            k2.decrypt_block(&mut array);
            k1.encrypt_block(&mut array);
            out = array.into();
        }
        out
    }

    fn iv(&self) -> Vec<u8> {
        if self.aes {
            let mut block = Array::from(self.ssc.to_be_bytes());
            aes::Aes128::new(&Array::from(self.enc)).encrypt_block(&mut block);
            block.to_vec()
        } else {
            vec![0; 8]
        }
    }

    /// CBC over whole blocks from the IV, the cipher's key schedule made once.
    fn crypt(&self, data: &[u8], encrypt: bool) -> Vec<u8> {
        if self.aes {
            cbc(
                &aes::Aes128::new(&Array::from(self.enc)),
                self.iv(),
                data,
                encrypt,
            )
        } else {
            cbc(
                &des::TdesEde2::new(&Array::from(self.enc)),
                self.iv(),
                data,
                encrypt,
            )
        }
    }
}

/// CBC with `cipher` from `iv`, encrypting or decrypting `data`'s whole blocks.
fn cbc<C: BlockCipherEncrypt + BlockCipherDecrypt>(
    cipher: &C,
    iv: Vec<u8>,
    data: &[u8],
    encrypt: bool,
) -> Vec<u8> {
    let mut chain = iv;
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks_exact(chain.len()) {
        let input: Vec<u8> = if encrypt {
            block.iter().zip(&chain).map(|(a, b)| a ^ b).collect()
        } else {
            block.to_vec()
        };
        let Ok(mut array) = Array::<u8, C::BlockSize>::try_from(&input[..]) else {
            break;
        };
        if encrypt {
            cipher.encrypt_block(&mut array);
            chain = array.to_vec();
            out.extend_from_slice(&array);
        } else {
            cipher.decrypt_block(&mut array);
            out.extend(array.iter().zip(&chain).map(|(a, b)| a ^ b));
            chain = block.to_vec();
        }
    }
    out
}

impl SecureMessaging for KeyedSm {
    fn protect(&mut self, command: &CommandApdu) -> Result<CommandApdu, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        let mut masked = command.clone();
        masked.cla |= 0x0C;
        let data = match masked.data.as_deref().filter(|data| !data.is_empty()) {
            Some(data) => {
                let cryptogram = self.crypt(&self.pad(data), true);
                if masked.ins & 1 == 1 {
                    sm::do85(&cryptogram)
                } else {
                    sm::do87(&cryptogram, true)
                }
            }
            None => Vec::new(),
        };
        let expected = sm::do97(masked.ne);
        let mut input = self.counter();
        input.extend(self.pad(&masked.raw_header()));
        input.extend_from_slice(&data);
        input.extend_from_slice(&expected);
        let mac = self.mac_of(&self.pad(&input));
        let mut body = data;
        body.extend(expected);
        body.extend(sm::do8e(&mac));
        masked.data = Some(body);
        masked.ne = 256;
        Ok(masked)
    }

    fn unprotect(&mut self, answer: &ResponseApdu) -> Result<ResponseApdu, SmError> {
        let Some(body) = answer.data.as_deref().filter(|body| !body.is_empty()) else {
            if answer.status == StatusWord::SUCCESS {
                return Err(SmError(
                    "an unprotected success under secure messaging".into(),
                ));
            }
            return Ok(answer.clone());
        };
        self.ssc = self.ssc.wrapping_add(1);
        let (mut data, mut status, mut mac, mut signed_end) = (None, None, None, 0);
        let mut at = 0;
        while at < body.len() {
            let total = tlv_total_length(&body[at..])
                .ok_or_else(|| SmError("a broken data object".into()))?;
            let object = body
                .get(at..at + total)
                .ok_or_else(|| SmError("a short data object".into()))?;
            let value = tlv_value(object).ok_or_else(|| SmError("a broken data object".into()))?;
            match object[0] {
                0x85 => data = Some(value.to_vec()),
                0x87 => data = Some(value.get(1..).unwrap_or_default().to_vec()),
                0x99 => status = Some(value.to_vec()),
                0x8E => mac = Some(value.to_vec()),
                _ => return Err(SmError("an unknown data object".into())),
            }
            at += total;
            if object[0] != 0x8E {
                signed_end = at;
            }
        }
        let mut input = self.counter();
        input.extend_from_slice(&body[..signed_end]);
        if mac.as_deref() != Some(&self.mac_of(&self.pad(&input))[..]) {
            return Err(SmError("the answer's MAC does not check".into()));
        }
        let status = match status.as_deref() {
            Some([sw1, sw2]) => StatusWord::new(*sw1, *sw2),
            _ => return Err(SmError("no status in the answer".into())),
        };
        let data = match data {
            Some(cryptogram) if !cryptogram.is_empty() => {
                let plain = self.crypt(&cryptogram, false);
                let end = plain
                    .iter()
                    .rposition(|byte| *byte != 0)
                    .filter(|end| plain[*end] == 0x80);
                Some(plain[..end.ok_or_else(|| SmError("bad padding".into()))?].to_vec())
            }
            _ => None,
        };
        Ok(ResponseApdu::new(status, data))
    }
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

    fn key(text: &str) -> [u8; 16] {
        hex(text).try_into().unwrap_or_default()
    }

    fn select(file: &[u8], p1: u8) -> CommandApdu {
        CommandApdu::new(0x00, 0xA4, p1, 0x0C, Some(file.to_vec()), 0)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// ICAO 9303-11 Appendix D.4: the protected SELECT of EF.COM under BAC's session keys
    /// (SSC 887022120C06C226), and the chip's answer unprotected.
    #[test]
    fn three_des_gives_the_worked_example_of_appendix_d4() {
        let mut sm = KeyedSm::des(
            key("979EC13B1CBFE9DCD01AB0FED307EAE5"),
            key("F1CB1F1FB5ADF208806B89DC579DC1F8"),
        );
        sm.ssc = 0x887022120C06C226;
        let protected = sm
            .protect(&select(&[0x01, 0x1E], 0x02))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            protected.to_bytes(),
            hex("0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800")
        );
        let answer = ResponseApdu::from_bytes(&hex("990290008E08FA855A5D4C50A8ED9000"))
            .unwrap_or_else(|error| panic!("{error}"));
        let plain = sm
            .unprotect(&answer)
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(plain.status, StatusWord::SUCCESS);
        // A byte of the MAC changed: refused.
        let forged = ResponseApdu::from_bytes(&hex("990290008E08FA855A5D4C50A8EC9000"))
            .unwrap_or_else(|error| panic!("{error}"));
        assert!(sm.unprotect(&forged).is_err());
    }

    /// AES-128 under the session keys of Appendix G.1's PACE, SSC from zero: the protected
    /// SELECT of the eMRTD application as an independent implementation (a Java PACE
    /// library's test vector) gives it, and its answer.
    #[test]
    fn aes_gives_an_independent_implementations_select_under_appendix_g1s_keys() {
        let mut sm = KeyedSm::aes(
            key("F5F0E35C0D7161EE6724EE513A0D9A7F"),
            key("FE251C7858B356B24514B3BD5F4297D1"),
        );
        let protected = sm
            .protect(&select(&[0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01], 0x04))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            protected.to_bytes(),
            hex("0CA4040C1D871101752F676B09FAC86A87D632749A49C7CC8E08C18BA1FCE707BD9F00")
        );
        let answer = ResponseApdu::from_bytes(&hex("990290008E08BEA7B381C494A0799000"))
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            sm.unprotect(&answer)
                .unwrap_or_else(|error| panic!("{error}"))
                .status,
            StatusWord::SUCCESS
        );
    }
}
