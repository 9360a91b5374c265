//! The time the kiosk reads: the idle time-out and "Do you need more time?", staff mode's
//! time-out and the PIN pad's lock, the AUTH tries' window, the camera's pace and when its
//! frames were taken, the liveness challenge's dot. The system's clock in the product; a
//! test drives its own ([`Clock::manual`]) so that what it checks does not depend on how
//! busy the machine is.
//!
//! A thread that waits for a moment of the clock (the demo camera waiting for its next
//! frame) does so through a [`Pacer`]: moving a manual clock on returns only once every
//! pacer has done what fell due and waits again, so that a test which moves the clock by a
//! frame's interval knows that the frame was taken.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A source of "now".
#[derive(Clone, Default)]
pub struct Clock {
    /// `None`: the system's clock.
    manual: Option<Arc<Manual>>,
}

/// A clock that moves when told.
struct Manual {
    start: Instant,
    state: Mutex<ManualState>,
    /// Signalled when the clock moves and when a pacer starts or stops waiting.
    changed: Condvar,
}

#[derive(Default)]
struct ManualState {
    moved: Duration,
    /// Each pacer's moment while it waits for one; `None` while it works.
    pacers: HashMap<u64, Option<Instant>>,
    next_pacer: u64,
}

/// How long [`Clock::advance`] waits for the pacers, in wall time: only a broken test waits
/// that long (it then goes on, and fails on what it checks).
const PACERS_BOUND: Duration = Duration::from_secs(60);
/// How often a pacer of the system's clock looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that moves only when [`Clock::advance`] says, starting now.
    pub fn manual() -> Self {
        Self {
            manual: Some(Arc::new(Manual {
                start: Instant::now(),
                state: Mutex::default(),
                changed: Condvar::new(),
            })),
        }
    }

    /// Whether this clock moves only when told.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Now, by this clock.
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(manual) => manual.start + manual.lock().moved,
        }
    }

    /// Moves a manual clock on by `by`, then waits until every [`Pacer`] has done what fell
    /// due and waits for a later moment (the system's clock cannot be moved: nothing done).
    pub fn advance(&self, by: Duration) {
        let Some(manual) = &self.manual else {
            return;
        };
        let mut state = manual.lock();
        state.moved += by;
        manual.changed.notify_all();
        let now = manual.start + state.moved;
        let bound = Instant::now() + PACERS_BOUND;
        while state
            .pacers
            .values()
            .any(|waiting| waiting.is_none_or(|until| until <= now))
        {
            let left = bound.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!("a pacer of the test's clock did not wait again");
                return;
            }
            state = manual
                .changed
                .wait_timeout(state, left)
                .map_or_else(|poison| poison.into_inner().0, |(state, _)| state);
        }
    }

    /// A handle for one thread to wait for moments of this clock with.
    pub fn pacer(&self) -> Pacer {
        let id = self.manual.as_ref().map(|manual| {
            let mut state = manual.lock();
            let id = state.next_pacer;
            state.next_pacer += 1;
            state.pacers.insert(id, None);
            id
        });
        Pacer {
            clock: self.clone(),
            id,
        }
    }
}

impl Manual {
    fn lock(&self) -> MutexGuard<'_, ManualState> {
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
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

/// One thread's waiting on a [`Clock`] (see the module's words). Made before the thread
/// starts, so that the clock waits for it from the start.
pub struct Pacer {
    clock: Clock,
    /// Its key among the manual clock's pacers.
    id: Option<u64>,
}

impl Pacer {
    /// Waits until the clock reads `moment`, or until `stop` is set (then `false`).
    pub fn wait_until(&self, moment: Instant, stop: &AtomicBool) -> bool {
        let (Some(manual), Some(id)) = (&self.clock.manual, self.id) else {
            loop {
                if stop.load(Ordering::Relaxed) {
                    return false;
                }
                let left = moment.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return true;
                }
                std::thread::sleep(left.min(STOP_POLL));
            }
        };
        let mut state = manual.lock();
        state.pacers.insert(id, Some(moment));
        manual.changed.notify_all();
        loop {
            if stop.load(Ordering::Relaxed) || manual.start + state.moved >= moment {
                state.pacers.insert(id, None);
                return !stop.load(Ordering::Relaxed);
            }
            state = manual
                .changed
                .wait_timeout(state, STOP_POLL)
                .map_or_else(|poison| poison.into_inner().0, |(state, _)| state);
        }
    }

    /// The clock it waits on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        if let (Some(manual), Some(id)) = (&self.clock.manual, self.id) {
            manual.lock().pacers.remove(&id);
            manual.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual();
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(100));
        assert_eq!(clock.now(), start + Duration::from_millis(100));
    }

    /// A pacer's work that fell due is done before `advance` returns, however slow it is.
    #[test]
    fn advancing_waits_for_the_pacers_work_that_fell_due() {
        let clock = Clock::manual();
        let pacer = clock.pacer();
        let done = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_done, thread_stop) = (done.clone(), stop.clone());
        let start = clock.now();
        let worker = std::thread::spawn(move || {
            let mut next = start + Duration::from_millis(100);
            while pacer.wait_until(next, &thread_stop) {
                std::thread::sleep(Duration::from_millis(30)); // slow work
                thread_done.lock().unwrap().push(next);
                next += Duration::from_millis(100);
            }
        });
        for tick in 1..=3u32 {
            clock.advance(Duration::from_millis(100));
            assert_eq!(
                done.lock().unwrap().last().copied(),
                Some(start + Duration::from_millis(100) * tick),
                "tick {tick} done when advance returned"
            );
        }
        clock.advance(Duration::from_millis(50));
        assert_eq!(done.lock().unwrap().len(), 3, "nothing fell due");
        stop.store(true, Ordering::Relaxed);
        worker.join().unwrap();
    }

    #[test]
    fn a_stopped_pacer_returns_false_on_either_clock() {
        let stop = AtomicBool::new(true);
        for clock in [Clock::system(), Clock::manual()] {
            let far = clock.now() + Duration::from_secs(3600);
            assert!(!clock.pacer().wait_until(far, &stop), "{clock:?}");
        }
        let go = AtomicBool::new(false);
        let system = Clock::system();
        assert!(system
            .pacer()
            .wait_until(system.now() + Duration::from_millis(10), &go));
    }
}
