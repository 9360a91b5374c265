//! Typed clients for the two back-end contracts (described in `docs/contract.md`; the
//! wire types themselves are in [`ekyc_contract`]): FPT.AI's calls and a customer's session
//! ([`fpt`]), Krypton's session ([`krypton`]), the HTTP they share (the bank's CA, the
//! kiosk's certificate, retries with `Retry-After`), their errors ([`ApiError`]) and their
//! configuration ([`config`]: `[fpt]`, `[krypton]`, `[network]`).
//!
//! It may use `ekyc-contract`, `ekyc-imaging`, `ekyc-settings` and `ekyc-secrets`; never the
//! engine, which it talks to only over HTTP.
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod fpt;
mod http;
pub mod krypton;

pub use error::{ApiError, CertificateProblem, ErrorKind, RawBody};
pub use fpt::{ChallengeAnswer, FptClient, FptSession, FptSettings, OcrRequest, SessionId};
pub use http::{certificate_problem, innermost_cause};
pub use http::{http_client, ClientTls, RetryPolicy};
pub use krypton::{KryptonClient, KryptonRequest};
// The contract's values and images as the clients' signatures use them.
pub use ekyc_contract::{
    DocumentType, FaceMatch, FaceResult, IssuedMove, IssuedPath, Lang, Liveness, OcrField,
    OcrResult, Secret, Side,
};
pub use ekyc_imaging::{
    prepare_decoded, prepare_image, prepare_image_file, ImageLimits, PreparedImage,
};
