//! `POST /chip/verify`: the local engine's own extension (not FPT's, not Krypton's;
//! `docs/contract.md`). The kiosk sends the chip's raw files as read; the engine runs
//! passive authentication with its own CSCA list and answers its verdict. Whatever the
//! kiosk thinks of the chip is not sent, and would not be read. Sent in a session, the
//! engine keeps its verdict and the chip photo's face with it for the selfie.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The request: EF.SOD and the data groups read, each base64 (standard alphabet). The
/// holder's data: never shown by `Debug`, wiped when dropped.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipVerifyRequest {
    /// EF.SOD, whole (its tag 77 included).
    pub sod: String,
    /// Each data group by its number (`"1"`, `"2"`, `"13"`), whole.
    pub data_groups: BTreeMap<String, String>,
}

impl std::fmt::Debug for ChipVerifyRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "ChipVerifyRequest(DGs {:?})",
            self.data_groups.keys().collect::<Vec<_>>()
        )
    }
}

impl Drop for ChipVerifyRequest {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.sod.zeroize();
        for group in self.data_groups.values_mut() {
            group.zeroize();
        }
    }
}

/// The engine's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipVerdict {
    /// `valid`, `invalid` or `untrusted`.
    pub status: String,
    /// The reasons (which hash, which signature, which date), a sentence each.
    pub problems: Vec<String>,
    /// The data groups whose hash matched the SOD's.
    pub groups_verified: Vec<u8>,
    /// The data groups the SOD signs.
    pub groups_signed: Vec<u8>,
    /// The Document Signer certificate, when it could be read.
    pub signer: Option<ChipSigner>,
}

/// The Document Signer, as the report names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipSigner {
    /// The certificate's subject.
    pub subject: String,
    /// Its issuer (a CSCA).
    pub issuer: String,
    /// Its serial number, hex.
    pub serial: String,
}

/// The reply: `code` `"200"` and the verdict computed by the engine, or an error code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChipVerifyReply {
    /// `"200"`, or the error's code.
    pub code: String,
    /// A sentence.
    pub message: String,
    /// Always `"engine"`: the verdict is the engine's own.
    pub computed_by: String,
    /// The verdict (absent with an error).
    pub passive_authentication: Option<ChipVerdict>,
    /// Sent in a session (`session-id`, `device-type`): the verdict and the chip photo's
    /// face were kept with it, so the session's selfie is matched with the chip's photo
    /// too (`chip_face_match` in `/face/liveness`), and an ENROLL keeps the face only when
    /// that match holds and the chip is not `invalid`.
    #[serde(default)]
    pub kept_for_session: bool,
}

#[cfg(feature = "chip")]
impl From<ekyc_chip::passive::Verdict> for ChipVerdict {
    fn from(verdict: ekyc_chip::passive::Verdict) -> Self {
        Self {
            status: verdict.status.as_str().into(),
            problems: verdict.problems,
            groups_verified: verdict.groups_verified,
            groups_signed: verdict.groups_signed,
            signer: verdict.signer.map(|signer| ChipSigner {
                subject: signer.subject,
                issuer: signer.issuer,
                serial: signer.serial,
            }),
        }
    }
}
