//! Talking to the chip: the eMRTD application selected, access by Basic Access Control
//! with the key from the MRZ (ICAO 9303-11 §4.3), then every command under secure
//! messaging, and files read in the chunks a card allows, with their progress.

use chrono::NaiveDate;
use dmrtd::lds::substruct::pace_info::PaceInfo;
use dmrtd::proto::access_key::AccessKey;
use dmrtd::proto::bac_session::{BacAction, BacSession};
use dmrtd::proto::can_key::CanKey;
use dmrtd::proto::dba_key::DBAKey;
use dmrtd::proto::iso7816::command_apdu::CommandApdu;
use dmrtd::proto::iso7816::response_apdu::ResponseApdu;
use dmrtd::proto::iso7816::sm::SecureMessaging;
use dmrtd::proto::pace_session::{PaceAction, PaceSession, PaceSessionError};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::card::{Card, LinkError};

/// The eMRTD application (ICAO 9303-10 §3.6.1), the CCCD's too.
pub const EMRTD_APPLICATION: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// The most a READ BINARY asks for under secure messaging: the answer, padded, MACed and
/// wrapped, still fits a short response (the figure common readers use).
pub const READ_CHUNK: usize = 0xDF;
/// No file of the LDS is larger (a DG2 is 15–30 KB): a bigger length is a broken card.
pub const MAX_FILE: usize = 256 * 1024;

/// The key that opens the chip, as printed in the MRZ: the document number, the birth
/// date and the expiry date (`YYMMDD`). Wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MrzKey {
    /// The MRZ's document number (the CCCD's: the last 9 digits of its 12-digit number).
    pub document_number: String,
    /// `YYMMDD`.
    pub birth: String,
    /// `YYMMDD`.
    pub expiry: String,
}

impl MrzKey {
    /// Whether this key can be used at all (dates that are dates, MRZ characters), before
    /// any reader is asked.
    pub fn check(&self) -> Result<(), ChipError> {
        dba_key(self).map(|_| ())
    }
}

/// What opens the chip: the MRZ's numbers (BAC, or PACE with the MRZ as its password),
/// or the card's 6-digit CAN printed on its front (PACE only), typed by staff.
#[derive(Clone)]
pub enum ChipKey {
    /// The MRZ's document number, birth and expiry dates.
    Mrz(MrzKey),
    /// The Card Access Number.
    Can(Can),
}

impl From<MrzKey> for ChipKey {
    fn from(key: MrzKey) -> Self {
        Self::Mrz(key)
    }
}

impl From<&MrzKey> for ChipKey {
    fn from(key: &MrzKey) -> Self {
        Self::Mrz(key.clone())
    }
}

impl From<&ChipKey> for ChipKey {
    fn from(key: &ChipKey) -> Self {
        key.clone()
    }
}

impl ChipKey {
    /// Whether this key can be used at all, before any reader is asked.
    pub fn check(&self) -> Result<(), ChipError> {
        match self {
            Self::Mrz(key) => key.check(),
            Self::Can(can) => can_key(can).map(|_| ()),
        }
    }
}

/// The card's 6-digit Card Access Number. Wiped when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Can(pub String);

impl std::fmt::Debug for Can {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Can(…)")
    }
}

impl std::fmt::Debug for ChipKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Mrz(_) => "ChipKey::Mrz(…)",
            Self::Can(_) => "ChipKey::Can(…)",
        })
    }
}

impl std::fmt::Debug for MrzKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("MrzKey(…)")
    }
}

/// Why the chip could not be read, each with a sentence for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipError {
    /// Between the reader and the card.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The MRZ's numbers do not open the chip (BAC refused).
    #[error("the numbers read from the card do not open its chip: check the document number, the birth date and the expiry date")]
    WrongKey,
    /// The chip does not offer BAC, and its PACE (if any) uses parameters this version
    /// cannot (the reason).
    #[error("this card's chip opens only with PACE, with parameters this version cannot use ({0}): verify the card without the chip")]
    BacNotOffered(String),
    /// A CAN was given for a chip that offers no PACE (a CAN opens PACE only).
    #[error(
        "this card's chip does not open with its CAN (it offers no PACE): use the MRZ's numbers"
    )]
    PaceNotOffered,
    /// The key itself is malformed (not a date, not MRZ characters).
    #[error("the key for the chip is not valid: {0}")]
    BadKey(String),
    /// The card has no eMRTD application: not a chip ID card.
    #[error("this card's chip is not an identity document's")]
    NotADocument,
    /// A file the chip should have is missing.
    #[error("the chip has no {0}")]
    Missing(String),
    /// The chip answered with an error status.
    #[error("the chip refused {what} (status {status:04X})")]
    Refused {
        /// The command refused.
        what: String,
        /// SW1 SW2.
        status: u16,
    },
    /// Secure messaging broke (a wrong MAC, an answer out of sequence): the session ended.
    #[error(
        "the chip's answers could not be authenticated ({0}): hold the card still and try again"
    )]
    SecureMessaging(String),
    /// A file's content makes no sense.
    #[error("the chip's {file} is malformed: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
}

/// A status word.
const OK: u16 = 0x9000;
/// "File or application not found".
const NOT_FOUND: u16 = 0x6A82;

/// An answer: its data and its status word.
struct Reply {
    data: Vec<u8>,
    status: u16,
}

/// A conversation with one chip, under secure messaging once [`Session::open_with_bac`]
/// succeeded.
pub struct Session<'a> {
    card: &'a mut dyn Card,
    secure: Option<Box<dyn SecureMessaging>>,
}

impl<'a> Session<'a> {
    /// Starts a conversation with the card on `card`.
    pub fn new(card: &'a mut dyn Card) -> Self {
        Self { card, secure: None }
    }

    /// Whether secure messaging is on.
    pub fn is_secure(&self) -> bool {
        self.secure.is_some()
    }

    /// Selects the eMRTD application. A card without it is not an identity document.
    pub fn select_application(&mut self) -> Result<(), ChipError> {
        let reply = self.exchange(command(0xA4, 0x04, 0x0C, Some(&EMRTD_APPLICATION), 0)?)?;
        match reply.status {
            OK => Ok(()),
            NOT_FOUND | 0x6A86 | 0x6D00 => Err(ChipError::NotADocument),
            status => Err(ChipError::Refused {
                what: "the selection of its application".into(),
                status,
            }),
        }
    }

    /// EF.CardAccess, read by its short identifier before the application is selected
    /// (9303-10 §3.11.3): what the chip offers besides BAC (PACE). `None`: the chip has
    /// none (as some CCCDs), or does not give it.
    pub fn card_access(&mut self) -> Result<Option<Vec<u8>>, ChipError> {
        let reply = self.exchange(command(0xB0, 0x80 | 0x1C, 0x00, None, 256)?)?;
        Ok((reply.status == OK && !reply.data.is_empty()).then_some(reply.data))
    }

    /// Basic Access Control with `key`, then secure messaging for every command after.
    pub fn open_with_bac(&mut self, key: &MrzKey) -> Result<(), ChipError> {
        let key = dba_key(key)?;
        let mut bac = BacSession::new(key);
        loop {
            match bac
                .next()
                .map_err(|error| ChipError::SecureMessaging(error.0))?
            {
                BacAction::SendApdu(apdu) => {
                    let answer = self.card.transmit(&apdu)?;
                    let status = status_of(&answer)?;
                    if matches!(status, 0x6D00 | 0x6E00) {
                        // GET CHALLENGE or EXTERNAL AUTHENTICATE unknown: no BAC here.
                        return Err(ChipError::BacNotOffered(
                            "its EF.CardAccess offers no PACE this version can do".into(),
                        ));
                    }
                    if apdu.get(1) == Some(&0x82) && status != OK {
                        // EXTERNAL AUTHENTICATE refused: the key is not this chip's.
                        return Err(ChipError::WrongKey);
                    }
                    if status != OK {
                        return Err(ChipError::Refused {
                            what: "a challenge for access".into(),
                            status,
                        });
                    }
                    bac.feed_response(&answer)
                        .map_err(|_| ChipError::WrongKey)?;
                }
                BacAction::Done(secure) => {
                    self.secure = Some(Box::new(secure));
                    return Ok(());
                }
            }
        }
    }

    /// PACE (9303-11 §4.4) with `key` and the parameters `info` names (EF.CardAccess),
    /// then secure messaging with AES for every command after. dmrtd's PACE session:
    /// generic mapping, ECDH on NIST P-224/256/384/521 and brainpool P-256/384, or DH.
    /// `Err(BacNotOffered(why))` when the parameters are not ones it can use (the caller
    /// may still try BAC); `WrongKey` when the chip refuses the key.
    pub fn open_with_pace(&mut self, info: &PaceInfo, key: &ChipKey) -> Result<(), ChipError> {
        let unsupported = |why: String| ChipError::BacNotOffered(why);
        let parameter = info
            .parameter_id
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| unsupported("its PACEInfo names no domain parameters".into()))?;
        match key {
            ChipKey::Mrz(key) => {
                let session =
                    PaceSession::new(pace_dba_key(key)?, info.protocol.clone(), parameter)
                        .map_err(|error| unsupported(error.to_string()))?;
                self.drive_pace(session)
            }
            ChipKey::Can(can) => {
                let session = PaceSession::new(can_key(can)?, info.protocol.clone(), parameter)
                    .map_err(|error| unsupported(error.to_string()))?;
                self.drive_pace(session)
            }
        }
    }

    fn drive_pace<K: AccessKey>(&mut self, mut pace: PaceSession<K>) -> Result<(), ChipError> {
        loop {
            match pace
                .next()
                .map_err(|error| ChipError::SecureMessaging(error.to_string()))?
            {
                PaceAction::SendApdu(apdu) => {
                    let answer = self.card.transmit(&apdu)?;
                    match pace.feed_response(&answer) {
                        Ok(()) => {}
                        // The last step refused (6300), or the chip's token does not check:
                        // the password is not this chip's.
                        Err(PaceSessionError::AuthTokenMismatch) => {
                            return Err(ChipError::WrongKey)
                        }
                        Err(PaceSessionError::ChipStatus(status))
                            if apdu.get(1) == Some(&0x86)
                                && (status.sw1 == 0x63 || status.sw1 == 0x69) =>
                        {
                            return Err(ChipError::WrongKey)
                        }
                        Err(PaceSessionError::ChipStatus(status)) if apdu.get(1) == Some(&0x22) => {
                            return Err(ChipError::BacNotOffered(format!(
                                "the chip refused PACE's parameters (status {:02X}{:02X})",
                                status.sw1, status.sw2
                            )))
                        }
                        Err(error) => return Err(ChipError::SecureMessaging(error.to_string())),
                    }
                }
                PaceAction::Done(secure) => {
                    self.secure = Some(Box::new(secure));
                    return Ok(());
                }
            }
        }
    }

    /// Reads the elementary file `fid` of the selected application whole, telling
    /// `progress` the bytes read and the file's length after each chunk. `None`: the chip
    /// has no such file.
    pub fn read_file(
        &mut self,
        fid: u16,
        name: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Option<Vec<u8>>, ChipError> {
        let select = self.exchange(command(0xA4, 0x02, 0x0C, Some(&fid.to_be_bytes()), 0)?)?;
        match select.status {
            OK => {}
            NOT_FOUND => return Ok(None),
            status => {
                return Err(ChipError::Refused {
                    what: format!("the selection of {name}"),
                    status,
                })
            }
        }
        let head = self.read_binary(0, 4, name)?;
        let total = tlv_total_length(&head).ok_or_else(|| ChipError::Malformed {
            file: name.into(),
            reason: "its length cannot be read".into(),
        })?;
        if total > MAX_FILE {
            return Err(ChipError::Malformed {
                file: name.into(),
                reason: format!("it claims {total} bytes"),
            });
        }
        let mut content = head;
        content.truncate(total);
        progress(content.len(), total);
        while content.len() < total {
            let want = (total - content.len()).min(READ_CHUNK);
            let chunk = self.read_binary(content.len(), want, name)?;
            if chunk.is_empty() {
                return Err(ChipError::Malformed {
                    file: name.into(),
                    reason: format!("it ended after {} of {total} bytes", content.len()),
                });
            }
            content.extend_from_slice(&chunk[..chunk.len().min(total - content.len())]);
            progress(content.len(), total);
        }
        Ok(Some(content))
    }

    /// One command of the chip's protocols (chip authentication's), protected when secure
    /// messaging is on: the answer's data and status.
    pub fn command(
        &mut self,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
        expected: usize,
    ) -> Result<(Vec<u8>, u16), ChipError> {
        let data = (!data.is_empty()).then_some(data);
        let reply = self.exchange(command(ins, p1, p2, data, expected)?)?;
        Ok((reply.data, reply.status))
    }

    /// Secure messaging restarts under new keys (after chip authentication).
    pub fn restart_secure_messaging(&mut self, secure: Box<dyn SecureMessaging>) {
        self.secure = Some(secure);
    }

    /// INTERNAL AUTHENTICATE (active authentication, 9303-11 §6.1): the chip signs the
    /// 8-byte `challenge` with its own private key; its answer.
    pub fn internal_authenticate(&mut self, challenge: &[u8; 8]) -> Result<Vec<u8>, ChipError> {
        let reply = self.exchange(command(0x88, 0x00, 0x00, Some(challenge), 256)?)?;
        match reply.status {
            OK if !reply.data.is_empty() => Ok(reply.data),
            status => Err(ChipError::Refused {
                what: "active authentication".into(),
                status,
            }),
        }
    }

    /// READ BINARY of `length` bytes at `offset` of the selected file.
    fn read_binary(
        &mut self,
        offset: usize,
        length: usize,
        name: &str,
    ) -> Result<Vec<u8>, ChipError> {
        let reply = if offset <= 0x7FFF {
            self.exchange(command(
                0xB0,
                (offset >> 8) as u8,
                offset as u8,
                None,
                length,
            )?)?
        } else {
            // Beyond 15 bits the offset goes in a data object of READ BINARY's odd form.
            let mut object = vec![0x54];
            let bytes = (offset as u32).to_be_bytes();
            let start = bytes.iter().position(|byte| *byte != 0).unwrap_or(3);
            object.push((4 - start) as u8);
            object.extend_from_slice(&bytes[start..]);
            let mut reply = self.exchange(command(0xB1, 0, 0, Some(&object), length + 4)?)?;
            // The answer comes as a data object (53): its value is the file's bytes.
            if reply.data.first() == Some(&0x53) {
                reply.data = tlv_value(&reply.data).unwrap_or_default().to_vec();
            }
            reply
        };
        match reply.status {
            OK | 0x6282 => Ok(reply.data),
            status => Err(ChipError::Refused {
                what: format!("reading {name}"),
                status,
            }),
        }
    }

    /// One command, protected when secure messaging is on, and its answer.
    fn exchange(&mut self, command: CommandApdu) -> Result<Reply, ChipError> {
        let bytes = match &mut self.secure {
            Some(secure) => secure
                .protect(&command)
                .map_err(|error| ChipError::SecureMessaging(error.to_string()))?
                .to_bytes(),
            None => command.to_bytes(),
        };
        let answer = self.card.transmit(&bytes)?;
        let status = status_of(&answer)?;
        if answer.len() == 2 {
            if self.secure.is_some() {
                // A bare status under secure messaging: the chip ended the session (an
                // error of secure messaging, or a command it refuses that way).
                self.secure = None;
                if status == OK {
                    return Err(ChipError::SecureMessaging("an unprotected answer".into()));
                }
            }
            return Ok(Reply {
                data: Vec::new(),
                status,
            });
        }
        let response = ResponseApdu::from_bytes(&answer)
            .map_err(|error| ChipError::Link(LinkError::NoAnswer(error.to_string())))?;
        let response = match &mut self.secure {
            Some(secure) => secure
                .unprotect(&response)
                .map_err(|error| ChipError::SecureMessaging(error.to_string()))?,
            None => response,
        };
        Ok(Reply {
            data: response.data.unwrap_or_default(),
            status: u16::from_be_bytes([response.status.sw1, response.status.sw2]),
        })
    }
}

/// A command APDU (class 00: secure messaging sets its own).
fn command(
    ins: u8,
    p1: u8,
    p2: u8,
    data: Option<&[u8]>,
    expected: usize,
) -> Result<CommandApdu, ChipError> {
    CommandApdu::new(0x00, ins, p1, p2, data.map(<[u8]>::to_vec), expected as u32)
        .map_err(|error| ChipError::SecureMessaging(error.to_string()))
}

/// SW1 SW2 of an answer.
fn status_of(answer: &[u8]) -> Result<u16, ChipError> {
    match answer {
        [.., sw1, sw2] => Ok(u16::from_be_bytes([*sw1, *sw2])),
        _ => Err(ChipError::Link(LinkError::NoAnswer(
            "an answer without a status".into(),
        ))),
    }
}

/// dmrtd's key from ours for PACE (the whole SHA-1 of the MRZ's information).
fn pace_dba_key(key: &MrzKey) -> Result<DBAKey, ChipError> {
    mrz_key(key, true)
}

/// dmrtd's CAN key.
fn can_key(can: &Can) -> Result<CanKey, ChipError> {
    CanKey::new(can.0.trim()).map_err(|_| ChipError::BadKey("the CAN is not 6 digits".into()))
}

/// dmrtd's key from ours for BAC.
fn dba_key(key: &MrzKey) -> Result<DBAKey, ChipError> {
    mrz_key(key, false)
}

/// dmrtd's key from ours; the dates only need to format as the same `YYMMDD`.
fn mrz_key(key: &MrzKey, pace: bool) -> Result<DBAKey, ChipError> {
    let date = |text: &str, what: &str| {
        let valid = text.len() == 6 && text.bytes().all(|byte| byte.is_ascii_digit());
        let parsed = valid
            .then(|| NaiveDate::parse_from_str(&format!("20{text}"), "%Y%m%d").ok())
            .flatten();
        parsed.ok_or_else(|| ChipError::BadKey(format!("the {what} is not a date YYMMDD")))
    };
    let number = key.document_number.trim().to_ascii_uppercase();
    if number.is_empty() || number.len() > 22 {
        return Err(ChipError::BadKey(
            "the document number is empty or too long".into(),
        ));
    }
    DBAKey::new(
        number,
        date(&key.birth, "birth date")?,
        date(&key.expiry, "expiry date")?,
        pace,
    )
    .map_err(|_| ChipError::BadKey("the document number has characters no MRZ has".into()))
}

/// The whole length of the BER-TLV object that `head` begins (tag, length and value).
pub fn tlv_total_length(head: &[u8]) -> Option<usize> {
    let tag_length = if head.first()? & 0x1F == 0x1F { 2 } else { 1 };
    let first = *head.get(tag_length)?;
    let (length, length_bytes) = match first {
        0x00..=0x7F => (usize::from(first), 1),
        0x81 => (usize::from(*head.get(tag_length + 1)?), 2),
        0x82 => (
            usize::from(u16::from_be_bytes([
                *head.get(tag_length + 1)?,
                *head.get(tag_length + 2)?,
            ])),
            3,
        ),
        0x83 => (
            usize::from(*head.get(tag_length + 1)?) << 16
                | usize::from(u16::from_be_bytes([
                    *head.get(tag_length + 2)?,
                    *head.get(tag_length + 3)?,
                ])),
            4,
        ),
        _ => return None,
    };
    Some(tag_length + length_bytes + length)
}

/// The value of the BER-TLV object `object` begins with.
pub fn tlv_value(object: &[u8]) -> Option<&[u8]> {
    let total = tlv_total_length(object)?;
    let tag_length = if object.first()? & 0x1F == 0x1F { 2 } else { 1 };
    let length_bytes = match object.get(tag_length)? {
        0x00..=0x7F => 1,
        0x81 => 2,
        0x82 => 3,
        _ => 4,
    };
    object.get(tag_length + length_bytes..total)
}
