//! Liveness: is a live person in front of the camera, or a picture of one? (issue 14,
//! being built). So far: the follow-the-dot challenge's random path and its score
//! ([`challenge`]), and the model-free 3D check ([`parallax`]): a head turning shows
//! parallax between its points, a print or a screen moves as a plane.

pub mod challenge;
pub mod parallax;

pub use challenge::{
    score, ChallengeProblem, ChallengeScore, ChallengeThresholds, DotPath, GazeSample, Segment,
};
pub use parallax::{judge, Depth, ParallaxReport, ParallaxThresholds, RIGID_POINTS};
