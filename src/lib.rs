//! ekyc-kiosk: identity verification for bank branch kiosks and staff-assisted desks.
//! The window, the wizard behind it, the camera, staff mode, the kiosk's records and its
//! reports to the bank, and the command line. It may use every crate of the workspace; the
//! engine runs in-process from `ekyc-engine` when no back end is configured.
//!
//! Its modules, from the bottom: [`clock`] (the time it reads, which a test can drive),
//! [`config`] (the sections put together and loaded),
//! [`camera`] and [`quality`] (capture), [`chip`] (the card's chip on a PC/SC reader),
//! [`verification`] (one customer's verification, as
//! the kiosk and `submit` run it), [`records`], [`staff`] and [`report`] (the attempt log,
//! the PIN and decisions, the bank's report), [`flow`] (the wizard as a state machine),
//! [`ui`] (one file per screen), [`app`] (the window tying them together), [`cli`].
//! `tests/layout.rs` keeps them free of circles.

pub mod app;
pub mod camera;
pub mod chip;
pub mod cli;
pub mod clock;
pub mod config;
pub mod flow;
pub mod quality;
pub mod records;
pub mod report;
pub mod staff;
pub mod ui;
pub mod verification;
