//! ekyc-kiosk: identity verification for bank branch kiosks.
//!
//! The layout is the architecture:
//! - [`api`]: typed clients for the two back-end contracts (FPT.AI eKYC, Krypton v3).
//! - [`engine`]: the local engine, a server that speaks those contracts on loopback.
//! - [`verify`]: what the card itself proves (the CCCD QR payload, later the MRZ).
//! - [`config`]: `config.toml`, `EKYC_…` environment overrides and flags.
//! - [`flow`]: the kiosk wizard as a state machine, without egui.
//! - [`ui`]: the screens, one file each; [`app`]: the window that ties flow, camera,
//!   screens and the submission worker together.
//! - [`camera`]: webcam (nokhwa) and demo sources on a named thread.
//! - [`cli`]: the command line (the kiosk window, `serve`, `submit`, `cameras`, …).

pub mod api;
pub mod app;
pub mod camera;
pub mod cli;
pub mod config;
pub mod engine;
pub mod face;
pub mod flow;
pub mod quality;
pub mod ui;
pub mod verify;
