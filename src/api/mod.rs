//! Typed clients for the two back-end contracts (see `shared/api-contract.md`).

pub mod error;
pub mod fpt;
pub mod krypton;
pub mod prepare;
pub mod secret;
pub mod types;

pub use error::{ApiError, ErrorKind, RawBody};
pub use fpt::{FptClient, FptSession, FptSettings, OcrRequest, RetryPolicy, SessionId};
pub use krypton::{KryptonClient, KryptonRequest};
pub use prepare::{prepare_decoded, prepare_image, prepare_image_file, ImageLimits, PreparedImage};
pub use secret::Secret;
pub use types::{DocumentType, FaceMatch, FaceResult, Lang, Liveness, OcrField, OcrResult, Side};
