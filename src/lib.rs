//! ekyc-kiosk: identity verification for bank branch kiosks.
//!
//! The layout is the architecture:
//! - [`api`]: typed clients for the two back-end contracts (FPT.AI eKYC, Krypton v3).
//! - [`engine`]: the local engine, a server that speaks those contracts on loopback.
//! - [`verify`]: what the card itself proves (the CCCD QR payload, later the MRZ).
//! - [`config`]: `config.toml`, `EKYC_…` environment overrides and flags.
//! - [`cli`]: the command line (`serve`, `submit`).

pub mod api;
pub mod cli;
pub mod config;
pub mod engine;
pub mod verify;
