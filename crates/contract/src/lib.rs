//! The wire contract of both back ends, written once: the named values (document types,
//! sides, languages, OCR field keys), the result codes, and the typed replies with their
//! exact serialisation (the local engine writes them) and lenient parsing ("N/A" → `None`,
//! unknown members kept; the client reads them). A change to a reply changes the engine
//! and the client together. `docs/contract.md` describes the contract and marks the local
//! engine's extensions.
//!
//! It may use only `ekyc-secrets` (the credential a request carries) and `ekyc-settings`
//! (so that its values can be configuration keys); every crate above may use it.
#![warn(missing_docs)]

pub mod challenge;
pub mod chip;
pub mod face;
pub mod krypton;
pub mod ocr;
pub mod status;
pub mod values;
pub mod wire;

pub use challenge::{ChallengeReply, IssuedMove, IssuedPath};
pub use chip::{ChipSigner, ChipVerdict, ChipVerifyReply, ChipVerifyRequest};
pub use ekyc_secrets::Secret;
pub use face::{Enrolment, FaceMatch, FaceResult, Liveness};
pub use krypton::{
    KryptonAction, KryptonExtra, KryptonFlow, KryptonRequest, KryptonSessionReply, LivenessModel,
    RequestError, SessionType,
};
pub use ocr::{FieldSource, OcrField, OcrResult};
pub use status::{Code, SessionInitReply, Shape, StatusReply};
pub use values::{DocumentType, FieldKey, Lang, Side, WireName};

// The contract's values that are configuration keys too (`lang`, `liveness.model`,
// `journey.flow`): each a word in the file.
ekyc_settings::text_setting!(Lang, LivenessModel, KryptonFlow);
