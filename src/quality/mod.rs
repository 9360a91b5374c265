//! Capture quality: is this frame good enough to send? Measurements ([`metrics`]), the
//! card's outline and its flattening ([`card`]), the gates and the one instruction to show
//! ([`gates`]), the thread that checks the preview ([`analyser`]) and the steady run that
//! takes the picture by itself ([`auto_capture`]).

pub mod analyser;
pub mod auto_capture;
pub mod card;
pub mod gates;
pub mod metrics;

pub use analyser::{Analyser, Analysis};
pub use auto_capture::{AutoCapture, AutoCaptureState};
pub use card::{find_card, flatten_card, flatten_card_at, Quad, SideSignature, CARD_ASPECT};
pub use gates::{
    card_outline, check_card, check_other_side, check_selfie, FrameCheck, Gate, Instruction,
    Preset, Thresholds,
};
pub use metrics::{measure, Luma, Metrics, Region};
