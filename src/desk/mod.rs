//! The staff desk: what happens around a verification rather than in it.
//! - [`attempts`]: the attempt log (no personal data) and [`stats`], its figures;
//! - [`pin`]: the staff PIN (Argon2id) and its lockout;
//! - [`decision`]: approve, reject with a reason, escalate;
//! - [`report`]: the signed report the bank's system receives, and [`outbox`], where it
//!   waits (sealed) until the bank acknowledged it;
//! - [`state`]: the kiosk's state database both live in.

pub mod attempts;
pub mod decision;
pub mod outbox;
pub mod pdf;
pub mod pin;
pub mod report;
pub mod state;
pub mod stats;

pub use attempts::{AttemptEvent, AttemptId, AttemptLog};
pub use decision::{Decision, DecisionKind, RejectReason};
pub use state::StateDb;
