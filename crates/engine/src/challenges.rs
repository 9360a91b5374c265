//! The follow-the-dot challenges the engine issued (`POST /liveness/challenge`) and not
//! yet answered: each path drawn from the engine's own random source, kept until the
//! frames that follow it come (`/face/liveness`, once: an answered challenge is
//! forgotten) or until it expires. Bounded: when the store is full even after forgetting
//! the expired ones, no new challenge is issued (503) rather than an outstanding one lost.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ekyc_liveness::challenge::{DEFAULT_LENGTH, DEFAULT_MOVES};
use ekyc_liveness::DotPath;

/// A challenge the engine issued.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The path the engine drew.
    pub path: DotPath,
    /// When it was issued.
    pub issued_at: Instant,
}

/// Why no challenge was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueProblem {
    /// As many challenges as the store holds are outstanding.
    Full,
    /// The OS gave no randomness (nothing is made up instead).
    NoRandomness(String),
}

/// All outstanding challenges.
#[derive(Debug)]
pub struct ChallengeStore {
    issued: Mutex<HashMap<String, Issued>>,
    ttl: Duration,
    capacity: usize,
}

impl ChallengeStore {
    /// Challenges unanswered after `ttl` expire; at most `capacity` outstanding.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            issued: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// How long a challenge is kept unanswered.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Issued>> {
        // A poisoned lock only means a request panicked mid-update of one entry.
        self.issued
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Draws a new path (the default moves and length) and keeps it: its id and path.
    pub fn issue(&self) -> Result<(String, DotPath), IssueProblem> {
        let mut path = DotPath::random(DEFAULT_MOVES, DEFAULT_LENGTH)
            .map_err(|error| IssueProblem::NoRandomness(error.to_string()))?;
        // Whole milliseconds, as the contract sends them: the path scored is the one shown.
        for segment in &mut path.segments {
            segment.moving = Duration::from_millis(segment.moving.as_millis() as u64);
            segment.dwell = Duration::from_millis(segment.dwell.as_millis() as u64);
        }
        let mut issued = self.lock();
        let ttl = self.ttl;
        issued.retain(|_, challenge| challenge.issued_at.elapsed() <= ttl);
        if issued.len() >= self.capacity {
            return Err(IssueProblem::Full);
        }
        let id = uuid::Uuid::new_v4().to_string();
        issued.insert(
            id.clone(),
            Issued {
                path: path.clone(),
                issued_at: Instant::now(),
            },
        );
        Ok((id, path))
    }

    /// The challenge `id`, forgotten as it is handed over (answered once); `None` when it
    /// is unknown, was answered already, or expired.
    pub fn take(&self, id: &str) -> Option<Issued> {
        let challenge = self.lock().remove(id)?;
        (challenge.issued_at.elapsed() <= self.ttl).then_some(challenge)
    }

    /// Challenges outstanding now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is outstanding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_answered_once_and_expires() {
        let store = ChallengeStore::new(Duration::from_millis(80), 10);
        let (id, path) = store.issue().unwrap();
        assert_eq!(store.take(&id).unwrap().path, path);
        assert!(store.take(&id).is_none(), "answered once");
        assert!(store.take("made-up").is_none());
        let (late, _) = store.issue().unwrap();
        std::thread::sleep(Duration::from_millis(120));
        assert!(store.take(&late).is_none(), "expired");
        assert!(store.is_empty());
    }

    #[test]
    fn a_full_store_issues_no_more_until_some_expire() {
        let store = ChallengeStore::new(Duration::from_millis(80), 2);
        let (first, _) = store.issue().unwrap();
        store.issue().unwrap();
        assert_eq!(store.issue().unwrap_err(), IssueProblem::Full);
        assert!(store.take(&first).is_some());
        assert!(store.issue().is_ok(), "an answered one frees its place");
        std::thread::sleep(Duration::from_millis(120));
        assert!(store.issue().is_ok(), "expired ones are forgotten");
        assert_eq!(store.len(), 1);
    }
}
