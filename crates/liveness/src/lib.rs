//! Liveness: is a live person in front of the camera, or a picture of one? The
//! follow-the-dot challenge's random path and its score ([`challenge`]), which the kiosk
//! runs (`app::challenge`) on the gaze signal from each frame's mesh ([`gaze`](mod@gaze)); the
//! model-free 3D check ([`parallax`]): a head turning shows parallax between its points,
//! a print or a screen moves as a plane; that check and the same person in every frame on
//! a selfie's frames, as the local engine judges them ([`frames`]); and a synthetic head
//! for the demo camera, the tests and the bench ([`synthetic`]).
//!
//! It may use `ekyc-face` and `ekyc-imaging`; the engine and the kiosk use it.
#![warn(missing_docs)]

pub mod challenge;
pub mod face_depth;
pub mod frames;
pub mod gaze;
pub mod parallax;
pub mod rigid;
pub mod synthetic;

pub use challenge::{
    score, ChallengeProblem, ChallengeScore, ChallengeThresholds, DotPath, GazeSample, Segment,
};
pub use face_depth::{FaceDepth, DEPTH_FOLLOWING_THRESHOLDS, FACE_DEPTH_THRESHOLD};
pub use frames::{check_frames, FramesVerdict, IssuedChallenge};
pub use gaze::gaze;
pub use parallax::{judge, judge_following, Depth, ParallaxReport, ParallaxThresholds};
pub use rigid::RIGID_POINTS;
pub use synthetic::{pose_following, Bend, Surface, SyntheticHead};
