//! Passive authentication (ICAO 9303-11 §5.1): is what the chip holds what the issuer
//! wrote? The SOD (a CMS SignedData) carries a hash of every data group, signed by a
//! Document Signer whose certificate a CSCA signs. The check here: each data group read
//! hashed against the SOD's, the SOD's signature against its Document Signer certificate,
//! that certificate against the CSCAs of the bank's trust list ([`TrustList`]), and the
//! certificates' dates and key usage. The cryptography is dmrtd's
//! (`dmrtd::auth::passive`); the reasons, the dates and the trust list are ours.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use der::{Decode, Encode};
use dmrtd::auth::passive::{verify, ChainStatus, DataGroup, PassiveAuthError, TrustAnchor};
use x509_cert::Certificate;

/// The verdict's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every data group read is the issuer's, signed under a CSCA of the trust list, and
    /// every certificate is in date.
    Valid,
    /// Something does not hold: a hash, a signature, a date (see the problems).
    Invalid,
    /// Sound in itself, but no CSCA of the trust list signed its Document Signer.
    Untrusted,
}

impl Status {
    /// The word in reports and the CLI's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Untrusted => "untrusted",
        }
    }
}

/// The Document Signer, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The certificate's subject (RFC 4514).
    pub subject: String,
    /// Its issuer: the CSCA's name.
    pub issuer: String,
    /// Its serial number, in hex.
    pub serial: String,
}

/// What passive authentication found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Valid, invalid or untrusted.
    pub status: Status,
    /// Each reason for `invalid` (or `untrusted`), a sentence each.
    pub problems: Vec<String>,
    /// The data groups whose hash matched the SOD's.
    pub groups_verified: Vec<u8>,
    /// The data groups the SOD signs.
    pub groups_signed: Vec<u8>,
    /// The Document Signer, when its certificate could be read.
    pub signer: Option<Signer>,
}

/// The CSCA certificates a bank trusts (`chip.csca`): PEM or DER files, folders of them,
/// and ICAO master lists (their certificates taken as the bank's IT installed them).
#[derive(Clone, Default)]
pub struct TrustList {
    certificates: Vec<Certificate>,
}

/// A trust list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the CSCA list {path}: {reason}")]
pub struct TrustListError {
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// The CSCA master list's content type (ICAO 9303-12 §9).
const MASTER_LIST: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.23.136.1.1.2");

/// CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }
#[derive(der::Sequence)]
struct CscaMasterList {
    _version: u8,
    cert_list: der::asn1::SetOfVec<Certificate>,
}

impl std::fmt::Debug for TrustList {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "TrustList({} CSCAs)", self.certificates.len())
    }
}

impl TrustList {
    /// The certificates of every path (a folder: each file in it).
    pub fn load(paths: &[PathBuf]) -> Result<Self, TrustListError> {
        let mut list = Self::default();
        for path in paths {
            if path.is_dir() {
                let entries = std::fs::read_dir(path).map_err(|error| TrustListError {
                    path: path.clone(),
                    reason: error.to_string(),
                })?;
                let mut files: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| path.is_file())
                    .collect();
                files.sort();
                for file in files {
                    list.add_file(&file)?;
                }
            } else {
                list.add_file(path)?;
            }
        }
        Ok(list)
    }

    /// The certificates of one file: PEM, DER, or a master list.
    pub fn add_file(&mut self, path: &Path) -> Result<(), TrustListError> {
        let failed = |reason: String| TrustListError {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
        let added = self
            .add_bytes(&bytes)
            .map_err(|reason| failed(reason.to_owned()))?;
        if added == 0 {
            return Err(failed("no certificate in it".into()));
        }
        Ok(())
    }

    /// The certificates in `bytes` (PEM, DER or a master list); how many.
    pub fn add_bytes(&mut self, bytes: &[u8]) -> Result<usize, &'static str> {
        let start = bytes
            .iter()
            .position(|byte| !byte.is_ascii_whitespace())
            .unwrap_or(0);
        if bytes[start..].starts_with(b"-----BEGIN") {
            let certificates =
                Certificate::load_pem_chain(bytes).map_err(|_| "not a PEM certificate file")?;
            let count = certificates.len();
            self.certificates.extend(certificates);
            return Ok(count);
        }
        if let Ok(certificate) = Certificate::from_der(bytes) {
            self.certificates.push(certificate);
            return Ok(1);
        }
        let info = cms::content_info::ContentInfo::from_der(bytes)
            .map_err(|_| "neither a certificate nor a master list")?;
        let signed: cms::signed_data::SignedData = info
            .content
            .decode_as()
            .map_err(|_| "a CMS file that is not a master list")?;
        if signed.encap_content_info.econtent_type != MASTER_LIST {
            return Err("a CMS file that is not a CSCA master list");
        }
        let content = signed
            .encap_content_info
            .econtent
            .ok_or("a master list without content")?;
        let octets: der::asn1::OctetString = content
            .decode_as()
            .map_err(|_| "a master list without content")?;
        let list = CscaMasterList::from_der(octets.as_bytes())
            .map_err(|_| "a master list whose certificates cannot be read")?;
        let count = list.cert_list.len();
        self.certificates.extend(list.cert_list.into_vec());
        Ok(count)
    }

    /// How many CSCA certificates.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether the list is empty (then nothing can be `valid`).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    fn by_subject(&self, subject: &[u8]) -> Option<&Certificate> {
        self.certificates.iter().find(|certificate| {
            certificate
                .tbs_certificate
                .subject
                .to_der()
                .is_ok_and(|der| der == subject)
        })
    }
}

/// Passive authentication of `sod` for the data groups read (`groups`: number → file),
/// with `trust`'s CSCAs, at `now`.
pub fn authenticate(
    sod: &[u8],
    groups: &BTreeMap<u8, Vec<u8>>,
    trust: &TrustList,
    now: SystemTime,
) -> Verdict {
    let anchors: Vec<TrustAnchor> = trust
        .certificates
        .iter()
        .filter_map(|certificate| certificate.to_der().ok())
        .filter_map(|der| TrustAnchor::from_certificate(&der).ok())
        .collect();
    let mut problems = Vec::new();
    let signer_certificate = document_signer(sod);
    let signer = signer_certificate.as_ref().map(|certificate| Signer {
        subject: certificate.tbs_certificate.subject.to_string(),
        issuer: certificate.tbs_certificate.issuer.to_string(),
        serial: certificate
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|byte| format!("{byte:02X}"))
            .collect(),
    });

    // Each group on its own, so that every altered one is named.
    let mut verified = Vec::new();
    let mut signed = Vec::new();
    let mut chain = None;
    let mut broken = None;
    for (number, bytes) in groups {
        let group = [DataGroup {
            number: *number,
            bytes,
        }];
        match verify(sod, &group, &anchors) {
            Ok(result) => {
                verified.push(*number);
                signed = result.sod_groups.clone();
                chain = Some(result.chain);
            }
            Err(PassiveAuthError::DataGroupHashMismatch(number)) => {
                problems.push(format!(
                    "DG{number} differs from what the SOD signs: altered"
                ));
            }
            Err(error) => broken = Some(error),
        }
    }
    if let Some(error) = broken {
        problems.push(match error {
            PassiveAuthError::BadDocumentSignature | PassiveAuthError::BadSignedAttributes => {
                "the SOD's signature does not verify with its Document Signer certificate".into()
            }
            other => format!("the SOD cannot be checked: {other}"),
        });
    }
    if groups.is_empty() {
        problems.push("no data group was read to check".into());
    }
    match &signer_certificate {
        Some(certificate) => {
            problems.extend(certificate_problems(
                certificate,
                "Document Signer",
                now,
                KeyUse::Sign,
            ));
        }
        None => problems.push("the SOD carries no readable Document Signer certificate".into()),
    }
    let trusted = match &chain {
        Some(ChainStatus::Trusted { csca_subject }) => {
            if let Some(csca) = trust.by_subject(csca_subject) {
                problems.extend(certificate_problems(csca, "CSCA", now, KeyUse::CertSign));
            }
            true
        }
        _ => false,
    };
    let status = if !problems.is_empty() {
        Status::Invalid
    } else if trusted {
        Status::Valid
    } else {
        problems.push(if trust.is_empty() {
            "no CSCA is installed (chip.csca): the Document Signer cannot be trusted".into()
        } else {
            "no CSCA of the trust list signed the Document Signer certificate".into()
        });
        Status::Untrusted
    };
    Verdict {
        status,
        problems,
        groups_verified: verified,
        groups_signed: signed,
        signer,
    }
}

/// The Document Signer certificate inside the SOD.
fn document_signer(sod: &[u8]) -> Option<Certificate> {
    let cms = crate::session::tlv_value(sod).filter(|_| sod.first() == Some(&0x77))?;
    let info = cms::content_info::ContentInfo::from_der(cms).ok()?;
    let signed: cms::signed_data::SignedData = info.content.decode_as().ok()?;
    signed
        .certificates?
        .0
        .into_vec()
        .into_iter()
        .find_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(certificate) => Some(certificate),
            _ => None,
        })
}

/// What a certificate must be allowed to do.
#[derive(Clone, Copy)]
enum KeyUse {
    /// Sign (a Document Signer: digitalSignature).
    Sign,
    /// Sign certificates (a CSCA: keyCertSign).
    CertSign,
}

/// A certificate out of date at `now`, or not allowed its use.
fn certificate_problems(
    certificate: &Certificate,
    role: &str,
    now: SystemTime,
    usage: KeyUse,
) -> Vec<String> {
    let mut problems = Vec::new();
    let validity = &certificate.tbs_certificate.validity;
    let (from, until) = (
        validity.not_before.to_system_time(),
        validity.not_after.to_system_time(),
    );
    if now < from {
        problems.push(format!(
            "the {role} certificate is not valid before {}",
            validity.not_before
        ));
    }
    if now > until {
        problems.push(format!(
            "the {role} certificate expired on {}",
            validity.not_after
        ));
    }
    let key_usage = certificate
        .tbs_certificate
        .get::<x509_cert::ext::pkix::KeyUsage>()
        .ok()
        .flatten();
    if let Some((_, key_usage)) = key_usage {
        let allowed = match usage {
            KeyUse::Sign => key_usage.digital_signature(),
            KeyUse::CertSign => key_usage.key_cert_sign(),
        };
        if !allowed {
            problems.push(format!(
                "the {role} certificate's key usage does not allow it to sign this"
            ));
        }
    }
    problems
}
