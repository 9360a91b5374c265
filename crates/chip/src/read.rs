//! A chip read from start to end: the application selected, opened with the MRZ's key,
//! EF.COM and EF.SOD, then the data groups the kiosk uses (DG1, DG2, DG13, and DG14/DG15
//! when the chip has them), with the progress a screen shows.

use std::collections::BTreeMap;

use zeroize::Zeroize;

use crate::card::Card;
use crate::lds::{self, ChipMrz, ChipPhoto, Dg13};
use crate::session::{ChipError, ChipKey, Session};

/// How the chip was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Basic Access Control.
    Bac,
    /// PACE (Password Authenticated Connection Establishment).
    Pace,
}

impl Access {
    /// The word in reports and the CLI's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Bac => "BAC",
            Access::Pace => "PACE",
        }
    }
}

/// The data groups read when the chip has them, in this order; DG3 (fingerprints) and
/// DG4 (irises) are never asked for (they need terminal authentication).
pub const WANTED: [u8; 5] = [1, 13, 14, 15, 2];

/// Where a read is: the file and its bytes so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The file being read ("EF.SOD", "DG2", …).
    pub file: String,
    /// Its bytes read.
    pub read: usize,
    /// Its length.
    pub total: usize,
    /// Files done, of the files to read.
    pub files_done: usize,
    /// Files to read (known once EF.COM is read).
    pub files: usize,
}

/// The chip's files as read, raw (for passive authentication, here or at the engine).
/// Wiped when dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChipFiles {
    /// EF.COM.
    pub com: Vec<u8>,
    /// EF.SOD.
    pub sod: Vec<u8>,
    /// The data groups read, by number.
    pub groups: BTreeMap<u8, Vec<u8>>,
}

impl Drop for ChipFiles {
    fn drop(&mut self) {
        self.com.zeroize();
        self.sod.zeroize();
        for group in self.groups.values_mut() {
            group.zeroize();
        }
    }
}

impl std::fmt::Debug for ChipFiles {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "ChipFiles(DGs {:?})",
            self.groups.keys().collect::<Vec<_>>()
        )
    }
}

/// Active authentication's outcome (9303-11 §6.1): does the chip hold the private key
/// whose public half DG15 publishes? A clone copies every file but not that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActiveAuthentication {
    /// The chip signed our challenge with DG15's key: not a clone.
    Passed,
    /// It could not (the reason): a clone, or a broken chip.
    Failed(String),
    /// The chip has no DG15: it offers no active authentication (passive authentication
    /// still says whether the data is the issuer's).
    NotOffered,
}

impl ActiveAuthentication {
    /// The word in reports and the CLI's JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed(_) => "failed",
            Self::NotOffered => "not_offered",
        }
    }
}

/// What the chip gave: its files, and what they say.
#[derive(Debug, Clone)]
pub struct ChipRead {
    /// How it was opened.
    pub access: Access,
    /// The files, raw.
    pub files: ChipFiles,
    /// DG1's MRZ.
    pub mrz: ChipMrz,
    /// DG2's photo.
    pub photo: Option<ChipPhoto>,
    /// The CCCD's DG13.
    pub dg13: Option<Dg13>,
    /// Active authentication with DG15's key, done during the read.
    pub active_authentication: ActiveAuthentication,
    /// Chip authentication with DG14's key, done at the end of the read.
    pub chip_authentication: crate::chip_auth::ChipAuthentication,
    /// EF.CardAccess offers PACE.
    pub pace_offered: bool,
    /// Why the chip was opened with BAC though it offers PACE (its parameters are not ones
    /// this version can use).
    pub pace_skipped: Option<String>,
}

/// Reads the chip on `card` with `key`, telling `progress` where it is.
/// PACE when the chip's EF.CardAccess offers it (with the MRZ or the CAN), else BAC (with
/// the MRZ); a chip whose PACE parameters cannot be used here is opened with BAC when it
/// offers BAC, and the read says why.
pub fn read_chip(
    card: &mut dyn Card,
    key: impl Into<ChipKey>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ChipRead, ChipError> {
    let key: ChipKey = key.into();
    let mut session = Session::new(card);
    let pace = session
        .card_access()?
        .and_then(|file| dmrtd::lds::efcard_access::EfCardAccess::from_bytes(file).ok())
        .and_then(|file| file.pace_info().cloned());
    let pace_offered = pace.is_some();
    let mut pace_skipped = None;
    let access = match (&pace, &key) {
        (Some(info), key) => match session.open_with_pace(info, key) {
            Ok(()) => Access::Pace,
            Err(ChipError::BacNotOffered(why)) if matches!(key, ChipKey::Mrz(_)) => {
                pace_skipped = Some(why);
                Access::Bac
            }
            Err(error) => return Err(error),
        },
        (None, ChipKey::Can(_)) => return Err(ChipError::PaceNotOffered),
        (None, ChipKey::Mrz(_)) => Access::Bac,
    };
    session.select_application()?;
    if access == Access::Bac {
        let ChipKey::Mrz(mrz) = &key else {
            return Err(ChipError::PaceNotOffered);
        };
        session
            .open_with_bac(mrz)
            .map_err(|error| match (error, &pace_skipped) {
                // BAC refused too: the chip is PACE-only, with parameters we cannot use.
                (ChipError::BacNotOffered(_), Some(why)) => ChipError::BacNotOffered(why.clone()),
                (error, _) => error,
            })?;
    }
    let mut files = ChipFiles::default();
    let mut state = Progress {
        file: "EF.COM".into(),
        read: 0,
        total: 0,
        files_done: 0,
        files: 2,
    };
    files.com = read_one(&mut session, 0x011E, &mut state, progress)?
        .ok_or_else(|| ChipError::Missing("EF.COM".into()))?;
    let listed = lds::com_data_groups(&files.com).ok_or_else(|| ChipError::Malformed {
        file: "EF.COM".into(),
        reason: "no list of data groups".into(),
    })?;
    let wanted: Vec<u8> = WANTED
        .into_iter()
        .filter(|number| listed.contains(number))
        .collect();
    state.files = 2 + wanted.len();
    state.file = "EF.SOD".into();
    files.sod = read_one(&mut session, 0x011D, &mut state, progress)?
        .ok_or_else(|| ChipError::Missing("EF.SOD".into()))?;
    let mut active_authentication = ActiveAuthentication::NotOffered;
    for number in wanted {
        state.file = format!("DG{number}");
        let file = lds::file_of_data_group(number);
        if let Some(content) = read_one(&mut session, file, &mut state, progress)? {
            if number == 15 {
                // In this session, before anything else can reach the chip.
                active_authentication = authenticate_actively(&mut session, &content)?;
            }
            files.groups.insert(number, content);
        }
    }
    let dg1 = files
        .groups
        .get(&1)
        .ok_or_else(|| ChipError::Missing("DG1 (the MRZ)".into()))?;
    let mrz = lds::dg1(dg1).ok_or_else(|| ChipError::Malformed {
        file: "DG1".into(),
        reason: "no MRZ of a known size".into(),
    })?;
    // Last: it restarts secure messaging, and a clone's next answer fails.
    let chip_authentication = match files.groups.get(&14).and_then(|dg14| lds::dg14(dg14)) {
        Some(info) => crate::chip_auth::authenticate(&mut session, &info)?,
        None => crate::chip_auth::ChipAuthentication::NotOffered,
    };
    let photo = files.groups.get(&2).and_then(|dg2| lds::dg2(dg2));
    let dg13 = files.groups.get(&13).and_then(|dg13| lds::dg13(dg13));
    Ok(ChipRead {
        access,
        files,
        mrz,
        photo,
        dg13,
        active_authentication,
        chip_authentication,
        pace_offered,
        pace_skipped,
    })
}

/// Sends a fresh random challenge and checks the chip's signature with DG15's key
/// (ECDSA on P-256, or RSA with ISO 9796-2: dmrtd's `auth::active`). A link that fails
/// is an error of the read; a signature that does not verify is the outcome `Failed`.
fn authenticate_actively(
    session: &mut Session<'_>,
    dg15: &[u8],
) -> Result<ActiveAuthentication, ChipError> {
    let key = match dmrtd::lds::df1::efdg15::EfDG15::from_bytes(dg15.to_vec()) {
        Ok(file) => file.aa_public_key().clone(),
        Err(_) => {
            return Ok(ActiveAuthentication::Failed(
                "DG15 holds no public key that can be read".into(),
            ))
        }
    };
    let mut challenge = [0u8; 8];
    getrandom::fill(&mut challenge)
        .map_err(|error| ChipError::SecureMessaging(format!("no randomness: {error}")))?;
    let answer = match session.internal_authenticate(&challenge) {
        Ok(answer) => answer,
        Err(ChipError::Refused { status, .. }) => {
            return Ok(ActiveAuthentication::Failed(format!(
                "the chip refused to sign the challenge (status {status:04X})"
            )))
        }
        Err(other) => return Err(other),
    };
    Ok(
        match dmrtd::auth::active::verify(&key, &challenge, &answer) {
            Ok(()) => ActiveAuthentication::Passed,
            Err(error) => ActiveAuthentication::Failed(error.to_string()),
        },
    )
}

/// One file, counted in `state`.
fn read_one(
    session: &mut Session<'_>,
    fid: u16,
    state: &mut Progress,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Option<Vec<u8>>, ChipError> {
    let name = state.file.clone();
    let content = session.read_file(fid, &name, &mut |read, total| {
        state.read = read;
        state.total = total;
        progress(state);
    })?;
    state.files_done += 1;
    Ok(content)
}
