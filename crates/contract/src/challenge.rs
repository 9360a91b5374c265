//! `POST /liveness/challenge`: the local engine's own extension (`docs/contract.md`). The
//! engine draws the follow-the-dot path from its own random source and keeps it; the kiosk
//! shows it, and sends the challenge's frames to `/face/liveness` with the challenge's id
//! and each frame's capture time (headers [`CHALLENGE_ID_HEADER`] and
//! [`CHALLENGE_TIMES_HEADER`]). The engine scores the gaze against the path it issued, so
//! a kiosk whose camera plays a recording, or whose software was altered, cannot claim
//! that the customer followed.

use serde::{Deserialize, Serialize};

/// The header naming the challenge the frames answer.
pub const CHALLENGE_ID_HEADER: &str = "challenge-id";
/// The header with each frame's capture time, in milliseconds after the dot started
/// moving, comma-separated: one per `selfies` part after the first (the selfie).
pub const CHALLENGE_TIMES_HEADER: &str = "challenge-times";

/// The most moves a path may have, and the longest it may last (a path outside these is
/// refused by the kiosk as not the engine's).
pub const MAX_MOVES: usize = 12;
/// The longest path, in milliseconds.
pub const MAX_PATH_MS: u32 = 5_000;

/// The reply: `code` `"200"`, the challenge's id and its path; or an error code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChallengeReply {
    /// `"200"`, or the error's code.
    pub code: String,
    /// A sentence.
    pub message: String,
    /// The id the frames are sent with (absent with an error).
    pub challenge_id: Option<String>,
    /// The path to show (absent with an error).
    pub path: Option<IssuedPath>,
    /// How long the engine keeps the challenge: frames sent later are not scored.
    pub expires_in_s: Option<u32>,
}

/// The dot's path: where it starts, then each move (fractions of the screen's width and
/// height, 0 to 1, from its top left).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssuedPath {
    /// Where the dot starts.
    pub start: [f32; 2],
    /// Its moves, in order.
    pub moves: Vec<IssuedMove>,
}

/// One move of the dot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IssuedMove {
    /// Where it goes.
    pub to: [f32; 2],
    /// How long it takes to get there, in milliseconds.
    pub moving_ms: u32,
    /// How long it rests there, in milliseconds.
    pub dwell_ms: u32,
}

impl IssuedPath {
    /// Whether the path is one a kiosk can show: every point on the screen, 2 to
    /// [`MAX_MOVES`] moves, at most [`MAX_PATH_MS`] in all. The reason otherwise.
    pub fn check(&self) -> Result<(), String> {
        let on_screen = |p: [f32; 2]| p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v));
        if !on_screen(self.start) || !self.moves.iter().all(|m| on_screen(m.to)) {
            return Err("a point of the path is off the screen".into());
        }
        if !(2..=MAX_MOVES).contains(&self.moves.len()) {
            return Err(format!("{} moves, not 2 to {MAX_MOVES}", self.moves.len()));
        }
        let total: u64 = self
            .moves
            .iter()
            .map(|m| u64::from(m.moving_ms) + u64::from(m.dwell_ms))
            .sum();
        if total > u64::from(MAX_PATH_MS) || self.moves.iter().any(|m| m.moving_ms == 0) {
            return Err(format!("a path of {total} ms, not up to {MAX_PATH_MS}"));
        }
        Ok(())
    }
}

/// Capture times for [`CHALLENGE_TIMES_HEADER`].
pub fn write_times(times_ms: &[u32]) -> String {
    times_ms
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The capture times a [`CHALLENGE_TIMES_HEADER`] holds; `None` when it is not a list
/// of numbers in order.
pub fn read_times(header: &str) -> Option<Vec<u32>> {
    let times: Vec<u32> = header
        .split(',')
        .map(|value| value.trim().parse().ok())
        .collect::<Option<_>>()?;
    times
        .windows(2)
        .all(|pair| pair[0] <= pair[1])
        .then_some(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(moves: usize) -> IssuedPath {
        IssuedPath {
            start: [0.5, 0.5],
            moves: (0..moves)
                .map(|i| IssuedMove {
                    to: [0.2 + 0.05 * i as f32, 0.8],
                    moving_ms: 300,
                    dwell_ms: 100,
                })
                .collect(),
        }
    }

    #[test]
    fn a_path_off_the_screen_too_long_or_too_short_is_refused() {
        assert_eq!(path(8).check(), Ok(()));
        assert!(path(1).check().is_err());
        assert!(path(13).check().is_err());
        let mut off = path(8);
        off.moves[3].to = [1.5, 0.2];
        assert!(off.check().unwrap_err().contains("off the screen"));
        let mut slow = path(8);
        slow.moves[0].dwell_ms = 4_000;
        assert!(slow.check().unwrap_err().contains("ms"));
        let mut nan = path(8);
        nan.start = [f32::NAN, 0.5];
        assert!(nan.check().is_err());
    }

    #[test]
    fn capture_times_go_and_come_back_and_anything_else_is_not_read() {
        assert_eq!(
            read_times(&write_times(&[0, 66, 140])),
            Some(vec![0, 66, 140])
        );
        assert_eq!(read_times("0, 66,140"), Some(vec![0, 66, 140]));
        assert_eq!(read_times("0,66,x"), None);
        assert_eq!(read_times("140,66"), None, "out of order");
        assert_eq!(read_times(""), None);
    }
}
