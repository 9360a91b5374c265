//! Taking the picture by itself: when every gate holds for a short steady run of frames, a
//! countdown starts; a failing frame stops it; at zero the picture is taken, once.

use std::time::{Duration, Instant};

/// What the capture screen shows (and does) now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoCaptureState {
    /// Not all gates hold yet (or auto-capture already fired on this screen).
    Waiting,
    /// Every gate holds: the picture is taken when this runs out.
    Countdown { left: Duration },
    /// Take the picture now (reported once).
    Capture,
}

/// The steady run and the countdown of one capture screen.
#[derive(Debug, Clone)]
pub struct AutoCapture {
    steady_frames: u32,
    countdown: Duration,
    run: u32,
    last_sequence: Option<u64>,
    countdown_from: Option<Instant>,
    fired: bool,
}

impl AutoCapture {
    pub fn new(steady_frames: u32, countdown: Duration) -> Self {
        Self {
            steady_frames: steady_frames.max(1),
            countdown,
            run: 0,
            last_sequence: None,
            countdown_from: None,
            fired: false,
        }
    }

    /// Starts over (a new capture screen, a retake).
    pub fn reset(&mut self) {
        self.run = 0;
        self.last_sequence = None;
        self.countdown_from = None;
        self.fired = false;
    }

    /// Called on every UI frame with the newest checked camera frame: its sequence number
    /// (a frame already counted is not counted again) and whether it passed every gate.
    pub fn update(&mut self, sequence: u64, passed: bool, now: Instant) -> AutoCaptureState {
        if self.fired {
            return AutoCaptureState::Waiting;
        }
        if self.last_sequence != Some(sequence) {
            self.last_sequence = Some(sequence);
            if passed {
                self.run = self.run.saturating_add(1);
            } else {
                self.run = 0;
                self.countdown_from = None;
            }
        }
        if self.run < self.steady_frames {
            return AutoCaptureState::Waiting;
        }
        let started = *self.countdown_from.get_or_insert(now);
        let elapsed = now.saturating_duration_since(started);
        if elapsed >= self.countdown {
            self.fired = true;
            return AutoCaptureState::Capture;
        }
        AutoCaptureState::Countdown {
            left: self.countdown - elapsed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEP: Duration = Duration::from_millis(100);

    #[test]
    fn a_steady_run_starts_the_countdown_and_fires_once() {
        let mut auto = AutoCapture::new(3, Duration::from_millis(300));
        let start = Instant::now();
        let states: Vec<_> = (0..10)
            .map(|frame| auto.update(frame, true, start + STEP * frame as u32))
            .collect();
        assert_eq!(states[0], AutoCaptureState::Waiting);
        assert_eq!(states[1], AutoCaptureState::Waiting);
        assert_eq!(
            states[2],
            AutoCaptureState::Countdown {
                left: Duration::from_millis(300)
            }
        );
        assert_eq!(
            states[3],
            AutoCaptureState::Countdown {
                left: Duration::from_millis(200)
            }
        );
        assert_eq!(states[5], AutoCaptureState::Capture);
        assert!(states[6..]
            .iter()
            .all(|state| *state == AutoCaptureState::Waiting));
    }

    #[test]
    fn a_failing_frame_stops_the_countdown() {
        let mut auto = AutoCapture::new(2, Duration::from_millis(300));
        let start = Instant::now();
        auto.update(0, true, start);
        assert!(matches!(
            auto.update(1, true, start + STEP),
            AutoCaptureState::Countdown { .. }
        ));
        assert_eq!(
            auto.update(2, false, start + STEP * 2),
            AutoCaptureState::Waiting
        );
        assert_eq!(
            auto.update(3, true, start + STEP * 3),
            AutoCaptureState::Waiting
        );
        assert_eq!(
            auto.update(4, true, start + STEP * 4),
            AutoCaptureState::Countdown {
                left: Duration::from_millis(300)
            }
        );
    }

    #[test]
    fn the_same_frame_counts_once() {
        let mut auto = AutoCapture::new(2, Duration::from_millis(300));
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(auto.update(7, true, start), AutoCaptureState::Waiting);
        }
    }

    #[test]
    fn reset_allows_another_capture() {
        let mut auto = AutoCapture::new(1, Duration::ZERO);
        let start = Instant::now();
        assert_eq!(auto.update(0, true, start), AutoCaptureState::Capture);
        assert_eq!(auto.update(1, true, start), AutoCaptureState::Waiting);
        auto.reset();
        assert_eq!(auto.update(2, true, start), AutoCaptureState::Capture);
    }
}
