//! What the card itself proves: machine-readable copies of its fields.

pub mod cccd_qr;
pub mod date;
pub mod mrz;

pub use cccd_qr::{parse_cccd_qr, CccdQr};
pub use date::CardDate;
pub use mrz::{parse_mrz, Mrz, MrzError, MrzFormat};
