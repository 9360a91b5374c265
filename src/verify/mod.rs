//! What the card itself proves: machine-readable copies of its fields.

pub mod cccd_qr;

pub use cccd_qr::{parse_cccd_qr, CardDate, CccdQr};
