//! Capture quality: is this frame good enough to send? The gates and the one instruction
//! to show ([`gates`], on the measurements and the card's outline that `ekyc-imaging`
//! makes), the thread that checks the preview ([`analyser`]) and the steady run that takes
//! the picture by itself ([`auto_capture`]).

pub mod analyser;
pub mod auto_capture;
pub mod config;
pub mod gates;

pub use analyser::{Analyser, Analysis};
pub use auto_capture::{AutoCapture, AutoCaptureState};
pub use config::CaptureConfig;
pub use gates::{
    card_outline, check_card, check_other_side, check_selfie, FrameCheck, Gate, Instruction,
    Preset, Thresholds,
};
