//! MediaPipe's canonical face: the 468 points of the face mesh on an average face, in
//! centimetres (x to the face's left as the camera sees it, y up, z towards the camera),
//! from its face-geometry module's metadata (`geometry_pipeline_metadata_landmarks.binarypb`,
//! fetched by `./fetch-models`). The liveness 3D check compares the depth it measures
//! with this face's.
//!
//! The file is a protocol buffer (`GeometryPipelineMetadata`): field 1 is the canonical
//! mesh (`Mesh3d`), whose field 1 is the vertex type (0: position and texture, five
//! floats a vertex) and field 3 the vertex buffer. Only what is needed is read; anything
//! else is skipped, and a file that is not this shape is refused with the reason.

use std::path::Path;

/// The file `./fetch-models` puts beside the face mesh model.
pub const CANONICAL_FACE_FILE: &str = "geometry_pipeline_metadata_landmarks.binarypb";

/// The canonical face's 468 points.
#[derive(Debug, Clone, PartialEq)]
pub struct CanonicalFace {
    /// x, y, z in centimetres, in the face mesh's point order.
    pub points: Vec<[f32; 3]>,
}

/// Why the canonical face could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CanonicalFaceError(String);

const POINTS: usize = 468;
/// Floats per vertex of type 0 (`VERTEX_PT`): x, y, z, u, v.
const FLOATS_PER_VERTEX: usize = 5;

impl CanonicalFace {
    /// Reads the metadata file at `path`.
    pub fn read(path: &Path) -> Result<Self, CanonicalFaceError> {
        let bytes = std::fs::read(path)
            .map_err(|error| CanonicalFaceError(format!("{}: {error}", path.display())))?;
        Self::from_bytes(&bytes).map_err(|CanonicalFaceError(reason)| {
            CanonicalFaceError(format!("{}: {reason}", path.display()))
        })
    }

    /// Reads the metadata from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CanonicalFaceError> {
        let refuse =
            |why: &str| CanonicalFaceError(format!("not MediaPipe's face geometry: {why}"));
        let mut mesh = None;
        for field in Fields(bytes) {
            let field = field.map_err(&refuse)?;
            if let (1, Value::Bytes(inner)) = (field.number, field.value) {
                mesh = Some(inner);
            }
        }
        let mesh = mesh.ok_or_else(|| refuse("no canonical mesh"))?;
        let mut floats = Vec::with_capacity(POINTS * FLOATS_PER_VERTEX);
        for field in Fields(mesh) {
            let field = field.map_err(&refuse)?;
            match (field.number, field.value) {
                (1, Value::Varint(kind)) if kind != 0 => {
                    return Err(refuse("the mesh's vertices are not position and texture"))
                }
                (3, Value::Fixed32(bits)) => floats.push(f32::from_bits(bits)),
                (3, Value::Bytes(packed)) => {
                    if packed.len() % 4 != 0 {
                        return Err(refuse("a vertex buffer cut short"));
                    }
                    floats.extend(
                        packed
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                    );
                }
                _ => {}
            }
        }
        if floats.len() != POINTS * FLOATS_PER_VERTEX {
            return Err(refuse(&format!(
                "{} vertex values, not {}",
                floats.len(),
                POINTS * FLOATS_PER_VERTEX
            )));
        }
        let points: Vec<[f32; 3]> = floats
            .chunks_exact(FLOATS_PER_VERTEX)
            .map(|v| [v[0], v[1], v[2]])
            .collect();
        if points
            .iter()
            .flatten()
            .any(|v| !v.is_finite() || v.abs() > 100.0)
        {
            return Err(refuse("a point out of any face's size"));
        }
        Ok(Self { points })
    }
}

/// One field of a protocol buffer message.
struct Field<'a> {
    number: u64,
    value: Value<'a>,
}

enum Value<'a> {
    Varint(u64),
    Fixed32(u32),
    Fixed64,
    Bytes(&'a [u8]),
}

/// The fields of a message, in order; an error (and nothing after it) where the bytes
/// are not a message.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let result = self.field();
        if result.is_err() {
            self.0 = &[];
        }
        Some(result)
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<Field<'a>, &'static str> {
        let key = self.varint()?;
        let number = key >> 3;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let length = usize::try_from(self.varint()?).map_err(|_| "a length too large")?;
                Value::Bytes(self.take(length)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return Err("an unknown wire type"),
        };
        Ok(Field { number, value })
    }

    fn varint(&mut self) -> Result<u64, &'static str> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.take(1)?.first().ok_or("cut short")?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err("a number too long")
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], &'static str> {
        if count > self.0.len() {
            return Err("cut short");
        }
        let (taken, rest) = self.0.split_at(count);
        self.0 = rest;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message holding a mesh of `count` vertices (field 1 > field 3, one float each).
    fn metadata(count: usize, kind: u8) -> Vec<u8> {
        let mut mesh = vec![0x08, kind];
        for i in 0..count * FLOATS_PER_VERTEX {
            mesh.push(0x1d); // field 3, fixed32
            mesh.extend_from_slice(&(i as f32 / 1000.0).to_le_bytes());
        }
        let mut message = vec![0x18, 0x01]; // field 3 (input source), a varint
        message.push(0x0a); // field 1, length-delimited
        let mut length = mesh.len();
        while length >= 0x80 {
            message.push((length as u8 & 0x7f) | 0x80);
            length >>= 7;
        }
        message.push(length as u8);
        message.extend(mesh);
        message
    }

    #[test]
    fn the_vertices_positions_are_read_and_their_texture_left_out() {
        let face = CanonicalFace::from_bytes(&metadata(POINTS, 0)).unwrap();
        assert_eq!(face.points.len(), POINTS);
        assert_eq!(face.points[1], [0.005, 0.006, 0.007]);
    }

    #[test]
    fn anything_else_is_refused_with_a_reason_never_a_panic() {
        let short = CanonicalFace::from_bytes(&metadata(POINTS - 1, 0)).unwrap_err();
        assert!(short.to_string().contains("2335 vertex values"), "{short}");
        let kind = CanonicalFace::from_bytes(&metadata(POINTS, 1)).unwrap_err();
        assert!(kind.to_string().contains("position and texture"), "{kind}");
        let whole = metadata(POINTS, 0);
        for cut in [0, 1, 3, 100, whole.len() - 1] {
            assert!(
                CanonicalFace::from_bytes(&whole[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        assert!(CanonicalFace::from_bytes(&[0xff; 40]).is_err());
    }
}
