//! A test CSCA and Document Signer (ECDSA on P-256 with SHA-256), and EF.SOD signed by
//! them over data groups' SHA-256 hashes: the LDS security object in a CMS SignedData
//! with signed attributes (9303-10 §4.6.2), wrapped in EF.SOD's tag 77.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{BitString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const LDS_SECURITY_OBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.1");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// A signing authority: its key and certificate.
pub struct Authority {
    pub key: SigningKey,
    pub certificate: Certificate,
}

/// A CSCA and a Document Signer it issued.
pub struct TestPki {
    pub csca: Authority,
    pub signer: Authority,
}

/// One SHA-256 hash of a data group.
#[derive(Sequence)]
struct DataGroupHash {
    number: u8,
    hash: OctetString,
}

/// The LDS security object (9303-10 §4.6.2.2).
#[derive(Sequence)]
struct LdsSecurityObject {
    version: u8,
    algorithm: AlgorithmIdentifierOwned,
    hashes: Vec<DataGroupHash>,
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn time(at: SystemTime) -> Time {
    Time::try_from(at).unwrap_or(Time::INFINITY)
}

/// A P-256 public key as a SubjectPublicKeyInfo (what a certificate and DG15 carry).
pub fn public_key_info(key: &SigningKey) -> SubjectPublicKeyInfoOwned {
    let point = key.verifying_key().to_encoded_point(false);
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: EC_PUBLIC_KEY,
            parameters: Some(Any::from(&P256)),
        },
        subject_public_key: BitString::from_bytes(point.as_bytes())
            .unwrap_or_else(|_| unreachable!()),
    }
}

fn certificate(
    subject: &str,
    issuer: &str,
    serial: u8,
    public: &SigningKey,
    signer: &SigningKey,
    validity: (SystemTime, SystemTime),
    usage: der::flagset::FlagSet<KeyUsages>,
) -> Certificate {
    let spki = public_key_info(public);
    let usage = KeyUsage(usage);
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial]).unwrap_or_else(|_| unreachable!()),
        signature: algorithm(ECDSA_SHA256),
        issuer: Name::from_str(issuer).unwrap_or_default(),
        validity: Validity {
            not_before: time(validity.0),
            not_after: time(validity.1),
        },
        subject: Name::from_str(subject).unwrap_or_default(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![Extension {
            extn_id: KEY_USAGE,
            critical: true,
            extn_value: OctetString::new(usage.to_der().unwrap_or_default())
                .unwrap_or_else(|_| unreachable!()),
        }]),
    };
    let signature: Signature = signer.sign(&tbs.to_der().unwrap_or_default());
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm(ECDSA_SHA256),
        signature: BitString::from_bytes(signature.to_der().as_bytes())
            .unwrap_or_else(|_| unreachable!()),
    }
}

impl TestPki {
    /// A CSCA named `country_name` and its Document Signer; `seed` makes the keys (two
    /// PKIs of different seeds are strangers). The signer's certificate is valid from
    /// `signer_from` for `signer_for`.
    pub fn new(seed: u8, csca_name: &str, signer_from: SystemTime, signer_for: Duration) -> Self {
        let now = SystemTime::now();
        let year = Duration::from_secs(365 * 24 * 3600);
        let csca_key =
            SigningKey::from_slice(&[seed.max(1); 32]).unwrap_or_else(|_| unreachable!());
        let signer_key = SigningKey::from_slice(&[seed.max(1).wrapping_add(100); 32])
            .unwrap_or_else(|_| unreachable!());
        let csca_dn = format!("CN={csca_name},O=Test,C=VN");
        let csca_certificate = certificate(
            &csca_dn,
            &csca_dn,
            1,
            &csca_key,
            &csca_key,
            (now - year, now + 10 * year),
            KeyUsages::KeyCertSign | KeyUsages::CRLSign,
        );
        let signer_certificate = certificate(
            &format!("CN=Document Signer {seed},O=Test,C=VN"),
            &csca_dn,
            2,
            &signer_key,
            &csca_key,
            (signer_from, signer_from + signer_for),
            KeyUsages::DigitalSignature.into(),
        );
        Self {
            csca: Authority {
                key: csca_key,
                certificate: csca_certificate,
            },
            signer: Authority {
                key: signer_key,
                certificate: signer_certificate,
            },
        }
    }

    /// A PKI whose Document Signer is valid from a day ago for five years.
    pub fn current(seed: u8, csca_name: &str) -> Self {
        Self::new(
            seed,
            csca_name,
            SystemTime::now() - Duration::from_secs(24 * 3600),
            Duration::from_secs(5 * 365 * 24 * 3600),
        )
    }

    /// The CSCA's certificate, DER.
    pub fn csca_der(&self) -> Vec<u8> {
        self.csca.certificate.to_der().unwrap_or_default()
    }

    /// EF.SOD over `groups` (number → the data group's file).
    pub fn sod(&self, groups: &BTreeMap<u8, Vec<u8>>) -> Vec<u8> {
        let object = LdsSecurityObject {
            version: 0,
            algorithm: algorithm(SHA256),
            hashes: groups
                .iter()
                .map(|(number, content)| DataGroupHash {
                    number: *number,
                    hash: OctetString::new(Sha256::digest(content).to_vec())
                        .unwrap_or_else(|_| unreachable!()),
                })
                .collect(),
        };
        let content = object.to_der().unwrap_or_default();
        let digest = Sha256::digest(&content).to_vec();
        let attribute = |oid, value: Any| Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).unwrap_or_else(|_| unreachable!()),
        };
        let content_type = Any::from_der(&LDS_SECURITY_OBJECT.to_der().unwrap_or_default())
            .unwrap_or_else(|_| unreachable!());
        let message_digest = Any::from_der(
            &OctetString::new(digest)
                .unwrap_or_else(|_| unreachable!())
                .to_der()
                .unwrap_or_default(),
        )
        .unwrap_or_else(|_| unreachable!());
        let attributes = SetOfVec::try_from(vec![
            attribute(CONTENT_TYPE, content_type),
            attribute(MESSAGE_DIGEST, message_digest),
        ])
        .unwrap_or_else(|_| unreachable!());
        let signature: Signature = self
            .signer
            .key
            .sign(&attributes.to_der().unwrap_or_default());
        let tbs = &self.signer.certificate.tbs_certificate;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: algorithm(SHA256),
            signed_attrs: Some(attributes),
            signature_algorithm: algorithm(ECDSA_SHA256),
            signature: OctetString::new(signature.to_der().as_bytes().to_vec())
                .unwrap_or_else(|_| unreachable!()),
            unsigned_attrs: None,
        };
        let signed = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(SHA256)])
                .unwrap_or_else(|_| unreachable!()),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: LDS_SECURITY_OBJECT,
                econtent: Some(
                    Any::from_der(
                        &OctetString::new(content)
                            .unwrap_or_else(|_| unreachable!())
                            .to_der()
                            .unwrap_or_default(),
                    )
                    .unwrap_or_else(|_| unreachable!()),
                ),
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(
                    self.signer.certificate.clone(),
                )])
                .unwrap_or_else(|_| unreachable!()),
            )),
            crls: None,
            signer_infos: SignerInfos(
                SetOfVec::try_from(vec![signer_info]).unwrap_or_else(|_| unreachable!()),
            ),
        };
        let info = ContentInfo {
            content_type: SIGNED_DATA,
            content: Any::from_der(&signed.to_der().unwrap_or_default())
                .unwrap_or_else(|_| unreachable!()),
        };
        crate::tlv::encode(0x77, &info.to_der().unwrap_or_default())
    }
}
