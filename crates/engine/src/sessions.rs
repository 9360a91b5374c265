//! The engine's sessions: bound to a device type, expiring after a time without use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::enrolments::CustomerHash;
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

/// Why a session cannot be used; the contract answers all three with errorCode "403".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionProblem {
    /// No session with that id (never made, or forgotten).
    Unknown,
    /// Unused for longer than the TTL.
    Expired,
    /// Made for another `device-type`.
    DeviceMismatch,
}

/// All open sessions.
#[derive(Debug)]
pub struct SessionStore {
    sessions: Mutex<HashMap<String, EngineSession>>,
    ttl: Duration,
    capacity: usize,
}

impl SessionStore {
    /// Sessions unused for `ttl` expire; at most `capacity` at once.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, EngineSession>> {
        // A poisoned lock only means a request panicked mid-update of one entry.
        self.sessions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Opens an FPT.AI session; `None` when the store is full even after forgetting
    /// expired ones.
    pub fn create(&self, device_type: &str, only_engine: bool) -> Option<String> {
        self.open(device_type, only_engine, None)
    }

    /// Opens a Krypton session: bound to the device type of its first call.
    pub fn create_for_journey(&self, journey: Journey) -> Option<String> {
        self.open("", false, Some(journey))
    }

    fn open(
        &self,
        device_type: &str,
        only_engine: bool,
        journey: Option<Journey>,
    ) -> Option<String> {
        let mut sessions = self.lock();
        // Expired sessions go now, not when the store fills up: they may hold a face.
        let ttl = self.ttl;
        sessions.retain(|_, session| session.last_used.elapsed() <= ttl);
        if sessions.len() >= self.capacity {
            return None;
        }
        let id = uuid::Uuid::new_v4().to_string();
        sessions.insert(
            id.clone(),
            EngineSession {
                device_type: device_type.to_owned(),
                only_engine,
                last_used: Instant::now(),
                front_read: false,
                document_read: false,
                selfie_attempts: 0,
                card_face: CardFace::NotChecked,
                journey,
                chip: None,
            },
        );
        Some(id)
    }

    /// Looks a session up for `device_type` and lends it to `use_session`.
    pub fn with_session<T>(
        &self,
        id: &str,
        device_type: &str,
        use_session: impl FnOnce(&mut EngineSession) -> T,
    ) -> Result<T, SessionProblem> {
        let mut sessions = self.lock();
        let session = sessions.get_mut(id).ok_or(SessionProblem::Unknown)?;
        if session.last_used.elapsed() > self.ttl {
            sessions.remove(id);
            return Err(SessionProblem::Expired);
        }
        if session.device_type.is_empty() {
            session.device_type = device_type.to_owned();
        }
        if session.device_type != device_type {
            return Err(SessionProblem::DeviceMismatch);
        }
        session.last_used = Instant::now();
        Ok(use_session(session))
    }

    /// Sessions open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(store.create("a", false).is_none());
        std::thread::sleep(Duration::from_millis(50));
        assert!(store.create("a", false).is_some());
        assert_eq!(store.len(), 1);
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
        assert_eq!(store.len(), 1);
        assert_eq!(
            store.with_session(&abandoned, "a", |_| ()),
            Err(SessionProblem::Unknown)
        );
    }
}
