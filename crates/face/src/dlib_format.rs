//! A reader for dlib's serialisation format, as far as the two face-match models need it.
//! Written from dlib's `serialize.h`, `float_details.h` and `dnn/tensor.h`:
//!
//! - integers: one control byte (low 4 bits: how many bytes follow, bit 7: negative), then
//!   the magnitude's bytes, least significant first;
//! - floating point: a mantissa and a binary exponent, each an integer as above (the
//!   exponents 32000, 32001 and 32002 stand for +inf, -inf and NaN);
//! - strings: a length, then the bytes; `bool`: the character `'0'` or `'1'`;
//! - `dlib::matrix`: minus the rows, minus the columns, then each element row by row;
//! - `std::vector`: a length, then each element;
//! - DNN tensors: a version (2), four dimensions, then raw little-endian `f32`s.

use std::fmt;

/// What went wrong reading a model file: where in the file, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Where in the file, in bytes.
    pub offset: usize,
    /// What was expected there.
    pub expected: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "not a dlib model this app reads (byte {}: expected {})",
            self.offset, self.expected
        )
    }
}

impl std::error::Error for FormatError {}

pub type Result<T> = std::result::Result<T, FormatError>;

/// A cursor over a model file's bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    pub fn error<T>(&self, expected: impl Into<String>) -> Result<T> {
        Err(FormatError {
            offset: self.offset,
            expected: expected.into(),
        })
    }

    pub fn at_end(&self) -> bool {
        self.offset == self.bytes.len()
    }

    fn take(&mut self, count: usize, what: &str) -> Result<&'a [u8]> {
        match self.bytes.get(self.offset..self.offset + count) {
            Some(slice) => {
                self.offset += count;
                Ok(slice)
            }
            None => self.error(format!("{count} more bytes for {what}, the file ends")),
        }
    }

    /// A signed integer of at most 8 bytes.
    pub fn int(&mut self) -> Result<i64> {
        let control = self.take(1, "an integer")?[0];
        let size = usize::from(control & 0x0F);
        if size == 0 || size > 8 || control & 0x70 != 0 {
            self.offset -= 1;
            return self.error("an integer");
        }
        let bytes = self.take(size, "an integer")?;
        let magnitude = bytes
            .iter()
            .rev()
            .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
        let Ok(magnitude) = i64::try_from(magnitude) else {
            return self.error("an integer that fits 63 bits");
        };
        Ok(if control & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        })
    }

    /// A non-negative integer that is a count or an index.
    pub fn count(&mut self) -> Result<usize> {
        let value = self.int()?;
        match usize::try_from(value) {
            Ok(count) => Ok(count),
            Err(_) => self.error("a count"),
        }
    }

    /// `int version` fields: checks the value.
    pub fn version(&mut self, expected: &[i64], of: &str) -> Result<i64> {
        let start = self.offset;
        let version = self.int()?;
        if expected.contains(&version) {
            Ok(version)
        } else {
            self.offset = start;
            self.error(format!("{of} version {expected:?}, found {version}"))
        }
    }

    /// A `float` or `double` in dlib's portable form.
    pub fn float(&mut self) -> Result<f64> {
        let start = self.offset;
        match self.bytes.get(self.offset) {
            None => return self.error("a number, the file ends"),
            Some(control) if control & 0x70 != 0 => {
                return self.error("a number in dlib's binary form (older text form?)")
            }
            Some(_) => {}
        }
        let mantissa = self.int()?;
        let exponent = self.int()?;
        Ok(match exponent {
            32000 => f64::INFINITY,
            32001 => f64::NEG_INFINITY,
            32002 => f64::NAN,
            exponent if (-1100..1100).contains(&exponent) => {
                mantissa as f64 * 2f64.powi(exponent as i32)
            }
            _ => {
                self.offset = start;
                return self.error("a floating point exponent");
            }
        })
    }

    pub fn float32(&mut self) -> Result<f32> {
        Ok(self.float()? as f32)
    }

    pub fn bool(&mut self) -> Result<bool> {
        match self.take(1, "a bool")?[0] {
            b'1' => Ok(true),
            b'0' => Ok(false),
            _ => {
                self.offset -= 1;
                self.error("a bool ('0' or '1')")
            }
        }
    }

    pub fn string(&mut self) -> Result<String> {
        let length = self.count()?;
        if length > 1024 {
            return self.error("a short string");
        }
        let bytes = self.take(length, "a string")?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => self.error("a text string"),
        }
    }

    /// A string that must be one of `expected` (dlib's layer tags, such as `"con_4"`).
    pub fn tag(&mut self, expected: &[&str]) -> Result<String> {
        let start = self.offset;
        let tag = self.string()?;
        if expected.contains(&tag.as_str()) {
            Ok(tag)
        } else {
            self.offset = start;
            self.error(format!("one of {expected:?}, found {tag:?}"))
        }
    }

    /// A `std::vector` of whatever `element` reads.
    pub fn vec<T>(&mut self, mut element: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        let length = self.count()?;
        if length > self.bytes.len() - self.offset {
            return self.error(format!("{length} elements, the file ends first"));
        }
        (0..length).map(|_| element(self)).collect()
    }

    /// A `dlib::matrix<float>` as (rows, columns, elements row by row).
    pub fn matrix(&mut self) -> Result<(usize, usize, Vec<f32>)> {
        let rows = -self.int()?;
        let columns = -self.int()?;
        let (Ok(rows), Ok(columns)) = (usize::try_from(rows), usize::try_from(columns)) else {
            return self.error("a matrix's size");
        };
        let Some(size) = rows
            .checked_mul(columns)
            .filter(|&size| size <= self.bytes.len())
        else {
            return self.error(format!("a {rows}×{columns} matrix, the file ends first"));
        };
        let elements = (0..size)
            .map(|_| self.float32())
            .collect::<Result<Vec<_>>>()?;
        Ok((rows, columns, elements))
    }

    /// A DNN tensor: its four dimensions (samples, channels, rows, columns) and values.
    pub fn tensor(&mut self) -> Result<([usize; 4], Vec<f32>)> {
        self.version(&[2], "tensor")?;
        let mut shape = [0usize; 4];
        for dimension in &mut shape {
            *dimension = self.count()?;
        }
        let size = shape
            .iter()
            .try_fold(1usize, |size, &dimension| size.checked_mul(dimension));
        let Some(size) = size.filter(|size| size.saturating_mul(4) <= self.bytes.len()) else {
            return self.error(format!("a {shape:?} tensor, the file ends first"));
        };
        let bytes = self.take(size * 4, "a tensor's values")?;
        let values = bytes
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        Ok((shape, values))
    }

    /// An `alias_tensor`: only its shape (the values live in the layer's `params`).
    pub fn alias_tensor(&mut self) -> Result<[usize; 4]> {
        self.version(&[1], "alias_tensor")?;
        let mut shape = [0usize; 4];
        for dimension in &mut shape {
            *dimension = self.count()?;
        }
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_a_length_byte_then_little_endian_magnitude() {
        let mut reader = Reader::new(&[0x01, 0x05, 0x81, 0x0a, 0x02, 0x34, 0x12, 0x01, 0x00]);
        assert_eq!(reader.int(), Ok(5));
        assert_eq!(reader.int(), Ok(-10));
        assert_eq!(reader.int(), Ok(0x1234));
        assert_eq!(reader.int(), Ok(0));
        assert!(reader.at_end());
        assert!(Reader::new(&[0x00]).int().is_err());
        assert!(Reader::new(&[0x03, 0x01]).int().is_err());
    }

    #[test]
    fn floats_are_mantissa_times_two_to_the_exponent() {
        // 0xc6b86e * 2^-24, the first value of the 5-point predictor's mean shape.
        let mut reader = Reader::new(&[0x03, 0x6e, 0xb8, 0xc6, 0x81, 0x18]);
        assert_eq!(reader.float().unwrap(), f64::from(0xc6b86e) / 16_777_216.0);
        let mut infinite = Reader::new(&[0x01, 0x00, 0x02, 0x00, 0x7d]);
        assert_eq!(infinite.float(), Ok(f64::INFINITY));
        // The old text form starts with an ASCII digit.
        assert!(Reader::new(b"0.5 ").float().is_err());
    }

    #[test]
    fn strings_matrices_and_tensors() {
        let mut bytes = vec![0x01, 0x04];
        bytes.extend_from_slice(b"con_");
        bytes.extend_from_slice(&[0x81, 0x01, 0x81, 0x02]); // a 1×2 matrix
        bytes.extend_from_slice(&[0x01, 0x01, 0x01, 0x00, 0x01, 0x03, 0x81, 0x01]); // 1, 1.5
        bytes.extend_from_slice(&[0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01]);
        bytes.extend_from_slice(&1.25f32.to_le_bytes());
        bytes.extend_from_slice(&(-2.0f32).to_le_bytes());
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.tag(&["con_"]).unwrap(), "con_");
        assert_eq!(reader.matrix().unwrap(), (1, 2, vec![1.0, 1.5]));
        assert_eq!(reader.tensor().unwrap(), ([1, 2, 1, 1], vec![1.25, -2.0]));
        assert!(reader.at_end());
    }

    #[test]
    fn a_truncated_file_is_an_error_with_its_offset() {
        let error = Reader::new(&[0x01, 0x08, b'c', b'o']).string().unwrap_err();
        assert_eq!(error.offset, 2);
        assert!(error.to_string().contains("the file ends"), "{error}");
    }
}
