//! The card: APDUs in, answers out, as a CCCD's chip gives them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bac;
use crate::chip_auth::{self, ChipAuthKey};
use crate::pace::{self, Curve, Fixed, Pace};
use crate::tlv::{encode, object};

/// The eMRTD application's identifier.
const APPLICATION: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// The most one READ BINARY gives (a card's own limit, whatever Le asks).
pub const CARD_READ_LIMIT: usize = 0xE7;

/// What goes wrong on purpose.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The card leaves the reader after this many commands.
    pub pulled_after: Option<usize>,
    /// Each answer takes this long.
    pub delay: Duration,
    /// BAC is not offered (GET CHALLENGE and EXTERNAL AUTHENTICATE unknown: 6D00), as on
    /// a chip that opens with PACE only.
    pub no_bac: bool,
}

/// Secure messaging's keys: 3DES after BAC, AES after PACE.
enum Keys {
    Des { enc: [u8; 16], mac: [u8; 16] },
    Aes { enc: [u8; 16], mac: [u8; 16] },
}

/// Secure messaging's state, once BAC or PACE is done.
struct Secure {
    keys: Keys,
    /// The send sequence counter: 8 bytes with 3DES, 16 with AES.
    counter: u128,
}

impl Secure {
    fn ssc(&self) -> Vec<u8> {
        match self.keys {
            Keys::Des { .. } => (self.counter as u64).to_be_bytes().to_vec(),
            Keys::Aes { .. } => self.counter.to_be_bytes().to_vec(),
        }
    }

    fn pad(&self, data: &[u8]) -> Vec<u8> {
        match self.keys {
            Keys::Des { .. } => bac::pad(data),
            Keys::Aes { .. } => pace::pad16(data),
        }
    }

    /// The MAC of `data` (padded here).
    fn mac(&self, data: &[u8]) -> [u8; 8] {
        match &self.keys {
            Keys::Des { mac, .. } => bac::mac(mac, data),
            Keys::Aes { mac, .. } => pace::cmac8(mac, &pace::pad16(data)),
        }
    }

    /// 3DES in CBC from zero; AES in CBC from the SSC encrypted.
    fn encrypt(&self, padded: &[u8]) -> Vec<u8> {
        match &self.keys {
            Keys::Des { enc, .. } => bac::encrypt(enc, padded),
            Keys::Aes { enc, .. } => pace::cbc_encrypt(enc, self.iv(enc), padded),
        }
    }

    fn decrypt(&self, cryptogram: &[u8]) -> Vec<u8> {
        match &self.keys {
            Keys::Des { enc, .. } => bac::decrypt(enc, cryptogram),
            Keys::Aes { enc, .. } => pace::cbc_decrypt(enc, self.iv(enc), cryptogram),
        }
    }

    fn iv(&self, enc: &[u8; 16]) -> [u8; 16] {
        pace::encrypt_block(enc, self.counter.to_be_bytes())
    }
}

/// A software eMRTD chip.
pub struct SoftChip {
    /// The files by identifier (EF.COM 011E, EF.SOD 011D, DG1 0101, …).
    files: BTreeMap<u16, Vec<u8>>,
    /// K_enc and K_mac from the MRZ.
    access: ([u8; 16], [u8; 16]),
    faults: Faults,
    commands: usize,
    application: bool,
    selected: Option<u16>,
    challenge: Option<[u8; 8]>,
    secure: Option<Secure>,
    /// Fixed randomness for the worked examples: RND.IC and K.IC.
    fixed: Option<([u8; 8], [u8; 16])>,
    /// PACE's password key K from the MRZ.
    mrz_password: Vec<u8>,
    /// The private key of active authentication (DG15 holds a public key).
    active: Option<p256::ecdsa::SigningKey>,
    /// EF.CardAccess (under the master file, short identifier 1C), when the chip has one.
    card_access: Option<Vec<u8>>,
    /// PACE, when EF.CardAccess offers it: the curve, the MRZ's key K, the CAN.
    pace_offered: Option<(Curve, Vec<u8>, Option<String>)>,
    pace: Pace,
    /// Fixed secrets of PACE (the worked example).
    pace_fixed: Option<Fixed>,
    /// Chip authentication's key (DG14 holds a public key).
    chip_auth: Option<ChipAuthKey>,
    /// Chip authentication's protocol, set by MSE:Set AT before its GENERAL AUTHENTICATE.
    chip_auth_set: bool,
    /// The keys secure messaging restarts with after the answer under way (chip
    /// authentication).
    rekey: Option<Secure>,
}

impl SoftChip {
    /// A chip holding `files`, opened by the MRZ's document number, birth and expiry.
    pub fn new(
        files: BTreeMap<u16, Vec<u8>>,
        document_number: &str,
        birth: &str,
        expiry: &str,
    ) -> Self {
        let seed = bac::key_seed(document_number, birth, expiry);
        let mrz_password = pace::password_mrz(document_number, birth, expiry);
        Self {
            files,
            access: (bac::derive(&seed, 1), bac::derive(&seed, 2)),
            faults: Faults::default(),
            commands: 0,
            application: false,
            selected: None,
            challenge: None,
            secure: None,
            fixed: None,
            active: None,
            card_access: None,
            pace_offered: None,
            pace: Pace::Idle,
            pace_fixed: None,
            mrz_password,
            chip_auth: None,
            chip_auth_set: false,
            rekey: None,
        }
    }

    /// Answers chip authentication (9303-11 §6.2) with `key`: the chip agrees keys with
    /// its private key (a genuine chip's is DG14's; a clone's is another).
    pub fn with_chip_authentication(mut self, key: ChipAuthKey) -> Self {
        self.chip_auth = Some(key);
        self
    }

    /// Offers PACE on `curve` (EF.CardAccess says so), opened with the MRZ or, when
    /// given, the card's 6-digit CAN. BAC stays offered unless [`Faults::no_bac`].
    pub fn with_pace(mut self, curve: Curve, can: Option<&str>) -> Self {
        self.card_access = Some(pace::card_access(curve));
        self.pace_offered = Some((curve, self.mrz_password.clone(), can.map(str::to_owned)));
        self
    }

    /// With fixed secrets for PACE (the worked example).
    pub fn with_pace_secrets(mut self, fixed: Fixed) -> Self {
        self.pace_fixed = Some(fixed);
        self
    }

    /// With EF.CardAccess (what the chip offers besides BAC), read before the application.
    pub fn with_card_access(mut self, file: Vec<u8>) -> Self {
        self.card_access = Some(file);
        self
    }

    /// Answers INTERNAL AUTHENTICATE with this key: ECDSA on P-256 over the challenge's
    /// SHA-256, plain r‖s (a genuine chip's key is DG15's; a clone's is another).
    pub fn with_active_authentication(mut self, key: p256::ecdsa::SigningKey) -> Self {
        self.active = Some(key);
        self
    }

    /// With faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// With fixed RND.IC and K.IC (the worked examples).
    pub fn with_randomness(mut self, rnd_ic: [u8; 8], k_ic: [u8; 16]) -> Self {
        self.fixed = Some((rnd_ic, k_ic));
        self
    }

    /// Replaces a file's content after signing (an altered chip).
    pub fn replace_file(&mut self, fid: u16, content: Vec<u8>) {
        self.files.insert(fid, content);
    }

    /// The card taken off and put back: power lost, sessions gone.
    pub fn reset(&mut self) {
        self.application = false;
        self.selected = None;
        self.challenge = None;
        self.secure = None;
        self.pace = Pace::Idle;
        self.chip_auth_set = false;
        self.rekey = None;
    }

    /// The answer to one APDU; `None`: the card has left the reader.
    pub fn process(&mut self, apdu: &[u8]) -> Option<Vec<u8>> {
        self.commands += 1;
        if self
            .faults
            .pulled_after
            .is_some_and(|after| self.commands > after)
        {
            return None;
        }
        if !self.faults.delay.is_zero() {
            std::thread::sleep(self.faults.delay);
        }
        if apdu.len() < 4 {
            return Some(status(0x6700));
        }
        if apdu[0] & 0x0C == 0x0C {
            return Some(self.secured(apdu));
        }
        if self.secure.is_some() {
            // A plain command during secure messaging ends the session.
            self.secure = None;
            return Some(status(0x6987));
        }
        if apdu[1] == 0xB0 && apdu[2] == 0x9C && !self.application {
            // EF.CardAccess by its short identifier, readable without access control.
            return Some(match &self.card_access {
                Some(file) => {
                    let mut answer = file.clone();
                    answer.extend_from_slice(&[0x90, 0x00]);
                    answer
                }
                None => status(0x6A82),
            });
        }
        if matches!(apdu[1], 0xB0 | 0xB1 | 0x88) {
            // Files are read, and the chip signs, under secure messaging only.
            return Some(status(0x6982));
        }
        let (data, le) = body(apdu);
        if matches!(apdu[1], 0x22 | 0x86) {
            let (answer, sw) = self.pace_command(apdu[1], apdu[2], apdu[3], &data);
            let mut out = answer;
            out.extend_from_slice(&sw.to_be_bytes());
            return Some(out);
        }
        let (answer, sw) = self.command(apdu[1], apdu[2], apdu[3], &data, le);
        let mut out = answer;
        out.extend_from_slice(&sw.to_be_bytes());
        Some(out)
    }

    /// A command under secure messaging: checked, decrypted, done, its answer protected.
    fn secured(&mut self, apdu: &[u8]) -> Vec<u8> {
        let Some(mut secure) = self.secure.take() else {
            return status(0x6988);
        };
        secure.counter = secure.counter.wrapping_add(1);
        let (objects, _) = body(apdu);
        let mut do87 = None;
        let mut do85 = None;
        let mut do97 = None;
        let mut do8e = None;
        let mut rest = &objects[..];
        let mut mac_input = secure.ssc();
        mac_input.extend(secure.pad(&[apdu[0], apdu[1], apdu[2], apdu[3]]));
        while !rest.is_empty() {
            let Some((tag, value, total)) = object(rest) else {
                return status(0x6988);
            };
            match tag {
                0x87 => {
                    do87 = Some(value.to_vec());
                    mac_input.extend_from_slice(&rest[..total]);
                }
                0x85 => {
                    do85 = Some(value.to_vec());
                    mac_input.extend_from_slice(&rest[..total]);
                }
                0x97 => {
                    do97 = Some(value.to_vec());
                    mac_input.extend_from_slice(&rest[..total]);
                }
                0x8E => do8e = Some(value.to_vec()),
                _ => return status(0x6988),
            }
            rest = &rest[total..];
        }
        if do8e.as_deref() != Some(&secure.mac(&mac_input)[..]) {
            // A wrong MAC: the session ends, the answer unprotected.
            return status(0x6988);
        }
        // DO'87' (01 and the cryptogram), or for an odd INS DO'85' (the cryptogram).
        let cryptogram = match (do87, do85) {
            (Some(value), None) if value.first() == Some(&0x01) => Some(value[1..].to_vec()),
            (None, Some(value)) if apdu[1] & 1 == 1 => Some(value),
            (None, None) => None,
            _ => return status(0x6988),
        };
        let data = match cryptogram {
            Some(cryptogram) => match bac::unpad(&secure.decrypt(&cryptogram)) {
                Some(data) => data,
                None => return status(0x6988),
            },
            None => Vec::new(),
        };
        let le = do97.map(|value| match value.as_slice() {
            [0] => 256,
            [byte] => usize::from(*byte),
            [0, 0] => 65536,
            [high, low] => usize::from(u16::from_be_bytes([*high, *low])),
            _ => 256,
        });
        let (answer, sw) = self.command(apdu[1], apdu[2], apdu[3], &data, le);
        secure.counter = secure.counter.wrapping_add(1);
        let mut response = Vec::new();
        if !answer.is_empty() {
            let cryptogram = secure.encrypt(&secure.pad(&answer));
            if apdu[1] & 1 == 1 {
                response.extend(encode(0x85, &cryptogram));
            } else {
                let mut value = vec![0x01];
                value.extend(cryptogram);
                response.extend(encode(0x87, &value));
            }
        }
        response.extend(encode(0x99, &sw.to_be_bytes()));
        let mut mac_input = secure.ssc();
        mac_input.extend_from_slice(&response);
        response.extend(encode(0x8E, &secure.mac(&mac_input)));
        response.extend_from_slice(&[0x90, 0x00]);
        // After chip authentication's last command, the next one comes under new keys.
        self.secure = Some(self.rekey.take().unwrap_or(secure));
        response
    }

    /// One command's work: its answer's data and status.
    fn command(
        &mut self,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
        le: Option<usize>,
    ) -> (Vec<u8>, u16) {
        match ins {
            0xA4 => self.select(p1, data),
            0x84 | 0x82 if self.faults.no_bac => (Vec::new(), 0x6D00),
            0x84 => {
                let mut challenge = [0u8; 8];
                match self.fixed {
                    Some((rnd_ic, _)) => challenge = rnd_ic,
                    None => getrandom::fill(&mut challenge).unwrap_or(()),
                }
                self.challenge = Some(challenge);
                (challenge.to_vec(), 0x9000)
            }
            0x82 => self.external_authenticate(data),
            0x88 => self.internal_authenticate(data),
            0x22 | 0x86 if self.chip_auth.is_some() => self.chip_authenticate(ins, p1, p2, data),
            0xB0 => self.read_binary(p1, p2, le.unwrap_or(256)),
            0xB1 => self.read_binary_odd(data, le.unwrap_or(256)),
            _ => (Vec::new(), 0x6D00),
        }
    }

    fn select(&mut self, p1: u8, data: &[u8]) -> (Vec<u8>, u16) {
        match p1 {
            0x04 if data == APPLICATION => {
                self.application = true;
                self.selected = None;
                (Vec::new(), 0x9000)
            }
            0x04 => (Vec::new(), 0x6A82),
            // The CCCD answers the master file's selection so.
            0x00 => (Vec::new(), 0x6D00),
            0x02 if self.application && data.len() == 2 => {
                let fid = u16::from_be_bytes([data[0], data[1]]);
                if self.files.contains_key(&fid) {
                    self.selected = Some(fid);
                    (Vec::new(), 0x9000)
                } else {
                    (Vec::new(), 0x6A82)
                }
            }
            _ => (Vec::new(), 0x6A86),
        }
    }

    /// MSE:Set AT (22 C1 A4) and GENERAL AUTHENTICATE (86), when PACE is offered; the
    /// last step's success starts secure messaging with AES.
    fn pace_command(&mut self, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        let Some((curve, mrz, can)) = &self.pace_offered else {
            return (Vec::new(), 0x6D00);
        };
        match ins {
            0x22 if (p1, p2) == (0xC1, 0xA4) => {
                let sw = self.pace.set_at(data, mrz, can.as_deref(), *curve);
                (Vec::new(), sw)
            }
            0x22 => (Vec::new(), 0x6A86),
            _ => {
                let step = self
                    .pace
                    .general_authenticate(data, self.pace_fixed.as_ref());
                if let Some((enc, mac)) = step.keys {
                    self.secure = Some(Secure {
                        keys: Keys::Aes { enc, mac },
                        counter: 0,
                    });
                }
                (step.answer, step.status)
            }
        }
    }

    fn external_authenticate(&mut self, data: &[u8]) -> (Vec<u8>, u16) {
        let Some(rnd_ic) = self.challenge.take() else {
            return (Vec::new(), 0x6985);
        };
        let (enc, mac) = self.access;
        if data.len() != 40 || bac::mac(&mac, &data[..32]) != data[32..40] {
            return (Vec::new(), 0x6300);
        }
        let s = bac::decrypt(&enc, &data[..32]);
        if s[8..16] != rnd_ic {
            return (Vec::new(), 0x6300);
        }
        let (rnd_ifd, k_ifd) = (&s[..8], &s[16..32]);
        let mut k_ic = [0u8; 16];
        match self.fixed {
            Some((_, fixed)) => k_ic = fixed,
            None => getrandom::fill(&mut k_ic).unwrap_or(()),
        }
        let mut r = rnd_ic.to_vec();
        r.extend_from_slice(rnd_ifd);
        r.extend_from_slice(&k_ic);
        let e_ic = bac::encrypt(&enc, &r);
        let m_ic = bac::mac(&mac, &e_ic);
        let seed: Vec<u8> = k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect();
        let mut counter = [0u8; 8];
        counter[..4].copy_from_slice(&rnd_ic[4..]);
        counter[4..].copy_from_slice(&rnd_ifd[4..]);
        self.secure = Some(Secure {
            keys: Keys::Des {
                enc: bac::derive(&seed, 1),
                mac: bac::derive(&seed, 2),
            },
            counter: u128::from(u64::from_be_bytes(counter)),
        });
        let mut answer = e_ic;
        answer.extend_from_slice(&m_ic);
        (answer, 0x9000)
    }

    /// Chip authentication under secure messaging: with AES, MSE:Set AT (41 A4, the
    /// protocol in 80) then GENERAL AUTHENTICATE (7C 80 the terminal's key) answered 7C 00;
    /// with 3DES, MSE:Set KAT (41 A6, the key in 91). New keys from the next command on.
    fn chip_authenticate(&mut self, ins: u8, p1: u8, p2: u8, data: &[u8]) -> (Vec<u8>, u16) {
        let Some(key) = self.chip_auth.clone() else {
            return (Vec::new(), 0x6D00);
        };
        let protocol = if key.aes {
            chip_auth::CA_ECDH_AES_128
        } else {
            chip_auth::CA_ECDH_3DES
        };
        let theirs = match (ins, p1, p2) {
            (0x22, 0x41, 0xA4) => {
                let named =
                    object(data).filter(|(tag, value, _)| *tag == 0x80 && *value == protocol);
                self.chip_auth_set = named.is_some() && key.aes;
                return (Vec::new(), if self.chip_auth_set { 0x9000 } else { 0x6A80 });
            }
            (0x22, 0x41, 0xA6) if !key.aes => match object(data) {
                Some((0x91, value, _)) => value.to_vec(),
                _ => return (Vec::new(), 0x6A80),
            },
            (0x86, _, _) if std::mem::take(&mut self.chip_auth_set) => {
                match object(data)
                    .and_then(|(tag, inner, _)| (tag == 0x7C).then_some(inner))
                    .and_then(object)
                {
                    Some((0x80, value, _)) => value.to_vec(),
                    _ => return (Vec::new(), 0x6A80),
                }
            }
            _ => return (Vec::new(), 0x6985),
        };
        let Some((enc, mac)) = chip_auth::session_keys(&key, &theirs) else {
            return (Vec::new(), 0x6A80);
        };
        self.rekey = Some(Secure {
            keys: if key.aes {
                Keys::Aes { enc, mac }
            } else {
                Keys::Des { enc, mac }
            },
            counter: 0,
        });
        let answer = if ins == 0x86 {
            vec![0x7C, 0x00]
        } else {
            Vec::new()
        };
        (answer, 0x9000)
    }

    fn internal_authenticate(&mut self, challenge: &[u8]) -> (Vec<u8>, u16) {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        use sha2::Digest;
        let Some(key) = &self.active else {
            return (Vec::new(), 0x6D00);
        };
        if challenge.len() != 8 {
            return (Vec::new(), 0x6700);
        }
        let hash = sha2::Sha256::digest(challenge);
        match PrehashSigner::<p256::ecdsa::Signature>::sign_prehash(key, &hash) {
            Ok(signature) => (signature.to_bytes().to_vec(), 0x9000),
            Err(_) => (Vec::new(), 0x6F00),
        }
    }

    /// READ BINARY's odd form, for offsets past 32 K: the offset in a DO'54', the bytes
    /// answered in a DO'53'.
    fn read_binary_odd(&mut self, data: &[u8], le: usize) -> (Vec<u8>, u16) {
        let offset = match object(data) {
            Some((0x54, value, _)) if !value.is_empty() && value.len() <= 3 => value
                .iter()
                .fold(0usize, |offset, byte| (offset << 8) | usize::from(*byte)),
            _ => return (Vec::new(), 0x6A80),
        };
        let Some(file) = self.selected.and_then(|fid| self.files.get(&fid)) else {
            return (Vec::new(), 0x6986);
        };
        if offset > file.len() {
            return (Vec::new(), 0x6B00);
        }
        // Le counts the DO'53' around the bytes too.
        let room = le.saturating_sub(4).min(CARD_READ_LIMIT);
        let end = (offset + room).min(file.len());
        (encode(0x53, &file[offset..end]), 0x9000)
    }

    fn read_binary(&mut self, p1: u8, p2: u8, le: usize) -> (Vec<u8>, u16) {
        if p1 & 0x80 != 0 {
            return (Vec::new(), 0x6A81); // by short identifier: not offered here
        }
        let Some(file) = self.selected.and_then(|fid| self.files.get(&fid)) else {
            return (Vec::new(), 0x6986);
        };
        let offset = usize::from(u16::from_be_bytes([p1, p2]));
        if offset > file.len() {
            return (Vec::new(), 0x6B00);
        }
        let end = (offset + le.min(CARD_READ_LIMIT)).min(file.len());
        (file[offset..end].to_vec(), 0x9000)
    }
}

/// A bare status word.
fn status(sw: u16) -> Vec<u8> {
    sw.to_be_bytes().to_vec()
}

/// A short or extended APDU's data and Le.
fn body(apdu: &[u8]) -> (Vec<u8>, Option<usize>) {
    match apdu.len() {
        4 => (Vec::new(), None),
        5 => (
            Vec::new(),
            Some(if apdu[4] == 0 {
                256
            } else {
                usize::from(apdu[4])
            }),
        ),
        _ if apdu[4] == 0 && apdu.len() >= 7 => {
            // Extended length.
            let lc = usize::from(u16::from_be_bytes([apdu[5], apdu[6]]));
            let data = apdu.get(7..7 + lc).unwrap_or_default().to_vec();
            let le = apdu
                .get(7 + lc..)
                .filter(|rest| rest.len() == 2)
                .map(|rest| {
                    let value = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    if value == 0 {
                        65536
                    } else {
                        value
                    }
                });
            (data, le)
        }
        _ => {
            let lc = usize::from(apdu[4]);
            let data = apdu.get(5..5 + lc).unwrap_or_default().to_vec();
            let le = apdu
                .get(5 + lc)
                .map(|le| if *le == 0 { 256 } else { usize::from(*le) });
            (data, le)
        }
    }
}
