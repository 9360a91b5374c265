//! What the card itself proves: machine-readable copies of its fields.

pub mod card;
pub mod cccd_qr;
pub mod cross_check;
pub mod date;
pub mod mrz;

pub use card::CardEvidence;
pub use cccd_qr::{find_cccd_qr, parse_cccd_qr, qr_codes, CccdQr, QrCode};
pub use cross_check::{cross_check, Agreement, FieldAgreement, Proof};
pub use date::CardDate;
pub use mrz::{parse_mrz, Mrz, MrzError, MrzFormat};
