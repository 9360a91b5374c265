//! The chip's files, made for a test: EF.COM, DG1 (the MRZ), DG2 (a photo in an ISO
//! 19794-5 record), DG13 (the CCCD's personal data), by their file identifiers.

use crate::tlv::encode;

/// How the photo is encoded (ISO 19794-5's image data type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoType {
    /// JPEG.
    Jpeg,
    /// JPEG 2000.
    Jpeg2000,
}

/// What the chip holds about its holder.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The MRZ, its lines with or without line breaks (90 characters for TD1).
    pub mrz: String,
    /// The photo file.
    pub photo: Vec<u8>,
    /// Its encoding.
    pub photo_type: PhotoType,
    /// DG13's entries: number and strings (13: father, then mother).
    pub dg13: Vec<(u8, Vec<String>)>,
}

/// EF.COM listing data groups (their tags).
pub fn com(groups: &[u8]) -> Vec<u8> {
    let tags: Vec<u8> = groups
        .iter()
        .map(|number| match number {
            1 => 0x61,
            2 => 0x75,
            3 => 0x63,
            4 => 0x76,
            16 => 0x70,
            other => 0x60 + other,
        })
        .collect();
    let mut value = encode(0x5F01, b"0107");
    value.extend(encode(0x5F36, b"040000"));
    value.extend(encode(0x5C, &tags));
    encode(0x60, &value)
}

/// DG1: the MRZ.
pub fn dg1(mrz: &str) -> Vec<u8> {
    let text: String = mrz.chars().filter(|c| !c.is_whitespace()).collect();
    encode(0x61, &encode(0x5F1F, text.as_bytes()))
}

/// DG2: one face, `photo` inside an ISO 19794-5 facial record.
pub fn dg2(photo: &[u8], photo_type: PhotoType, width: u16, height: u16) -> Vec<u8> {
    let mut facial = Vec::new();
    let record_length = 14 + 20 + 12 + photo.len();
    // General header: "FAC\0", version "010\0", record length, one face.
    facial.extend_from_slice(b"FAC\x00010\x00");
    facial.extend_from_slice(&(record_length as u32).to_be_bytes());
    facial.extend_from_slice(&1u16.to_be_bytes());
    // Facial information: block length, no landmarks, then unspecified properties.
    facial.extend_from_slice(&((20 + 12 + photo.len()) as u32).to_be_bytes());
    facial.extend_from_slice(&[0; 16]);
    // Image information: full frontal, data type, size, colour space, source, device, quality.
    facial.push(1);
    facial.push(match photo_type {
        PhotoType::Jpeg => 0,
        PhotoType::Jpeg2000 => 1,
    });
    facial.extend_from_slice(&width.to_be_bytes());
    facial.extend_from_slice(&height.to_be_bytes());
    facial.extend_from_slice(&[1, 2, 0, 0, 0, 0]);
    facial.extend_from_slice(photo);
    let mut header = encode(0x80, &[0x01, 0x01]);
    header.extend(encode(0x81, &[0x02]));
    header.extend(encode(0x87, &[0x01, 0x01]));
    header.extend(encode(0x88, &[0x00, 0x08]));
    let mut template = encode(0xA1, &header);
    template.extend(encode(0x5F2E, &facial));
    let mut group = encode(0x02, &[1]);
    group.extend(encode(0x7F60, &template));
    encode(0x75, &encode(0x7F61, &group))
}

/// DG13 as the CCCD lays it out: each entry a SEQUENCE of its number and its value.
pub fn dg13(entries: &[(u8, Vec<String>)]) -> Vec<u8> {
    let mut list = Vec::new();
    for (number, strings) in entries {
        let mut entry = encode(0x02, &[*number]);
        if strings.len() == 1 {
            entry.extend(encode(0x0C, strings[0].as_bytes()));
        } else {
            let inner: Vec<u8> = strings
                .iter()
                .flat_map(|text| encode(0x0C, text.as_bytes()))
                .collect();
            entry.extend(encode(0x30, &inner));
        }
        list.extend(encode(0x30, &entry));
    }
    encode(0x6D, &encode(0x30, &list))
}

/// The data groups of `holder` by number.
pub fn data_groups(holder: &Holder) -> std::collections::BTreeMap<u8, Vec<u8>> {
    let mut groups = std::collections::BTreeMap::new();
    groups.insert(1, dg1(&holder.mrz));
    groups.insert(2, dg2(&holder.photo, holder.photo_type, 480, 640));
    groups.insert(13, dg13(&holder.dg13));
    groups
}

/// Every file of a chip: EF.COM, the data groups, and `sod` (EF.SOD), by identifier.
pub fn files(
    groups: &std::collections::BTreeMap<u8, Vec<u8>>,
    sod: Vec<u8>,
) -> std::collections::BTreeMap<u16, Vec<u8>> {
    let numbers: Vec<u8> = groups.keys().copied().collect();
    let mut files = std::collections::BTreeMap::new();
    files.insert(0x011E, com(&numbers));
    files.insert(0x011D, sod);
    for (number, content) in groups {
        files.insert(0x0100 + u16::from(*number), content.clone());
    }
    files
}

/// DG15: the public key of active authentication (its SubjectPublicKeyInfo, DER).
pub fn dg15(public_key_info_der: &[u8]) -> Vec<u8> {
    encode(0x6F, public_key_info_der)
}

/// DG14: the chip authentication of this chip (9303-11 §6.2, ECDH): its
/// ChipAuthenticationInfo (the protocol: AES-128 or 3DES, version 1) and its
/// ChipAuthenticationPublicKeyInfo (id-PK-ECDH, the key's SubjectPublicKeyInfo on the
/// named curve).
pub fn dg14(curve: crate::pace::Curve, public_sec1: &[u8], aes: bool) -> Vec<u8> {
    let protocol = if aes {
        crate::chip_auth::CA_ECDH_AES_128
    } else {
        crate::chip_auth::CA_ECDH_3DES
    };
    let mut info = encode(0x06, &protocol);
    info.extend(encode(0x02, &[1]));
    let named = match curve {
        crate::pace::Curve::P256 => &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07][..],
        crate::pace::Curve::Brainpool256 => {
            &[0x2B, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07][..]
        }
    };
    let mut algorithm = encode(0x06, &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]);
    algorithm.extend(encode(0x06, named));
    let mut key = encode(0x30, &algorithm);
    let mut bits = vec![0];
    bits.extend_from_slice(public_sec1);
    key.extend(encode(0x03, &bits));
    let mut key_info = encode(0x06, &crate::chip_auth::PK_ECDH);
    key_info.extend(encode(0x30, &key));
    let mut infos = encode(0x30, &info);
    infos.extend(encode(0x30, &key_info));
    encode(0x6E, &encode(0x31, &infos))
}
