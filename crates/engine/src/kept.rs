//! Where the engine keeps what outlives one request, sessions ([`crate::sessions`]) and
//! issued challenges ([`crate::challenges`]): in its own memory (one engine), or in the
//! PostgreSQL a bank's replicas share, reached with the enrolments (whose key file seals
//! what is kept there).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::enrolments::{Enrolments, SharedDatabase};

/// Entries of type `T` by their id, in memory or in the shared database: each expires
/// `ttl` after its last use, and at most `capacity` are kept at once (with a shared
/// database: the whole bank's). What is kept, and how, is the entries' own module's.
#[derive(Debug)]
pub struct Kept<T> {
    pub(crate) place: Place<T>,
    pub(crate) ttl: Duration,
    pub(crate) capacity: usize,
}

/// Where the entries are.
#[derive(Debug)]
pub(crate) enum Place<T> {
    /// In this engine's memory.
    Memory(Mutex<HashMap<String, T>>),
    /// In the database the replicas share.
    Database(Arc<Enrolments>),
}

impl<T> Kept<T> {
    /// In this engine's memory, empty.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            place: Place::Memory(Mutex::new(HashMap::new())),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// In the database `enrolments` is kept in (PostgreSQL), shared by every replica.
    pub fn in_database(enrolments: Arc<Enrolments>, ttl: Duration, capacity: usize) -> Self {
        Self {
            place: Place::Database(enrolments),
            ttl,
            capacity: capacity.max(1),
        }
    }

    /// Whether every call is a database round trip (to be made off the async threads).
    pub fn is_shared(&self) -> bool {
        matches!(self.place, Place::Database(_))
    }

    /// How long an entry is kept unused.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

/// The entries in memory, locked. A poisoned lock only means a request panicked
/// mid-update of one entry.
pub(crate) fn lock<T>(entries: &Mutex<HashMap<String, T>>) -> MutexGuard<'_, HashMap<String, T>> {
    entries.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The shared database, opened with the enrolments if it was not yet; the reason, for
/// IT, when it cannot be reached. Blocking.
pub(crate) fn shared(enrolments: &Enrolments) -> Result<Arc<SharedDatabase>, String> {
    enrolments
        .shared_database()
        .map_err(|error| error.to_string())?
        .ok_or_else(|| "the enrolment store is not a shared database".to_owned())
}
