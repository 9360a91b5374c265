//! BER-TLV as the chip's files and answers use it: one object read, one written.

/// A BER-TLV object: its one-byte tag, its value, its whole length.
pub fn object(bytes: &[u8]) -> Option<(u8, &[u8], usize)> {
    let tag = *bytes.first()?;
    let (length, header) = match *bytes.get(1)? {
        length @ 0..=0x7F => (usize::from(length), 2),
        0x81 => (usize::from(*bytes.get(2)?), 3),
        0x82 => (
            usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
            4,
        ),
        _ => return None,
    };
    Some((tag, bytes.get(header..header + length)?, header + length))
}

/// A BER-TLV object of `tag` (one or two bytes) around `value`.
pub fn encode(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = if tag > 0xFF {
        tag.to_be_bytes().to_vec()
    } else {
        vec![tag as u8]
    };
    match value.len() {
        length @ 0..=0x7F => out.push(length as u8),
        length @ 0x80..=0xFF => out.extend_from_slice(&[0x81, length as u8]),
        length @ 0x100..=0xFFFF => {
            out.push(0x82);
            out.extend_from_slice(&(length as u16).to_be_bytes());
        }
        length => {
            out.push(0x83);
            out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(value);
    out
}
