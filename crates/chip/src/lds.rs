//! The chip's files decoded (ICAO 9303-10): EF.COM's list of data groups, DG1's MRZ,
//! DG2's photo of the holder (JPEG or JPEG 2000, as issued), and the CCCD's own DG13
//! (the holder's personal data in Vietnamese).

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::session::tlv_value;

/// How deep the searches go into nested objects: real files nest 4 or 5 deep; a chip
/// that nests thousands deep (a hostile one) must not exhaust the stack.
const MAX_DEPTH: usize = 16;

/// A data group's number from its tag in EF.COM's list (9303-10 table 34).
pub fn data_group_of_tag(tag: u8) -> Option<u8> {
    Some(match tag {
        0x61 => 1,
        0x75 => 2,
        0x63 => 3,
        0x76 => 4,
        0x65..=0x6F => tag - 0x60,
        0x70 => 16,
        _ => return None,
    })
}

/// The file identifier of data group `number` (9303-10 table 35: 0101 to 0110).
pub fn file_of_data_group(number: u8) -> u16 {
    0x0100 + u16::from(number)
}

/// The data groups EF.COM lists.
pub fn com_data_groups(com: &[u8]) -> Option<Vec<u8>> {
    let mut rest = tlv_value(com)?;
    while !rest.is_empty() {
        let total = crate::session::tlv_total_length(rest)?;
        let object = rest.get(..total)?;
        if object.starts_with(&[0x5C]) {
            return Some(
                tlv_value(object)?
                    .iter()
                    .filter_map(|tag| data_group_of_tag(*tag))
                    .collect(),
            );
        }
        rest = rest.get(total..)?;
    }
    None
}

/// The objects of a BER-TLV list, as (tag, value): tags of one or two bytes.
fn objects(mut list: &[u8]) -> Vec<(u16, &[u8])> {
    let mut found = Vec::new();
    while let Some(total) = crate::session::tlv_total_length(list) {
        let Some(object) = list.get(..total) else {
            break;
        };
        let tag = if object[0] & 0x1F == 0x1F {
            u16::from_be_bytes([object[0], object.get(1).copied().unwrap_or(0)])
        } else {
            u16::from(object[0])
        };
        if let Some(value) = tlv_value(object) {
            found.push((tag, value));
        }
        list = &list[total..];
    }
    found
}

/// DG1: the MRZ as the chip holds it. Personal data: `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ChipMrz {
    /// The MRZ's lines run together (90 characters for a TD1 card, 88 for a passport).
    pub text: String,
    /// The document number (without its fillers).
    pub document_number: String,
    /// `YYMMDD`.
    pub birth: String,
    /// `YYMMDD`.
    pub expiry: String,
    /// `M`, `F` or `<`.
    pub sex: String,
    /// The issuing state (`VNM`).
    pub issuer: String,
    /// The name line, its fillers turned to spaces.
    pub name: String,
    /// The TD1 optional data (the CCCD's 12-digit number is in it).
    pub optional: String,
}

impl std::fmt::Debug for ChipMrz {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ChipMrz(…)")
    }
}

impl std::fmt::Debug for Dg13 {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Dg13(…)")
    }
}

/// DG1 decoded: TD1 (an ID card, 3 × 30) or TD3 (a passport, 2 × 44).
pub fn dg1(file: &[u8]) -> Option<ChipMrz> {
    let inner = tlv_value(file)?;
    let (_, text) = objects(inner).into_iter().find(|(tag, _)| *tag == 0x5F1F)?;
    let text = std::str::from_utf8(text).ok()?.to_owned();
    let field = |from: usize, to: usize| {
        text.get(from..to)
            .map(|part| part.trim_end_matches('<').to_owned())
    };
    let name = |from: usize, to: usize| {
        text.get(from..to).map(|part| {
            part.split("<<")
                .map(|piece| piece.replace('<', " ").trim().to_owned())
                .filter(|piece| !piece.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    match text.len() {
        90 => Some(ChipMrz {
            issuer: field(2, 5)?,
            document_number: field(5, 14)?,
            optional: field(15, 30)?,
            birth: field(30, 36)?,
            sex: field(37, 38)?,
            expiry: field(38, 44)?,
            name: name(60, 90)?,
            text,
        }),
        88 => Some(ChipMrz {
            issuer: field(2, 5)?,
            name: name(5, 44)?,
            document_number: field(44, 53)?,
            birth: field(57, 63)?,
            sex: field(64, 65)?,
            expiry: field(65, 71)?,
            optional: field(72, 86)?,
            text,
        }),
        _ => None,
    }
}

/// How DG2's photo is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    /// JPEG.
    Jpeg,
    /// JPEG 2000 (a JP2 file or a bare codestream).
    Jpeg2000,
}

/// DG2's photo of the holder: the image file inside the biometric record.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ChipPhoto {
    /// The image file's bytes.
    pub bytes: Vec<u8>,
    /// Its encoding.
    #[zeroize(skip)]
    pub format: PhotoFormat,
}

impl std::fmt::Debug for ChipPhoto {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "ChipPhoto({:?}, {} bytes)",
            self.format,
            self.bytes.len()
        )
    }
}

/// DG2's first photo: the biometric data block (5F2E or 7F2E) of the first biometric
/// template, past its ISO 19794-5 header, from the image's own signature to the block's end.
pub fn dg2(file: &[u8]) -> Option<ChipPhoto> {
    let block = find_object(tlv_value(file)?, &[0x5F2E, 0x7F2E], MAX_DEPTH)?;
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
    const JP2: &[u8] = &[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20];
    const J2K: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];
    let starts = |signature: &[u8]| {
        block
            .windows(signature.len())
            .position(|window| window == signature)
    };
    let (start, format) = [
        (starts(JPEG), PhotoFormat::Jpeg),
        (starts(JP2), PhotoFormat::Jpeg2000),
        (starts(J2K), PhotoFormat::Jpeg2000),
    ]
    .into_iter()
    .filter_map(|(start, format)| start.map(|start| (start, format)))
    .min_by_key(|(start, _)| *start)?;
    Some(ChipPhoto {
        bytes: block[start..].to_vec(),
        format,
    })
}

/// The first object with one of `tags`, searched through the constructed objects of `list`.
fn find_object<'a>(list: &'a [u8], tags: &[u16], depth: usize) -> Option<&'a [u8]> {
    let depth = depth.checked_sub(1)?;
    for (tag, value) in objects(list) {
        if tags.contains(&tag) {
            return Some(value);
        }
        let constructed = if tag > 0xFF {
            (tag >> 8) & 0x20 != 0
        } else {
            tag & 0x20 != 0
        };
        if constructed {
            if let Some(found) = find_object(value, tags, depth) {
                return Some(found);
            }
        }
    }
    None
}

/// The CCCD's DG13: the holder's personal data as the chip holds it (Vietnamese, with its
/// diacritics). Each entry is a SEQUENCE of its number (INTEGER) and its value (a
/// UTF8String, or for the parents a SEQUENCE of two); the numbers are those of the
/// public readers of the card (README, "The chip").
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Dg13 {
    /// 1: the 12-digit number.
    pub id_number: Option<String>,
    /// 2: the full name.
    pub full_name: Option<String>,
    /// 3: the date of birth, `dd/mm/yyyy`.
    pub date_of_birth: Option<String>,
    /// 4: "Nam" or "Nữ".
    pub sex: Option<String>,
    /// 5: the nationality.
    pub nationality: Option<String>,
    /// 6: the ethnicity.
    pub ethnicity: Option<String>,
    /// 7: the religion.
    pub religion: Option<String>,
    /// 8: the place of origin.
    pub place_of_origin: Option<String>,
    /// 9: the place of residence.
    pub place_of_residence: Option<String>,
    /// 10: personal identification marks.
    pub identifying_marks: Option<String>,
    /// 11: the date of issue, `dd/mm/yyyy`.
    pub date_of_issue: Option<String>,
    /// 12: the date of expiry, `dd/mm/yyyy` (or words such as "Không thời hạn").
    pub date_of_expiry: Option<String>,
    /// 13, first: the father's name.
    pub father_name: Option<String>,
    /// 13, second: the mother's name.
    pub mother_name: Option<String>,
    /// 16: the old 9-digit ID (CMND) number.
    pub old_id_number: Option<String>,
    /// Entries of other numbers, kept as they are (number, their strings joined).
    pub other: Vec<(u8, String)>,
}

/// DG13 decoded: every entry found, wherever it sits in the file's structure.
pub fn dg13(file: &[u8]) -> Option<Dg13> {
    let mut data = Dg13::default();
    let mut found = false;
    visit_entries(tlv_value(file)?, MAX_DEPTH, &mut |number, strings| {
        found = true;
        let mut strings = strings.into_iter();
        let first = strings.next();
        let slot = match number {
            1 => &mut data.id_number,
            2 => &mut data.full_name,
            3 => &mut data.date_of_birth,
            4 => &mut data.sex,
            5 => &mut data.nationality,
            6 => &mut data.ethnicity,
            7 => &mut data.religion,
            8 => &mut data.place_of_origin,
            9 => &mut data.place_of_residence,
            10 => &mut data.identifying_marks,
            11 => &mut data.date_of_issue,
            12 => &mut data.date_of_expiry,
            13 => {
                data.mother_name = strings.next();
                &mut data.father_name
            }
            16 => &mut data.old_id_number,
            _ => {
                let joined: Vec<String> = first.into_iter().chain(strings).collect();
                data.other.push((number, joined.join("; ")));
                return;
            }
        };
        *slot = first.filter(|text| !text.is_empty());
    });
    found.then_some(data)
}

/// Calls `entry` with each (number, strings) SEQUENCE under `list`.
fn visit_entries(list: &[u8], depth: usize, entry: &mut dyn FnMut(u8, Vec<String>)) {
    let Some(depth) = depth.checked_sub(1) else {
        return;
    };
    for (tag, value) in objects(list) {
        if tag != 0x30 && tag & 0x20 == 0 {
            continue;
        }
        let inner = objects(value);
        match inner.first() {
            Some((0x02, [number])) if tag == 0x30 && inner.len() > 1 => {
                let mut strings = Vec::new();
                // Past the INTEGER (02 01 nn): the value, a string or a SEQUENCE of them.
                collect_strings(&value[3..], depth, &mut strings);
                entry(*number, strings);
            }
            _ => visit_entries(value, depth, entry),
        }
    }
}

/// Every text string under `list`, depth first.
fn collect_strings(list: &[u8], depth: usize, strings: &mut Vec<String>) {
    let Some(depth) = depth.checked_sub(1) else {
        return;
    };
    for (tag, value) in objects(list) {
        match tag {
            0x0C | 0x13 | 0x16 => strings.push(String::from_utf8_lossy(value).trim().to_owned()),
            _ if tag & 0x20 != 0 => collect_strings(value, depth, strings),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tag` around `value`, its length in BER.
    fn wrap(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match value.len() {
            length @ 0..=0x7F => out.push(length as u8),
            length @ 0x80..=0xFF => out.extend([0x81, length as u8]),
            length => out.extend([0x82, (length >> 8) as u8, length as u8]),
        }
        out.extend_from_slice(value);
        out
    }

    /// A hostile chip's files: nested 20,000 deep, or random bytes. Each decoder answers
    /// (`None` or something) without exhausting the stack or panicking.
    #[test]
    fn hostile_files_are_refused_without_a_crash() {
        let mut deep = vec![0x0C, 0x01, b'x'];
        for _ in 0..20_000 {
            deep = wrap(0x30, &deep);
            if deep.len() > 60_000 {
                break;
            }
        }
        assert_eq!(
            dg13(&wrap(0x6D, &deep)),
            None,
            "nothing at a readable depth"
        );
        assert!(dg2(&wrap(0x75, &deep)).is_none());
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for length in (0..2_000).step_by(7) {
            let bytes: Vec<u8> = (0..length)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            for tag in [0x60, 0x61, 0x6D, 0x75] {
                let mut file = vec![tag];
                file.extend_from_slice(&bytes);
                let _ = (com_data_groups(&file), dg1(&file), dg2(&file), dg13(&file));
            }
        }
    }

    /// The CCCD's DG13 entries where they are, and an unknown number kept.
    #[test]
    fn dg13_entries_are_read_by_their_numbers() {
        let entry = |number: u8, value: &[u8]| {
            let mut inner = vec![0x02, 0x01, number];
            inner.extend_from_slice(value);
            wrap(0x30, &inner)
        };
        let mut list = entry(2, &wrap(0x0C, "Nguyễn Thị A".as_bytes()));
        list.extend(entry(
            13,
            &wrap(0x30, &[wrap(0x0C, b"Cha"), wrap(0x0C, b"Me")].concat()),
        ));
        list.extend(entry(14, &wrap(0x0C, b"other")));
        let data = dg13(&wrap(0x6D, &wrap(0x30, &list))).unwrap();
        assert_eq!(data.full_name.as_deref(), Some("Nguyễn Thị A"));
        assert_eq!(
            (data.father_name.as_deref(), data.mother_name.as_deref()),
            (Some("Cha"), Some("Me"))
        );
        assert_eq!(data.other, vec![(14, "other".to_owned())]);
    }
}

/// The cipher of chip authentication's secure messaging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaCipher {
    /// Two-key 3DES (id-CA-ECDH-3DES-CBC-CBC).
    Des,
    /// AES-128 (id-CA-ECDH-AES-CBC-CMAC-128).
    Aes128,
}

/// The curve of the chip's chip-authentication key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaCurve {
    /// NIST P-256.
    P256,
    /// brainpoolP256r1.
    Brainpool256,
    /// Another (its named curve's OID, or "explicit parameters"): not run here.
    Other(String),
}

/// DG14's chip authentication (ICAO 9303-11 §6.2 and §9.2.5, ECDH): the protocol and the
/// chip's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipAuthInfo {
    /// The protocol's OID, content octets (sent in MSE:Set AT with AES).
    pub protocol: Vec<u8>,
    /// Its cipher.
    pub cipher: CaCipher,
    /// The key's curve.
    pub curve: CaCurve,
    /// The key, SEC1.
    pub public: Vec<u8>,
}

/// id-CA-ECDH (0.4.0.127.0.7.2.2.3.2), the prefix of its protocols' OIDs.
const CA_ECDH: [u8; 9] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02];
/// id-PK-ECDH (0.4.0.127.0.7.2.2.1.2).
const PK_ECDH: [u8; 9] = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02];
/// prime256v1 (1.2.840.10045.3.1.7).
const PRIME256V1: [u8; 8] = [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];
/// brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7).
const BRAINPOOL_P256R1: [u8; 9] = [0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07];
/// The primes of the two curves, for keys given with explicit parameters.
const P256_PRIME: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];
const BRAINPOOL_P256_PRIME: [u8; 32] = [
    0xA9, 0xFB, 0x57, 0xDB, 0xA1, 0xEE, 0xA9, 0xBC, 0x3E, 0x66, 0x0A, 0x90, 0x9D, 0x83, 0x8D, 0x72,
    0x6E, 0x3B, 0xF6, 0x23, 0xD5, 0x26, 0x20, 0x28, 0x20, 0x13, 0x48, 0x1D, 0x1F, 0x6E, 0x53, 0x77,
];

/// DG14 decoded: its ECDH chip authentication, when it offers one (the first protocol
/// with a key on a curve; DH and other protocols are passed over).
pub fn dg14(file: &[u8]) -> Option<ChipAuthInfo> {
    let set = objects(tlv_value(file)?)
        .into_iter()
        .find(|(tag, _)| *tag == 0x31)?
        .1;
    let mut cipher = None;
    let mut protocol = Vec::new();
    let mut key = None;
    for (tag, info) in objects(set) {
        if tag != 0x30 {
            continue;
        }
        let parts = objects(info);
        let Some((0x06, oid)) = parts.first().copied() else {
            continue;
        };
        if oid.len() == 10 && oid.starts_with(&CA_ECDH) && cipher.is_none() {
            cipher = match oid[9] {
                1 => Some(CaCipher::Des),
                2 => Some(CaCipher::Aes128),
                _ => None,
            };
            protocol = oid.to_vec();
        } else if oid == PK_ECDH && key.is_none() {
            key = parts.get(1).and_then(|(_, spki)| public_key(spki));
        }
    }
    let (curve, public) = key?;
    Some(ChipAuthInfo {
        protocol,
        cipher: cipher?,
        curve,
        public,
    })
}

/// A SubjectPublicKeyInfo's EC key: its curve (named, or known by its prime) and point.
fn public_key(spki: &[u8]) -> Option<(CaCurve, Vec<u8>)> {
    let parts = objects(spki);
    let algorithm = objects(parts.first().filter(|(tag, _)| *tag == 0x30)?.1);
    let bits = parts.get(1).filter(|(tag, _)| *tag == 0x03)?.1;
    let point = bits.get(1..)?.to_vec();
    let curve = match algorithm.get(1)? {
        (0x06, named) if *named == PRIME256V1 => CaCurve::P256,
        (0x06, named) if *named == BRAINPOOL_P256R1 => CaCurve::Brainpool256,
        (0x06, _) => CaCurve::Other("a named curve this version does not run".into()),
        (0x30, explicit) => {
            let field = objects(explicit).get(1).map(|(_, field)| objects(field));
            let prime = field
                .as_ref()
                .and_then(|field| field.get(1))
                .map(|(_, prime)| prime.strip_prefix(&[0]).unwrap_or(prime));
            match prime {
                Some(prime) if prime == P256_PRIME => CaCurve::P256,
                Some(prime) if prime == BRAINPOOL_P256_PRIME => CaCurve::Brainpool256,
                _ => CaCurve::Other(
                    "explicit parameters of a curve this version does not run".into(),
                ),
            }
        }
        _ => return None,
    };
    Some((curve, point))
}
