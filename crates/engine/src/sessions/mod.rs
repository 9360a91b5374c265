//! The engine's sessions: bound to a device type, expiring after a time without use.
//!
//! Kept in the engine's memory ([`SessionStore::new`], one engine), or in the database a
//! bank's replicas share ([`SessionStore::in_database`], `postgres.rs`), so that a
//! session opened on one replica continues on any other: there each session is one row,
//! its state sealed, taken under a row lock for the length of one visit.

mod postgres;

use std::time::Instant;

use super::enrolments::CustomerHash;
use crate::kept::{lock, shared, Kept, Place};
use ekyc_contract::{KryptonAction, KryptonFlow, LivenessModel};
use ekyc_face::Embedding;

/// What the engine remembers of one session. The images and what was read from them are
/// not kept; the personal things are the face embeddings of the card's photo and of the
/// chip's, kept for the match with the selfie and wiped when the session ends (complete,
/// expired or replaced).
#[derive(Debug, Clone)]
pub struct EngineSession {
    /// Bound at `/session/init`, or at the first call of a Krypton session (which names no
    /// device type): empty until then.
    pub device_type: String,
    /// A session a Krypton call opened: only the engine's Krypton path continues it.
    pub only_engine: bool,
    last_used: Instant,
    /// The front side was read with `side-type: front`.
    pub front_read: bool,
    /// A document was read in this session, so a selfie can be checked against it.
    pub document_read: bool,
    /// Selfies sent so far.
    pub selfie_attempts: u32,
    /// The face on the document's front, for the match with the selfie.
    pub card_face: CardFace,
    /// What a Krypton session was opened for; `None`: an FPT.AI session (as ENROLL
    /// without a customer).
    pub journey: Option<Journey>,
    /// The card's chip, as the engine checked it (`/chip/verify` in this session).
    pub chip: Option<ChipEvidence>,
}

/// A chip checked in a session: the engine's own verdict, and its photo's face.
#[derive(Debug, Clone)]
pub struct ChipEvidence {
    /// Passive authentication's verdict, by the engine with its CSCA list.
    pub status: ekyc_chip::passive::Status,
    /// The face on the chip's photo (DG2), for the match with the selfie.
    pub face: CardFace,
}

/// A Krypton v3 session's parameters, as the FPT.AI-shaped calls in it follow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Journey {
    /// ENROLL, AUTH or LIVENESS.
    pub action: KryptonAction,
    /// Card first or face first.
    pub flow: KryptonFlow,
    /// `passive` or `gaze`.
    pub model: LivenessModel,
    /// The customer (`userId`) as the enrolment store keys it; `None` for LIVENESS.
    pub customer: Option<CustomerHash>,
}

impl Journey {
    /// Whether the session reads a document: ENROLL does, AUTH and LIVENESS do not.
    pub fn reads_document(&self) -> bool {
        self.action == KryptonAction::Enroll
    }
}

/// The face on the card's photo, as far as the engine could tell.
#[derive(Debug, Clone, Default)]
pub enum CardFace {
    /// Not looked for: no front read yet, or the engine has no face-match models.
    #[default]
    NotChecked,
    /// The front was read and no face was found on it.
    NoFace,
    /// Its embedding (wiped from memory when dropped).
    Found(Box<Embedding>),
}

impl EngineSession {
    fn new(device_type: &str, only_engine: bool, journey: Option<Journey>) -> Self {
        Self {
            device_type: device_type.to_owned(),
            only_engine,
            last_used: Instant::now(),
            front_read: false,
            document_read: false,
            selfie_attempts: 0,
            card_face: CardFace::NotChecked,
            journey,
            chip: None,
        }
    }

    /// Binds a Krypton session to the device type of its first call; `false` when it
    /// was made for another.
    fn bind(&mut self, device_type: &str) -> bool {
        if self.device_type.is_empty() {
            self.device_type = device_type.to_owned();
        }
        self.device_type == device_type
    }
}

/// Why a session cannot be used; the contract answers the first three with errorCode
/// "403".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionProblem {
    /// No session with that id (never made, or forgotten).
    Unknown,
    /// Unused for longer than the TTL.
    Expired,
    /// Made for another `device-type`.
    DeviceMismatch,
    /// The shared database cannot be reached now (the reason, for IT: never a value).
    Unavailable(String),
}

/// Why no session was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenProblem {
    /// As many sessions as the store holds are open, even after forgetting expired ones.
    Full,
    /// The shared database cannot be reached now.
    Unavailable(String),
}

/// All open sessions: in memory ([`Kept::new`]) or in the shared database
/// ([`Kept::in_database`]).
pub type SessionStore = Kept<EngineSession>;

impl SessionStore {
    /// Opens an FPT.AI session. Blocking when shared.
    pub fn create(&self, device_type: &str, only_engine: bool) -> Result<String, OpenProblem> {
        self.open(EngineSession::new(device_type, only_engine, None))
    }

    /// Opens a Krypton session: bound to the device type of its first call. Blocking
    /// when shared.
    pub fn create_for_journey(&self, journey: Journey) -> Result<String, OpenProblem> {
        self.open(EngineSession::new("", false, Some(journey)))
    }

    fn open(&self, session: EngineSession) -> Result<String, OpenProblem> {
        let id = uuid::Uuid::new_v4().to_string();
        match &self.place {
            Place::Memory(sessions) => {
                let mut sessions = lock(sessions);
                // Expired sessions go now, not when the store fills up: they may hold a face.
                let ttl = self.ttl;
                sessions.retain(|_, session| session.last_used.elapsed() <= ttl);
                if sessions.len() >= self.capacity {
                    return Err(OpenProblem::Full);
                }
                sessions.insert(id.clone(), session);
            }
            Place::Database(enrolments) => {
                let shared = shared(enrolments).map_err(OpenProblem::Unavailable)?;
                postgres::open(&shared, &id, &session, self.ttl, self.capacity)?;
            }
        }
        Ok(id)
    }

    /// Looks a session up for `device_type` and lends it to `use_session`; what it
    /// changed is kept. Blocking when shared (the session's row is locked meanwhile).
    pub fn with_session<T>(
        &self,
        id: &str,
        device_type: &str,
        use_session: impl FnOnce(&mut EngineSession) -> T,
    ) -> Result<T, SessionProblem> {
        match &self.place {
            Place::Memory(sessions) => {
                let mut sessions = lock(sessions);
                let session = sessions.get_mut(id).ok_or(SessionProblem::Unknown)?;
                if session.last_used.elapsed() > self.ttl {
                    sessions.remove(id);
                    return Err(SessionProblem::Expired);
                }
                if !session.bind(device_type) {
                    return Err(SessionProblem::DeviceMismatch);
                }
                session.last_used = Instant::now();
                Ok(use_session(session))
            }
            Place::Database(enrolments) => {
                let shared = shared(enrolments).map_err(SessionProblem::Unavailable)?;
                postgres::with_session(&shared, id, device_type, self.ttl, use_session)
            }
        }
    }

    /// Sessions open now (in the shared database: every replica's). Blocking when
    /// shared.
    pub fn open_count(&self) -> Result<usize, String> {
        match &self.place {
            Place::Memory(sessions) => Ok(lock(sessions).len()),
            Place::Database(enrolments) => postgres::count(&*shared(enrolments)?, self.ttl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sessions_are_bound_to_their_device_type_and_expire() {
        let store = SessionStore::new(Duration::from_millis(50), 10);
        let id = store.create("web-sdk", false).unwrap();
        assert!(store.with_session(&id, "web-sdk", |_| ()).is_ok());
        assert_eq!(
            store.with_session(&id, "android", |_| ()),
            Err(SessionProblem::DeviceMismatch)
        );
        assert_eq!(
            store.with_session("nope", "web-sdk", |_| ()),
            Err(SessionProblem::Unknown)
        );
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(
            store.with_session(&id, "web-sdk", |_| ()),
            Err(SessionProblem::Expired)
        );
        assert_eq!(
            store.with_session(&id, "web-sdk", |_| ()),
            Err(SessionProblem::Unknown)
        );
    }

    #[test]
    fn a_krypton_session_binds_to_the_device_type_of_its_first_call() {
        let store = SessionStore::new(Duration::from_secs(60), 10);
        let id = store
            .create_for_journey(Journey {
                action: KryptonAction::Liveness,
                flow: KryptonFlow::CardFirst,
                model: LivenessModel::Gaze,
                customer: None,
            })
            .unwrap();
        let journey = store.with_session(&id, "kiosk", |session| session.journey);
        assert_eq!(journey.unwrap().unwrap().action, KryptonAction::Liveness);
        assert_eq!(
            store.with_session(&id, "android", |_| ()),
            Err(SessionProblem::DeviceMismatch)
        );
    }

    #[test]
    fn a_full_store_forgets_expired_sessions_before_refusing() {
        let store = SessionStore::new(Duration::from_millis(30), 2);
        store.create("a", false).unwrap();
        store.create("a", false).unwrap();
        assert_eq!(store.create("a", false), Err(OpenProblem::Full));
        std::thread::sleep(Duration::from_millis(50));
        assert!(store.create("a", false).is_ok());
        assert_eq!(store.open_count(), Ok(1));
    }

    #[test]
    fn an_expired_session_and_its_card_face_go_when_the_next_session_opens() {
        // Not only when the store is full: an abandoned session holds a face.
        let store = SessionStore::new(Duration::from_millis(30), 100);
        let abandoned = store.create("a", false).unwrap();
        store
            .with_session(&abandoned, "a", |session| {
                session.card_face = CardFace::Found(Box::new(Embedding([0.5; 128])));
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        store.create("a", false).unwrap();
        assert_eq!(store.open_count(), Ok(1));
        assert_eq!(
            store.with_session(&abandoned, "a", |_| ()),
            Err(SessionProblem::Unknown)
        );
    }
}
