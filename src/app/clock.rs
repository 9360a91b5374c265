//! The time the kiosk's own timing reads: the idle time-out and "Do you need more time?",
//! staff mode's time-out and the PIN pad's lock, the AUTH tries' window. The system's
//! clock in the product; a test drives its own ([`Clock::manual`]) so that what it checks
//! does not depend on how busy the machine is. The camera, the frames and the challenge
//! keep the system's clock: their times are the frames'.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A source of "now".
#[derive(Clone, Default)]
pub struct Clock {
    /// `None`: the system's clock. Else a start and how far it was moved on (in µs).
    manual: Option<(Instant, Arc<AtomicU64>)>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that moves only when [`Clock::advance`] says, starting now.
    pub fn manual() -> Self {
        Self {
            manual: Some((Instant::now(), Arc::default())),
        }
    }

    /// Now, by this clock.
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some((start, moved)) => *start + Duration::from_micros(moved.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock on by `by` (the system's clock cannot be moved: nothing done).
    pub fn advance(&self, by: Duration) {
        if let Some((_, moved)) = &self.manual {
            moved.fetch_add(by.as_micros() as u64, Ordering::SeqCst);
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(if self.manual.is_some() {
            "Clock(manual)"
        } else {
            "Clock(system)"
        })
    }
}
