//! Liveness: is a live person in front of the camera, or a picture of one? (issue 14,
//! being built). So far: the follow-the-dot challenge's random path and its score
//! ([`challenge`]), the model-free 3D check ([`parallax`]): a head turning shows
//! parallax between its points, a print or a screen moves as a plane; and both, with
//! the same person in every frame, on a selfie's frames ([`frames`]); and the gaze
//! signal the challenge is scored on, from a frame's mesh ([`gaze`]).

pub mod challenge;
pub mod frames;
pub mod gaze;
pub mod parallax;

pub use challenge::{
    score, ChallengeProblem, ChallengeScore, ChallengeThresholds, DotPath, GazeSample, Segment,
};
pub use frames::{check_frames, FramesVerdict};
pub use gaze::gaze;
pub use parallax::{judge, Depth, ParallaxReport, ParallaxThresholds, RIGID_POINTS};
