//! How many returning customers' tries failed on this kiosk lately: past the limit, AUTH
//! is started by staff only, so that a passer-by cannot try number after number (the
//! engine answers an unknown number as a face that does not match, and this bounds how
//! often even that can be asked).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window the limit counts in.
const WINDOW: Duration = Duration::from_secs(3600);

pub(super) struct AuthTries {
    /// When each failed try ended, oldest first, within the window.
    failed: VecDeque<Instant>,
    /// Failed tries allowed in the window (`journey.auth_tries_per_hour`).
    most: usize,
}

impl AuthTries {
    pub fn new(most: u32) -> Self {
        Self {
            failed: VecDeque::new(),
            most: most.max(1) as usize,
        }
    }

    /// A try ended with a face that does not match (or a number without enrolment).
    pub fn failed(&mut self, now: Instant) {
        self.forget_before(now);
        self.failed.push_back(now);
    }

    /// Whether the limit is reached: no AUTH but in staff mode.
    pub fn exhausted(&mut self, now: Instant) -> bool {
        self.forget_before(now);
        self.failed.len() >= self.most
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .failed
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
        {
            self.failed.pop_front();
        }
    }
}
