//! ekyc-kiosk: identity verification for bank branch kiosks.
//!
//! The layout is the architecture; nothing below imports from above:
//! - [`contract`]: the wire types of both back-end contracts, written once (exact
//!   serialisation for the engine, lenient parsing for the client); [`imaging`]: decoding,
//!   orienting and preparing images.
//! - [`api`]: typed clients for the two back-end contracts (FPT.AI eKYC, Krypton v3).
//! - [`engine`]: the local engine, a server that speaks those contracts on loopback.
//! - [`verify`]: what the card itself proves (the CCCD QR payload, the MRZ, cross-checks);
//!   [`face`]: face detection and match; [`quality`]: capture quality.
//! - [`verification`]: one customer's verification (session, card, OCR, face, verdict),
//!   run by the kiosk and by `submit` alike, and the back end it runs against.
//! - [`config`]: `config.toml`, `EKYC_…` environment overrides and flags.
//! - [`flow`]: the kiosk wizard as a state machine, without egui.
//! - [`ui`]: the screens, one file each; [`app`]: the window that ties flow, camera,
//!   screens and the submission worker together.
//! - [`camera`]: webcam (nokhwa) and demo sources on a named thread.
//! - [`cli`]: the command line (the kiosk window, `serve`, `submit`, `cameras`, …).

pub mod app;
pub mod camera;
pub mod cli;
pub mod config;
pub mod flow;
pub mod quality;
pub mod records;
pub mod report;
pub mod staff;
pub mod ui;
pub mod verification;
